"""Source locations in the NEFF (format 1.2): the encoder's source table and
per-record indices, the reader's strict checks of them, and what the
simulator, stats, trace and listing make of them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from xdsl.context import Context

from kaena.codegen import emit_neff
from kaena.errors import NeffError
from kaena.isa import Engine, Opcode
from kaena.neff import NO_SOURCE
from kaena.neff.container import archive_members, pack_members, read_neff_bytes, write_neff_bytes
from kaena.neff.listing import assemble, disassemble, neff_weights
from kaena.passes.transforms.inf.inf_allocate_sram import AllocateSramPass
from kaena.passes.transforms.inf.inf_insert_semaphores import InsertSemaphoresPass
from kaena.reports.profile import chrome_trace, format_summary, run_stats
from kaena.simulator import simulate
from kaena.weights import WeightStore
from test_insert_semaphores import parse

IR = """
builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "x" : !inf.dram<4x64xf32>
    %y = inf.dram "output" "y" : !inf.dram<4x64xf32>
    %a = inf.alloc : !inf.sbuf<4x64xf32>
    %b = inf.alloc : !inf.sbuf<4x64xf32>
    inf.dma %a <p = 0, n = 4, off = 0, dims = [[64, 1]]>, %x <p = 0, n = 4, pstride = 64, off = 0, dims = [[64, 1]]> {kaena.source = ["conv1"]} : !inf.sbuf<4x64xf32>, !inf.dram<4x64xf32>
    inf.loop 4 {
      inf.activation "relu" %b <p = 0, n = 4, off = 16*d0, dims = [[16, 1]]>, %a <p = 0, n = 4, off = 16*d0, dims = [[16, 1]]> {kaena.source = ["conv1", "relu1"]} : !inf.sbuf<4x64xf32>, !inf.sbuf<4x64xf32>
    }
    inf.tensor_scalar "mul" %b <p = 0, n = 4, off = 0, dims = [[64, 1]]>, %b <p = 0, n = 4, off = 0, dims = [[64, 1]]> {imm = 2.0 : f32, kaena.source = ["scale"]} : !inf.sbuf<4x64xf32>, !inf.sbuf<4x64xf32>
    inf.dma %y <p = 0, n = 4, pstride = 64, off = 0, dims = [[64, 1]]>, %b <p = 0, n = 4, off = 0, dims = [[64, 1]]> : !inf.dram<4x64xf32>, !inf.sbuf<4x64xf32>
  }
}
"""


def build(ir: str = IR):
    module = parse(ir)
    AllocateSramPass().apply(Context(), module)
    InsertSemaphoresPass().apply(Context(), module)
    module.verify()
    return emit_neff(module, WeightStore(), name="src", compiler_version="test")


@pytest.fixture(scope="module")
def neff():
    return build()


def test_encoder_writes_the_table_and_one_index_per_record(neff):
    sg = neff.subgraphs[0]
    assert sg.sources == [("conv1",), ("conv1", "relu1"), ("scale",)]
    act = sg.stream(Engine.ACT)
    ids = sg.stream_sources(Engine.ACT)
    is_act = act["opcode"] == Opcode.ACTIVATE
    assert is_act.sum() == 4 and (ids[is_act] == 1).all()  # the unrolled loop keeps its op's source
    assert (ids[~is_act] == NO_SOURCE).all()  # inserted semaphores have none
    dma = sg.stream(Engine.DMA)
    dma_ids = sg.stream_sources(Engine.DMA)[dma["opcode"] == Opcode.DMA]
    assert dma_ids.tolist() == [0, NO_SOURCE]
    assert Engine.PE not in sg.source_ids


def test_members_round_trip_and_stay_deterministic(neff):
    members = archive_members(neff)
    assert "sg00/act.src.bin" in members and "sg00/pe.src.bin" not in members
    assert len(members["sg00/act.src.bin"]) == 4 * len(neff.subgraphs[0].stream(Engine.ACT))
    dj = json.loads(members["sg00/def.json"])
    assert dj["sources"] == [["conv1"], ["conv1", "relu1"], ["scale"]]
    assert dj["engines"]["act"]["source_file"] == "act.src.bin" and "source_file" not in dj["engines"]["pe"]
    data = write_neff_bytes(neff)
    assert write_neff_bytes(build()) == data
    back = read_neff_bytes(data)
    assert back.subgraphs[0].sources == neff.subgraphs[0].sources
    for e in Engine:
        assert np.array_equal(back.subgraphs[0].stream_sources(e), neff.subgraphs[0].stream_sources(e))
    assert write_neff_bytes(back) == data


def test_no_sources_no_members():
    plain = build(IR.replace('{kaena.source = ["conv1"]} ', "").replace(
        'kaena.source = ["conv1", "relu1"]', "").replace(', kaena.source = ["scale"]', "").replace(" {} ", " "))
    members = archive_members(plain)
    assert not any(m.endswith(".src.bin") for m in members)
    assert json.loads(members["sg00/def.json"])["sources"] == []


def _tampered(neff, edit):
    members = archive_members(neff)
    dj = json.loads(members["sg00/def.json"])
    edit(members, dj)
    members["sg00/def.json"] = json.dumps(dj).encode()
    return members


@pytest.mark.parametrize("edit, message", [
    (lambda m, d: m.__setitem__("sg00/act.src.bin", np.array([0, 7, 1, 1, 1, 0], "<u4").tobytes()),
     "act.src.bin: record 1: source index 7 out of range"),
    (lambda m, d: m.__setitem__("sg00/act.src.bin", m["sg00/act.src.bin"][:-4]), "records need"),
    (lambda m, d: d["engines"]["act"].pop("source_file"), "missing key 'engines.act.source_file'"),
    (lambda m, d: d["engines"]["act"].__setitem__("source_file", "pool.src.bin"), "must be 'act.src.bin'"),
    (lambda m, d: d["engines"]["pe"].__setitem__("source_file", "pe.src.bin"), "only allowed on a stream with records"),
    (lambda m, d: d.__setitem__("sources", [["conv1"], ["conv1"], ["scale"]]), "lists an entry twice"),
    (lambda m, d: d.__setitem__("sources", [["conv1"], "relu1", ["scale"]]), r"'sources\[1\]' must be a list"),
    (lambda m, d: d.__setitem__("sources", [["conv1"], [], ["scale"]]), r"'sources\[1\]' must be a list"),
    (lambda m, d: d.__setitem__("sources", [["conv1"], [""], ["scale"]]), r"'sources\[1\]' must be a list"),
    (lambda m, d: m.pop("sg00/act.src.bin"), "archive has no member sg00/act.src.bin"),
    (lambda m, d: (d.__setitem__("sources", []), [e.pop("source_file", None) for e in d["engines"].values()]),
     "member 'sg00/act.src.bin' is not referenced"),
])
def test_reader_checks_the_source_members_strictly(neff, edit, message):
    with pytest.raises(NeffError, match=message):
        pack_members(_tampered(neff, edit))


def test_simulator_stats_and_summary_attribute_cycles_to_nodes(neff):
    x = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
    result = simulate(neff, {"x": x}, profile=True)
    assert np.allclose(result.outputs["y"], 2 * np.maximum(x, 0))
    assert sum(result.source_cycles.values()) == sum(result.busy.values())
    stats = run_stats(neff, result)
    names = [n["name"] for n in stats["nodes"]]
    assert names == ["conv1", "conv1 + relu1", "scale"]
    cycles = [n["cycles"] for n in stats["nodes"]]
    assert cycles == sorted(cycles, reverse=True)
    assert stats["nodes"][1]["sources"] == ["conv1", "relu1"]
    total = sum(stats["busy_cycles"].values())
    assert sum(cycles) + stats["unattributed_cycles"] == total
    assert stats["nodes"][0]["share"] == pytest.approx(cycles[0] / total)
    text = format_summary(stats)
    assert "source node (top 3 of 3)" in text and "conv1 + relu1" in text
    # timing-only runs attribute the same cycles
    assert simulate(neff, {}, timing_only=True).source_cycles == result.source_cycles


def test_trace_slices_name_their_nodes(neff):
    x = np.zeros((4, 64), np.float32)
    doc = chrome_trace(neff, simulate(neff, {"x": x}, profile=True))
    slices = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    relu = [e for e in slices if e["name"].startswith("act ACTIVATE relu")]
    assert len(relu) == 4 and all(e["name"] == "act ACTIVATE relu [conv1 + relu1]" for e in relu)
    assert all(e["args"]["node"] == "conv1 + relu1" and e["args"]["sources"] == ["conv1", "relu1"] for e in relu)
    assert all("node" not in e["args"] for e in slices if e["cat"] in ("wait", "signal"))


def test_top_ten_nodes_in_the_summary():
    stats = {"model": "m", "cycles": 100, "latency_us": 0.1, "cores": 1, "pe_utilization": 0.0,
             "roofline_cycles": 1, "roofline_bound": "dma", "roofline_fraction": 0.01,
             "busy_cycles": {"pe": 0, "act": 0, "pool": 0, "dma": 100},
             "nodes": [{"name": f"n{i}", "sources": [f"n{i}"], "cycles": 20 - i, "share": (20 - i) / 100}
                       for i in range(12)]}
    text = format_summary(stats)
    assert "source node (top 10 of 12)" in text and "n9 " in text and "n10" not in text


def test_listing_carries_sources_and_target(neff):
    text = disassemble(neff)
    assert '  source 1 "conv1", "relu1"' in text and "src=1  ; conv1 + relu1" in text
    back = assemble(text, neff_weights(neff))
    assert write_neff_bytes(back) == write_neff_bytes(neff)
    assert disassemble(back) == text
    neff2 = read_neff_bytes(write_neff_bytes(neff))
    neff2.target = "inf1"
    assert "target" not in disassemble(neff2).splitlines()[1]
