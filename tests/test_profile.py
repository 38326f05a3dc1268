"""The shared cost model, run statistics, the critical path and the Perfetto trace."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import onnx
import pytest

import kaena
from kaena.testing import modelzoo
from kaena.target.costmodel import COSTS, CostModel
from kaena.isa import ActFunc, DType, Engine, Opcode
from kaena.reports.profile import chrome_trace, critical_path, format_summary, must_move, run_stats
from kaena.testing.reference import random_inputs
from kaena.simulator import simulate
from kaena.simulator.builder import Program, dram, psum, row, sbuf
from kaena.target import INF1

T = INF1
BF = DType.BF16


# --- cost model ------------------------------------------------------------------------------
def test_cost_model_matches_the_contract():
    assert COSTS.matmul_latency(256) == 320  # "an isolated matmul of N = 256 completes 320 cycles after it starts"
    assert COSTS.matmul(16) == T.pe_min_matmul_cycles
    assert COSTS.matmul(256, "fp32") == 4 * 256 and COSTS.stationary_load(DType.FP32) == 4 * 64
    assert COSTS.stationary_load("bf16") == 64
    assert COSTS.activation(100) == 164 and COSTS.vector(100, inputs=2) == 264
    assert COSTS.dma(0) == 1000  # 1 us fixed at 1 GHz
    assert COSTS.dma(12_500 * 1024**3 // 1_000_000) == 1000 + 1_000_000  # 12.5 GiB/s: that many bytes in 1 ms
    assert COSTS.host_transfer(12 * 1024**3) == 5_000 + 1_000_000_000
    assert COSTS.neuronlink(32 * 1024**3 // 1000) == 2_000 + 1_000_000
    assert COSTS.semaphore() == 16


def _gemm_program(K: int, M: int, N: int, dtype: DType) -> Program:
    """The stationary-outer schedule ``CostModel.gemm`` prices, as records."""
    p = Program()
    for _ in range(-(-K // T.pe_rows)):
        for m0 in range(0, M, T.pe_columns):
            m = min(T.pe_columns, M - m0)
            p.add(Engine.PE, Opcode.LOAD_STATIONARY, in0=sbuf(0, 128, row(m), dtype=dtype))
            for n0 in range(0, N, T.pe_max_moving):
                n = min(T.pe_max_moving, N - n0)
                p.add(Engine.PE, Opcode.MATMUL, in1=sbuf(1024, 128, row(n), dtype=dtype), out=psum(0, m, row(n)))
    return p


@pytest.mark.parametrize("K,M,N,dtype", [(256, 128, 512, BF), (128, 100, 300, BF), (384, 64, 40, DType.FP32)])
def test_gemm_estimate_is_what_the_simulator_measures(K, M, N, dtype):
    """The lowering's schedule estimates and the simulator price the same records alike."""
    g = COSTS.gemm(K, M, N, dtype)
    r = simulate(_gemm_program(K, M, N, dtype).neff(), {}, timing_only=True)
    assert g.cycles == r.cycles
    # with K rounded up to the 128 partitions the test program uses
    assert r.macs == -(-K // 128) * 128 * M * N and g.macs == K * M * N


def test_cost_model_of_another_target():
    from dataclasses import replace

    slow = CostModel(replace(T, clock_hz=0.5e9))
    assert slow.dma(0) == 500 and slow.cycles_to_us(500) == 1.0


# --- micro-programs: exact traces and critical paths --------------------------------------------
def _dma_then_activation() -> Program:
    p = Program()
    x = p.var("x", "input", (32, 256))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, 32, 256, row(256)), out=sbuf(0, 32, row(256)))
    p.signal(Engine.DMA, 0)
    p.wait(Engine.ACT, 0)
    p.add(Engine.ACT, Opcode.ACTIVATE, func=ActFunc.RELU, in0=sbuf(0, 32, row(256)), out=sbuf(2048, 32, row(256)))
    return p


def test_profile_does_not_change_the_run():
    neff = _dma_then_activation().neff()
    plain = simulate(neff, {}, timing_only=True)
    prof = simulate(neff, {}, timing_only=True, profile=True)
    assert plain.trace is None and prof.trace is not None
    assert (plain.cycles, plain.busy, plain.instruction_counts) == (prof.cycles, prof.busy, prof.instruction_counts)


