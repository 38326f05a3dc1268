"""The numeric oracle side: run a model in onnxruntime and measure errors.

Kaena's accuracy bar (DEVELOPERS' guide): FP32 compiles match onnxruntime to
about 1e-5 relative; BF16 compiles may have at most twice the error of a
faithful BF16 emulation of the same graph (``kaena.testing.modelzoo.bf16_emulation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def run_onnxruntime(model, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run an ONNX model (path or ModelProto) on the CPU; outputs by name."""
    import onnx
    import onnxruntime as ort

    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, inputs)))


@dataclass(frozen=True)
class ErrorMetrics:
    """Errors of ``actual`` against a reference, flattened over all outputs."""

    max_rel: float  # max |actual - ref| / max |ref|
    one_minus_cosine: float

    def __str__(self) -> str:
        return f"max rel err {self.max_rel:.2e}, 1-cos {self.one_minus_cosine:.2e}"


def error_metrics(actual: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> ErrorMetrics:
    a = np.concatenate([np.asarray(actual[k], np.float64).ravel() for k in sorted(reference)])
    r = np.concatenate([np.asarray(reference[k], np.float64).ravel() for k in sorted(reference)])
    scale = max(float(np.abs(r).max()), 1e-30)
    max_rel = float(np.abs(a - r).max()) / scale
    denom = float(np.linalg.norm(a) * np.linalg.norm(r))
    cos = float(a @ r) / denom if denom else 1.0
    return ErrorMetrics(max_rel, max(0.0, 1.0 - cos))


def random_inputs(model, seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic standard-normal inputs for every graph input of a ModelProto."""
    import onnx

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(model)
    rng = np.random.default_rng(seed)
    inits = {i.name for i in model.graph.initializer}
    out = {}
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
        out[inp.name] = rng.standard_normal(shape).astype(np.float32)
    return out
