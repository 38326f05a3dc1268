"""The model zoo is deterministic, valid ONNX, numerically sane, and its BF16
emulation rounds exactly the contraction operands."""

import ml_dtypes
import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from kaena.testing import modelzoo


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


def test_benchmark_models_are_deterministic_valid_and_realistic():
    import collections

    for build, kw in ((modelzoo.resnet50, {}), (modelzoo.mobilenet_v2, {}),
                      (modelzoo.ssd_detector, {})):
        a = build(**kw)
        assert a.SerializeToString() == build(**kw).SerializeToString()
        onnx.checker.check_model(a)
        ops = collections.Counter(n.op_type for n in a.graph.node)
        assert ops["BatchNormalization"] == ops["Conv"] - (8 if build is modelzoo.ssd_detector else 0)
        inits = {t.name: numpy_helper.to_array(t) for t in a.graph.initializer}
        var = np.concatenate([v for k, v in inits.items() if k.endswith(".bn.var")])
        mean = np.concatenate([v for k, v in inits.items() if k.endswith(".bn.mean")])
        assert var.min() > 0.5 and np.abs(mean).max() > 0  # real statistics: folding has work
    r50 = collections.Counter(n.op_type for n in modelzoo.resnet50().graph.node)
    assert r50["Conv"] == 53 and r50["Add"] == 16 and r50["Gemm"] == 1
    mb = modelzoo.mobilenet_v2()
    groups = [a.i for n in mb.graph.node if n.op_type == "Conv" for a in n.attribute if a.name == "group"]
    assert sum(g > 1 for g in groups) == 17  # depthwise convs
    assert sum(n.op_type == "Clip" for n in mb.graph.node) == 35  # relu6


def test_benchmark_models_run_with_order_one_outputs():
    rng = np.random.default_rng(0)
    y = _run(modelzoo.resnet50(image=64), rng.standard_normal((1, 3, 64, 64)).astype(np.float32))
    assert y.shape == (1, 1000) and np.isfinite(y).all() and 0.1 < y.std() < 100
    y = _run(modelzoo.mobilenet_v2(image=64), rng.standard_normal((1, 3, 64, 64)).astype(np.float32))
    assert y.shape == (1, 1000) and 0.1 < y.std() < 100
    model = modelzoo.ssd_detector(image=64)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    scores, boxes = sess.run(None, {"input": rng.standard_normal((1, 3, 64, 64)).astype(np.float32)})
    n = 4 * (16 * 16 + 8 * 8 + 4 * 4 + 2 * 2)
    assert scores.shape == (1, n, 21) and boxes.shape == (1, n, 4)
    np.testing.assert_allclose(scores.sum(-1), 1.0, rtol=1e-5)
    ops = {node.op_type for node in model.graph.node}
    assert {"Resize", "Concat", "Transpose", "Reshape", "Softmax"} <= ops
