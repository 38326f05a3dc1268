"""``aten.convolution``: 1-D (as 2-D with a unit height) and 2-D, groups, strides, padding, dilation."""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Importer, Unsupported, reshape, shape


def _convolution(imp: Importer, node, args, kwargs):
    x, w, b, stride, padding, dilation, transposed, _output_padding, groups = args
    if transposed:
        raise Unsupported("transposed convolution is not supported")
    x, w = imp.value(x), imp.value(w)
    bias = imp.value(b) if b is not None else None
    xs, ws = shape(x), shape(w)
    out = imp.result_type(node)
    if len(xs) == 3 and len(ws) == 3:  # 1-D as 2-D with a unit height
        x = reshape(imp, x, (xs[0], xs[1], 1, xs[2]))
        w = reshape(imp, w, (ws[0], ws[1], 1, ws[2]))
        os_ = out.get_shape()
        y = imp.emit(fw.ConvOp(x, w, bias, TensorType(out.element_type, [os_[0], os_[1], 1, os_[2]]),
                               strides=[1, stride[0]], pads=[0, padding[0], 0, padding[0]],
                               dilations=[1, dilation[0]], group=int(groups)))
        return reshape(imp, y, os_)
    if len(xs) != 4 or len(ws) != 4:
        raise Unsupported(f"only 1-D and 2-D convolution are supported, got input rank {len(xs)}")
    if isinstance(padding, str):
        raise Unsupported(f"padding '{padding}' is not supported; give integer padding")
    ph, pw = padding
    return imp.emit(fw.ConvOp(x, w, bias, out, strides=list(stride), pads=[ph, pw, ph, pw],
                              dilations=list(dilation), group=int(groups)))


CONVERTERS = {"aten.convolution": _convolution}
NOTES = {"aten.convolution": "1-D and 2-D, not transposed; groups, depthwise, strides, padding, dilation"}
