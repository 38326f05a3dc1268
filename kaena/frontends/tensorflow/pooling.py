"""MaxPool and AvgPool (NHWC or NCHW, SAME or VALID), and the reductions Mean,
Sum, Max, Min: a Mean over an NCHW value's H and W is a global average pool;
other reductions map TensorFlow's axes through the value's layout."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.tensorflow.core import (
    NCHW,
    Importer,
    Unsupported,
    attr,
    data_format,
    data_inputs,
    f32,
    identity,
    padding_of,
    result_perm,
    spatial,
)


def _pool(imp: Importer, node, cls) -> None:
    x_name = data_inputs(node)[0]
    nhwc = data_format(node)
    xs = imp.tf_shape(x_name)
    if len(xs) != 4:
        raise Unsupported(f"only 2-D pooling of a 4-D input is supported, got {list(xs)}")
    kernel, strides = spatial(node, "ksize", nhwc), spatial(node, "strides", nhwc)
    hw = (xs[1], xs[2]) if nhwc else (xs[2], xs[3])
    pads = padding_of(node, hw, kernel, strides, (1, 1), nhwc)
    x = imp.in_layout(x_name, NCHW if nhwc else identity(4))
    placeholder = TensorType(f32, [1, 1, 1, 1])
    if cls is fw.AveragePoolOp:
        # TensorFlow's SAME average divides by the window's elements inside the input
        op = fw.AveragePoolOp(x, placeholder, kernel, strides, pads, count_include_pad=False)
    else:
        op = fw.MaxPoolOp(x, placeholder, kernel, strides, pads)
    imp.define(node, imp.emit(op), NCHW if nhwc else identity(4))


def _reduce(kind: str):
    def convert(imp: Importer, node) -> None:
        x_name, axes_name = data_inputs(node)[:2]
        v = imp.value(x_name)
        rank = len(v.perm)
        axes = sorted({int(a) % rank for a in np.asarray(imp.const(axes_name, "the reduction axes")).ravel()})
        keep = bool(attr(node, "keep_dims", False))
        kept = [a for a in range(rank) if a not in axes]
        if not axes:
            imp.define(node, imp.emit(fw.IdentityOp(v.ssa)), v.perm)
            return
        fw_axes = sorted(v.perm.index(a) for a in axes)
        perm = v.perm if keep else result_perm(v.perm, kept)
        if kind == "mean" and rank == 4 and fw_axes == [2, 3]:
            out = imp.emit(fw.GlobalAveragePoolOp(v.ssa))
            if not keep:
                shape = fw.shape_of(out)[:2]
                out = imp.emit(fw.ReshapeOp(out, shape, TensorType(f32, list(shape))))
            imp.define(node, out, perm)
            return
        imp.define(node, imp.emit(fw.ReduceOp(kind, v.ssa, fw_axes, keep, v.ssa.type)), perm)
    return convert


CONVERTERS = {
    "MaxPool": lambda imp, node: _pool(imp, node, fw.MaxPoolOp),
    "AvgPool": lambda imp, node: _pool(imp, node, fw.AveragePoolOp),
    "Mean": _reduce("mean"),
    "Sum": _reduce("sum"),
    "Max": _reduce("max"),
    "Min": _reduce("min"),
}
NOTES = {
    "MaxPool": "2-D, NHWC or NCHW, SAME or VALID",
    "AvgPool": "2-D, NHWC or NCHW, SAME (padding not counted) or VALID",
    "Mean": "constant axes; over H and W of an image: a global average pool",
    "Sum": "constant axes",
    "Max": "constant axes",
    "Min": "constant axes",
}
