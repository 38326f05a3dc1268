"""Gemm and MatMul. MatMul keeps numpy semantics at the fw level; the conversion
makes a 2-D ktensor.matmul of a matmul by a weight and ktensor.batch_matmul of two
batched operands (attention)."""

from __future__ import annotations

import onnx

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import Importer, attrs


def _gemm(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    a, b = imp.operand(node.input[0]), imp.operand(node.input[1])
    c = imp.operand(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    op = fw.GemmOp(a, b, c, a.type, alpha=at.get("alpha", 1.0), beta=at.get("beta", 1.0),
                   trans_a=bool(at.get("transA", 0)), trans_b=bool(at.get("transB", 0)))
    imp.define(node, imp.emit(op))


def _matmul(imp: Importer, node: onnx.NodeProto) -> None:
    a, b = imp.operand(node.input[0]), imp.operand(node.input[1])
    imp.define(node, imp.emit(fw.MatmulOp(a, b, a.type)))


CONVERTERS = {
    "Gemm": ({"alpha", "beta", "transA", "transB"}, _gemm),
    "MatMul": (set(), _matmul),
}
NOTES = {
    "Gemm": "",
    "MatMul": "any rank, numpy broadcasting; by a 2-D weight a 2-D matmul (bias fused), both operands "
              "batched (attention) ktensor.batch_matmul",
}
