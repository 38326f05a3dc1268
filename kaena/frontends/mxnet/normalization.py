"""BatchNorm with MXNet's inference semantics: the moving statistics always
(use_global_stats only changes training), gamma replaced by ones when
fix_gamma (MXNet's default), eps 1e-3 by default."""

from __future__ import annotations

import numpy as np

from kaena.dialects import framework as fw
from kaena.frontends.mxnet.core import Importer, Unsupported, accepts, bool_attr, float_attr, int_attr
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