def test_semaphore_hand_off_trace_and_critical_path():
    r = simulate(_dma_then_activation().neff(), {}, timing_only=True, profile=True)
    d, s, a = T.dma_cycles(32 * 256 * 4), T.semaphore_cycles, 256 + T.act_fixed_cycles
    assert r.cycles == d + s + s + a
    act = r.trace[0].engines[Engine.ACT]
    assert act.start.tolist() == [0, d + 2 * s]  # the wait issues at 0 and is released at d + s
    assert act.ready.tolist()[0] == d + s and act.end.tolist() == [d + 2 * s, d + 2 * s + a]
    assert (act.wait_src_engine[0], act.wait_src_index[0]) == (Engine.DMA, 1)
    cp = critical_path(r.trace)
    assert cp.by_engine == {"pe": 0, "act": s + a, "pool": 0, "dma": d + s}
    assert cp.by_kind == {"dma DMA DRAM->SBUF": d, "dma SEM_SIGNAL": s, "act SEM_WAIT": s, "act ACTIVATE relu": a}

    doc = chrome_trace(_dma_then_activation().neff(), r)
    json.dumps(doc)
    ev = doc["traceEvents"]
    tracks = {e["args"]["name"] for e in ev if e["name"] == "thread_name"}
    assert tracks == {"pe (tensor engine)", "act (scalar engine)", "pool (vector engine)", "dma queue 0"}
    slices = {(e["tid"], e["args"]["index"]): e for e in ev if e["ph"] == "X"}
    assert len(slices) == 4
    wait = slices[(int(Engine.ACT), 0)]
    assert wait["name"] == "wait sem 0 >= 1" and wait["args"]["blocked_cycles"] == d + s
    assert wait["ts"] == 0 and wait["dur"] == pytest.approx((d + 2 * s) / 1000)
    assert wait["args"]["released_by"] == "dma #1"
    relu = slices[(int(Engine.ACT), 1)]
    assert relu["name"] == "act ACTIVATE relu" and relu["dur"] == pytest.approx(a / 1000)
    assert relu["args"]["in0"] == "SBUF p0:32 [32x256] fp32"
    assert slices[(int(Engine.DMA), 0)]["args"]["in0"] == "DRAM 'x' [32x256] fp32"
    flows = [e for e in ev if e["ph"] in ("s", "f")]
    assert [(e["ph"], e["tid"]) for e in flows] == [("s", int(Engine.DMA)), ("f", int(Engine.ACT))]


def test_critical_path_follows_the_psum_drain():
    """A signal after a matmul rises when the drain ends: the path runs through the matmul's drain."""
    p = Program()
    p.add(Engine.PE, Opcode.LOAD_STATIONARY, in0=sbuf(0, 128, row(64), dtype=BF))
    p.add(Engine.PE, Opcode.MATMUL, in1=sbuf(1024, 128, row(256), dtype=BF), out=psum(0, 64, row(256)))
    p.signal(Engine.PE, 0)
    p.wait(Engine.ACT, 0)
    p.add(Engine.ACT, Opcode.ACTIVATE, in0=psum(0, 64, row(256)), out=sbuf(0, 64, row(256)))
    r = simulate(p.neff(), {}, timing_only=True, profile=True)
    assert r.cycles == 64 + 256 + 64 + 16 + 256 + 64
    cp = critical_path(r.trace)
    assert cp.by_kind == {"pe LOAD_STATIONARY bf16": 64, "pe MATMUL bf16": 256 + 64,
                          "act SEM_WAIT": 16, "act ACTIVATE identity": 320}
    pe = r.trace[0].engines[Engine.PE]
    assert pe.complete.tolist() == [64, 64 + 256 + 64, 64 + 256 + 64]  # the signal's count rises after the drain


