"""Activations (Activation, LeakyReLU and the standalone relu/sigmoid/tanh...),
clip, and the softmax family (softmax, log_softmax, SoftmaxOutput and
SoftmaxActivation at inference)."""

from __future__ import annotations

import math
from collections.abc import Callable

from xdsl.ir import SSAValue

from kaena.dialects import framework as fw
from kaena.frontends.mxnet.core import (
    Importer,
    Unsupported,
    accepts,
    bool_attr,
    float_attr,
    int_attr,
    reshape_to,
    str_attr,
    unary,
)
from kaena.frontends.mxnet.symbol import Node

SELU_ALPHA = 1.6732632423543772
SELU_LAMBDA = 1.0507009873554805


def _abs(imp: Importer, x: SSAValue) -> SSAValue:
    return imp.make(fw.MaxOp(x, imp.make(fw.NegOp(x)), x.type))


def _softrelu(imp: Importer, node: Node, x: SSAValue) -> SSAValue:
    """log(1 + exp(x)) as relu(x) + log(1 + exp(-|x|)): no overflow for large x."""
    e = imp.make(fw.ExpOp(imp.make(fw.NegOp(_abs(imp, x)))))
    log = imp.make(fw.LogOp(imp.make(fw.AddOp(e, imp.scalar(node, "one", 1.0), x.type))))
    return imp.make(fw.AddOp(imp.make(fw.ReluOp(x)), log, x.type))


def _softsign(imp: Importer, node: Node, x: SSAValue) -> SSAValue:
    """x / (1 + |x|)."""
    denominator = imp.make(fw.AddOp(_abs(imp, x), imp.scalar(node, "one", 1.0), x.type))
    return imp.make(fw.DivOp(x, denominator, x.type))


_ACTIVATIONS: dict[str, Callable[[Importer, Node, SSAValue], SSAValue]] = {
    "relu": lambda imp, node, x: imp.make(fw.ReluOp(x)),
    "sigmoid": lambda imp, node, x: imp.make(fw.SigmoidOp(x)),
    "tanh": lambda imp, node, x: imp.make(fw.TanhOp(x)),
    "softrelu": _softrelu,
    "softsign": _softsign,
}


def _activation(imp: Importer, node: Node) -> None:
    kind = str_attr(node, "act_type", "relu", tuple(_ACTIVATIONS))
    imp.define(node, _ACTIVATIONS[kind](imp, node, imp.input(node, 0)))


def _elu(imp: Importer, node: Node, x: SSAValue, alpha: float) -> SSAValue:
    """relu(x) + alpha * (exp(min(x, 0)) - 1)."""
    negative = imp.make(fw.MinOp(x, imp.scalar(node, "zero", 0.0), x.type))
    em1 = imp.make(fw.SubOp(imp.make(fw.ExpOp(negative)), imp.scalar(node, "one", 1.0), x.type))
    scaled = imp.make(fw.MulOp(em1, imp.scalar(node, "alpha", alpha), x.type))
    return imp.make(fw.AddOp(imp.make(fw.ReluOp(x)), scaled, x.type))


def _prelu(imp: Importer, node: Node, x: SSAValue) -> SSAValue:
    """relu(x) + gamma * min(x, 0), gamma per channel (axis 1) or one for all."""
    gamma = imp.input(node, 1)
    xs, gs = fw.shape_of(x), fw.shape_of(gamma)
    if gs != (1,):
        if len(xs) < 2 or gs != (xs[1],):
            raise Unsupported(f"gamma {list(gs)} must be [1] or [channels={xs[1] if len(xs) > 1 else '?'}]")
        gamma = reshape_to(imp, gamma, (xs[1],) + (1,) * (len(xs) - 2))
    negative = imp.make(fw.MinOp(x, imp.scalar(node, "zero", 0.0), x.type))
    return imp.make(fw.AddOp(imp.make(fw.ReluOp(x)), imp.make(fw.MulOp(gamma, negative, x.type)), x.type))


_LEAKY_KINDS = ("leaky", "prelu", "elu", "selu", "gelu", "rrelu")


def _leaky_relu(imp: Importer, node: Node) -> None:
    kind = str_attr(node, "act_type", "leaky", _LEAKY_KINDS)
    x = imp.input(node, 0)
    slope = float_attr(node, "slope", 0.25)
    if kind == "leaky":
        y = imp.make(fw.LeakyReluOp(x, slope))
    elif kind == "rrelu":  # at inference the mean of the random slope's range
        low, high = float_attr(node, "lower_bound", 0.125), float_attr(node, "upper_bound", 0.334)
        y = imp.make(fw.LeakyReluOp(x, (low + high) / 2))
    elif kind == "prelu":
        y = _prelu(imp, node, x)
    elif kind == "elu":
        y = _elu(imp, node, x, slope)
    elif kind == "selu":
        y = imp.make(fw.MulOp(_elu(imp, node, x, SELU_ALPHA), imp.scalar(node, "lambda", SELU_LAMBDA),
                              x.type))
    else:
        y = imp.make(fw.GeluOp(x, "none"))
    imp.define(node, y)


