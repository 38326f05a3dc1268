"""BatchNorm with MXNet's inference semantics: the moving statistics always
(use_global_stats only changes training), gamma replaced by ones when
fix_gamma (MXNet's default), eps 1e-3 by default; LayerNorm over the last axis;
the reductions mean/sum/max/min (axis, keepdims, exclude)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.mxnet.core import (
    Importer,
    Unsupported,
    accepts,
    bool_attr,
    f32,
    float_attr,
    int_attr,
    reshape_to,
    tuple_attr,
)
from kaena.frontends.mxnet.symbol import Node


def _batch_norm(imp: Importer, node: Node) -> None:
    x = imp.input(node, 0)
    rank = len(fw.shape_of(x))
    axis = int_attr(node, "axis", 1)
    if rank < 2 or axis % rank != 1:
        raise Unsupported(f"axis={axis} is not supported for rank {rank}: only the channel axis 1 is")
    channels = fw.shape_of(x)[1]
    if bool_attr(node, "fix_gamma", True):
        gamma = imp.weight(f"{node.name}.fixed_gamma", np.ones(channels, np.float32))
    else:
        gamma = imp.input(node, 1)
    beta, mean, var = (imp.input(node, i) for i in (2, 3, 4))
    eps = float_attr(node, "eps", 1e-3)
    imp.define(node, imp.make(fw.BatchNormOp(x, gamma, beta, mean, var, eps)))


CONVERTERS = {
    "BatchNorm": (accepts("eps", "momentum", "fix_gamma", "use_global_stats", "output_mean_var", "axis",
                          "cudnn_off"), _batch_norm),
}
NOTES = {"BatchNorm": "inference (moving statistics), fix_gamma, eps, channel axis 1; folded into a "
                      "preceding Convolution; no mean/var outputs"}


def _layer_norm(imp: Importer, node: Node) -> None:
    x = imp.input(node, 0)
    rank = len(fw.shape_of(x))
    axis = int_attr(node, "axis", -1)
    if not -rank <= axis < rank or axis % rank != rank - 1:
        raise Unsupported(f"axis={axis} is not supported: only the last axis is")
    gamma, beta = imp.input(node, 1), imp.input(node, 2)
    imp.define(node, imp.make(fw.LayerNormOp(x, gamma, beta, -1, float_attr(node, "eps", 1e-5))))


def _reduce(kind: str) -> Callable[[Importer, Node], None]:
    """axis (an int, a tuple, or None/() for all), keepdims, exclude (reduce the other axes)."""

    def conv(imp: Importer, node: Node) -> None:
        x = imp.input(node, 0)
        xs = fw.shape_of(x)
        rank = len(xs)
        axes = tuple_attr(node, "axis") or ()
        if any(not -rank <= a < rank for a in axes) or len({a % rank for a in axes}) != len(axes):
            raise Unsupported(f"axis={list(axes)} is invalid for rank {rank}")
        chosen = {a % rank for a in axes}
        if bool_attr(node, "exclude", False):
            chosen = set(range(rank)) - chosen
        elif not axes:
            chosen = set(range(rank))
        if not chosen:
            imp.define(node, imp.make(fw.IdentityOp(x)))
            return
        keep = bool_attr(node, "keepdims", False)
        shape = [1 if i in chosen else d for i, d in enumerate(xs)] if keep else \
            [d for i, d in enumerate(xs) if i not in chosen]
        y = imp.make(fw.ReduceOp(kind, x, sorted(chosen), keep, TensorType(f32, shape)))
        # reducing every axis leaves MXNet's shape (1,), not a scalar
        imp.define(node, y if shape else reshape_to(imp, y, (1,)))

    return conv


_REDUCE = accepts("axis", "keepdims", "exclude")
CONVERTERS.update({
    "LayerNorm": (accepts("axis", "eps", "output_mean_var"), _layer_norm),
    "mean": (_REDUCE, _reduce("mean")),
    "sum": (_REDUCE, _reduce("sum")),
    "max": (_REDUCE, _reduce("max")),
    "min": (_REDUCE, _reduce("min")),
})
_AXES = "axis (int, tuple or all), keepdims, exclude"
NOTES.update({"LayerNorm": "the last axis, eps", "mean": _AXES, "sum": _AXES, "max": _AXES, "min": _AXES})