def test_fp32_matmuls_weigh_four_times_in_the_pe_floor():
    p = Program()
    p.add(Engine.PE, Opcode.LOAD_STATIONARY, in0=sbuf(0, 128, row(64), dtype=DType.FP32))
    p.add(Engine.PE, Opcode.MATMUL, in1=sbuf(1024, 128, row(256), dtype=DType.FP32), out=psum(0, 64, row(256)))
    neff = p.neff()
    r = simulate(neff, {}, timing_only=True)
    assert r.pe_weighted_macs == 4 * r.macs == 4 * 128 * 64 * 256
    s = run_stats(neff, r)
    assert s["pe_floor_cycles"] == 4 * 256  # one full matmul at the fp32 rate
    assert s["cycles"] >= s["pe_floor_cycles"]


def test_must_move_counts_inputs_weights_outputs_but_not_spills():
    p = Program()
    p.var("x", "input", (4, 8))
    p.var("w", "file", (8, 8), data=np.zeros((8, 8), np.float32))
    p.var("t", "tmp-buf", (4, 8))
    p.var("y", "output", (4, 8))
    assert must_move(p.neff()) == ((32 + 64 + 32) * 4, 3)


# --- compiled models --------------------------------------------------------------------------------
MODELS = {"mlp": lambda: modelzoo.mlp(batch=4), "lenet": lambda: modelzoo.lenet(batch=1)}