def _clip(imp: Importer, node: Node) -> None:
    lo, hi = float_attr(node, "a_min"), float_attr(node, "a_max")
    if lo is None or hi is None:
        raise Unsupported("needs a_min and a_max")
    imp.define(node, imp.make(fw.ClipOp(imp.input(node, 0), lo, hi)))


def _softmax(log: bool) -> Callable[[Importer, Node], None]:
    def conv(imp: Importer, node: Node) -> None:
        if bool_attr(node, "use_length", False):
            raise Unsupported("use_length=True is not supported")
        x = imp.input(node, 0)
        temperature = float_attr(node, "temperature", 1.0)
        if not temperature > 0:
            raise Unsupported(f"temperature={temperature} must be positive")
        if temperature != 1.0:
            x = imp.make(fw.MulOp(x, imp.scalar(node, "inv_temperature", 1.0 / temperature), x.type))
        axis = int_attr(node, "axis", -1)
        imp.define(node, imp.make((fw.LogSoftmaxOp if log else fw.SoftmaxOp)(x, axis)))
    return conv


def _flat_softmax(imp: Importer, x: SSAValue) -> SSAValue:
    """Softmax over everything but the batch axis, in the input's shape."""
    xs = fw.shape_of(x)
    flat = reshape_to(imp, x, (xs[0], math.prod(xs[1:])))
    return reshape_to(imp, imp.make(fw.SoftmaxOp(flat, 1)), xs)


def _softmax_output(imp: Importer, node: Node) -> None:
    """Inference: softmax over the last axis (preserve_shape), axis 1 (multi_output)
    or the input flattened to 2-D; the label input is for training only."""
    x = imp.input(node, 0)
    if bool_attr(node, "preserve_shape", False):
        y = imp.make(fw.SoftmaxOp(x, -1))
    elif bool_attr(node, "multi_output", False):
        y = imp.make(fw.SoftmaxOp(x, 1))
    else:
        y = _flat_softmax(imp, x)
    imp.define(node, y)


def _softmax_activation(imp: Importer, node: Node) -> None:
    mode = str_attr(node, "mode", "instance", ("instance", "channel"))
    x = imp.input(node, 0)
    imp.define(node, _flat_softmax(imp, x) if mode == "instance" else imp.make(fw.SoftmaxOp(x, 1)))


def _elementwise(fn: Callable[[Importer, Node, SSAValue], SSAValue]) -> Callable[[Importer, Node], None]:
    def conv(imp: Importer, node: Node) -> None:
        imp.define(node, fn(imp, node, imp.input(node, 0)))
    return conv


def _rsqrt(imp: Importer, node: Node, x: SSAValue) -> SSAValue:
    return imp.make(fw.ReciprocalOp(imp.make(fw.SqrtOp(x))))


_SOFTMAX_ATTRS = accepts("axis", "temperature", "use_length", dtype=("float32",))
CONVERTERS = {
    "Activation": (accepts(act_type=tuple(_ACTIVATIONS)), _activation),
    "LeakyReLU": (accepts("slope", "lower_bound", "upper_bound", act_type=_LEAKY_KINDS), _leaky_relu),
    "relu": (accepts(), unary(fw.ReluOp)),
    "sigmoid": (accepts(), unary(fw.SigmoidOp)),
    "tanh": (accepts(), unary(fw.TanhOp)),
    "exp": (accepts(), unary(fw.ExpOp)),
    "log": (accepts(), unary(fw.LogOp)),
    "sqrt": (accepts(), unary(fw.SqrtOp)),
    "rsqrt": (accepts(), _elementwise(_rsqrt)),
    "reciprocal": (accepts(), unary(fw.ReciprocalOp)),
    "negative": (accepts(), unary(fw.NegOp)),
    "abs": (accepts(), _elementwise(lambda imp, node, x: _abs(imp, x))),
    "softsign": (accepts(), _elementwise(_softsign)),
    "erf": (accepts(), unary(fw.ErfOp)),
    "clip": (accepts("a_min", "a_max"), _clip),
    "softmax": (_SOFTMAX_ATTRS, _softmax(log=False)),
    "log_softmax": (_SOFTMAX_ATTRS, _softmax(log=True)),
    "SoftmaxOutput": (accepts("grad_scale", "ignore_label", "multi_output", "use_ignore", "preserve_shape",
                              "normalization", "out_grad", "smooth_alpha"),
                      _softmax_output),
    "SoftmaxActivation": (accepts(mode=("instance", "channel")), _softmax_activation),
}
NOTES = {
    "Activation": "act_type relu, sigmoid, tanh, softrelu, softsign",
    "LeakyReLU": "act_type leaky, prelu (per-channel gamma), elu, selu, gelu, rrelu (inference slope)",
    "softmax": "any axis, temperature; no use_length",
    "log_softmax": "any axis, temperature; no use_length",
    "SoftmaxOutput": "inference: flattened, multi_output (axis 1) or preserve_shape (last axis)",
    "SoftmaxActivation": "mode instance or channel",
    "clip": "constant a_min and a_max",
}
