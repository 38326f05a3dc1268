"""Casts (and, below, comparisons and selection)."""

from __future__ import annotations


import numpy as np
import onnx
from onnx import TensorProto

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import (
    Importer,
    Unsupported,
    attrs,
)


def _cast(imp: Importer, node: onnx.NodeProto) -> None:
    """A cast to float32 of a float32 value is an identity; of a constant, it folds.
    Other casts are only taken on constants (folded before converters run)."""
    if node.op_type == "CastLike":
        like = node.input[1]
        to_float = like in imp.values or (like in imp.consts and imp.consts[like].dtype == np.float32)
    else:
        to_float = attrs(node).get("to") == TensorProto.FLOAT
    if not to_float:
        raise Unsupported("only casts to float32 are supported on run-time values")
    if node.input[0] in imp.consts:
        imp.consts[node.output[0]] = np.asarray(imp.consts[node.input[0]], np.float32)
        return
    imp.define(node, imp.emit(fw.IdentityOp(imp.operand(node.input[0]))))


CONVERTERS = {
    "Cast": ({"to", "saturate"}, _cast),
    "CastLike": ({"saturate"}, _cast),
}
NOTES = {
    "Cast": "float32 to float32 at run time; any cast of constants (shape arithmetic)",
    "CastLike": "float32 to float32",
}
