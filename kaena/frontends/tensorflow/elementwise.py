"""Elementwise arithmetic with broadcasting: AddV2/Add, Sub, Mul, RealDiv,
Maximum, Minimum, SquaredDifference, and BiasAdd. An operand keeps the layout
of the activation it meets: constants are permuted at import, so a 4-D NCHW
activation never goes back to NHWC for an add. A multiply by a per-channel
constant is a scale-only ``fw.batch_norm``, which fw-fold-batchnorm folds into
the convolution before it (Keras 3 decomposes BatchNormalization this way)."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.tensorflow.core import (
    NCHW,
    Importer,
    Unsupported,
    Value,
    data_format,
    data_inputs,
    f32,
    identity,
    permute_axis,
    relayout,
)


def result_layout(imp: Importer, names: list[str]) -> tuple[int, ...]:
    """The layout the result takes: that of a full-rank computed operand laid out otherwise."""
    rank = max(len(imp.tf_shape(n)) for n in names)
    for n in names:
        if n in imp.values and len(imp.tf_shape(n)) == rank and imp.values[n].perm != identity(rank):
            return imp.values[n].perm
    return identity(rank)


def operand_in(imp: Importer, name: str, perm: tuple[int, ...]):
    """``name`` as a broadcasting operand of a value laid out ``perm``."""
    shape = imp.tf_shape(name)
    rank = len(perm)
    if len(shape) == rank:
        return imp.in_layout(name, perm)
    if perm == identity(rank) or int(np.prod(shape)) == 1:
        return imp.value(name).ssa if name in imp.values else imp.weight(imp.consts[name], name)
    full = (1,) * (rank - len(shape)) + tuple(shape)
    if imp.is_const(name) and name not in imp.values:
        arr = np.transpose(imp.consts[name].reshape(full), perm)
        return imp.weight(arr, f"{name}/bcast{''.join(map(str, perm))}")
    v = imp.plain(name)
    expanded = imp.emit(fw.ReshapeOp(v, full, TensorType(v.type.element_type, list(full))))
    return relayout(imp, Value(expanded, identity(rank)), perm)


def _per_channel(imp: Importer, name: str, channels: int) -> np.ndarray | None:
    """The constant as a [C] vector when it broadcasts along NHWC's last axis only."""
    if not imp.is_const(name) or name in imp.values:
        return None
    arr = imp.consts[name]
    if arr.ndim == 0 or arr.ndim > 4 or arr.shape[-1] != channels or arr.size != channels:
        return None
    return np.asarray(arr, np.float32).reshape(channels)


def binary(cls: type[fw.BinaryOp]):
    def convert(imp: Importer, node) -> None:
        a, b = data_inputs(node)[:2]
        perm = result_layout(imp, [a, b])
        if cls is fw.MulOp and perm == NCHW:
            for x, c in ((a, b), (b, a)):
                channels = imp.tf_shape(x)[3] if len(imp.tf_shape(x)) == 4 else -1
                scale = _per_channel(imp, c, channels) if x in imp.values else None
                if scale is not None and imp.tf_shape(x) == np.broadcast_shapes(imp.tf_shape(x), imp.tf_shape(c)):
                    zeros = imp.weight(np.zeros(channels, np.float32), f"{node.name}/zeros")
                    ones = imp.weight(np.ones(channels, np.float32), f"{node.name}/ones")
                    out = imp.emit(fw.BatchNormOp(imp.nchw(x), imp.weight(scale, f"{c}/channels"), zeros,
                                                  zeros, ones, epsilon=0.0))
                    imp.define(node, out, perm)
                    return
        lhs, rhs = operand_in(imp, a, perm), operand_in(imp, b, perm)
        imp.define(node, imp.emit(cls(lhs, rhs, lhs.type)), perm)
    return convert


def _squared_difference(imp: Importer, node) -> None:
    a, b = data_inputs(node)[:2]
    perm = result_layout(imp, [a, b])
    lhs, rhs = operand_in(imp, a, perm), operand_in(imp, b, perm)
    diff = imp.emit(fw.SubOp(lhs, rhs, lhs.type))
    imp.define(node, imp.emit(fw.MulOp(diff, diff, diff.type)), perm)


def _bias_add(imp: Importer, node) -> None:
    x, b = data_inputs(node)[:2]
    nhwc = data_format(node)
    shape = imp.tf_shape(x)
    axis = len(shape) - 1 if nhwc else 1
    if len(imp.tf_shape(b)) != 1 or imp.tf_shape(b)[0] != shape[axis]:
        raise Unsupported(f"bias {list(imp.tf_shape(b))} does not match channel dim {axis} of {list(shape)}")
    v = imp.value(x)
    conv = v.ssa.owner
    if (isinstance(conv, fw.ConvOp) and conv.bias is None and imp.uses.get(x, 0) == 1 and imp.is_const(b)
            and permute_axis(axis, v.perm) == 1):
        # the conv's own bias (so fw-fold-batchnorm can fold a batch norm after it)
        bias = imp.weight(imp.consts[b], b)
        new = fw.ConvOp(conv.input, conv.weight, bias, conv.result.type, strides=fw.ints(conv.strides),
                        pads=fw.ints(conv.pads), dilations=fw.ints(conv.dilations), group=conv.group.value.data)
        new.attributes.update(conv.attributes)
        imp.emit(new)
        conv.detach()
        conv.erase()
        imp.define(node, new.result, v.perm)
        return
    full = [1] * len(shape)
    full[axis] = shape[axis]
    if imp.is_const(b):
        arr = np.transpose(imp.consts[b].reshape(full), v.perm)
        bias = imp.weight(arr, f"{b}/bcast{''.join(map(str, v.perm))}")
    else:
        bv = imp.plain(b)
        bias = relayout(imp, Value(imp.emit(fw.ReshapeOp(bv, full, TensorType(f32, full))),
                                   identity(len(full))), v.perm)
    imp.define(node, imp.emit(fw.AddOp(v.ssa, bias, v.ssa.type)), v.perm)


CONVERTERS = {
    "AddV2": binary(fw.AddOp),
    "Add": binary(fw.AddOp),
    "Sub": binary(fw.SubOp),
    "Mul": binary(fw.MulOp),
    "RealDiv": binary(fw.DivOp),
    "Maximum": binary(fw.MaxOp),
    "Minimum": binary(fw.MinOp),
    "SquaredDifference": _squared_difference,
    "BiasAdd": _bias_add,
}
NOTES = {
    "AddV2": "numpy broadcasting; constants permuted to the activation's layout",
    "Mul": "by a per-channel constant after a convolution: folded into its weights",
    "BiasAdd": "NHWC and NCHW; after a convolution: the convolution's bias",
    "SquaredDifference": "as (a - b) * (a - b)",
}
