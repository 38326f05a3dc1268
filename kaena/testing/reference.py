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
    """Deterministic inputs for every graph input of a ModelProto: standard-normal
    floats; for integer inputs, 0/1 masks (names containing "mask": ones, with
    trailing padding zeros on some rows, never a whole row) and token ids in
    range of the embedding table they index (``Gather`` of an initializer; else [0, 100))."""
    import onnx
    from onnx import helper, numpy_helper

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(model)
    rng = np.random.default_rng(seed)
    inits = {i.name: i for i in model.graph.initializer}
    out = {}
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        tt = inp.type.tensor_type
        shape = [d.dim_value for d in tt.shape.dim]
        dtype = helper.tensor_dtype_to_np_dtype(tt.elem_type)
        if not np.issubdtype(dtype, np.integer):
            out[inp.name] = rng.standard_normal(shape).astype(dtype)
        elif "mask" in inp.name.lower():
            mask = np.ones(shape, dtype)
            rows = mask.reshape(-1, shape[-1]) if shape else mask.reshape(1, 1)
            for r in rows:
                pad = int(rng.integers(0, max(1, rows.shape[1] // 4) + 1))
                if pad:
                    r[-pad:] = 0
            out[inp.name] = mask
        else:
            high = 100
            for node in model.graph.node:
                if node.op_type == "Gather" and node.input[1] == inp.name and node.input[0] in inits:
                    high = int(numpy_helper.to_array(inits[node.input[0]]).shape[0])
                    break
            out[inp.name] = rng.integers(0, high, shape).astype(dtype)
    return out


def bf16_bar(model, inputs: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> ErrorMetrics:
    """The errors of a faithful BF16 emulation of ``model`` (every matmul/conv operand rounded)."""
    from kaena.testing.modelzoo import bf16_emulation

    return error_metrics(run_onnxruntime(bf16_emulation(model), inputs), reference)


def assert_within_bf16_bar(model, inputs: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                           actual: dict[str, np.ndarray]) -> None:
    """The BF16 accuracy bar: at most twice the emulation's max error and its 1 - cosine."""
    emulated, err = bf16_bar(model, inputs, reference), error_metrics(actual, reference)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
    assert err.one_minus_cosine <= 2 * emulated.one_minus_cosine, (err, emulated)
