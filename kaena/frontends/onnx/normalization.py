"""BatchNormalization (and, below, LayerNormalization)."""

from __future__ import annotations


import onnx

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import (
    Importer,
    Unsupported,
    attrs,
)


def _batch_norm(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    if at.get("training_mode", 0) or any(o for o in node.output[1:]):
        raise Unsupported("training mode (running statistics outputs) is not supported; "
                           "export the model in inference mode")
    if not at.get("spatial", 1):
        raise Unsupported("spatial=0 is not supported")
    x, scale, bias, mean, var = (imp.operand(i) for i in node.input[:5])
    imp.define(node, imp.emit(fw.BatchNormOp(x, scale, bias, mean, var,
                                             float(at.get("epsilon", 1e-5)))))


CONVERTERS = {
    "BatchNormalization": ({"epsilon", "momentum", "training_mode", "spatial"}, _batch_norm),
}
NOTES = {"BatchNormalization": "inference mode; folded into a preceding Conv"}
