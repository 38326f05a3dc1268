"""Activations and elementwise functions: Relu, Relu6, LeakyRelu, Sigmoid, Tanh,
Softmax (on any axis of the value's layout), Erf, Erfc, Exp,
Log, Sqrt, Rsqrt, Reciprocal, Neg, Square."""

from __future__ import annotations

import numpy as np

from kaena.dialects import framework as fw
from kaena.frontends.tensorflow.core import Importer, attr, data_inputs, permute_axis


def unary(build):
    """A converter applying ``build(x)`` (fw ops) to the input in its own layout."""
    def convert(imp: Importer, node) -> None:
        v = imp.value(data_inputs(node)[0])
        imp.define(node, build(imp, node, v.ssa), v.perm)
    return convert


def _op(cls):
    return unary(lambda imp, node, x: imp.emit(cls(x)))


def _erfc(imp: Importer, node, x):
    erf = imp.emit(fw.ErfOp(x))
    one = imp.weight(np.ones((), np.float32), "kaena.one")
    return imp.emit(fw.SubOp(one, erf, erf.type))


def _softmax(imp: Importer, node) -> None:
    v = imp.value(data_inputs(node)[0])
    rank = len(v.perm)
    imp.define(node, imp.emit(fw.SoftmaxOp(v.ssa, permute_axis(rank - 1, v.perm))), v.perm)


CONVERTERS = {
    "Relu": _op(fw.ReluOp),
    "Relu6": unary(lambda imp, node, x: imp.emit(fw.ClipOp(x, 0.0, 6.0))),
    "LeakyRelu": unary(lambda imp, node, x: imp.emit(fw.LeakyReluOp(x, float(attr(node, "alpha", 0.2))))),
    "Sigmoid": _op(fw.SigmoidOp),
    "Tanh": _op(fw.TanhOp),
    "Erf": _op(fw.ErfOp),
    "Erfc": unary(_erfc),
    "Exp": _op(fw.ExpOp),
    "Log": _op(fw.LogOp),
    "Sqrt": _op(fw.SqrtOp),
    "Rsqrt": unary(lambda imp, node, x: imp.emit(fw.ReciprocalOp(imp.emit(fw.SqrtOp(x))))),
    "Reciprocal": _op(fw.ReciprocalOp),
    "Inv": _op(fw.ReciprocalOp),
    "Neg": _op(fw.NegOp),
    "Square": unary(lambda imp, node, x: imp.emit(fw.MulOp(x, x, x.type))),
    "Softmax": _softmax,
}
NOTES = {
    "Relu6": "as clip(0, 6); fused into the convolution before it",
    "Erfc": "as 1 - erf",
    "Rsqrt": "as 1 / sqrt",
    "Square": "as x * x",
    "Softmax": "the last axis (wherever the layout puts it)",
}
