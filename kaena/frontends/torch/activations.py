"""Activations and softmax: relu, gelu, tanh, sigmoid, hardtanh/clamp, leaky_relu,
hardswish, hardsigmoid, silu, softmax, log_softmax."""

from __future__ import annotations

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Importer, Unsupported, unary


def _gelu(imp: Importer, node, args, kwargs):
    approximate = kwargs.get("approximate", args[1] if len(args) > 1 else "none")
    return imp.emit(fw.GeluOp(imp.value(args[0]), approximate, imp.result_type(node)))


def _bound(x, what: str) -> float | None:
    if x is None or isinstance(x, int | float):
        return None if x is None else float(x)
    raise Unsupported(f"{what} must be a constant scalar")


def _clamp(imp: Importer, node, args, kwargs):
    lo = _bound(kwargs.get("min", args[1] if len(args) > 1 else None), "min")
    hi = _bound(kwargs.get("max", args[2] if len(args) > 2 else None), "max")
    return imp.emit(fw.ClipOp(imp.value(args[0]), lo, hi, imp.result_type(node)))


def _hardtanh(imp: Importer, node, args, kwargs):
    lo = _bound(args[1] if len(args) > 1 else kwargs.get("min_val", -1.0), "min_val")
    hi = _bound(args[2] if len(args) > 2 else kwargs.get("max_val", 1.0), "max_val")
    return imp.emit(fw.ClipOp(imp.value(args[0]), lo, hi, imp.result_type(node)))


def _leaky_relu(imp: Importer, node, args, kwargs):
    slope = _bound(args[1] if len(args) > 1 else kwargs.get("negative_slope", 0.01), "negative_slope")
    return imp.emit(fw.LeakyReluOp(imp.value(args[0]), slope, imp.result_type(node)))


def _hardsigmoid(imp: Importer, node, args, kwargs):
    return imp.emit(fw.HardSigmoidOp(imp.value(args[0]), 1 / 6, 0.5, imp.result_type(node)))


def _silu(imp: Importer, node, args, kwargs):
    x = imp.value(args[0])
    return imp.emit(fw.MulOp(x, imp.emit(fw.SigmoidOp(x)), imp.result_type(node)))


def _softmax(cls):
    def conv(imp: Importer, node, args, kwargs):
        half_to_float = args[2] if len(args) > 2 else False
        if half_to_float is True:
            raise Unsupported("half_to_float is not supported (Kaena compiles float32 models)")
        return imp.emit(cls(imp.value(args[0]), int(args[1]), imp.result_type(node)))
    return conv


CONVERTERS = {
    "aten.relu": unary(fw.ReluOp),
    "aten.sigmoid": unary(fw.SigmoidOp),
    "aten.tanh": unary(fw.TanhOp),
    "aten.gelu": _gelu,
    "aten.clamp": _clamp,
    "aten.hardtanh": _hardtanh,
    "aten.leaky_relu": _leaky_relu,
    "aten.hardswish": unary(fw.HardSwishOp),
    "aten.hardsigmoid": _hardsigmoid,
    "aten.silu": _silu,
    "aten._softmax": _softmax(fw.SoftmaxOp),
    "aten.softmax": _softmax(fw.SoftmaxOp),
    "aten._log_softmax": _softmax(fw.LogSoftmaxOp),
    "aten.log_softmax": _softmax(fw.LogSoftmaxOp),
}
NOTES = {
    "aten.gelu": "approximate 'none' (erf) or 'tanh'",
    "aten.clamp": "constant scalar min/max",
    "aten.hardtanh": "constant bounds (ReLU6 is hardtanh(0, 6))",
    "aten.silu": "as x * sigmoid(x)",
    "aten._softmax": "any dim, float32",
}
