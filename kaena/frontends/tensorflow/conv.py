"""Conv2D and DepthwiseConv2dNative, NHWC (or NCHW): the filter is re-laid-out
at import (HWIO -> OIHW; depthwise [H, W, C, M] -> [C*M, 1, H, W] with
group = C) and the result is an NCHW value, so no activation is transposed."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.tensorflow.core import (
    NCHW,
    Importer,
    Unsupported,
    data_format,
    data_inputs,
    f32,
    identity,
    padding_of,
    spatial,
)


def _conv(imp: Importer, node, depthwise: bool) -> None:
    x_name, w_name = data_inputs(node)[:2]
    nhwc = data_format(node)
    filt = np.asarray(imp.const(w_name, "the filter"), np.float32)
    xs = imp.tf_shape(x_name)
    if len(xs) != 4 or filt.ndim != 4:
        raise Unsupported(f"only 2-D convolution of a 4-D input is supported, got input {list(xs)}")
    kh, kw, cin, cout = filt.shape
    channels = xs[3] if nhwc else xs[1]
    strides, dilations = spatial(node, "strides", nhwc), spatial(node, "dilations", nhwc)
    hw = (xs[1], xs[2]) if nhwc else (xs[2], xs[3])
    pads = padding_of(node, hw, (kh, kw), strides, dilations, nhwc)
    if depthwise:
        if cin != channels:
            raise Unsupported(f"filter {list(filt.shape)} does not match {channels} input channels")
        # TF's depthwise output channel c*M + m; fw's group conv: C groups of M filters
        weight = np.transpose(filt.reshape(kh, kw, cin * cout), (2, 0, 1))[:, None]
        group = cin
    else:
        if channels % cin:
            raise Unsupported(f"filter {list(filt.shape)} does not match {channels} input channels")
        weight = np.transpose(filt, (3, 2, 0, 1))
        group = channels // cin
    x = imp.in_layout(x_name, NCHW if nhwc else identity(4))
    w = imp.weight(np.ascontiguousarray(weight), f"{w_name}/oihw")
    out = imp.emit(fw.ConvOp(x, w, None, TensorType(f32, [1, 1, 1, 1]), strides=strides, pads=pads,
                             dilations=dilations, group=group))
    imp.define(node, out, NCHW if nhwc else identity(4))


CONVERTERS = {
    "Conv2D": lambda imp, node: _conv(imp, node, depthwise=False),
    "DepthwiseConv2dNative": lambda imp, node: _conv(imp, node, depthwise=True),
}
NOTES = {
    "Conv2D": "NHWC or NCHW; constant filter; SAME, VALID, EXPLICIT padding; strides, dilations, groups",
    "DepthwiseConv2dNative": "NHWC or NCHW; constant filter, any channel multiplier; SAME, VALID, EXPLICIT",
}
