"""Activation functions (ReLU family, sigmoid, tanh, erf, exp, log, sqrt,
reciprocal, neg, Gelu, Pow by a constant), Softmax and LogSoftmax."""

from __future__ import annotations

import math

import onnx
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import (
    Importer,
    Unsupported,
    attrs,
    const_scalar,
    f32,
    float_input,
    unary,
)


def _leaky_relu(imp: Importer, node: onnx.NodeProto) -> None:
    x = float_input(imp, node)
    imp.define(node, imp.emit(fw.LeakyReluOp(x, float(attrs(node).get("alpha", 0.01)))))


def _clip(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
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
NOTES = {"Clip": "constant or scalar run-time min/max"}


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
    if node.input[1] not in imp.consts:
        raise Unsupported("the exponent must be a constant")
    e = const_scalar(imp, node, 1, "Pow's exponent")
    if e not in POW_EXPONENTS:
        raise Unsupported(f"exponent {e} is not supported (1, 2, 3, 0.5, -0.5, -1 are)")
    imp.define(node, imp.emit(fw.PowOp(x, e)))


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
    "Pow": "constant scalar exponent 1, 2, 3, 0.5, -0.5 or -1",
    "Softmax": "any axis",
    "LogSoftmax": "any axis (opset >= 13; the last axis before)",
    "Erf": "float32",
    "Neg": "float32",
})
