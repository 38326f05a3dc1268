"""Conv: 1-D (as 2-D with a unit height) and 2-D convolution."""

from __future__ import annotations

import onnx
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import Importer, InvalidNode, Unsupported, attrs, f32
from kaena.frontends.onnx.utils import define_reshaped, reshape_to, spatial_pads


def _conv(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    x, w = imp.operand(node.input[0]), imp.operand(node.input[1])
    bias = imp.operand(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    xs, ws = fw.shape_of(x), fw.shape_of(w)
    if len(xs) not in (3, 4) or len(ws) != len(xs):
        raise Unsupported(f"only 1-D and 2-D convolution are supported, got input rank {len(xs)}")
    nd = len(xs) - 2
    kernel = list(at.get("kernel_shape", ws[2:]))
    if tuple(kernel) != tuple(ws[2:]):
        raise Unsupported(f"kernel_shape {kernel} does not match the weight {ws}")
    strides = list(at.get("strides", [1] * nd))
    dilations = list(at.get("dilations", [1] * nd))
    pads = spatial_pads(at, xs[2:], kernel, strides, dilations)
    group = int(at.get("group", 1))
    if group < 1 or xs[1] % group or ws[0] % group:
        raise InvalidNode(f"group {group} does not divide the input's {xs[1]} channels and the weight's "
                          f"{ws[0]} filters")
    if min(strides, default=1) < 1 or min(dilations, default=1) < 1 or len(strides) != nd or len(dilations) != nd:
        raise InvalidNode(f"strides {strides} and dilations {dilations} must be {nd} positive integers")
    if nd == 1:  # 1-D as 2-D with a unit height
        x = reshape_to(imp, x, (xs[0], xs[1], 1, xs[2]))
        w = reshape_to(imp, w, (ws[0], ws[1], 1, ws[2]))
        strides, dilations, pads = [1, *strides], [1, *dilations], [0, pads[0], 0, pads[1]]
        ow = fw.pool_output_dim(xs[2], ws[2], strides[1], pads[1], pads[3], dilations[1])
        op = imp.emit(fw.ConvOp(x, w, bias, TensorType(f32, [xs[0], ws[0], 1, ow]), strides=strides,
                                pads=pads, dilations=dilations, group=group))
        define_reshaped(imp, node, op.results[0])
        return
    op = fw.ConvOp(x, w, bias, x.type, strides=strides, pads=pads, dilations=dilations, group=group)
    imp.define(node, imp.emit(op))


CONVERTERS = {
    "Conv": ({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, _conv),
}
NOTES = {"Conv": "1-D and 2-D; groups, depthwise, strides, pads, auto_pad, dilations"}
