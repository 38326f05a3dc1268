"""The back end's transformer features end to end, from hand-written ``inf`` IR through
the encoder (and ``kaena-translate --target neff``) to the simulator: the new scalar-engine
functions, int32 tiles and DMA, comparisons and select, the DMA gather (values, faults,
cost) and int32 model inputs (host conversion of int64, range refusals)."""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pytest

from kaena.codegen import emit_neff
from kaena.errors import KaenaError, NeffError, SimulationError
from kaena.isa import ActFunc, AluOp, DType, Engine, Opcode, stream_errors
from kaena.neff import Neff
from kaena.neff.listing import assemble, disassemble, neff_weights
from kaena.runtime import load
from kaena.simulator import simulate
from kaena.simulator import execute as ex
from kaena.target import INF1
from kaena.target.costmodel import CostModel
from kaena.weights import WeightStore
from test_insert_semaphores import parse, schedule


def compile_ir(text: str, weights: dict | None = None) -> Neff:
    return emit_neff(schedule(parse(text)), WeightStore(weights or {}), name="t", compiler_version="test")


def compute_cycles(r, engine: str) -> int:
    """Busy cycles of ``engine`` without its semaphore instructions."""
    sems = sum(n for op, n in r.instruction_counts[engine].items() if op.startswith("SEM_"))
    return r.busy[engine] - sems * INF1.semaphore_cycles


def ap(n: int, e: int, off: int = 0) -> str:
    return f"<p = 0, n = {n}, off = {off}, dims = [[{e}, 1]]>"


def dram_ap(n: int, e: int, off: int = 0) -> str:
    return f"<p = 0, n = {n}, pstride = {e}, off = {off}, dims = [[{e}, 1]]>"


# --- scalar-engine functions -------------------------------------------------------


def _erf64(x):
    return np.vectorize(math.erf)(np.asarray(x, dtype=np.float64))


REFERENCES = {
    "erf": lambda x: _erf64(x),
    "gelu": lambda x: 0.5 * x * (1 + _erf64(x / np.sqrt(2.0))),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    "log": lambda x: np.log(x),
    "sqrt": lambda x: np.sqrt(x),
    "rsqrt": lambda x: 1 / np.sqrt(x),
    "reciprocal": lambda x: 1 / x,
    "square": lambda x: x * x,
    "neg": lambda x: -x,
    "exp": lambda x: np.exp(x),
    "tanh": lambda x: np.tanh(x),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
}
POSITIVE = {"log", "sqrt", "rsqrt", "reciprocal"}


def act_program(func: str, p: int = 32, n: int = 64) -> str:
    return f"""
builtin.module {{
  inf.core 0 {{
    %x = inf.dram "input" "x" : !inf.dram<{p}x{n}xf32>
    %y = inf.dram "output" "y" : !inf.dram<{p}x{n}xf32>
    %a = inf.alloc : !inf.sbuf<{p}x{n}xf32>
    %b = inf.alloc : !inf.sbuf<{p}x{n}xf32>
    inf.dma %a {ap(p, n)}, %x {dram_ap(p, n)} : !inf.sbuf<{p}x{n}xf32>, !inf.dram<{p}x{n}xf32>
    inf.activation "{func}" %b {ap(p, n)}, %a {ap(p, n)} : !inf.sbuf<{p}x{n}xf32>, !inf.sbuf<{p}x{n}xf32>
    inf.dma %y {dram_ap(p, n)}, %b {ap(p, n)} : !inf.dram<{p}x{n}xf32>, !inf.sbuf<{p}x{n}xf32>
  }}
}}
"""


