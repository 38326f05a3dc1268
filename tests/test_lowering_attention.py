"""The transformer ops of the attention path end to end: batched MatMul,
LayerNormalization, ReduceMean/Sum/Max/Min, Softmax and LogSoftmax on any axis,
and a small attention block -- single-operator ONNX models compiled, simulated
and compared with onnxruntime (FP32 within 1e-5 of the largest output, BF16
auto-cast within twice a faithful BF16 emulation)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import kaena
from kaena.testing import modelzoo
from kaena.testing.reference import error_metrics, run_onnxruntime

RNG = np.random.default_rng(7)


def _model(nodes, inputs, outputs, inits=()):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(np.asarray(a, np.float32), n) for n, a in inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _feeds(inputs):
    return {n: RNG.standard_normal(s).astype(np.float32) for n, s in inputs}


def _fp32(model, feeds, bar=1e-5):
    ref = run_onnxruntime(model, feeds)
    out = kaena.load(kaena.compile(model, auto_cast="none")).run(feeds)
    for k in ref:
        # a rank-0 output keeps its shape () (the NEFF declares it [1]; the runtime reshapes)
        assert out[k].shape == ref[k].shape
        out[k] = out[k].reshape(ref[k].shape)
    err = error_metrics(out, ref)
    assert err.max_rel <= bar, err
    return err


def _bf16(model, feeds):
    ref = run_onnxruntime(model, feeds)
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), feeds), ref)
    err = error_metrics(kaena.load(kaena.compile(model, auto_cast="matmult")).run(feeds), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
    assert err.one_minus_cosine <= 2 * emulated.one_minus_cosine, (err, emulated)
    return err


# --- batched MatMul ---------------------------------------------------------------------------
BMM_SHAPES = [
    ([3, 5, 7], [3, 7, 6]),               # 3-D, odd sizes
    ([4, 96, 64], [4, 64, 96]),           # QK^T of 4 heads, S = 96, dh = 64
    ([2, 2, 80, 64], [2, 2, 64, 80]),     # 4-D [B, heads, S, dh] x [B, heads, dh, S]
    ([1, 2, 80, 80], [1, 2, 80, 64]),     # PV: [.., S, S] x [.., S, dh]
    ([2, 130, 200], [2, 200, 300]),       # K > 128, M and N beyond one tile
]


@pytest.mark.parametrize("a,b", BMM_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_batched_matmul(a, b, precision):
    model = _model([helper.make_node("MatMul", ["a", "b"], ["y"])], [("a", a), ("b", b)], ["y"])
    feeds = _feeds([("a", a), ("b", b)])
    (_fp32 if precision == "fp32" else _bf16)(model, feeds)


def test_batched_matmul_attention_size():
    # S = 512, dh = 64: the largest attention shapes the brief names
    a, b = [2, 512, 64], [2, 64, 512]
    model = _model([helper.make_node("MatMul", ["a", "b"], ["y"])], [("a", a), ("b", b)], ["y"])
    _fp32(model, _feeds([("a", a), ("b", b)]))


# --- LayerNormalization ------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [[4, 16], [2, 8, 64], [3, 100, 96], [1, 200, 768], [2, 5, 1000]],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("with_bias", [True, False])
def test_layer_norm(shape, with_bias):
    D = shape[-1]
    gamma = RNG.standard_normal(D).astype(np.float32)
    beta = RNG.standard_normal(D).astype(np.float32)
    ins = ["x", "gamma"] + (["beta"] if with_bias else [])
    inits = [("gamma", gamma)] + ([("beta", beta)] if with_bias else [])
    node = helper.make_node("LayerNormalization", ins, ["y"], axis=-1, epsilon=1e-5)
    model = _model([node], [("x", shape)], ["y"], inits)
    feeds = {"x": (RNG.standard_normal(shape) * 3 + 1).astype(np.float32)}
    _fp32(model, feeds)


# --- ReduceMean/Sum/Max/Min -------------------------------------------------------------------
REDUCE_CASES = [
    ([4, 6, 10], [2]),
    ([4, 6, 10], [0]),
    ([4, 6, 10], [1]),
    ([4, 6, 10], [0, 2]),
    ([3, 300], [0]),          # an outer axis with more than 128 kept elements
    ([2, 3, 4, 5], [1, 2]),
    ([5, 7], [0, 1]),
]


@pytest.mark.parametrize("op", ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"])
@pytest.mark.parametrize("shape,axes", REDUCE_CASES, ids=lambda v: "x".join(map(str, v)))
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce(op, shape, axes, keepdims):
    if op == "ReduceSum":  # opset 13+: axes is an input
        node = helper.make_node(op, ["x", "axes"], ["y"], keepdims=keepdims)
        graph = helper.make_graph(
            [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [numpy_helper.from_array(np.array(axes, np.int64), "axes")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    else:
        node = helper.make_node(op, ["x"], ["y"], axes=axes, keepdims=keepdims)
        model = _model([node], [("x", shape)], ["y"])
    _fp32(model, _feeds([("x", shape)]))


# --- Softmax / LogSoftmax ------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("shape,axis", [([6, 40], -1), ([2, 130, 33], -1), ([3, 20, 7], 1),
                                        ([2, 5, 3, 4], 1), ([4, 150, 6], 1)],
                         ids=lambda v: str(v))
def test_softmax_any_axis(op, shape, axis):
    model = _model([helper.make_node(op, ["x"], ["y"], axis=axis)], [("x", shape)], ["y"])
    _fp32(model, {"x": (RNG.standard_normal(shape) * 4).astype(np.float32)})


# --- a small attention block ------------------------------------------------------------------
def _attention_block(batch=2, seq=32, hidden=128, heads=2, layer_norm=True):
    """Q/K/V Linear, Reshape/Transpose into heads, Q K^T (batched MatMul), Div, Softmax,
    P V (batched MatMul), Transpose/Reshape back, the output Linear, then a LayerNorm."""
    g = modelzoo._TransformerBuilder(seed=3, hidden=hidden, heads=heads)
    y = g.attention("input", "input", "attn", batch, seq, seq, mask=None)
    if layer_norm:
        y = g.layer_norm(y, "attn.ln", eps=1e-5)
    return g.transformer_model(
        "attention", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, seq, hidden])],
        [(y, [batch, seq, hidden])])


def test_attention_block_lowers_through_batch_matmul():
    from kaena.frontends.onnx import import_onnx

    model = _attention_block()
    neff = kaena.compile(model, auto_cast="none")
    assert neff is not None
    module = import_onnx(model)
    assert sum(o.name == "fw.matmul" for o in module.walk()) == 6


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_attention_block(precision):
    model = _attention_block()
    feeds = {"input": RNG.standard_normal((2, 32, 128)).astype(np.float32)}
    (_fp32 if precision == "fp32" else _bf16)(model, feeds)
