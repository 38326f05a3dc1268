"""Normalization and reductions: batch norm (inference), layer norm, mean/sum/amax/amin."""

from __future__ import annotations

import torch
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Const, Importer, Missing, Unsupported, shape

_STATS = Missing("the saved mean/invstd outputs (training statistics) are not supported; run the model in eval()")


def _affine(imp: Importer, node, p, channels: int, fill: float, what: str):
    """A norm's weight or bias; ``None`` (affine=False) is a constant of ``fill``."""
    if p is None:
        return imp.value(Const(f"{node.name}.{what}", torch.full((channels,), fill)))
    return imp.value(p)


def _batch_norm_no_training(imp: Importer, node, args, kwargs):
    """``_native_batch_norm_legit_no_training(x, w, b, mean, var, momentum, eps)``."""
    x = imp.value(args[0])
    c = shape(x)[1]
    w, b = _affine(imp, node, args[1], c, 1.0, "weight"), _affine(imp, node, args[2], c, 0.0, "bias")
    mean, var = imp.value(args[3]), imp.value(args[4])
    out = imp.emit(fw.BatchNormOp(x, w, b, mean, var, float(args[6]), imp.result_type(node, 0)))
    return (out, _STATS, _STATS)


def _native_batch_norm(imp: Importer, node, args, kwargs):
    """``native_batch_norm(x, w, b, mean, var, training, momentum, eps)`` in inference mode."""
    if args[5]:
        raise Unsupported("training-mode batch norm is not supported: call model.eval() before export")
    return _batch_norm_no_training(imp, node, (*args[:5], args[6], args[7]), kwargs)


def _batch_norm(imp: Importer, node, args, kwargs):
    """``batch_norm(x, w, b, mean, var, training, momentum, eps, cudnn)`` (the export's own IR)."""
    if args[5]:
        raise Unsupported("training-mode batch norm is not supported: call model.eval() before export")
    x = imp.value(args[0])
    c = shape(x)[1]
    w, b = _affine(imp, node, args[1], c, 1.0, "weight"), _affine(imp, node, args[2], c, 0.0, "bias")
    return imp.emit(fw.BatchNormOp(x, w, b, imp.value(args[3]), imp.value(args[4]), float(args[7]),
                                   imp.result_type(node)))


def _layer_norm_single(imp: Importer, node, args, kwargs):
    """``layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn)``: one output."""
    names = ("weight", "bias", "eps")
    given = {"weight": None, "bias": None, "eps": 1e-5, **dict(zip(names, args[2:5])), **kwargs}
    return _layer_norm(imp, node, (args[0], args[1], given["weight"], given["bias"], given["eps"]), {},
                       index=None)[0]


def _layer_norm(imp: Importer, node, args, kwargs, index: int | None = 0):
    """``native_layer_norm(x, normalized_shape, weight, bias, eps)``."""
    x = imp.value(args[0])
    dims = list(args[1])
    norm = shape(x)[len(shape(x)) - len(dims):]
    scale = args[2] if args[2] is not None else Const(f"{node.name}.weight", torch.ones(norm))
    bias = args[3] if len(args) > 3 and args[3] is not None else None
    out = imp.emit(fw.LayerNormOp(x, imp.value(scale), imp.value(bias) if bias is not None else None,
                                  -len(dims), float(args[4]), imp.result_type(node, index)))
    return (out, _STATS, _STATS)


def _reduce(kind: str):
    def conv(imp: Importer, node, args, kwargs):
        x = imp.value(args[0])
        rank = len(shape(x))
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        keep = bool(args[2] if len(args) > 2 else kwargs.get("keepdim", False))
        if kwargs.get("dtype") is not None:
            raise Unsupported("a dtype argument is not supported")
        if dims is None or dims == []:
            dims = list(range(rank))
        dims = [dims] if isinstance(dims, int) else list(dims)
        if rank == 0:
            return x
        axes = sorted({d % rank for d in dims})
        out = imp.result_type(node)
        return imp.emit(fw.ReduceOp(kind, x, axes, keep, TensorType(out.element_type, out.get_shape())))
    return conv


CONVERTERS = {
    "aten._native_batch_norm_legit_no_training": _batch_norm_no_training,
    "aten.native_batch_norm": _native_batch_norm,
    "aten.native_layer_norm": _layer_norm,
    "aten.batch_norm": _batch_norm,
    "aten.layer_norm": _layer_norm_single,
    "aten.mean": _reduce("mean"),
    "aten.sum": _reduce("sum"),
    "aten.amax": _reduce("max"),
    "aten.amin": _reduce("min"),
}
NOTES = {
    "aten._native_batch_norm_legit_no_training": "inference (eval()); folded into a preceding conv",
    "aten.native_batch_norm": "training=False only",
    "aten.native_layer_norm": "any normalized_shape, eps, optional weight/bias; the mean/rstd outputs unused",
    "aten.mean": "constant dims, keepdim; no dtype",
    "aten.sum": "constant dims, keepdim; no dtype",
    "aten.amax": "constant dims, keepdim",
    "aten.amin": "constant dims, keepdim",
}
