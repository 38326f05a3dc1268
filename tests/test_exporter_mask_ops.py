"""The operators ``torch.onnx.export`` writes around Hugging Face attention masks:
``And`` of bool masks, the ``IsNaN`` guard after softmax, ``GatherND`` by the
constant index grids of the dynamo exporter's vmapped mask functions. Each is
imported into the fw ops it stands for and matches onnxruntime end to end."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import kaena
from kaena.errors import ModelImportError, UnsupportedOperatorError
from kaena.frontends.onnx import import_onnx
from kaena.frontends.onnx.importer import list_operators
from kaena.testing.reference import run_onnxruntime

F, B, I64 = TensorProto.FLOAT, TensorProto.BOOL, TensorProto.INT64


def _model(nodes, inputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                              [helper.make_tensor_value_info("y", F, None)],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _fw_ops(model) -> Counter:
    return Counter(o.name for o in import_onnx(model).walk() if o.name.startswith("fw."))


def _matches_onnxruntime(model, inputs, exact=True):
    ref = run_onnxruntime(model, inputs)["y"]
    got = np.asarray(kaena.load(kaena.compile(model, auto_cast="none")).run(inputs)["y"])
    assert got.shape == ref.shape
    if exact:
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)


def test_and_of_a_constant_and_a_run_time_mask():
    # the TorchScript exporter's padding mask: And(constant causal/visibility mask, Cast(attention_mask))
    model = _model([helper.make_node("Cast", ["m"], ["mb"], to=B), helper.make_node("And", ["c", "mb"], ["a"]),
                    helper.make_node("Where", ["a", "zero", "low"], ["y"])],
                   [("m", I64, [2, 1, 4])],
                   [("c", np.array([[True], [False], [True]])), ("zero", np.float32(0)),
                    ("low", np.float32(np.finfo(np.float32).min))])
    assert _fw_ops(model)["fw.logical"] == 1
    _matches_onnxruntime(model, {"m": np.array([[[1, 1, 0, 0]], [[1, 0, 1, 1]]], np.int64)})


def test_and_with_an_all_true_constant_broadcasts_the_run_time_mask():
    # the dynamo exporter's And(all-true constant [1, 1, S, 1], mask [B, 1, 1, S]): fw-simplify-where
    # folds it to an expand of the bool mask, stored as f32 0/1 like every mask
    model = _model([helper.make_node("Cast", ["m"], ["mb"], to=B), helper.make_node("And", ["c", "mb"], ["a"]),
                    helper.make_node("Where", ["a", "zero", "low"], ["y"])],
                   [("m", I64, [2, 1, 1, 4])],
                   [("c", np.ones((1, 1, 4, 1), bool)), ("zero", np.float32(0)),
                    ("low", np.float32(np.finfo(np.float32).min))])
    _matches_onnxruntime(model, {"m": np.array([[[[1, 1, 0, 0]]], [[[1, 0, 1, 1]]]], np.int64)})


def test_expand_of_a_run_time_mask():
    model = _model([helper.make_node("Cast", ["m"], ["mb"], to=B), helper.make_node("Expand", ["mb", "s"], ["e"]),
                    helper.make_node("Where", ["e", "x", "zero"], ["y"])],
                   [("m", I64, [2, 1, 4]), ("x", F, [2, 3, 4])],
                   [("s", np.array([2, 3, 4], np.int64)), ("zero", np.float32(0))])
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    _matches_onnxruntime(model, {"m": np.array([[[1, 1, 0, 0]], [[1, 0, 1, 1]]], np.int64), "x": x})


def test_and_of_numbers_is_refused_by_name():
    # ONNX's schema types And's operands bool: the model is invalid, and the node is named
    model = _model([helper.make_node("And", ["x", "x"], ["y"], name="and_node")], [("x", F, [2])])
    with pytest.raises(ModelImportError, match=r"model is invalid: .*'and_node' \(And\): .*bool expected"):
        import_onnx(model)


def test_isnan_guard_after_softmax_zeroes_fully_masked_rows():
    # SDPA's export: Where(IsNaN(Softmax(s)), 0, Softmax(s)); a row of -inf is NaN before the guard
    model = _model([helper.make_node("Softmax", ["x"], ["p"]), helper.make_node("IsNaN", ["p"], ["n"]),
                    helper.make_node("Where", ["n", "zero", "p"], ["y"])],
                   [("x", F, [3, 4])], [("zero", np.float32(0))])
    assert _fw_ops(model)["fw.not"] == 1
    x = np.array([[1, 2, -np.inf, 0], [-np.inf] * 4, [0.5, -1, 3, 2]], np.float32)
    _matches_onnxruntime(model, {"x": x}, exact=False)


def test_isnan_marks_nan_only():
    model = _model([helper.make_node("IsNaN", ["x"], ["n"]), helper.make_node("Cast", ["n"], ["y"], to=F)],
                   [("x", F, [2, 4])])
    x = np.array([[1, np.nan, -np.inf, 3], [np.inf, 0, np.nan, -2]], np.float32)
    _matches_onnxruntime(model, {"x": x})


def _gather_nd(data_shape, indices):
    return _model([helper.make_node("GatherND", ["x", "i"], ["y"])], [("x", F, list(data_shape))],
                  [("i", np.asarray(indices, np.int64))])


_B, _KV = np.meshgrid(np.arange(2), np.arange(5), indexing="ij")
GATHER_ND = {
    # the dynamo exporter's padding mask: attention_mask[b, kv] over a [B, 1, 1, KV] grid
    "mask_grid": ((2, 5), np.stack([_B, _KV], -1).reshape(2, 1, 1, 5, 2), {"fw.slice": 0, "fw.expand": 0}),
    "broadcast_grid": ((2, 5), np.broadcast_to(np.stack([_B, _KV], -1).reshape(2, 1, 5, 2), (2, 3, 5, 2)),
                       {"fw.expand": 1, "fw.gather": 0}),
    "strided_rows": ((6, 3), [[0], [2], [4]], {"fw.slice": 1, "fw.gather": 0}),
    "negative_indices": ((4, 3), [[-1, -3], [-1, -2]], {"fw.slice": 1, "fw.gather": 0}),
    "arbitrary_rows": ((4, 3, 2), [[[3, 1], [0, 2]], [[1, 1], [2, 0]]], {"fw.gather": 1}),
}


@pytest.mark.parametrize("case", sorted(GATHER_ND))
def test_gather_nd_by_constant_indices(case):
    shape, indices, expected = GATHER_ND[case]
    model = _gather_nd(shape, indices)
    ops = _fw_ops(model)
    assert {k: ops[k] for k in expected} == expected, ops
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    _matches_onnxruntime(model, {"x": x})


def test_gather_nd_of_a_bool_mask_by_arbitrary_rows():
    # a mask (i1, stored as f32 0/1) through the gather fallback
    model = _model([helper.make_node("Cast", ["m"], ["mb"], to=B), helper.make_node("GatherND", ["mb", "i"], ["g"]),
                    helper.make_node("Cast", ["g"], ["y"], to=F)],
                   [("m", I64, [3, 4])], [("i", np.array([[[2], [0]], [[1], [2]]], np.int64))])
    assert _fw_ops(model)["fw.gather"] == 1
    _matches_onnxruntime(model, {"m": np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 1]], np.int64)})


def test_gather_nd_with_batch_dims_is_refused_by_name():
    model = _model([helper.make_node("GatherND", ["x", "i"], ["y"], name="gnd", batch_dims=1)],
                   [("x", F, [2, 3])], [("i", np.zeros((2, 1), np.int64))])
    with pytest.raises(UnsupportedOperatorError, match=r"'gnd' \(GatherND\): batch_dims=1"):
        import_onnx(model)


def test_list_operators_has_the_new_operators_with_their_limits():
    notes = dict(list_operators())
    assert "bool" in notes["And"]
    assert "float32" in notes["IsNaN"]
    assert "constant indices" in notes["GatherND"] and "batch_dims 0" in notes["GatherND"]
