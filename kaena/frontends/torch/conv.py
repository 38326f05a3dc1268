"""Convolution: ``aten.convolution`` (core ATen) and ``aten.conv1d/conv2d`` (the export's
own IR): 1-D (as 2-D with a unit height) and 2-D, groups, strides, padding
(integers, 'same', 'valid'), dilation."""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Importer, Unsupported, reshape, shape


def _pads(padding, kernel, dilation) -> list[int]:
    """fw pads [begin_0.., end_0..] from torch's symmetric ints or 'same'/'valid'."""
    n = len(kernel)
    if padding == "valid":
        return [0] * 2 * n
    if padding == "same":  # torch puts the odd element at the end
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [t // 2 for t in total] + [t - t // 2 for t in total]
    if isinstance(padding, str):
        raise Unsupported(f"padding '{padding}' is not supported")
    padding = list(padding) * n if len(padding) == 1 else list(padding)
    return padding + padding


def conv(imp: Importer, node, x, w, b, stride, padding, dilation, groups):
    x, w = imp.value(x), imp.value(w)
    bias = imp.value(b) if b is not None else None
    xs, ws = shape(x), shape(w)
    out = imp.result_type(node)
    nd = len(xs) - 2
    stride = list(stride) * nd if len(stride) == 1 else list(stride)
    dilation = list(dilation) * nd if len(dilation) == 1 else list(dilation)
    pads = _pads(padding, ws[2:], dilation)
    if nd == 1 and len(ws) == 3:  # 1-D as 2-D with a unit height
        x = reshape(imp, x, (xs[0], xs[1], 1, xs[2]))
        w = reshape(imp, w, (ws[0], ws[1], 1, ws[2]))
        os_ = out.get_shape()
        y = imp.emit(fw.ConvOp(x, w, bias, TensorType(out.element_type, [os_[0], os_[1], 1, os_[2]]),
                               strides=[1, stride[0]], pads=[0, pads[0], 0, pads[1]],
                               dilations=[1, dilation[0]], group=int(groups)))
        return reshape(imp, y, os_)
    if nd != 2 or len(ws) != 4:
        raise Unsupported(f"only 1-D and 2-D convolution are supported, got input rank {len(xs)}")
    return imp.emit(fw.ConvOp(x, w, bias, out, strides=stride, pads=pads, dilations=dilation, group=int(groups)))


def _convolution(imp: Importer, node, args, kwargs):
    x, w, b, stride, padding, dilation, transposed, _output_padding, groups = args
    if transposed:
        raise Unsupported("transposed convolution is not supported")
    return conv(imp, node, x, w, b, stride, padding, dilation, groups)


def _conv_nd(imp: Importer, node, args, kwargs):
    """``conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1)``."""
    names = ("bias", "stride", "padding", "dilation", "groups")
    defaults = dict(zip(names, (None, [1], [0], [1], 1)))
    given = {**defaults, **dict(zip(names, args[2:])), **kwargs}
    return conv(imp, node, args[0], args[1], given["bias"], given["stride"], given["padding"],
                given["dilation"], given["groups"])


CONVERTERS = {"aten.convolution": _convolution, "aten.conv2d": _conv_nd, "aten.conv1d": _conv_nd}
NOTES = {
    "aten.convolution": "1-D and 2-D, not transposed; groups, depthwise, strides, padding, dilation",
    "aten.conv2d": "as aten.convolution; padding also 'same' or 'valid'",
    "aten.conv1d": "as aten.convolution; padding also 'same' or 'valid'",
}
