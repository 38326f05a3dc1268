"""NeuronCore Pipeline on small models: the partition's balance and cut choice, one
NEFF with one subgraph per stage, cross-core ordering (a missing cross-core
semaphore is a hazard), and numbers equal to the single-core compile's."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest

import kaena
from kaena.errors import HazardError, KaenaError, SimulationError
from kaena.isa import Engine, Flags, Opcode
from kaena.neff import Neff
from kaena.neff.container import archive_members
from kaena.testing import modelzoo
from kaena.testing.reference import random_inputs, run_onnxruntime


@pytest.fixture(scope="module")
def lenet_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipe") / "lenet.onnx"
    onnx.save(modelzoo.lenet(), path)
    return str(path)


@pytest.fixture(scope="module")
def deep_mlp_path(tmp_path_factory):
    """Eight identical layers: a balanced partition puts the same number on every core."""
    path = tmp_path_factory.mktemp("pipe") / "mlp.onnx"
    onnx.save(modelzoo.mlp(batch=4, sizes=(128,) * 9), path)
    return str(path)


def plan_of(path: str, cores: int) -> dict:
    from kaena.driver import CompileOptions, _build_passes, import_model, pipeline_specs
    from kaena.registry import make_context
    from kaena.weights import module_store

    options = CompileOptions()
    module = import_model(path, options)
    store = module_store(module)  # noqa: F841 - held for the passes
    ctx = make_context()
    specs = pipeline_specs(options)
    for p in _build_passes(specs["framework"] + specs["tensor"] + [f"ktensor-partition-pipeline{{cores={cores}}}"]):
        p.apply(ctx, module)
    return plan_dict(module.attributes["kaena.pipeline"])


def plan_dict(attr) -> dict:
    """The kaena.pipeline attribute as Python values."""
    from xdsl.dialects.builtin import ArrayAttr, IntegerAttr

    def value(a):
        if isinstance(a, ArrayAttr):
            return [value(x) for x in a.data]
        return a.value.data if isinstance(a, IntegerAttr) else a.data

    return {k: value(v) for k, v in attr.data.items()}


@pytest.mark.parametrize("cores", [2, 3])
def test_pipeline_matches_single_core_and_onnxruntime(lenet_path, cores):
    model = onnx.load(lenet_path)
    x = random_inputs(model, seed=1)
    single = kaena.load(kaena.compile(lenet_path, auto_cast="none")).run(x)
    neff = kaena.compile(lenet_path, auto_cast="none", pipeline_cores=cores)
    assert neff.num_cores == cores and neff.execution == "pipeline" and neff.version == (1, 3)
    result = kaena.load(neff).simulate(x)
    # within FP32 rounding: a stage lowers its layers as the whole model did, but a cut may
    # change what is fused across it (e.g. an activation kept in SBUF or spilled)
    np.testing.assert_allclose(result.outputs["output"], single["output"], rtol=1e-5, atol=1e-7)
    ref = run_onnxruntime(model, x)["output"]
    np.testing.assert_allclose(result.outputs["output"], ref, rtol=1e-5, atol=1e-6)
    assert len(result.core_cycles) == cores and result.cycles == max(result.core_cycles)


def test_bf16_pipeline_equals_single_core(lenet_path):
    x = random_inputs(onnx.load(lenet_path), seed=2)
    single = kaena.load(kaena.compile(lenet_path)).run(x)["output"]
    piped = kaena.load(kaena.compile(lenet_path, pipeline_cores=2)).run(x)["output"]
    np.testing.assert_allclose(piped, single, rtol=1e-6, atol=1e-7)


def test_neff_carries_one_subgraph_per_stage(lenet_path):
    neff = kaena.compile(lenet_path, pipeline_cores=3)
    data = neff.to_bytes()
    assert int.from_bytes(data[168:172], "little") == 3  # header num_tpb
    top = json.loads(archive_members(neff)["neff.json"])
    assert top["execution"] == "pipeline" and top["num_cores"] == 3
    assert [s["dir"] for s in top["subgraphs"]] == ["sg00", "sg01", "sg02"]
    assert [s["chip"] for s in top["subgraphs"]] == [0, 0, 0]
    # stage k reads what stage k - 1 sends it
    for k in (1, 2):
        assert {i["from"] for i in top["subgraphs"][k]["inputs"]} == {f"sg{k - 1:02d}"}
    back = Neff.from_bytes(data)
    assert back.execution == "pipeline" and [s.chip for s in back.subgraphs] == [0, 0, 0]
    assert back.to_bytes() == data
    assert kaena.compile(lenet_path, pipeline_cores=3).to_bytes() == data  # deterministic


def test_sends_notify_the_next_core(lenet_path):
    neff = kaena.compile(lenet_path, pipeline_cores=2)
    dma0 = neff.subgraphs[0].stream(Engine.DMA)
    sends = dma0[(dma0["flags"] & int(Flags.NOTIFY)) != 0]
    assert len(sends) >= 1 and set(sends["notify_core"].tolist()) == {1}
    assert not ((sends["flags"] & int(Flags.NEURONLINK)) != 0).any()  # same chip
    dma1 = neff.subgraphs[1].stream(Engine.DMA)
    waits = dma1[(dma1["opcode"] == Opcode.SEM_WAIT) & (dma1["sem"] == sends["sem"][0])]
    assert len(waits) == 1 and int(waits["sem_value"][0]) == len(sends)


def _drop_cross_core_wait(neff: Neff) -> Neff:
    dma0 = neff.subgraphs[0].stream(Engine.DMA)
    sem = int(dma0["sem"][(dma0["flags"] & int(Flags.NOTIFY)) != 0][0])
    rec = neff.subgraphs[1].streams[Engine.DMA]
    i = int(np.flatnonzero((rec["opcode"] == Opcode.SEM_WAIT) & (rec["sem"] == sem))[0])
    rec[i]["opcode"] = Opcode.NOP
    rec[i]["sem"] = 0
    rec[i]["sem_value"] = 0
    return neff


def test_missing_cross_core_semaphore_is_a_hazard(lenet_path):
    neff = _drop_cross_core_wait(kaena.compile(lenet_path, pipeline_cores=2))
    x = random_inputs(onnx.load(lenet_path), seed=0)
    # core 1 reads the buffer before core 0 writes it: whichever the event loop meets
    # first, the race is reported with both cores' instructions and the buffer
    with pytest.raises(HazardError, match=r"core [01] dma instruction \d+ \(DMA\) \w+ .*DRAM 'pipe\.[^']*\.s1'.*"
                                          r"core [01] dma instruction \d+ \(DMA\) with no semaphore ordering them"):
        kaena.load(neff).simulate(x)


def test_missing_notification_deadlocks(lenet_path):
    neff = kaena.compile(lenet_path, pipeline_cores=2)
    rec = neff.subgraphs[0].streams[Engine.DMA]
    notify = (rec["flags"] & int(Flags.NOTIFY)) != 0
    rec["flags"][notify] = 0
    rec["notify_core"][notify] = 0
    x = random_inputs(onnx.load(lenet_path), seed=0)
    with pytest.raises(SimulationError, match="deadlock.*core 1 dma instruction"):
        kaena.load(neff).simulate(x)


def test_reader_refuses_a_send_to_a_missing_core(lenet_path):
    neff = kaena.compile(lenet_path, pipeline_cores=2)
    rec = neff.subgraphs[0].streams[Engine.DMA]
    rec["notify_core"][(rec["flags"] & int(Flags.NOTIFY)) != 0] = 5
    with pytest.raises(SimulationError, match="notifies core 5, not another of the NEFF's 2 cores"):
        kaena.load(neff).simulate(random_inputs(onnx.load(lenet_path), seed=0), check_hazards=False)


def test_partition_balances_identical_layers(tmp_path):
    """Four identical 2048x2048 layers (8 MiB of BF16 weights each: more than half a core's
    SBUF, so the rest streams) on 4 and 2 cores: the stages take the same time, to the
    transfers (a middle stage receives and sends a cut, an end stage one of the two) and the
    softmax the last stage adds (its [64, 2048] FP32 input and output go through DRAM: the last
    layer writes it, the softmax reads it and writes the output)."""
    from kaena.target import NeuronCoreTarget
    from kaena.target.costmodel import CostModel

    cm = CostModel(NeuronCoreTarget())
    path = tmp_path / "wide.onnx"
    onnx.save(modelzoo.mlp(batch=64, sizes=(2048,) * 5), path)
    softmax = 3 * round(cm.dma_floor(64 * 2048 * 4, 0))
    single = plan_of(str(path), 1)["stage_cycles"][0] - softmax
    for cores in (4, 2):
        plan = plan_of(str(path), cores)
        cycles = plan["stage_cycles"][:-1] + [plan["stage_cycles"][-1] - softmax]
        assert len(cycles) == cores and max(cycles) - min(cycles) <= cm.dma(max(plan["cut_bytes"]))
        assert max(cycles) <= 1.1 * single / cores  # a 1/cores share, plus the stage's transfers


def test_cuts_across_chips_take_neuronlink(deep_mlp_path):
    plan = plan_of(deep_mlp_path, 8)
    assert plan["chips"] == 2
    assert plan["cut_links"] == ["dram"] * 3 + ["neuronlink"] + ["dram"] * 3
    neff = kaena.compile(deep_mlp_path, pipeline_cores=8, auto_cast="none")
    assert [sg.chip for sg in neff.subgraphs] == [0, 0, 0, 0, 1, 1, 1, 1]
    dma3 = neff.subgraphs[3].stream(Engine.DMA)
    sends = dma3[(dma3["flags"] & int(Flags.NOTIFY)) != 0]
    assert len(sends) and ((sends["flags"] & int(Flags.NEURONLINK)) != 0).all()
    model = onnx.load(deep_mlp_path)
    x = random_inputs(model, seed=3)
    single = kaena.load(kaena.compile(deep_mlp_path, auto_cast="none")).run(x)
    np.testing.assert_allclose(kaena.load(neff).run(x)["output"], single["output"], rtol=1e-5, atol=1e-7)


def test_partition_prefers_the_cut_where_fewer_bytes_cross(tmp_path):
    """Three layers with the same weight bytes (512x128, 128x512, 512x128) on two cores:
    either split puts two layers on one core; after the first layer 128 features cross,
    after the second 512, so the partitioner cuts after the first."""
    path = tmp_path / "m.onnx"
    onnx.save(modelzoo.mlp(batch=64, sizes=(512, 128, 512, 128)), path)
    plan = plan_of(str(path), 2)
    assert plan["cut_bytes"] == [64 * 128 * 2]  # bf16 activations after the fused cast


def test_bad_core_counts_are_one_clear_line(lenet_path):
    with pytest.raises(KaenaError, match="must be a number of cores from 1 to 64"):
        kaena.compile(lenet_path, pipeline_cores=65)
    with pytest.raises(KaenaError, match="only 9 layers to place; use at most 9 cores"):
        kaena.compile(lenet_path, pipeline_cores=16)


def test_cli_compiles_a_pipeline(lenet_path, tmp_path):
    out = tmp_path / "l.neff"
    proc = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_compile_main", lenet_path, "-o", str(out),
                           "--neuroncore-pipeline-cores", "2"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "cores: 2" in proc.stdout
    assert Neff.load(str(out)).num_cores == 2
    bad = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_compile_main", lenet_path, "-o", str(out),
                          "--neuroncore-pipeline-cores", "many"], capture_output=True, text=True)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "--neuroncore-pipeline-cores 'many'" in bad.stderr


# --- timing runs, copies, the estimate ------------------------------------------


def test_streamed_requests_overlap_on_a_pipeline(deep_mlp_path):
    from kaena.simulator.pipeline import stream_requests

    single = kaena.compile(deep_mlp_path)
    piped = kaena.compile(deep_mlp_path, pipeline_cores=4)
    one = stream_requests(single, 4)
    # one core runs one request at a time: the interval is its latency (plus the barrier)
    assert one.latency == kaena.load(single).simulate({}, timing_only=True).cycles
    assert one.latency <= one.interval <= one.latency + 4 * 16 * 4
    four = stream_requests(piped, 6)
    assert four.latency == kaena.load(piped).simulate({}, timing_only=True).cycles
    # the stages work on different requests at once: the interval is the slowest stage's
    assert four.interval < 0.5 * four.latency and four.interval < 0.5 * one.interval
    ends = np.array(four.request_ends)
    assert (np.diff(ends) > 0).all() and four.request_ends[0] == four.latency
    assert len(four.core_busy) == 4 and all(0 < b <= 1.0 for b in four.core_busy)
    assert max(four.core_busy) > 0.6  # the slowest stage is the bottleneck: busy most of the interval


def test_copies_run_requests_in_parallel(lenet_path):
    model = onnx.load(lenet_path)
    neff = kaena.compile(lenet_path)
    xs = [random_inputs(model, seed=s) for s in range(5)]
    run = kaena.load(neff, copies=2).run_requests(xs)
    alone = kaena.load(neff)
    for x, out in zip(xs, run.outputs):
        np.testing.assert_array_equal(out["output"], alone.run(x)["output"])
    cycles = alone.last_result.cycles
    assert run.copy_cycles == [3 * cycles, 2 * cycles] and run.cycles == 3 * cycles
    assert run.inferences_per_s == pytest.approx(5 * 1e9 / (3 * cycles))
    with pytest.raises(KaenaError, match="use 1 to 64 copies"):
        kaena.load(neff, copies=65)
    with pytest.raises(KaenaError, match="3 core.*use 1 to 21 copies"):
        kaena.load(kaena.compile(lenet_path, pipeline_cores=3), copies=22)


def test_estimate_counts_batch_times_copies_and_pipeline_interval(deep_mlp_path):
    from kaena.reports.estimate import estimate, model_costs
    from kaena.simulator.pipeline import stream_requests
    from kaena.target import INF1
    from kaena.target.costmodel import COSTS

    piped = kaena.compile(deep_mlp_path, pipeline_cores=4)
    assert piped.metadata["batch"] == 4
    timing = stream_requests(piped, 4)
    mc = model_costs(piped)
    assert (mc.batch, mc.device_cycles, mc.interval_cycles, mc.link_cycles) == (4, timing.latency, timing.interval, 0)
    host = COSTS.host_transfer(4 * 128 * 4)
    rows = {r.instance: r for r in estimate(piped, host_link="instance")}
    r = rows["inf1.6xlarge"]
    assert r.copies == 4 and r.config == "4 x pipeline of 4 cores, batch 4"
    period = max(timing.interval, 4 * 2 * host)
    assert r.throughput_per_s == pytest.approx(4 * 4 * INF1.clock_hz / period)
    assert r.latency_us == pytest.approx((2 * host + timing.latency) / 1000)
    single = {r.instance: r for r in estimate(kaena.compile(deep_mlp_path), host_link="instance")}
    assert single["inf1.xlarge"].config == "4 x 1 core, batch 4"


def test_cli_run_streams_requests_with_copies(lenet_path, tmp_path):
    out = tmp_path / "l.neff"
    kaena.compile(lenet_path, pipeline_cores=2).save(str(out))
    proc = subprocess.run(["kaena-run", str(out), "--timing-only", "--requests", "3", "--copies", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "3 requests through 2 core(s): steady-state interval" in proc.stdout
    assert "busy: core 0 " in proc.stdout and "2 copies x 2 core(s): " in proc.stdout
    bad = subprocess.run(["kaena-run", str(out), "--timing-only", "--copies", "40"], capture_output=True, text=True)
    assert bad.returncode != 0 and "use 1 to 32 copies" in bad.stderr and "Traceback" not in bad.stderr


def test_profile_shows_every_core_and_cross_core_releases(lenet_path):
    from kaena.reports.profile import chrome_trace, critical_path

    neff = kaena.compile(lenet_path, pipeline_cores=3)
    result = kaena.load(neff).simulate(random_inputs(onnx.load(lenet_path)), profile=True)
    trace = chrome_trace(neff, result)
    assert {e["pid"] for e in trace["traceEvents"]} == {0, 1, 2}
    released = [e["args"]["released_by"] for e in trace["traceEvents"] if "released_by" in e.get("args", {})]
    assert any(r.startswith("core 0 dma #") for r in released) and any(r.startswith("core 1 dma #") for r in released)
    cp = critical_path(result.trace)  # from the last core back through the sends that released it
    assert cp.cycles == result.cycles
    assert 0.5 * result.cycles < sum(cp.by_engine.values()) <= result.cycles


# --- resident weights ---------------------------------------------------------------


def test_pipeline_weights_load_once_at_load(lenet_path):
    neff = kaena.compile(lenet_path, pipeline_cores=3)
    p = neff.metadata["pipeline"]
    weights = [sum(v.nbytes for v in sg.variables if v.kind == "file") for sg in neff.subgraphs]
    assert p["resident_weight_bytes"] == weights and p["streamed_weight_bytes"] == [0, 0, 0]
    assert all(len(sg.load_stream) > 0 for sg, w in zip(neff.subgraphs, weights) if w) and sum(weights)
    back = Neff.from_bytes(neff.to_bytes())
    for a, b in zip(neff.subgraphs, back.subgraphs):
        assert a.load_stream.tobytes() == b.load_stream.tobytes()
    x = random_inputs(onnx.load(lenet_path), seed=4)
    single = kaena.load(kaena.compile(lenet_path)).simulate(x)
    piped = kaena.load(back).simulate(x)
    np.testing.assert_allclose(piped.outputs["output"], single.outputs["output"], rtol=1e-6, atol=1e-7)
    assert piped.load_cycles > 0
    # per inference only activations move: the weights were copied at load
    assert piped.dma_bytes < single.dma_bytes - sum(weights) // 2


def _hoist(build):
    from kaena.neff.resident import hoist_weight_loads
    from kaena.simulator.builder import Program, dram, row, sbuf

    p = Program()
    w = p.var("w", "file", (4, 8), "float32", np.ones((4, 8), np.float32))
    v = p.var("v", "file", (4, 8), "float32", np.zeros((4, 8), np.float32))
    build(p, lambda var: dram(var, 4, 8, row(8)), lambda off=0: sbuf(off, 4, row(8)), w, v)
    sg = p.subgraph(0)
    return sg, hoist_weight_loads(sg, 128, 96 * 1024)


def test_hoisting_keeps_a_load_whose_tile_is_rewritten():
    def build(p, d, s, w, v):
        p.add(Engine.DMA, Opcode.DMA, in0=d(w), out=s(0))  # w -> [0, 32)
        p.add(Engine.DMA, Opcode.DMA, in0=d(w), out=s(0))  # the same copy again: still one resident tile
        p.add(Engine.DMA, Opcode.DMA, in0=d(w), out=s(1024))  # reused below by another weight
        p.add(Engine.DMA, Opcode.DMA, in0=d(v), out=s(1024))
        p.add(Engine.DMA, Opcode.DMA, in0=d(v), out=s(2048))  # overwritten by the vector engine
        p.add(Engine.POOL, Opcode.MEMSET, out=s(2048))

    sg, res = _hoist(build)
    assert len(sg.load_stream) == 1 and int(sg.load_stream["out"]["offset"][0]) == 0
    assert len(sg.stream(Engine.DMA)) == 3  # the two copies into 1024 and the one into 2048 stay
    assert (res.resident_bytes, res.streamed_bytes) == (128, 3 * 128)


def test_auto_compares_throughput_per_core_and_says_why(tmp_path):
    """Seven 1024x1024 layers: 2 MiB of BF16 weights each, 14 MiB in all; a core's SBUF beside
    the stage's working set (12 MiB less a few bytes a partition) pins five, so two cores are
    the fewest that keep every weight resident. auto compares 1, 2 and 4 cores by the
    partition's modelled interval x cores (the plan the partition pass records for each): one
    core streams two layers' weights per inference, four add cuts for no gain per core, two
    win; the note gives each candidate's figures."""
    from kaena.driver import CompileReport
    from kaena.target import INF1

    path = tmp_path / "wide.onnx"
    onnx.save(modelzoo.mlp(batch=1, sizes=(1024,) * 8), path)
    interval = {n: max(plan_of(str(path), n)["stage_cycles"]) for n in (1, 2, 4)}
    best = min(interval, key=lambda n: (n * interval[n], n))
    assert best == 2
    report = CompileReport()
    neff = kaena.compile(str(path), pipeline_cores="auto", report=report)
    assert neff.num_cores == 2 and neff.metadata["options"]["pipeline_cores"] == 2
    (note,) = [n for n in report.notes if "auto:" in n]
    assert note.startswith("--neuroncore-pipeline-cores auto: 2 core(s), the best modelled throughput per core")
    for n, cycles in interval.items():
        assert f"{n} core(s): interval {cycles} cycles, {INF1.clock_hz / (n * cycles):,.0f}/s per core" in note
    assert "1 core(s): interval" in note and "streams 4202496 weight bytes" in note  # 2 x (1024 x 1024 x 2 + 1024 x 4)
    assert "2 core(s) is the fewest whose stages' weights each fit a core's SBUF beside the stage's working set" in note
    assert sum(neff.metadata["pipeline"]["streamed_weight_bytes"]) == 0
    # LeNet's weights fit one core: splitting it only adds transfers, so one core wins per core
    lenet = tmp_path / "lenet.onnx"
    onnx.save(modelzoo.lenet(), lenet)
    one = CompileReport()
    assert kaena.compile(str(lenet), pipeline_cores="auto", report=one).num_cores == 1
    assert any("auto: 1 core(s), the best modelled throughput per core (1 core(s): interval" in n
               and "; 2 core(s): interval" in n and "; 4 core(s): interval" in n for n in one.notes)


