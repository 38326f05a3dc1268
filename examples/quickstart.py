"""Kaena's main job on the bundled example model (LeNet-5, ONNX):
compile, simulate, compare with onnxruntime, print the estimate.

    python examples/quickstart.py [MODEL.onnx]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import onnx

import kaena
from kaena.testing import modelzoo
from kaena.reports.estimate import estimate_json, format_estimate
from kaena.testing.reference import error_metrics, random_inputs, run_onnxruntime
from kaena.reports.summary import format_summary, neff_summary
from kaena.target import INF1

HERE = Path(__file__).parent


def main(model_path: str) -> int:
    model = onnx.load(model_path)
    inputs = random_inputs(model, seed=0)
    reference = run_onnxruntime(model, inputs)
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), reference)
    print(f"model: {model_path}  inputs: "
          + ", ".join(f"{k}{list(v.shape)}" for k, v in inputs.items()))
    print(f"faithful BF16 emulation in onnxruntime: {emulated}")
    print()
    header = f"{'auto-cast':<10} {'compile s':>9} {'max rel err':>12} {'1-cos':>9} {'bar':>9} " \
             f"{'cycles':>9} {'latency us':>10} {'inf/s/core':>10}"
    print(header)
    print("-" * len(header))
    ok = True
    last = result = None
    for auto_cast in ("none", "matmult"):
        t0 = time.perf_counter()
        neff = kaena.compile(model_path, auto_cast=auto_cast)
        compile_s = time.perf_counter() - t0
        result = kaena.load(neff).simulate(inputs)
        err = error_metrics(result.outputs, reference)
        bar = 1e-5 if auto_cast == "none" else 2 * emulated.max_rel
        ok &= err.max_rel <= bar
        latency_us = result.cycles / INF1.clock_hz * 1e6
        print(f"{auto_cast:<10} {compile_s:>9.2f} {err.max_rel:>12.2e} {err.one_minus_cosine:>9.1e} "
              f"{bar:>9.1e} {result.cycles:>9} {latency_us:>10.1f} {1e6 / latency_us:>10.0f}")
        last = neff
    print()
    print(format_summary(neff_summary(last)))
    print()
    print(format_estimate(estimate_json(last, result)))
    print("PASS: numbers match onnxruntime within the bar" if ok else "FAIL: error above the bar")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(HERE / "lenet.onnx")))
