"""The model zoo is deterministic, valid ONNX, numerically sane, and its BF16
emulation rounds exactly the contraction operands."""

import ml_dtypes
import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from kaena import modelzoo


def _run(model, x):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def test_builders_are_deterministic_and_valid():
    for build in (modelzoo.mlp, modelzoo.lenet):
        a, b = build(), build()
        assert a.SerializeToString() == b.SerializeToString()
        onnx.checker.check_model(a, full_check=True)
        assert a.opset_import[0].version == 17
    assert modelzoo.mlp(seed=1).SerializeToString() != modelzoo.mlp().SerializeToString()


def test_mlp_shapes_and_activations_are_order_one():
    model = modelzoo.mlp(batch=3, sizes=(20, 16, 5))
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu", "Gemm", "Softmax"]
    x = np.random.default_rng(0).random((3, 20), dtype=np.float32)
    y = _run(model, x)
    assert y.shape == (3, 5)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    assert y.max() < 0.999  # logits O(1): softmax not saturated


def test_lenet_ops():
    model = modelzoo.lenet(batch=2)
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Conv") == 2 and ops.count("MaxPool") == 2 and ops.count("Gemm") == 3
    y = _run(model, np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32))
    assert y.shape == (2, 10)


def test_bf16_emulation_rounds_contraction_operands():
    model = modelzoo.lenet()
    emu = modelzoo.bf16_emulation(model)
    onnx.checker.check_model(emu)
    inits = {t.name: numpy_helper.to_array(t) for t in emu.graph.initializer}
    for node in emu.graph.node:
        if node.op_type in ("Conv", "Gemm"):
            x, w = node.input[0], node.input[1]
            assert x.endswith(".bf16") and w.endswith(".bf16")
            arr = inits[w]
            np.testing.assert_array_equal(arr, arr.astype(ml_dtypes.bfloat16).astype(np.float32))
            assert not node.input[2].endswith(".bf16")  # bias stays FP32
    assert "conv1.weight" not in inits  # replaced, unused originals dropped
    x = np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32)
    ref, got = _run(model, x), _run(emu, x)
    assert 0 < np.abs(ref - got).max() < 1e-2
    # The input model is untouched.
    assert not any(i.endswith(".bf16") for n in model.graph.node for i in n.input)


def test_round_to_bf16_is_nearest_even():
    # 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
    x = np.array([1 + 2**-8, 1 + 3 * 2**-8, -1.5], np.float32)
    np.testing.assert_array_equal(modelzoo.round_to_bf16(x), [1.0, 1 + 2**-6, -1.5])