def test_a_contraction_too_large_for_one_stage_splits_by_columns(tmp_path):
    """A 2048 x 2048 layer: 8 MiB of BF16 weights, more than half a core's SBUF (``RESIDENT_SHARE``).
    On two cores it splits into two 1024-column parts, one per stage (the input forwarded
    to the second), so both keep their part resident and nothing streams per inference;
    numbers equal the single core's (tests/filecheck/transforms/split-columns.mlir: the plan)."""
    path = tmp_path / "wide.onnx"
    onnx.save(modelzoo.mlp(batch=1, sizes=(2048, 2048, 10)), path)
    neff = kaena.compile(str(path), pipeline_cores=2)
    p = neff.metadata["pipeline"]
    assert p["streamed_weight_bytes"] == [0, 0] and min(p["resident_weight_bytes"]) > 4 << 20
    model = onnx.load(path)
    x = random_inputs(model, seed=2)
    single = kaena.load(kaena.compile(str(path))).run(x)
    np.testing.assert_allclose(kaena.load(neff).simulate(x).outputs["output"], single["output"], rtol=1e-6, atol=1e-7)
    # auto prices a stage's resident weights by its whole SBUF beside its working set: the
    # 8 MiB fit one core, which two split parts match per core but do not beat
    from kaena.driver import CompileReport

    report = CompileReport()
    assert kaena.compile(str(path), pipeline_cores="auto", report=report).num_cores == 1
    assert any("auto: 1 core(s)" in n and "1 core(s) is the fewest" in n for n in report.notes)
