"""Pooling: max and avg over 2-D windows, global_pool, pooling_convention valid
(floor) and full (ceil), count_include_pad (MXNet's default: True)."""

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
    str_attr,
    tuple_attr,
    window_attr,
)
from kaena.frontends.mxnet.symbol import Node


def _mxnet_output_dim(size: int, kernel: int, stride: int, pad: int, full: bool) -> int:
    """MXNet's output size: 1 + floor (valid) or ceil (full) of (size + 2 pad - kernel) / stride."""
    num = size + 2 * pad - kernel
    return 1 + (-(-num // stride) if full else num // stride)


def _pooling(imp: Importer, node: Node) -> None:
    kind = str_attr(node, "pool_type", "max", ("max", "avg"))
    x = imp.input(node, 0)
    xs = fw.shape_of(x)
    if len(xs) != 4:
        raise Unsupported(f"only 2-D pooling (NCHW input) is supported, got input {list(xs)}")
    check_layout(node, 4)
    if bool_attr(node, "global_pool", False):
        if kind == "avg":
            imp.define(node, imp.make(fw.GlobalAveragePoolOp(x)))
        else:
            out = TensorType(f32, [xs[0], xs[1], 1, 1])
            imp.define(node, imp.make(fw.MaxPoolOp(x, out, xs[2:], (1, 1), (0, 0, 0, 0))))
        return
    kernel = tuple_attr(node, "kernel")
    if not kernel or len(kernel) != 2:
        raise Unsupported(f"kernel={kernel} must have 2 entries for a 2-D pooling")
    kernel = window_attr(node, "kernel", 2, 1)
    stride, pad = window_attr(node, "stride", 2, 1), window_attr(node, "pad", 2, 0, minimum=0)
    convention = str_attr(node, "pooling_convention", "valid", ("valid", "full"))
    full = convention == "full"
    include_pad = bool_attr(node, "count_include_pad", True)
    out = [_mxnet_output_dim(xs[2 + i], kernel[i], stride[i], pad[i], full) for i in range(2)]
    if min(out) < 1:
        raise Unsupported(f"kernel {list(kernel)} does not fit the input {list(xs[2:])} padded by {list(pad)}")
    onnx_rule = [fw.pool_output_dim(xs[2 + i], kernel[i], stride[i], pad[i], pad[i], ceil_mode=full)
                 for i in range(2)]
    if out != onnx_rule:
        raise Unsupported(f"pooling_convention='full' here makes a last window that starts in the "
                          f"padding (output {out}); use pad < stride or pooling_convention='valid'")
    pads = (pad[0], pad[1], pad[0], pad[1])
    t = TensorType(f32, [xs[0], xs[1], *out])
    op = (fw.AveragePoolOp(x, t, kernel, stride, pads, full, include_pad) if kind == "avg"
          else fw.MaxPoolOp(x, t, kernel, stride, pads, full))
    imp.define(node, imp.make(op))


CONVERTERS = {
    "Pooling": (accepts("kernel", "global_pool", "stride", "pad", "count_include_pad", "cudnn_off", "layout",
                        "p_value", pool_type=("max", "avg"), pooling_convention=("valid", "full")), _pooling),
}
NOTES = {"Pooling": "2-D max and avg, global_pool, pooling_convention valid/full, count_include_pad; "
                    "no sum/lp pooling or convention 'same'"}