@pytest.mark.parametrize("func", sorted(REFERENCES))
def test_activation_functions_match_float64_references(func):
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (32, 64)).astype(np.float32)
    if func in POSITIVE:
        x = np.abs(x) + np.float32(0.01)
    r = simulate(compile_ir(act_program(func)), {"x": x})
    want = REFERENCES[func](x.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(r.outputs["y"], want, rtol=1e-6, atol=1e-7)
    assert compute_cycles(r, "act") == 64 + INF1.act_fixed_cycles


def test_erf_and_gelu_within_an_ulp_and_fast():
    x = np.linspace(-6, 6, 400_000, dtype=np.float32)
    want = _erf64(x).astype(np.float32)
    got = ex.activation(ActFunc.ERF, x)
    assert np.max(np.abs(got.view(np.int32) - want.view(np.int32))) <= 1
    g = ex.activation(ActFunc.GELU, x)
    gw = (0.5 * x.astype(np.float64) * (1 + _erf64(x.astype(np.float64) / np.sqrt(2)))).astype(np.float32)
    np.testing.assert_allclose(g, gw, rtol=1e-6, atol=1e-30)


def test_log_of_zero_and_negative_is_like_numpy():
    with np.errstate(all="ignore"):
        out = ex.activation(ActFunc.LOG, np.array([0.0, -1.0, 1.0], dtype=np.float32))
    assert out[0] == -np.inf and np.isnan(out[1]) and out[2] == 0


# --- int32 tiles, comparisons, select -------------------------------------------------


INT32_COPY = """
builtin.module {
  inf.core 0 {
    %x = inf.dram "input" "ids" : !inf.dram<4x8xi32>
    %y = inf.dram "output" "ids_out" : !inf.dram<4x8xi32>
    %f = inf.dram "output" "as_float" : !inf.dram<4x8xf32>
    %a = inf.alloc : !inf.sbuf<4x8xi32>
    %b = inf.alloc : !inf.sbuf<4x8xi32>
    %c = inf.alloc : !inf.sbuf<4x8xf32>
    inf.dma %a <p = 0, n = 4, off = 0, dims = [[8, 1]]>, %x <p = 0, n = 4, pstride = 8, off = 0, dims = [[8, 1]]> : !inf.sbuf<4x8xi32>, !inf.dram<4x8xi32>
    inf.tensor_scalar "bypass" %b <p = 0, n = 4, off = 0, dims = [[8, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[8, 1]]> : !inf.sbuf<4x8xi32>, !inf.sbuf<4x8xi32>
    inf.tensor_scalar "add" %c <p = 0, n = 4, off = 0, dims = [[8, 1]]>, %a <p = 0, n = 4, off = 0, dims = [[8, 1]]> {imm = 0.5 : f32} : !inf.sbuf<4x8xf32>, !inf.sbuf<4x8xi32>
    inf.dma %y <p = 0, n = 4, pstride = 8, off = 0, dims = [[8, 1]]>, %b <p = 0, n = 4, off = 0, dims = [[8, 1]]> : !inf.dram<4x8xi32>, !inf.sbuf<4x8xi32>
    inf.dma %f <p = 0, n = 4, pstride = 8, off = 0, dims = [[8, 1]]>, %c <p = 0, n = 4, off = 0, dims = [[8, 1]]> : !inf.dram<4x8xf32>, !inf.sbuf<4x8xf32>
  }
}
"""


def test_int32_dma_and_bypass_are_bit_exact_and_engines_read_fp32():
    neff = compile_ir(INT32_COPY)
    assert [(t.name, t.dtype) for t in neff.inputs] == [("ids", "int32")]
    assert {t.name: t.dtype for t in neff.outputs} == {"ids_out": "int32", "as_float": "float32"}
    ids = np.array([[2**31 - 1, -(2**31), 2**24 + 1, -7, 0, 1, 30521, 123456789]] * 4, dtype=np.int32)
    r = simulate(Neff.from_bytes(neff.to_bytes()), {"ids": ids})
    assert r.outputs["ids_out"].dtype == np.int32
    np.testing.assert_array_equal(r.outputs["ids_out"], ids)
    np.testing.assert_array_equal(r.outputs["as_float"], ids.astype(np.float32) + np.float32(0.5))


def test_int32_listing_round_trips_byte_identically():
    neff = compile_ir(INT32_COPY)
    again = assemble(disassemble(neff))
    assert again.to_bytes() == neff.to_bytes()


COMPARE_SELECT = """
builtin.module {
  inf.core 0 {
    %a = inf.dram "input" "a" : !inf.dram<32x16xf32>
    %b = inf.dram "input" "b" : !inf.dram<32x16xf32>
    %m = inf.dram "input" "mask" : !inf.dram<32x16xi32>
    %eq = inf.dram "output" "eq" : !inf.dram<32x16xf32>
    %lt = inf.dram "output" "lt" : !inf.dram<32x16xf32>
    %gt = inf.dram "output" "gt_imm" : !inf.dram<32x16xf32>
    %sel = inf.dram "output" "sel" : !inf.dram<32x16xf32>
    %sa = inf.alloc : !inf.sbuf<32x16xf32>
    %sb = inf.alloc : !inf.sbuf<32x16xf32>
    %sm = inf.alloc : !inf.sbuf<32x16xi32>
    %r0 = inf.alloc : !inf.sbuf<32x16xf32>
    %r1 = inf.alloc : !inf.sbuf<32x16xf32>
    %r2 = inf.alloc : !inf.sbuf<32x16xf32>
    %r3 = inf.alloc : !inf.sbuf<32x16xf32>
    inf.dma %sa AP, %a DAP : !inf.sbuf<32x16xf32>, !inf.dram<32x16xf32>
    inf.dma %sb AP, %b DAP : !inf.sbuf<32x16xf32>, !inf.dram<32x16xf32>
    inf.dma %sm AP, %m DAP : !inf.sbuf<32x16xi32>, !inf.dram<32x16xi32>
    inf.tensor_tensor "equal" %r0 AP, %sa AP, %sb AP : !inf.sbuf<32x16xf32>, !inf.sbuf<32x16xf32>, !inf.sbuf<32x16xf32>
    inf.tensor_tensor "less" %r1 AP, %sa AP, %sb AP : !inf.sbuf<32x16xf32>, !inf.sbuf<32x16xf32>, !inf.sbuf<32x16xf32>
    inf.tensor_scalar "greater" %r2 AP, %sa AP {imm = 0.25 : f32} : !inf.sbuf<32x16xf32>, !inf.sbuf<32x16xf32>
    inf.memset %r3 AP {value = -10000.0 : f32} : !inf.sbuf<32x16xf32>
    inf.select %r3 AP, %sm AP, %sa AP : !inf.sbuf<32x16xf32>, !inf.sbuf<32x16xi32>, !inf.sbuf<32x16xf32>
    inf.dma %eq DAP, %r0 AP : !inf.dram<32x16xf32>, !inf.sbuf<32x16xf32>
    inf.dma %lt DAP, %r1 AP : !inf.dram<32x16xf32>, !inf.sbuf<32x16xf32>
    inf.dma %gt DAP, %r2 AP : !inf.dram<32x16xf32>, !inf.sbuf<32x16xf32>
    inf.dma %sel DAP, %r3 AP : !inf.dram<32x16xf32>, !inf.sbuf<32x16xf32>
  }
}
""".replace("DAP", dram_ap(32, 16)).replace("AP", ap(32, 16))


def test_comparisons_and_select():
    rng = np.random.default_rng(1)
    a = rng.integers(-2, 3, (32, 16)).astype(np.float32) / 2
    b = rng.integers(-2, 3, (32, 16)).astype(np.float32) / 2
    mask = rng.integers(0, 2, (32, 16)).astype(np.int64)  # int64 on the host, as from a tokenizer
    neff = compile_ir(COMPARE_SELECT)
    r = simulate(neff, {"a": a, "b": b, "mask": mask})
    np.testing.assert_array_equal(r.outputs["eq"], (a == b).astype(np.float32))
    np.testing.assert_array_equal(r.outputs["lt"], (a < b).astype(np.float32))
    np.testing.assert_array_equal(r.outputs["gt_imm"], (a > 0.25).astype(np.float32))
    np.testing.assert_array_equal(r.outputs["sel"], np.where(mask != 0, a, np.float32(-10000)))
    pool = neff.subgraphs[0].stream(Engine.POOL)
    sel = pool[pool["opcode"] == Opcode.SELECT]
    assert len(sel) == 1 and list(pool[pool["opcode"] == Opcode.TENSOR_TENSOR]["alu"]) == [AluOp.EQUAL, AluOp.LESS]
    # cost: N x 3 tensor inputs + 64 for the select, N x 2 + 64 per tensor_tensor, N + 64 otherwise
    cm = CostModel()
    assert compute_cycles(r, "pool") == (
        cm.vector(16, 3) + 2 * cm.vector(16, 2) + 2 * cm.vector(16, 1)
    )
    assert cm.vector(16, 3) == 16 * 3 + 64


# --- DMA gather ----------------------------------------------------------------------

ROWS, DIM, R = 50, 24, 8

GATHER = f"""
builtin.module {{
  inf.core 0 {{
    %ids = inf.dram "input" "input_ids" {{kaena.valid_range = array<i64: 0, {ROWS}>}} : !inf.dram<1x{R}xi32>
    %emb = inf.dram "file" "emb" : !inf.dram<{ROWS}x{DIM}xf32>
    %out = inf.dram "output" "y" : !inf.dram<{R}x{DIM}xf32>
    %idx = inf.alloc : !inf.sbuf<{R}x1xi32>
    %rows = inf.alloc : !inf.sbuf<{R}x{DIM}xf32>
    inf.dma %idx <p = 0, n = {R}, off = 0, dims = [[1, 1]]>, %ids <p = 0, n = {R}, pstride = 1, off = 0, dims = [[1, 1]]> : !inf.sbuf<{R}x1xi32>, !inf.dram<1x{R}xi32>
    inf.dma_gather %rows <p = 0, n = {R}, off = 0, dims = [[{DIM}, 1]]>, %emb <p = 0, n = {ROWS}, pstride = {DIM}, off = 0, dims = [[{DIM}, 1]]> index %idx <p = 0, n = {R}, off = 0, dims = [[1, 1]]> : !inf.sbuf<{R}x{DIM}xf32>, !inf.dram<{ROWS}x{DIM}xf32>, !inf.sbuf<{R}x1xi32>
    inf.dma %out <p = 0, n = {R}, pstride = {DIM}, off = 0, dims = [[{DIM}, 1]]>, %rows <p = 0, n = {R}, off = 0, dims = [[{DIM}, 1]]> : !inf.dram<{R}x{DIM}xf32>, !inf.sbuf<{R}x{DIM}xf32>
  }}
}}
"""
TABLE = np.arange(ROWS * DIM, dtype=np.float32).reshape(ROWS, DIM) / 7


@pytest.fixture(scope="module")
def gather_neff(tmp_path_factory) -> Neff:
    d = tmp_path_factory.mktemp("gather")
    neff = compile_ir(GATHER, {"emb": TABLE})
    path = d / "g.neff"
    neff.save(str(path))
    return Neff.load(str(path))


@pytest.fixture(scope="module")
def gather_cli_neff(tmp_path_factory) -> str:
    """Through the command line: kaena-opt (allocate, semaphores) then kaena-translate;
    the table is a model input here (the tools' weight store needs a file)."""
    d = tmp_path_factory.mktemp("gather_cli")
    (d / "g.mlir").write_text(GATHER.replace('"file" "emb"', '"input" "emb"'))
    for cmd in (["kaena-opt", str(d / "g.mlir"), "-p", "inf-allocate-sram,inf-insert-semaphores", "-o", str(d / "s.mlir")],
                ["kaena-translate", str(d / "s.mlir"), "--target", "neff", "-o", str(d / "g.neff")]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    return str(d / "g.neff")


def test_gather_of_embedding_rows(gather_neff):
    ids = np.array([[3, 0, 49, 3, 17, 8, 1, 22]], dtype=np.int64)
    out = load(gather_neff).run({"input_ids": ids})
    np.testing.assert_array_equal(out["y"], TABLE[ids[0]])
    assert gather_neff.inputs[0].valid_range == (0, ROWS)


def test_gather_cost_and_listing(gather_neff):
    r = simulate(gather_neff, {"input_ids": np.zeros((1, R), dtype=np.int32)})
    dma = gather_neff.subgraphs[0].stream(Engine.DMA)
    gat = dma[dma["opcode"] == Opcode.DMA_GATHER]
    assert len(gat) == 1
    nbytes = R * DIM * 4
    cost = CostModel().dma_gather(R, nbytes)
    assert cost == INF1.dma_fixed_cycles + R * INF1.dma_gather_row_cycles + round(nbytes / INF1.dma_bytes_per_s_per_core * INF1.clock_hz)
    assert cost == 1000 + 64 * R + round(nbytes / (12.5 * 2**30) * 1e9)
    assert compute_cycles(r, "dma") == CostModel().dma(R * 4) + cost + CostModel().dma(nbytes)
    assert assemble(disassemble(gather_neff), neff_weights(gather_neff)).to_bytes() == gather_neff.to_bytes()
    assert "dma_gather" in disassemble(gather_neff) and "valid_range 0 50" in disassemble(gather_neff)


def test_gather_index_outside_the_table_is_a_fault(gather_neff):
    spec = gather_neff.inputs[0]
    unchecked = Neff.from_bytes(gather_neff.to_bytes())
    unchecked.inputs = [type(spec)(spec.name, spec.shape, spec.dtype)]  # no valid_range: the device sees it
    ids = np.array([[3, 0, 49, 50, 17, 8, 1, 22]], dtype=np.int32)
    with pytest.raises(SimulationError, match=r"dma instruction \d+ \(DMA_GATHER\): gather index 50 in partition 3 .*outside the table's rows \[0, 50\); nothing was read"):
        simulate(unchecked, {"input_ids": ids})
    with pytest.raises(SimulationError, match="gather index -1 in partition 0"):
        simulate(unchecked, {"input_ids": np.array([[-1] + [0] * 7])})


# --- int32 model inputs on the host -----------------------------------------------------


def test_runtime_converts_int64_and_refuses_bad_values(gather_neff):
    model = load(gather_neff)
    ids = np.zeros((1, R), dtype=np.int64)
    ids[0, 5] = 40000
    with pytest.raises(KaenaError, match=r"^t: token id 40000 at position 5 of input 'input_ids' is outside \[0, 50\)$"):
        model.run({"input_ids": ids})
    ids[0, 5] = 2**40
    with pytest.raises(KaenaError, match=r"value 1099511627776 at position 5 of input 'input_ids' does not fit int32"):
        model.run({"input_ids": ids})
    with pytest.raises(KaenaError, match=r"input 'input_ids' is int32 .*pass an int32 or int64 array, got float32"):
        model.run({"input_ids": np.zeros((1, R), dtype=np.float32)})


def test_kaena_run_accepts_int64_npz(gather_cli_neff, tmp_path):
    path = gather_cli_neff
    assert [(t.name, t.dtype, t.valid_range) for t in Neff.load(path).inputs][0] == ("input_ids", "int32", (0, ROWS))
    ids = np.array([[1, 2, 3, 4, 5, 6, 7, 8]], dtype=np.int64)
    np.savez(tmp_path / "in.npz", input_ids=ids, emb=TABLE)
    proc = subprocess.run(["kaena-run", str(path), "--inputs", str(tmp_path / "in.npz"), "--output",
                           str(tmp_path / "out.npz"), "-q"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npz")["y"], TABLE[ids[0]])
    ids[0, 7] = 30522
    np.savez(tmp_path / "bad.npz", input_ids=ids, emb=TABLE)
    proc = subprocess.run(["kaena-run", str(path), "--inputs", str(tmp_path / "bad.npz"), "--output",
                           str(tmp_path / "out.npz"), "-q"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "token id 30522 at position 7 of input 'input_ids' is outside [0, 50)" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# --- the reader -----------------------------------------------------------------------


def test_reader_refuses_bad_int32_records_and_ranges(gather_neff):
    dma = gather_neff.subgraphs[0].stream(Engine.DMA).copy()
    k = int(np.flatnonzero(dma["opcode"] == Opcode.DMA_GATHER)[0])
    dma["in1"]["dtype"][k] = DType.FP32
    assert stream_errors(dma, Engine.DMA, 3, 32)[1] == "DMA_GATHER indices (in1) must be int32"
    act = np.zeros(1, dtype=dma.dtype)
    act["opcode"], act["out"]["mem"], act["in0"]["mem"] = Opcode.ACTIVATE, 2, 2
    act["out"]["dtype"], act["out"]["num_partitions"], act["in0"]["num_partitions"] = DType.INT32, 1, 1
    assert "ACTIVATE writes int32" in stream_errors(act, Engine.ACT, 0, 32)[1]
    act["out"]["dtype"], act["in0"]["mem"], act["in0"]["dtype"] = DType.FP32, 3, DType.INT32
    assert stream_errors(act, Engine.ACT, 0, 32)[1] == "an int32 PSUM operand (PSUM holds fp32)"
    bad = Neff.from_bytes(gather_neff.to_bytes())
    bad.inputs[0] = type(bad.inputs[0])("input_ids", (1, R), "int32", (5, 5))
    with pytest.raises(NeffError, match="valid_range' must be \\[lo, hi\\] with int32 lo < hi"):
        Neff.from_bytes(bad.to_bytes())


# --- hand-assembled records: what a gather reads of a scratch table ----------------------


def _scratch_gather(ids):
    from kaena.simulator.builder import Program, dram, row, sbuf

    p = Program()
    x = p.var("x", "input", (10, 4))
    t = p.var("t", "tmp-buf", (10, 4))
    i = p.var("ids", "input", (1, 4), "int32")
    y = p.var("y", "output", (4, 4))
    i32 = DType.INT32
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, 5, 4, row(4)), out=dram(t, 5, 4, row(4)))  # rows 0..4 only
    p.add(Engine.DMA, Opcode.DMA, in0=dram(i, 4, 1, row(1), dtype=i32), out=sbuf(0, 4, row(1), dtype=i32))
    p.add(Engine.DMA, Opcode.DMA_GATHER, in0=dram(t, 10, 4, row(4)), in1=sbuf(0, 4, row(1), dtype=i32),
          out=sbuf(64, 4, row(4)))
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(64, 4, row(4)), out=dram(y, 4, 4, row(4)))
    x_val = np.arange(40, dtype=np.float32).reshape(10, 4)
    return simulate(p.neff(), {"x": x_val, "ids": np.array([ids])}), x_val


def test_gather_reads_only_the_rows_it_gathers():
    r, x = _scratch_gather([4, 0, 4, 2])
    np.testing.assert_array_equal(r.outputs["y"], x[[4, 0, 4, 2]])
    assert r.instruction_counts["dma"] == {"DMA": 3, "DMA_GATHER": 1}
    with pytest.raises(SimulationError, match=r"DMA_GATHER\) reads in0 DRAM 't' .*that nothing wrote"):
        _scratch_gather([4, 0, 7, 2])  # row 7 of the scratch table was never written


def test_typed_constructors_build_verifying_ops():
    from xdsl.dialects.builtin import ModuleOp, f32, i32 as I32
    from xdsl.ir import Block, Region

    from kaena.dialects.inferentia import (
        AllocOp, CoreOp, DmaGatherOp, DramOp, DramType, SbufType, SelectOp, ap as mk_ap,
    )

    ids = DramOp("input_ids", "input", DramType([1, 4], I32), valid_range=(0, 10))
    table = DramOp("emb", "file", DramType([10, 8], f32))
    idx = AllocOp(SbufType([4, 1], I32))
    rows = AllocOp(SbufType([4, 8], f32))
    mask = AllocOp(SbufType([4, 8], I32))
    gather = DmaGatherOp(rows.result, mk_ap(0, 4, 0, [(8, 1)]), table.result, mk_ap(0, 10, 0, [(8, 1)], 8),
                         idx.result, mk_ap(0, 4, 0, [(1, 1)]))
    select = SelectOp(rows.result, mk_ap(0, 4, 0, [(8, 1)]), mask.result, mk_ap(0, 4, 0, [(8, 1)]),
                      rows.result, mk_ap(0, 4, 0, [(8, 1)]))
    core = CoreOp(0, Region(Block([ids, table, idx, rows, mask, gather, select])))
    ModuleOp([core]).verify()
    assert ids.valid_range == (0, 10) and gather.ENGINE == Engine.DMA and select.ENGINE == Engine.POOL

