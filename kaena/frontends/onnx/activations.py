"""Activation functions (ReLU family, sigmoid, tanh, erf, exp, log, sqrt,
reciprocal, neg, Gelu, Pow by a constant), Softmax and LogSoftmax."""

from __future__ import annotations

import math

import numpy as np
import onnx
from xdsl.dialects.builtin import TensorType, i1, i32
from xdsl.ir import Operation, SSAValue

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import Importer, Unsupported, attrs, f32
from kaena.frontends.onnx.utils import const_scalar, define_or_reshape, float_input, scalar_operand, unary


def _leaky_relu(imp: Importer, node: onnx.NodeProto) -> None:
    x = float_input(imp, node)
    imp.define(node, imp.emit(fw.LeakyReluOp(x, float(attrs(node).get("alpha", 0.01)))))


def _clip(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    if imp.operand(node.input[0]).type.element_type == i32 and imp.opset >= 11:
        _integer_clip(imp, node)
        return
    x = float_input(imp, node)
    if imp.opset < 11:
        lo, hi = at.get("min"), at.get("max")
    else:
        bounds = []
        for i in (1, 2):
            name = node.input[i] if len(node.input) > i else ""
            if name and name not in imp.consts:  # a run-time bound: elementwise max/min
                bound = imp.operand(name)
                if fw.shape_of(bound) not in ((), (1,)):
                    raise Unsupported(f"Clip's bound '{name}' must be a scalar")
                cls = fw.MaxOp if i == 1 else fw.MinOp
                x = imp.emit(cls(x, bound, x.type)).results[0]
                bounds.append(None)
            else:
                bounds.append(const_scalar(imp, node, i, "Clip's bound"))
        lo, hi = bounds
    imp.define(node, imp.emit(fw.ClipOp(x, lo, hi)))


def _integer_clip(imp: Importer, node: onnx.NodeProto) -> None:
    """Clip of int32 data: max by the lower and min by the upper bound, each a comparison
    and a select (exact within 2**24)."""
    x = imp.operand(node.input[0])
    for i, cls in ((1, fw.MaxOp), (2, fw.MinOp)):
        if len(node.input) > i and node.input[i]:
            bound = imp.operand(node.input[i])
            if bound.type.element_type != i32 or fw.shape_of(bound) not in ((), (1,)):
                raise Unsupported(f"Clip's bound '{node.input[i]}' must be an integer scalar like the input")
            x = imp.emit(cls(x, bound, x.type)).results[0]
    if x is imp.operand(node.input[0]):
        x = imp.emit(fw.IdentityOp(x)).results[0]
    define_or_reshape(imp, node, x)


def _hard_sigmoid(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    x = float_input(imp, node)
    imp.define(node, imp.emit(fw.HardSigmoidOp(x, float(at.get("alpha", 0.2)),
                                               float(at.get("beta", 0.5)))))


def _hard_swish(imp: Importer, node: onnx.NodeProto) -> None:
    imp.define(node, imp.emit(fw.HardSwishOp(float_input(imp, node))))


def _softmax(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    axis = int(attrs(node).get("axis", -1 if imp.opset >= 13 else 1))
    norm = axis + len(xs) if axis < 0 else axis
    if imp.opset >= 13 or norm == len(xs) - 1:
        imp.define(node, imp.emit(fw.SoftmaxOp(x, axis)))
        return
    # Before opset 13 Softmax works on the input flattened to 2-D at `axis`.
    if not 0 <= norm < len(xs):
        raise Unsupported(f"axis {axis} out of range for rank {len(xs)}")
    flat = [math.prod(xs[:norm]), math.prod(xs[norm:])]
    r = imp.emit(fw.ReshapeOp(x, flat, TensorType(f32, flat)))
    s = imp.emit(fw.SoftmaxOp(r.results[0], 1))
    imp.define(node, imp.emit(fw.ReshapeOp(s.results[0], xs, x.type)))


CONVERTERS = {
    "Relu": (set(), unary(fw.ReluOp)),
    "Sigmoid": (set(), unary(fw.SigmoidOp)),
    "Tanh": (set(), unary(fw.TanhOp)),
    "LeakyRelu": ({"alpha"}, _leaky_relu),
    "Clip": ({"min", "max"}, _clip),
    "HardSigmoid": ({"alpha", "beta"}, _hard_sigmoid),
    "HardSwish": (set(), _hard_swish),
    "Softmax": ({"axis"}, _softmax),
}
NOTES = {"Clip": "constant or scalar run-time min/max; integer data within 2**24 (comparisons and selects)"}


# --- transformer activations ---------------------------------------------------------

# Pow exponents the lowering maps onto the scalar engine (x, square, cube as x * square,
# sqrt, rsqrt, reciprocal).
POW_EXPONENTS = (1.0, 2.0, 3.0, 0.5, -0.5, -1.0)


def _gelu(imp: Importer, node: onnx.NodeProto) -> None:
    approx = attrs(node).get("approximate", "none")
    if approx not in fw.GELU_APPROXIMATIONS:
        raise Unsupported(f"approximate '{approx}' is not supported (none, tanh are)")
    imp.define(node, imp.emit(fw.GeluOp(float_input(imp, node), approx)))


def _pow(imp: Importer, node: onnx.NodeProto) -> None:
    x = float_input(imp, node)
    name = node.input[1]
    if name in imp.consts and np.asarray(imp.consts[name]).size == 1:
        e = const_scalar(imp, node, 1, "Pow's exponent")
        if e in POW_EXPONENTS:
            imp.define(node, imp.emit(fw.PowOp(x, e)))
            return
    y = imp.operand(name)
    if y.type.element_type == i32:  # an integer exponent: read as float32 (exact within 2**24)
        y = imp.emit(fw.CastOp(y, TensorType(f32, y.type.get_shape()))).results[0]
    elif y.type.element_type != f32:
        raise Unsupported(f"the exponent '{name}' is {y.type.element_type}; float32 or integer expected")
    imp.define(node, imp.emit(_general_pow(imp, node, x, y)))


# Adding then subtracting 1.5 * 2**23 rounds a float32 of magnitude below 2**22 to an integer.
_ROUNDER = 1.5 * 2.0**23


def _general_pow(imp: Importer, node: onnx.NodeProto, x: SSAValue, y: SSAValue) -> Operation:
    """``x ** y`` for a tensor (or uncommon) exponent: ``exp(y * log|x|)``, negated where
    x < 0 and y is an odd integer, NaN where x < 0 and y is not an integer, 1 where y == 0
    (integer tests by float32 rounding: exact for |y| < 2**22)."""
    xs, ys = fw.shape_of(x), fw.shape_of(y)
    out = tuple(np.broadcast_shapes(xs, ys))

    def emit(op: Operation) -> SSAValue:
        return imp.emit(op).results[0]

    def ft(shape) -> TensorType:
        return TensorType(f32, list(shape))

    def bt(shape) -> TensorType:
        return TensorType(i1, list(shape))

    def const(tag: str, value: float) -> SSAValue:
        return scalar_operand(imp, node, tag, value)

    def is_integer(v: SSAValue) -> SSAValue:
        c = const("rounder", _ROUNDER)
        rounded = emit(fw.SubOp(emit(fw.AddOp(v, c, ft(ys))), c, ft(ys)))
        return emit(fw.CompareOp("equal", v, rounded, bt(ys)))

    magnitude = emit(fw.MaxOp(x, emit(fw.NegOp(x)), ft(xs)))
    p = emit(fw.ExpOp(emit(fw.MulOp(y, emit(fw.LogOp(magnitude)), ft(out)))))
    even = is_integer(emit(fw.MulOp(y, const("half", 0.5), ft(ys))))
    signed = emit(fw.WhereOp(even, p, emit(fw.NegOp(p)), ft(out)))
    negative_base = emit(fw.WhereOp(is_integer(y), signed, const("nan", float("nan")), ft(out)))
    below_zero = emit(fw.CompareOp("less", x, const("zero", 0.0), bt(xs)))
    value = emit(fw.WhereOp(below_zero, negative_base, p, ft(out)))
    zero_exponent = emit(fw.CompareOp("equal", y, const("zero", 0.0), bt(ys)))
    return fw.WhereOp(zero_exponent, const("one", 1.0), value, ft(out))


def _log_softmax(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    rank = len(fw.shape_of(x))
    axis = int(attrs(node).get("axis", -1 if imp.opset >= 13 else 1))
    if imp.opset < 13 and axis % rank != rank - 1:
        raise Unsupported("before opset 13 LogSoftmax flattens at axis: only the last axis is supported")
    imp.define(node, imp.emit(fw.LogSoftmaxOp(x, axis)))


CONVERTERS.update({
    "Erf": (set(), unary(fw.ErfOp)),
    "Exp": (set(), unary(fw.ExpOp)),
    "Log": (set(), unary(fw.LogOp)),
    "Sqrt": (set(), unary(fw.SqrtOp)),
    "Reciprocal": (set(), unary(fw.ReciprocalOp)),
    "Neg": (set(), unary(fw.NegOp)),
    "Gelu": ({"approximate"}, _gelu),
    "Pow": (set(), _pow),
    "LogSoftmax": ({"axis"}, _log_softmax),
})
NOTES.update({
    "Gelu": "approximate none (erf) or tanh; the erf and tanh patterns older exporters write fuse into it",
    "Pow": "float32 base; a constant exponent 1, 2, 3, 0.5, -0.5 or -1 is one scalar-engine function, "
           "any other (float32 or integer tensor, broadcasting) exp(y log|x|) with the sign of odd "
           "integer exponents",
    "Softmax": "any axis",
    "LogSoftmax": "any axis (opset >= 13; the last axis before)",
    "Erf": "float32",
    "Neg": "float32",
})
