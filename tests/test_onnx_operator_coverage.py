"""Operators added for ONNX node-test coverage, inside small models, simulated and
compared with onnxruntime: LayerNormalization's Mean/InvStdDev outputs, Pow by a
tensor exponent, And/Or/Xor with bool and narrow-integer model I/O, integer
Max/Min, Sum/Mean, Gather by run-time ids along axis 1, Slice with negative steps.

FP32 (``auto_cast="none"``) within 1e-5 of the largest output magnitude; BF16
(``auto_cast="matmult"``) within twice a faithful BF16 emulation; bool and integer
results exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

import kaena
from kaena.backend import KaenaBackend
from kaena.errors import KaenaError
from kaena.frontends.onnx import import_onnx
from kaena.testing import modelzoo
from kaena.testing.reference import run_onnxruntime

FP32_BAR = 1e-5


def _model(nodes, inputs, outputs, inits=(), opset=17):
    return h.make_model(h.make_graph(nodes, "g", inputs, outputs, list(inits)),
                        opset_imports=[h.make_opsetid("", opset)])


def _vi(name, shape, dt=T.FLOAT):
    return h.make_tensor_value_info(name, dt, shape)


def _rel_err(out, ref) -> float:
    worst = 0.0
    for k, r in ref.items():
        r, o = np.asarray(r, np.float64), np.asarray(out[k], np.float64)
        assert o.shape == r.shape, (k, o.shape, r.shape)
        assert (np.isnan(o) == np.isnan(r)).all(), k
        with np.errstate(invalid="ignore"):
            d = np.where(np.isnan(r) | (np.isinf(r) & (o == r)), 0.0, np.abs(o - r))
        worst = max(worst, float(d.max()) / max(1e-30, float(np.nanmax(np.abs(np.where(np.isinf(r), 0, r))))))
    return worst


def check_float(model, inputs):
    ref = run_onnxruntime(model, inputs)
    out = kaena.load(kaena.compile(model, auto_cast="none")).run(inputs)
    assert sorted(out) == sorted(ref)
    assert _rel_err(out, ref) <= FP32_BAR
    emulated = _rel_err(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    out16 = kaena.load(kaena.compile(model, auto_cast="matmult")).run(inputs)
    assert _rel_err(out16, ref) <= max(2 * emulated, FP32_BAR)


def check_exact(model, inputs):
    """Through the ONNX backend (the host converts bool/narrow-integer I/O)."""
    ref = run_onnxruntime(model, inputs)
    got = KaenaBackend.prepare(model).run(inputs)
    for o, name in zip(got, [v.name for v in model.graph.output]):
        assert o.dtype == ref[name].dtype and np.array_equal(o, ref[name]), name


# --- LayerNormalization's statistics -------------------------------------------------------

def _layer_norm_model(stats: bool, axis=-1, shape=(2, 5, 32)):
    rng = np.random.default_rng(3)
    d = shape[-1]
    w = nh.from_array(rng.standard_normal((d, d)).astype(np.float32) / 4, "w")
    norm = shape[axis:] if axis != -1 else shape[-1:]
    g = nh.from_array(rng.standard_normal(norm).astype(np.float32), "gamma")
    b = nh.from_array(rng.standard_normal(norm).astype(np.float32), "beta")
    outs = ["y", "mean", "inv_std"] if stats else ["y"]
    nodes = [h.make_node("MatMul", ["x", "w"], ["xw"], name="proj"),
             h.make_node("LayerNormalization", ["xw", "gamma", "beta"], outs, name="ln", axis=axis,
                         epsilon=1e-3)]
    ax = axis % len(shape)
    stat_shape = [*shape[:ax], *[1] * (len(shape) - ax)]
    outputs = [_vi("y", list(shape))]
    if stats:
        # InvStdDev feeds further arithmetic: the statistics are ordinary values
        nodes.append(h.make_node("Mul", ["inv_std", "mean"], ["scaled"], name="use"))
        outputs += [_vi("mean", stat_shape), _vi("scaled", stat_shape)]
    return _model(nodes, [_vi("x", list(shape))], outputs, [w, g, b])


@pytest.mark.parametrize("axis", [-1, 1])
def test_layer_norm_mean_and_inv_std_outputs_in_a_model(axis):
    m = _layer_norm_model(True, axis)
    x = np.random.default_rng(4).standard_normal((2, 5, 32)).astype(np.float32) * 3 + 1
    check_float(m, {"x": x})


def test_layer_norm_statistics_cost_nothing_when_unread():
    """The single-output LayerNormalization stays one fw.layer_norm (no reductions)."""
    ops = [op.name for op in import_onnx(_layer_norm_model(False)).walk()]
    assert "fw.layer_norm" in ops and "fw.reduce" not in ops
    ops = [op.name for op in import_onnx(_layer_norm_model(True)).walk()]
    assert ops.count("fw.reduce") == 2


# --- Pow by a tensor exponent ------------------------------------------------------------

def test_pow_by_a_tensor_exponent_signs_and_special_cases():
    """Negative bases with odd/even integer exponents, NaN for fractional ones, 0**y, x**0."""
    x = np.array([[-2, -2, -2, -1.5, 0, 0, 0, 3, -3, 2.5, -0.5, 1e-3, 7, -1, 4, 0.3]], np.float32)
    y = np.array([[3, 2, 0.5, -1, 0, 2, -1, 2.2, -3, -0.7, 5, 1.7, -2, 101, 0.5, 0]], np.float32)
    m = _model([h.make_node("Pow", ["x", "y"], ["z"], name="pow")],
               [_vi("x", list(x.shape)), _vi("y", list(y.shape))], [_vi("z", list(x.shape))])
    check_float(m, {"x": x, "y": y})


def test_pow_by_an_integer_tensor_broadcast_after_a_matmul():
    rng = np.random.default_rng(5)
    w = nh.from_array(rng.standard_normal((8, 8)).astype(np.float32), "w")
    m = _model([h.make_node("MatMul", ["x", "w"], ["xw"], name="mm"),
                h.make_node("Pow", ["xw", "e"], ["z"], name="pow")],
               [_vi("x", [3, 8]), _vi("e", [8], T.INT64)], [_vi("z", [3, 8])], [w])
    check_float(m, {"x": rng.standard_normal((3, 8)).astype(np.float32),
                    "e": np.array([0, 1, 2, 3, -1, -2, 4, 5], np.int64)})


# --- bool and integer model I/O, logic, integer max/min --------------------------------------

def test_bool_and_narrow_integer_io_with_logic_and_select():
    nodes = [h.make_node("Greater", ["a", "b"], ["gt"], name="gt"),
             h.make_node("Or", ["gt", "m"], ["either"], name="or"),
             h.make_node("Xor", ["either", "m"], ["flip"], name="xor"),
             h.make_node("And", ["flip", "gt"], ["both"], name="and"),
             h.make_node("Max", ["a", "b"], ["hi"], name="max"),
             h.make_node("Where", ["both", "f", "g"], ["pick"], name="where")]
    m = _model(nodes, [_vi("a", [3, 7], T.INT8), _vi("b", [7], T.INT8), _vi("m", [3, 1], T.BOOL),
                       _vi("f", [3, 7]), _vi("g", [1])],
               [_vi("both", [3, 7], T.BOOL), _vi("hi", [3, 7], T.INT8), _vi("pick", [3, 7])])
    rng = np.random.default_rng(6)
    inputs = {"a": rng.integers(-128, 128, (3, 7)).astype(np.int8),
              "b": rng.integers(-128, 128, (7,)).astype(np.int8),
              "m": np.array([[True], [False], [True]]),
              "f": rng.standard_normal((3, 7)).astype(np.float32), "g": np.array([9.5], np.float32)}
    check_exact(m, inputs)


def test_int32_comparison_refuses_values_beyond_two_to_the_24():
    m = _model([h.make_node("Min", ["a", "b"], ["lo"], name="min")],
               [_vi("a", [4], T.INT32), _vi("b", [4], T.INT32)], [_vi("lo", [4], T.INT32)])
    rep = KaenaBackend.prepare(m)
    a, b = np.array([1, -5, 2**24, 7], np.int32), np.array([3, -6, 2**24 - 1, 7], np.int32)
    assert np.array_equal(rep.run([a, b])[0], np.minimum(a, b))
    a[2] = 2**24 + 1
    with pytest.raises(KaenaError, match=r"value 16777217 at position 2 of input 'a' is outside "
                                         r"\[-16777216, 16777217\) \(the engines compare int32 exactly"):
        rep.run([a, b])


def test_integer_arithmetic_is_refused_naming_the_node():
    m = _model([h.make_node("Add", ["a", "b"], ["c"], name="int_add")],
               [_vi("a", [4], T.INT16), _vi("b", [4], T.INT16)], [_vi("c", [4], T.INT16)])
    with pytest.raises(KaenaError, match=r"'int_add' \(Add\): operands are i32: Add takes float32"):
        kaena.compile(m)


# --- Sum/Mean, Gather along axis 1, Slice with negative steps ---------------------------------

def test_sum_and_mean_of_three_broadcast_inputs():
    nodes = [h.make_node("Sum", ["a", "b", "c"], ["s"], name="sum"),
             h.make_node("Mean", ["a", "b", "c"], ["m"], name="mean")]
    m = _model(nodes, [_vi("a", [2, 3, 4]), _vi("b", [3, 1]), _vi("c", [4])],
               [_vi("s", [2, 3, 4]), _vi("m", [2, 3, 4])])
    rng = np.random.default_rng(7)
    check_float(m, {k: rng.standard_normal(s).astype(np.float32)
                    for k, s in (("a", (2, 3, 4)), ("b", (3, 1)), ("c", (4,)))})


def test_gather_by_runtime_ids_along_axis_1_after_a_matmul():
    rng = np.random.default_rng(8)
    w = nh.from_array(rng.standard_normal((6, 10)).astype(np.float32), "w")
    m = _model([h.make_node("MatMul", ["x", "w"], ["xw"], name="mm"),
                h.make_node("Gather", ["xw", "ids"], ["y"], name="pick", axis=1)],
               [_vi("x", [4, 6]), _vi("ids", [2, 3], T.INT64)], [_vi("y", [4, 2, 3])], [w])
    check_float(m, {"x": rng.standard_normal((4, 6)).astype(np.float32),
                    "ids": np.array([[9, 0, 3], [3, 3, 7]], np.int64)})


def test_slice_with_negative_steps_reverses():
    rng = np.random.default_rng(9)
    consts = [nh.from_array(np.array(v, np.int64), n) for n, v in
              (("starts", [-1, 8]), ("ends", [-100, 1]), ("axes", [0, 2]), ("steps", [-1, -3]))]
    m = _model([h.make_node("Relu", ["x"], ["r"], name="relu"),
                h.make_node("Slice", ["r", "starts", "ends", "axes", "steps"], ["y"], name="rev")],
               [_vi("x", [5, 3, 9])], [_vi("y", [5, 3, 3])], consts)
    check_float(m, {"x": rng.standard_normal((5, 3, 9)).astype(np.float32)})
