"""FullyConnected: ``x @ W.T + b`` on the input flattened to 2-D (flatten=True) or
on its last axis (flatten=False), as a 2-D fw.gemm between reshapes."""

from __future__ import annotations

import math

from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.mxnet.core import Importer, Unsupported, accepts, bool_attr, f32, positive_int_attr, reshape_to
from kaena.frontends.mxnet.symbol import Node


def _fully_connected(imp: Importer, node: Node) -> None:
    x, w = imp.input(node, 0), imp.input(node, 1)
    bias = None if bool_attr(node, "no_bias", False) else imp.input(node, 2)
    hidden = positive_int_attr(node, "num_hidden")
    xs, ws = fw.shape_of(x), fw.shape_of(w)
    if len(xs) < 2:
        raise Unsupported(f"expects an input of rank >= 2, got {list(xs)}")
    if bool_attr(node, "flatten", True):
        rows, out = (xs[0], math.prod(xs[1:])), (xs[0], hidden)
    else:
        rows, out = (math.prod(xs[:-1]), xs[-1]), (*xs[:-1], hidden)
    if ws != (hidden, rows[1]):
        raise Unsupported(f"weight shape {list(ws)} is not [num_hidden={hidden}, {rows[1]}]")
    x2 = reshape_to(imp, x, rows)
    y = imp.make(fw.GemmOp(x2, w, bias, TensorType(f32, [rows[0], hidden]), trans_b=True))
    imp.define(node, reshape_to(imp, y, out))


CONVERTERS = {
    "FullyConnected": (accepts("num_hidden", "no_bias", "flatten"), _fully_connected),
}
NOTES = {"FullyConnected": "flatten=True (input flattened to 2-D) or False (last axis); no_bias"}