@pytest.fixture(scope="module", params=[(m, ac) for m in sorted(MODELS) for ac in ("none", "matmult")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def compiled_run(request):
    name, auto_cast = request.param
    model = MODELS[name]()
    neff = kaena.compile(model, auto_cast=auto_cast)
    result = kaena.load(neff).simulate(random_inputs(model, seed=0), profile=True)
    return neff, result


def test_stats_agree_with_macs_cycles_and_floors(compiled_run):
    neff, r = compiled_run
    s = run_stats(neff, r)
    for key in ("cycles", "latency_us", "macs", "pe_utilization", "roofline_cycles", "busy_cycles",
                "dma_bytes", "sbuf_peak_bytes"):
        assert key in s
    assert s["pe_utilization"] == pytest.approx(s["macs"] / (T.macs_per_cycle * neff.num_cores) / s["cycles"])
    assert s["macs"] > 0 and s["pe_macs"] >= s["macs"] and s["pe_weighted_macs"] >= s["pe_macs"]
    assert s["cycles"] >= s["pe_floor_cycles"] and s["cycles"] >= s["dma_floor_cycles"]
    assert s["roofline_cycles"] == max(s["pe_floor_cycles"], s["dma_floor_cycles"])
    assert s["dma_bytes"] >= s["dma_must_move_bytes"] > 0
    assert s["sbuf_alloc_peak_bytes"] == max(sg.sbuf_peak_bytes for sg in neff.subgraphs) > 0
    assert 0 < s["sbuf_peak_partition_bytes"] <= s["sbuf_peak_bytes"]  # what the run wrote: tests/test_sram_peaks.py
    assert set(s["busy_cycles"]) == {"pe", "act", "pool", "dma"}
    assert all(0 <= v <= s["cycles"] for v in s["busy_cycles"].values())
    cp = s["critical_path"]
    assert cp["cycles"] == s["cycles"] == sum(cp["by_engine_cycles"].values())
    kinds = s["top_instruction_kinds"]
    assert 0 < len(kinds) <= 10 and [k["cycles"] for k in kinds] == sorted((k["cycles"] for k in kinds), reverse=True)
    json.dumps(s)


def test_trace_has_one_slice_per_instruction(compiled_run):
    neff, r = compiled_run
    doc = json.loads(json.dumps(chrome_trace(neff, r)))
    slices = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert len(slices) == sum(len(sg.stream(e)) for sg in neff.subgraphs for e in Engine)
    assert max(e["ts"] + e["dur"] for e in slices) <= r.cycles / 1000 + 1e-9
    assert any(e["cat"] == "wait" and e["args"]["blocked_cycles"] > 0 for e in slices)
    matmuls = [e for e in slices if e["name"].startswith("pe MATMUL")]
    assert matmuls and all("in1" in e["args"] and "out" in e["args"] for e in matmuls)
    # within a track, slices never overlap (Perfetto would mis-nest them)
    for tid in range(len(Engine)):
        track = sorted((e["args"]["start_cycle"], e["args"]["start_cycle"] + e["args"]["cycles"])
                       for e in slices if e["tid"] == tid)
        assert all(a[1] <= b[0] for a, b in zip(track, track[1:]))


def test_summary_table(compiled_run):
    neff, r = compiled_run
    text = format_summary(run_stats(neff, r))
    assert "busy %" in text and "critical %" in text and "instruction kind" in text
    assert "pe MATMUL" in text


# --- the command line -----------------------------------------------------------------------------------
def test_kaena_run_writes_stats_and_profile(tmp_path):
    model = modelzoo.mlp(batch=2)
    path = tmp_path / "mlp.onnx"
    onnx.save(model, str(path))
    kaena.compile(model).save(str(tmp_path / "mlp.neff"))
    np.savez(tmp_path / "in.npz", **random_inputs(model))
    proc = subprocess.run(
        ["kaena-run", str(tmp_path / "mlp.neff"), "--inputs", str(tmp_path / "in.npz"), "--output",
         str(tmp_path / "out.npz"), "--stats", str(tmp_path / "s.json"), "--profile", str(tmp_path / "t.json")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "instruction kind" in proc.stdout and "critical %" in proc.stdout
    stats = json.loads((tmp_path / "s.json").read_text())
    trace = json.loads((tmp_path / "t.json").read_text())
    assert stats["cycles"] > 0 and trace["traceEvents"]
    assert (tmp_path / "out.npz").exists()
    fast = subprocess.run(["kaena-run", str(tmp_path / "mlp.neff"), "--timing-only", "-q",
                           "--stats", str(tmp_path / "f.json")], capture_output=True, text=True)
    assert fast.returncode == 0 and fast.stdout == "", fast.stderr
    assert json.loads((tmp_path / "f.json").read_text())["cycles"] == stats["cycles"]


def test_kaena_run_refuses_missing_output_dir_before_running(tmp_path):
    kaena.compile(modelzoo.mlp(batch=1)).save(str(tmp_path / "m.neff"))
    proc = subprocess.run(["kaena-run", str(tmp_path / "m.neff"), "--timing-only",
                           "--profile", str(tmp_path / "nope" / "t.json")], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"kaena-run: error: {tmp_path / 'nope' / 't.json'}: output directory does not exist"


def test_subgraphs_are_processes_laid_out_in_series():
    from kaena.neff import Neff, TensorSpec

    subgraphs = []
    for k in range(3):
        p = Program()
        a, b = p.var(f"t{k}", "input", (8, 64)), p.var(f"t{k + 1}", "output", (8, 64))
        p.add(Engine.DMA, Opcode.DMA, in0=dram(a, 8, 64, row(64)), out=sbuf(0, 8, row(64)))
        p.add(Engine.DMA, Opcode.DMA, in0=sbuf(0, 8, row(64)), out=dram(b, 8, 64, row(64)))
        subgraphs.append(p.subgraph(k))
    neff = Neff("chain", [TensorSpec("t0", (8, 64))], [TensorSpec("t3", (8, 64))], subgraphs, "kaena-test")
    r = simulate(neff, {"t0": np.ones((8, 64), np.float32)}, profile=True)
    d = T.dma_cycles(8 * 64 * 4)
    assert r.core_cycles == [2 * d] * 3 and [ct.offset for ct in r.trace] == [0, 2 * d, 4 * d]
    s = run_stats(neff, r)
    assert s["critical_path"]["by_engine_cycles"]["dma"] == s["cycles"] == 6 * d
    assert s["dma_floor_cycles"] == pytest.approx(COSTS.dma_floor(3 * 2 * 8 * 64 * 4, 6, cores=3))
    ev = chrome_trace(neff, r)["traceEvents"]
    assert {e["args"]["name"] for e in ev if e["name"] == "process_name"} == {"core 0", "core 1", "core 2"}
    starts = sorted((e["pid"], e["args"]["start_cycle"]) for e in ev if e["ph"] == "X")
    assert starts == [(0, 0), (0, d), (1, 2 * d), (1, 3 * d), (2, 4 * d), (2, 5 * d)]
