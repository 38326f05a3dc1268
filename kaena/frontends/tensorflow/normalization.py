"""FusedBatchNorm / FusedBatchNormV3 at inference: an ``fw.batch_norm`` over the
channel axis (NCHW inside), which fw-fold-batchnorm folds into the convolution
before it."""

from __future__ import annotations

from kaena.dialects import framework as fw
from kaena.frontends.tensorflow.core import NCHW, Importer, Unsupported, attr, data_format, data_inputs, identity


def _fused_batch_norm(imp: Importer, node) -> None:
    if attr(node, "is_training", False):
        raise Unsupported("is_training=True (batch statistics) is not supported: export the model for "
                          "inference (training=False)")
    x_name, *params = data_inputs(node)[:5]
    nhwc = data_format(node)
    xs = imp.tf_shape(x_name)
    if len(xs) != 4:
        raise Unsupported(f"only 4-D inputs are supported, got {list(xs)}")
    channels = xs[3] if nhwc else xs[1]
    for p in params:
        if imp.tf_shape(p) != (channels,):
            raise Unsupported(f"parameter '{p}' must be [{channels}], got {list(imp.tf_shape(p))}")
    scale, offset, mean, var = (imp.plain(p) for p in params)
    perm = NCHW if nhwc else identity(4)
    out = imp.emit(fw.BatchNormOp(imp.in_layout(x_name, perm), scale, offset, mean, var,
                                  epsilon=float(attr(node, "epsilon", 1e-4))))
    imp.define(node, out, perm)


CONVERTERS = {
    "FusedBatchNorm": _fused_batch_norm,
    "FusedBatchNormV3": _fused_batch_norm,
}
NOTES = {
    "FusedBatchNorm": "inference (is_training=False), 4-D, NHWC or NCHW",
    "FusedBatchNormV3": "inference (is_training=False), 4-D, NHWC or NCHW; folded into the convolution",
}
