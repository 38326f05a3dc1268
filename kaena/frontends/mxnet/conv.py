"""Convolution: 2-D, and 1-D as 2-D with a unit height; groups, strides, pads, dilations."""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.mxnet.core import (
    Importer,
    Unsupported,
    accepts,
    bool_attr,
    check_layout,
    f32,
    positive_int_attr,
    reshape_to,
    tuple_attr,
    window_attr,
)
from kaena.frontends.mxnet.symbol import Node


def _convolution(imp: Importer, node: Node) -> None:
    kernel = tuple_attr(node, "kernel")
    if not kernel or len(kernel) not in (1, 2):
        raise Unsupported(f"only 1-D and 2-D kernels are supported, got kernel={kernel}")
    nd = len(kernel)
    window_attr(node, "kernel", nd, 1)
    stride, dilate, pad = (window_attr(node, "stride", nd, 1), window_attr(node, "dilate", nd, 1),
                           window_attr(node, "pad", nd, 0, minimum=0))
    group = positive_int_attr(node, "num_group", 1)
    filters = positive_int_attr(node, "num_filter")
    x, w = imp.input(node, 0), imp.input(node, 1)
    bias = None if bool_attr(node, "no_bias", False) else imp.input(node, 2)
    xs, ws = fw.shape_of(x), fw.shape_of(w)
    if len(xs) != nd + 2:
        raise Unsupported(f"a {nd}-D kernel needs a rank-{nd + 2} input, got {list(xs)}")
    check_layout(node, len(xs))
    want = (filters, xs[1] // group, *kernel)
    if ws != want:
        raise Unsupported(f"weight shape {list(ws)} is not {list(want)} (num_filter, channels/num_group, "
                          "kernel)")
    if nd == 1:  # as 2-D with a unit height
        x = reshape_to(imp, x, (xs[0], xs[1], 1, xs[2]))
        w = reshape_to(imp, w, (ws[0], ws[1], 1, ws[2]))
        y = imp.make(fw.ConvOp(x, w, bias, x.type, strides=(1, stride[0]), pads=(0, pad[0], 0, pad[0]),
                               dilations=(1, dilate[0]), group=group))
        ys = fw.shape_of(y)
        imp.define(node, reshape_to(imp, y, (ys[0], ys[1], ys[3])))
        return
    imp.define(node, imp.make(fw.ConvOp(x, w, bias, TensorType(f32, xs), strides=stride,
                                        pads=(pad[0], pad[1], pad[0], pad[1]), dilations=dilate,
                                        group=group)))


CONVERTERS = {
    "Convolution": (accepts("kernel", "stride", "dilate", "pad", "num_filter", "num_group", "no_bias", "layout",
                            "workspace", "cudnn_tune", "cudnn_off"), _convolution),
}
NOTES = {"Convolution": "1-D and 2-D, NCHW; num_group (depthwise), stride, pad, dilate, no_bias"}
