"""Cycle counts of micro-programs against the hardware contract's cost model."""

from __future__ import annotations

import numpy as np

from kaena.isa import ActFunc, AluOp, DType, Engine, Opcode
from kaena.simulator import simulate
from kaena.simulator.builder import Program, dram, psum, row, sbuf
from kaena.target import INF1, MIB

T = INF1
BF = DType.BF16


def _matmuls(p: Program, n_matmuls: int, N: int = 256, dtype: DType = BF, load: bool = True):
    if load:
        p.add(Engine.PE, Opcode.LOAD_STATIONARY, in0=sbuf(0, 128, row(64), dtype=dtype))
    for _ in range(n_matmuls):
        p.add(Engine.PE, Opcode.MATMUL, in1=sbuf(1024, 128, row(N), dtype=dtype), out=psum(0, 64, row(N)))


def test_isolated_matmul_completes_320_cycles_after_it_starts():
    p = Program()
    _matmuls(p, 1, load=False)
    r = simulate(p.neff(), {}, timing_only=True)
    assert r.cycles == 320 == 256 + T.pe_drain_cycles
    assert r.busy["pe"] == 256


def test_stationary_load_then_matmul():
    p = Program()
    _matmuls(p, 1)
    assert simulate(p.neff(), {}, timing_only=True).cycles == T.pe_stationary_load_cycles + 320


def test_back_to_back_matmuls_stream():
    p = Program()
    _matmuls(p, 8, load=False)
    r = simulate(p.neff(), {}, timing_only=True)
    assert r.cycles == 8 * 256 + 64
    assert r.instruction_counts["pe"] == {"MATMUL": 8}
    assert r.macs == 8 * 128 * 64 * 256
    assert abs(r.pe_utilization() - r.macs / T.macs_per_cycle / r.cycles) < 1e-12


def test_small_matmul_costs_the_minimum_and_fp32_is_slower():
    p = Program()
    _matmuls(p, 1, N=16, load=False)
    assert simulate(p.neff(), {}, timing_only=True).cycles == T.pe_min_matmul_cycles + T.pe_drain_cycles
    p = Program()
    _matmuls(p, 1, dtype=DType.FP32)
    expected = T.pe_stationary_load_cycles * T.pe_fp32_slowdown + 256 * T.pe_fp32_slowdown + T.pe_drain_cycles
    assert simulate(p.neff(), {}, timing_only=True).cycles == expected


def test_dma_of_one_mib():
    p = Program()
    x = p.var("x", "input", (128, 2048))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, 128, 2048, row(2048)), out=sbuf(0, 128, row(2048)))
    r = simulate(p.neff(), {}, timing_only=True)
    assert r.cycles == T.dma_cycles(1 * MIB) == 1000 + round(MIB / (12.5 * 1024**3) * 1e9)
    assert r.dma_bytes == MIB


def test_two_engines_ordered_by_a_semaphore():
    nbytes = 32 * 256 * 4
    p = Program()
    x = p.var("x", "input", (32, 256))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, 32, 256, row(256)), out=sbuf(0, 32, row(256)))
    p.signal(Engine.DMA, 0)
    p.wait(Engine.ACT, 0)
    p.add(Engine.ACT, Opcode.ACTIVATE, func=ActFunc.RELU, in0=sbuf(0, 32, row(256)), out=sbuf(2048, 32, row(256)))
    r = simulate(p.neff(), {}, timing_only=True)
    d = T.dma_cycles(nbytes)
    s = T.semaphore_cycles
    # signal occupies the queue s cycles; the wait ends s cycles after the count is reached
    assert r.cycles == d + s + s + 256 + T.act_fixed_cycles
    assert r.busy == {"pe": 0, "act": s + 256 + T.act_fixed_cycles, "pool": 0, "dma": d + s}


def test_signal_after_matmul_waits_for_the_psum_drain():
    p = Program()
    _matmuls(p, 1)
    p.signal(Engine.PE, 0)
    p.wait(Engine.ACT, 0)
    p.add(Engine.ACT, Opcode.ACTIVATE, in0=psum(0, 64, row(256)), out=sbuf(0, 64, row(256)))
    r = simulate(p.neff(), {}, timing_only=True)
    matmul_done = 64 + 256 + 64
    assert r.cycles == matmul_done + 16 + 256 + 64


def test_vector_engine_costs():
    p = Program()
    a, b, o = sbuf(0, 128, row(100)), sbuf(512, 128, row(100)), sbuf(1024, 128, row(100))
    p.add(Engine.POOL, Opcode.TENSOR_TENSOR, alu=AluOp.ADD, in0=a, in1=b, out=o)
    p.add(Engine.POOL, Opcode.TENSOR_SCALAR, alu=AluOp.MUL, imm=2.0, in0=a, out=o)
    p.add(Engine.POOL, Opcode.MEMSET, imm=0.0, out=sbuf(0, 128, row(10)))
    r = simulate(p.neff(), {}, timing_only=True)
    v = T.vector_fixed_cycles
    assert r.cycles == (2 * 100 + v) + (100 + v) + (10 + v)


def test_timing_only_and_full_runs_agree():
    P, F = 64, 128
    p = Program()
    x, y = p.var("x", "input", (P, F)), p.var("y", "output", (P, F))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, P, F, row(F)), out=sbuf(0, P, row(F)))
    p.signal(Engine.DMA, 0)
    p.wait(Engine.POOL, 0)
    p.add(Engine.POOL, Opcode.TENSOR_SCALAR, alu=AluOp.ADD, imm=1.0, in0=sbuf(0, P, row(F)), out=sbuf(1024, P, row(F)))
    p.signal(Engine.POOL, 1)
    p.wait(Engine.DMA, 1)
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(1024, P, row(F)), out=dram(y, P, F, row(F)))
    full = simulate(p.neff(), {"x": np.zeros((P, F), np.float32)})
    fast = simulate(p.neff(), {}, timing_only=True)
    assert fast.outputs == {}
    assert (full.cycles, full.busy, full.instruction_counts) == (fast.cycles, fast.busy, fast.instruction_counts)
    d = T.dma_cycles(P * F * 4)
    assert full.cycles == d + 16 + 16 + (F + 64) + 16 + 16 + d
