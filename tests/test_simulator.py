"""The simulator's arithmetic, synchronisation and error checks on hand-built programs."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

from kaena.errors import HazardError, KaenaError, SimulationError
from kaena.isa import ActFunc, AluOp, DType, Engine, Flags, Opcode
from kaena.simulator import simulate
from kaena.simulator.builder import Program, dram, psum, row, sbuf

BF16 = ml_dtypes.bfloat16
RNG = np.random.default_rng(0)


def staged(p: Program, loads, engine: Engine, ops, stores):
    """DMA loads -> signal 0 -> `engine` runs ops -> signal 1 -> DMA stores."""
    for src, dst in loads:
        p.add(Engine.DMA, Opcode.DMA, in0=src, out=dst)
    p.signal(Engine.DMA, 0)
    p.wait(engine, 0)
    for op in ops:
        p.add(engine, **op)
    p.signal(engine, 1)
    p.wait(Engine.DMA, 1)
    for src, dst in stores:
        p.add(Engine.DMA, Opcode.DMA, in0=src, out=dst)
    return p.neff()


def test_dma_round_trip_with_strides():
    p = Program()
    x = p.var("x", "input", (4, 6))
    y = p.var("y", "output", (6, 4))
    # load rows into 4 partitions, store transposed through DRAM strides
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, 4, 6, row(6)), out=sbuf(64, 4, row(6)))
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(64, 4, row(6)), out=dram(y, 4, 1, (6, 4)))
    a = RNG.standard_normal((4, 6)).astype(np.float32)
    r = simulate(p.neff(), {"x": a})
    np.testing.assert_array_equal(r.outputs["y"], a.T)
    assert r.dma_bytes == 2 * a.nbytes
    assert r.instruction_counts["dma"] == {"DMA": 2}


@pytest.mark.parametrize("dtype, npdt, rtol", [(DType.FP32, np.float32, 1e-5), (DType.BF16, BF16, 1e-5)])
def test_matmul_matches_numpy(dtype, npdt, rtol):
    K, M, N = 128, 64, 256
    stat = RNG.standard_normal((K, M)).astype(npdt)
    mov = RNG.standard_normal((K, N)).astype(npdt)
    name = np.dtype(npdt).name
    p = Program()
    a = p.var("a", "file", (K, M), name, stat)
    b = p.var("b", "file", (K, N), name, mov)
    y = p.var("y", "output", (M, N))
    isz = np.dtype(npdt).itemsize
    A, B = sbuf(0, K, row(M), dtype=dtype), sbuf(M * isz, K, row(N), dtype=dtype)
    p.add(Engine.DMA, Opcode.DMA, in0=dram(a, K, M, row(M), dtype=dtype), out=A)
    p.add(Engine.DMA, Opcode.DMA, in0=dram(b, K, N, row(N), dtype=dtype), out=B)
    p.signal(Engine.DMA, 0)
    p.wait(Engine.PE, 0)
    p.add(Engine.PE, Opcode.LOAD_STATIONARY, in0=A)
    p.add(Engine.PE, Opcode.MATMUL, in1=B, out=psum(0, M, row(N), start=64))
    p.signal(Engine.PE, 1)
    # PSUM -> SBUF through ACT (identity), then out
    p.wait(Engine.ACT, 1)
    p.add(Engine.ACT, Opcode.ACTIVATE, in0=psum(0, M, row(N), start=64), out=sbuf(4096, M, row(N)))
    p.signal(Engine.ACT, 2)
    p.wait(Engine.DMA, 2)
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(4096, M, row(N)), out=dram(y, M, N, row(N)))
    r = simulate(p.neff(), {})
    ref = stat.astype(np.float64).T @ mov.astype(np.float64)
    np.testing.assert_allclose(r.outputs["y"], ref, rtol=rtol, atol=1e-4)
    assert r.macs == K * M * N


def _matmul_program(accumulate_twice: bool):
    K, M, N = 32, 16, 8
    stat = RNG.standard_normal((K, M)).astype(BF16)
    mov = RNG.standard_normal((K, N)).astype(BF16)
    p = Program()
    a = p.var("a", "file", (K, M), "bfloat16", stat)
    b = p.var("b", "file", (K, N), "bfloat16", mov)
    y = p.var("y", "output", (M, N))
    bf = DType.BF16
    p.add(Engine.DMA, Opcode.DMA, in0=dram(a, K, M, row(M), dtype=bf), out=sbuf(0, K, row(M), dtype=bf))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(b, K, N, row(N), dtype=bf), out=sbuf(64, K, row(N), dtype=bf))
    p.signal(Engine.DMA, 0)
    p.wait(Engine.PE, 0)
    p.add(Engine.PE, Opcode.LOAD_STATIONARY, in0=sbuf(0, K, row(M), dtype=bf))
    p.add(Engine.PE, Opcode.MATMUL, in1=sbuf(64, K, row(N), dtype=bf), out=psum(0, M, row(N)))
    if accumulate_twice:
        p.add(Engine.PE, Opcode.MATMUL, in1=sbuf(64, K, row(N), dtype=bf), out=psum(0, M, row(N)), flags=Flags.ACCUMULATE)
    p.signal(Engine.PE, 1)
    p.wait(Engine.POOL, 1)
    p.add(Engine.POOL, Opcode.TENSOR_SCALAR, alu=AluOp.BYPASS, in0=psum(0, M, row(N)), out=sbuf(1024, M, row(N)))
    p.signal(Engine.POOL, 2)
    p.wait(Engine.DMA, 2)
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(1024, M, row(N)), out=dram(y, M, N, row(N)))
    ref = stat.astype(np.float32).T @ mov.astype(np.float32)
    return p, ref


def test_matmul_accumulate():
    p, ref = _matmul_program(accumulate_twice=True)
    r = simulate(p.neff(), {})
    np.testing.assert_allclose(r.outputs["y"], 2 * ref, rtol=1e-5, atol=1e-5)
    assert r.instruction_counts["pe"] == {"LOAD_STATIONARY": 1, "MATMUL": 2, "SEM_SIGNAL": 1, "SEM_WAIT": 1}


def _act_ref(func, x):
    if func == ActFunc.GELU:
        return np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel().astype(np.float64)]).reshape(x.shape)
    return {
        ActFunc.IDENTITY: lambda v: v,
        ActFunc.RELU: lambda v: np.maximum(v, 0),
        ActFunc.TANH: np.tanh,
        ActFunc.SIGMOID: lambda v: 1 / (1 + np.exp(-v)),
        ActFunc.EXP: np.exp,
        ActFunc.SQRT: np.sqrt,
        ActFunc.RECIPROCAL: lambda v: 1 / v,
        ActFunc.SQUARE: lambda v: v * v,
        ActFunc.RSQRT: lambda v: 1 / np.sqrt(v),
        ActFunc.NEG: lambda v: -v,
        ActFunc.ERF: np.vectorize(math.erf),
        ActFunc.GELU_TANH: lambda v: 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))),
        ActFunc.LOG: np.log,
    }[func](x.astype(np.float64))


@pytest.mark.parametrize("func", list(ActFunc))
def test_each_activation(func):
    P, F = 32, 16
    x = RNG.uniform(0.5, 2.0, (P, F)).astype(np.float32) * RNG.choice([-1, 1], (P, F)).astype(np.float32)
    if func in (ActFunc.SQRT, ActFunc.RSQRT, ActFunc.LOG):
        x = np.abs(x)
    bias = RNG.standard_normal((P, 1)).astype(np.float32) * 0.1
    if func in (ActFunc.SQRT, ActFunc.RSQRT, ActFunc.RECIPROCAL, ActFunc.LOG):
        bias = np.abs(bias) * np.sign(x[:, :1])
    scale = 1.5
    p = Program()
    xi = p.var("x", "input", (P, F))
    bi = p.var("bias", "input", (P, 1))
    y = p.var("y", "output", (P, F), "bfloat16")
    neff = staged(
        p,
        [(dram(xi, P, F, row(F)), sbuf(0, P, row(F))), (dram(bi, P, 1, row(1)), sbuf(128, P, row(1)))],
        Engine.ACT,
        [dict(opcode=Opcode.ACTIVATE, func=func, scale=scale, in0=sbuf(0, P, row(F)), in1=sbuf(128, P, row(1)),
              out=sbuf(256, P, row(F), dtype=DType.BF16))],
        [(sbuf(256, P, row(F), dtype=DType.BF16), dram(y, P, F, row(F), dtype=DType.BF16))],
    )
    r = simulate(neff, {"x": x, "bias": bias})
    ref = _act_ref(func, x.astype(np.float32) * np.float32(scale) + bias)
    # rounded once to bf16: within half a bf16 ulp (2^-8 relative) plus fp32 noise
    np.testing.assert_allclose(r.outputs["y"], ref.astype(np.float32).astype(BF16).astype(np.float32), rtol=2**-7, atol=1e-6)


def test_activation_bias_from_immediate_reads_psum_rounds_to_bf16():
    P, F = 64, 8
    x = RNG.standard_normal((P, F)).astype(np.float32)
    p = Program()
    xi = p.var("x", "input", (P, F))
    y = p.var("y", "output", (P, F), "bfloat16")
    neff = staged(
        p,
        [(dram(xi, P, F, row(F)), sbuf(0, P, row(F)))],
        Engine.ACT,
        [dict(opcode=Opcode.ACTIVATE, func=ActFunc.IDENTITY, imm=0.25, in0=sbuf(0, P, row(F)),
              out=sbuf(64, P, row(F), dtype=DType.BF16))],
        [(sbuf(64, P, row(F), dtype=DType.BF16), dram(y, P, F, row(F), dtype=DType.BF16))],
    )
    r = simulate(neff, {"x": x})
    np.testing.assert_array_equal(r.outputs["y"], (x + np.float32(0.25)).astype(BF16).astype(np.float32))


@pytest.mark.parametrize("alu", list(AluOp))
def test_tensor_tensor_and_tensor_scalar(alu):
    P, F = 32, 12
    a = RNG.standard_normal((P, F)).astype(np.float32)
    b = RNG.uniform(0.5, 2, (P, F)).astype(np.float32)
    s = RNG.uniform(0.5, 2, (P, 1)).astype(np.float32)
    p = Program()
    ai, bi, si = p.var("a", "input", (P, F)), p.var("b", "input", (P, F)), p.var("s", "input", (P, 1))
    y1, y2, y3 = p.var("tt", "output", (P, F)), p.var("ts", "output", (P, F)), p.var("ti", "output", (P, F))
    A, B, S = sbuf(0, P, row(F)), sbuf(64, P, row(F)), sbuf(128, P, row(1))
    O1, O2, O3 = sbuf(256, P, row(F)), sbuf(320, P, row(F)), sbuf(384, P, row(F))
    neff = staged(
        p,
        [(dram(ai, P, F, row(F)), A), (dram(bi, P, F, row(F)), B), (dram(si, P, 1, row(1)), S)],
        Engine.POOL,
        [dict(opcode=Opcode.TENSOR_TENSOR, alu=alu, in0=A, in1=B, out=O1),
         dict(opcode=Opcode.TENSOR_SCALAR, alu=alu, in0=A, in1=S, out=O2),
         dict(opcode=Opcode.TENSOR_SCALAR, alu=alu, in0=A, imm=3.0, out=O3)],
        [(O1, dram(y1, P, F, row(F))), (O2, dram(y2, P, F, row(F))), (O3, dram(y3, P, F, row(F)))],
    )
    r = simulate(neff, {"a": a, "b": b, "s": s})
    fn = {
        AluOp.ADD: np.add, AluOp.SUB: np.subtract, AluOp.MUL: np.multiply, AluOp.MAX: np.maximum,
        AluOp.MIN: np.minimum, AluOp.DIV: np.divide, AluOp.BYPASS: lambda u, v: u,
        AluOp.EQUAL: lambda u, v: (u == v).astype(np.float32), AluOp.LESS: lambda u, v: (u < v).astype(np.float32),
        AluOp.GREATER: lambda u, v: (u > v).astype(np.float32),
    }[alu]
    np.testing.assert_allclose(r.outputs["tt"], fn(a, b), rtol=1e-6)
    np.testing.assert_allclose(r.outputs["ts"], fn(a, s), rtol=1e-6)
    np.testing.assert_allclose(r.outputs["ti"], fn(a, np.float32(3.0)), rtol=1e-6)


@pytest.mark.parametrize("alu, fn", [(AluOp.ADD, np.sum), (AluOp.MAX, np.max), (AluOp.MIN, np.min)])
def test_reduce_transpose_memset(alu, fn):
    P, H, W = 32, 4, 6
    x = RNG.standard_normal((P, H, W)).astype(np.float32)
    p = Program()
    xi = p.var("x", "input", (P, H, W))
    r1, r2 = p.var("r1", "output", (P, H)), p.var("r2", "output", (P, 1))
    t, m = p.var("t", "output", (H * W, P)), p.var("m", "output", (P, 3))
    X = sbuf(0, P, (H, W), (W, 1))
    neff = staged(
        p,
        [(dram(xi, P, H * W, row(H * W)), sbuf(0, P, row(H * W)))],
        Engine.POOL,
        [dict(opcode=Opcode.REDUCE, alu=alu, axes=1, scale=0.5, in0=X, out=sbuf(256, P, row(H))),
         dict(opcode=Opcode.REDUCE, alu=alu, axes=2, in0=X, out=sbuf(320, P, row(1))),
         dict(opcode=Opcode.TRANSPOSE, in0=sbuf(0, P, row(H * W)), out=sbuf(512, H * W, row(P))),
         dict(opcode=Opcode.MEMSET, imm=-2.5, out=sbuf(768, P, row(3)))],
        [(sbuf(256, P, row(H)), dram(r1, P, H, row(H))), (sbuf(320, P, row(1)), dram(r2, P, 1, row(1))),
         (sbuf(512, H * W, row(P)), dram(t, H * W, P, row(P))), (sbuf(768, P, row(3)), dram(m, P, 3, row(3)))],
    )
    r = simulate(neff, {"x": x})
    np.testing.assert_allclose(r.outputs["r1"], fn(x, axis=2) * 0.5, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(r.outputs["r2"], fn(x, axis=(1, 2))[:, None], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(r.outputs["t"], x.reshape(P, -1).T)
    np.testing.assert_array_equal(r.outputs["m"], np.full((P, 3), -2.5, np.float32))


# --- synchronisation and hazards ---------------------------------------------


def _two_engine(with_signal: bool, wait_value: int = 1):
    """DMA loads x, POOL doubles it, DMA stores: ordered by semaphores 0 and 1."""
    P, F = 32, 8
    p = Program()
    x, y = p.var("x", "input", (P, F)), p.var("y", "output", (P, F))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, P, F, row(F)), out=sbuf(0, P, row(F)))
    if with_signal:
        p.signal(Engine.DMA, 0)
    p.wait(Engine.POOL, 0, wait_value) if with_signal or wait_value > 1 else None
    p.add(Engine.POOL, Opcode.TENSOR_SCALAR, alu=AluOp.MUL, imm=2.0, in0=sbuf(0, P, row(F)), out=sbuf(64, P, row(F)))
    p.signal(Engine.POOL, 1)
    p.wait(Engine.DMA, 1)
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(64, P, row(F)), out=dram(y, P, F, row(F)))
    return p.neff(), RNG.standard_normal((P, F)).astype(np.float32)


def test_semaphores_order_two_engines():
    neff, x = _two_engine(with_signal=True)
    r = simulate(neff, {"x": x})
    np.testing.assert_array_equal(r.outputs["y"], 2 * x)


def test_missing_semaphore_is_a_hazard():
    neff, x = _two_engine(with_signal=False)
    with pytest.raises(HazardError) as e:
        simulate(neff, {"x": x})
    msg = str(e.value)
    assert "pool instruction 0 (TENSOR_SCALAR)" in msg and "dma instruction 0 (DMA)" in msg and "SBUF partition 0" in msg


def test_overwrite_racing_a_read_is_a_hazard():
    # DMA overwrites the tile POOL reads, with no wait for POOL's read
    P, F = 32, 8
    p = Program()
    x, y = p.var("x", "input", (P, F)), p.var("y", "output", (P, F))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, P, F, row(F)), out=sbuf(0, P, row(F)))
    p.signal(Engine.DMA, 0)
    p.wait(Engine.POOL, 0)
    p.add(Engine.POOL, Opcode.TENSOR_SCALAR, alu=AluOp.MUL, imm=2.0, in0=sbuf(0, P, row(F)), out=sbuf(64, P, row(F)))
    p.signal(Engine.POOL, 1)
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, P, F, row(F)), out=sbuf(0, P, row(F)))  # races with POOL's read
    p.wait(Engine.DMA, 1)
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(64, P, row(F)), out=dram(y, P, F, row(F)))
    with pytest.raises(HazardError) as e:
        simulate(p.neff(), {"x": np.zeros((P, F), np.float32)})
    # whichever of the two the event loop ran first, the race between them is named
    assert "pool instruction 1 (TENSOR_SCALAR)" in str(e.value) and "dma instruction 2 (DMA)" in str(e.value)


def test_shadow_packs_the_touched_columns_and_still_finds_a_race_at_the_top():
    """The on-chip hazard shadow covers only the byte ranges the records touch (a tile at
    the bottom of SBUF, one at the top, packed side by side): the race on the top tile is
    found and named with its real bytes."""
    from kaena.simulator.memory import Columns
    from kaena.target import INF1

    P, F = 32, 8
    top = INF1.sbuf_bytes_per_partition - 4 * F

    def program(race: bool):
        p = Program()
        x, y = p.var("x", "input", (P, F)), p.var("y", "output", (P, F))
        p.add(Engine.DMA, Opcode.DMA, in0=dram(x, P, F, row(F)), out=sbuf(top, P, row(F)))
        p.signal(Engine.DMA, 0)
        p.wait(Engine.POOL, 0)
        p.add(Engine.POOL, Opcode.TENSOR_SCALAR, alu=AluOp.MUL, imm=2.0, in0=sbuf(top, P, row(F)),
              out=sbuf(0, P, row(F)))
        p.signal(Engine.POOL, 1)
        if race:  # overwrites the top tile before waiting for POOL's read of it
            p.add(Engine.DMA, Opcode.DMA, in0=dram(x, P, F, row(F)), out=sbuf(top, P, row(F)))
        p.wait(Engine.DMA, 1)
        p.add(Engine.DMA, Opcode.DMA, in0=sbuf(0, P, row(F)), out=dram(y, P, F, row(F)))
        return p.neff()

    x0 = RNG.standard_normal((P, F)).astype(np.float32)
    np.testing.assert_array_equal(simulate(program(False), {"x": x0}).outputs["y"], 2 * x0)
    with pytest.raises(HazardError, match=rf"SBUF partitions \[0, 32\) bytes \[{top}, {top + 4 * F}\)"):
        simulate(program(True), {"x": x0})
    cols = Columns(np.array([top, 0, 4]), np.array([top + 32, 8, 16]))  # [0, 8) and [4, 16) merge
    assert cols.width == (16 + 32) // 2 and cols.column(4) == 2 and cols.column(top + 2) == 8 + 1
    cols.check_span(0, 16)  # the merged range
    cols.check_span(top, top + 32)
    with pytest.raises(AssertionError, match=rf"bytes \[8, {top + 4}\) spans two packed ranges"):
        cols.check_span(8, top + 4)


def test_hazard_verdict_does_not_depend_on_timing():
    """The POOL read is ordered only by the second of two DMA signals; waiting for
    value 1 is not enough even though, in simulated time, the load finished first."""
    P, F = 32, 8
    p = Program()
    x, y = p.var("x", "input", (P, F)), p.var("y", "output", (P, F))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, P, F, row(F)), out=sbuf(0, P, row(1 * F)))
    p.signal(Engine.DMA, 0)
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, P, F, row(F)), out=sbuf(64, P, row(F)))
    p.signal(Engine.DMA, 0)
    p.wait(Engine.POOL, 0, 1)
    p.add(Engine.POOL, Opcode.TENSOR_SCALAR, alu=AluOp.MUL, imm=2.0, in0=sbuf(64, P, row(F)), out=sbuf(128, P, row(F)))
    p.signal(Engine.POOL, 1)
    p.wait(Engine.DMA, 1)
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(128, P, row(F)), out=dram(y, P, F, row(F)))
    with pytest.raises(HazardError, match="read-after-write"):
        simulate(p.neff(), {"x": np.zeros((P, F), np.float32)})
    # no hazard checking: it runs
    simulate(p.neff(), {"x": np.zeros((P, F), np.float32)}, check_hazards=False)


def test_uninitialised_sbuf_read():
    P, F = 32, 8
    p = Program()
    y = p.var("y", "output", (P, F))
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(0, P, row(F)), out=dram(y, P, F, row(F)))
    with pytest.raises(SimulationError, match="uninitialised"):
        simulate(p.neff(), {})


def test_output_not_fully_written():
    P, F = 32, 8
    p = Program()
    y = p.var("y", "output", (P, F))
    p.add(Engine.POOL, Opcode.MEMSET, imm=1.0, out=sbuf(0, P, row(F)))
    p.signal(Engine.POOL, 0)
    p.wait(Engine.DMA, 0)
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(0, P - 1, row(F)), out=dram(y, P - 1, F, row(F)))
    with pytest.raises(SimulationError, match="output variable 'y' is not fully written"):
        simulate(p.neff(), {})


def test_deadlock():
    p = Program()
    p.wait(Engine.PE, 3)
    p.signal(Engine.PE, 4)
    p.wait(Engine.ACT, 4)
    p.signal(Engine.ACT, 3)
    with pytest.raises(SimulationError, match="deadlock") as e:
        simulate(p.neff(), {})
    assert "pe instruction 0 waits for semaphore 3" in str(e.value)
    assert "act instruction 0 waits for semaphore 4" in str(e.value)


@pytest.mark.parametrize(
    "ap, match",
    [
        (sbuf(96 * 1024 - 16, 32, row(8)), "out of bounds"),
        (sbuf(0, 32, row(8), start=112), "partitions out of bounds"),
        (sbuf(0, 32, row(8), start=16), "multiple of 32"),
        (sbuf(0, 32, (8, -1)), "out of bounds"),
    ],
)
def test_out_of_bounds_access_pattern(ap, match):
    p = Program()
    p.add(Engine.POOL, Opcode.MEMSET, imm=0.0, out=sbuf(0, 32, row(8)))
    p.add(Engine.POOL, Opcode.MEMSET, imm=0.0, out=ap)
    with pytest.raises(SimulationError, match=match) as e:
        simulate(p.neff(), {})
    assert str(e.value).startswith("core 0, pool instruction 1 (MEMSET): out SBUF")


def test_dram_out_of_bounds_and_read_only():
    p = Program()
    x = p.var("x", "input", (4, 8))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, 4, 9, row(8)), out=sbuf(0, 4, row(8)))
    with pytest.raises(SimulationError, match=r"dma instruction 0 \(DMA\): in0 DRAM variable 'x'.*out of bounds"):
        simulate(p.neff(), {"x": np.zeros((4, 8), np.float32)})
    p = Program()
    x = p.var("x", "input", (4, 8))
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(0, 4, row(8)), out=dram(x, 4, 8, row(8)))
    with pytest.raises(SimulationError, match="read-only 'input'"):
        simulate(p.neff(), {"x": np.zeros((4, 8), np.float32)})


def test_matmul_rules():
    p = Program()
    p.add(Engine.PE, Opcode.MATMUL, in1=sbuf(0, 32, row(8), dtype=DType.BF16), out=psum(0, 16, row(8), start=32))
    with pytest.raises(SimulationError, match=r"start partition 32 not one of \(0, 64\)"):
        simulate(p.neff(), {}, timing_only=True)
    p = Program()
    p.add(Engine.POOL, Opcode.MEMSET, imm=1.0, out=sbuf(0, 32, row(8), dtype=DType.BF16))
    p.signal(Engine.POOL, 0)
    p.wait(Engine.PE, 0)
    p.add(Engine.PE, Opcode.MATMUL, in1=sbuf(0, 32, row(8), dtype=DType.BF16), out=psum(0, 16, row(8)))
    with pytest.raises(SimulationError, match="no stationary operand loaded"):
        simulate(p.neff(), {})


def test_input_validation():
    neff, x = _two_engine(with_signal=True)
    with pytest.raises(KaenaError, match="missing input 'x'"):
        simulate(neff, {})
    with pytest.raises(KaenaError, match="unknown input 'z'"):
        simulate(neff, {"x": x, "z": x})
    with pytest.raises(KaenaError, match=r"input 'x' has shape \(2, 3\) but the model expects \(32, 8\)"):
        simulate(neff, {"x": np.zeros((2, 3))})
    # float64 and int inputs are cast to the declared dtype
    r = simulate(neff, {"x": x.astype(np.float64)})
    assert r.outputs["y"].dtype == np.float32


def test_bad_record_field_is_reported():
    neff, x = _two_engine(with_signal=True)
    neff.subgraphs[0].streams[Engine.POOL]["opcode"][1] = Opcode.MATMUL
    with pytest.raises(SimulationError, match="pool instruction 1: opcode 3 is not valid on the pool engine"):
        simulate(neff, {"x": x})


def test_two_subgraphs_run_in_series():
    P, F = 32, 8
    subgraphs = []
    for k in range(2):
        p = Program()
        src = p.var("x" if k == 0 else "h", "input", (P, F))
        dst = p.var("h" if k == 0 else "y", "output", (P, F))
        p.add(Engine.DMA, Opcode.DMA, in0=dram(src, P, F, row(F)), out=sbuf(0, P, row(F)))
        p.signal(Engine.DMA, 0)
        p.wait(Engine.ACT, 0)
        p.add(Engine.ACT, Opcode.ACTIVATE, func=ActFunc.IDENTITY, imm=1.0, in0=sbuf(0, P, row(F)), out=sbuf(64, P, row(F)))
        p.signal(Engine.ACT, 1)
        p.wait(Engine.DMA, 1)
        p.add(Engine.DMA, Opcode.DMA, in0=sbuf(64, P, row(F)), out=dram(dst, P, F, row(F)))
        subgraphs.append(p.subgraph(core=k))
    from kaena.neff import Neff, TensorSpec

    neff = Neff("two", [TensorSpec("x", (P, F))], [TensorSpec("y", (P, F))], subgraphs)
    x = RNG.standard_normal((P, F)).astype(np.float32)
    r = simulate(neff, {"x": x})
    np.testing.assert_array_equal(r.outputs["y"], (x + np.float32(1)) + np.float32(1))
    assert len(r.core_cycles) == 2 and r.cycles == sum(r.core_cycles)
