"""Gather by run-time indices (embedding lookups)."""

from __future__ import annotations

from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import describe_op
from xdsl.dialects.builtin import TensorType, i32
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from kaena.errors import CompileError


class LowerGather(RewritePattern):
    """fw.gather along axis 0 -> ktensor.gather (indices i32)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.GatherOp, rewriter: PatternRewriter) -> None:
        if op.axis.value.data != 0:
            raise CompileError(f"{describe_op(op)}: Gather by run-time indices is supported along axis 0 only")
        ops = []
        idx = op.indices
        if idx.type.element_type != i32:
            ops.append(kt.CastOp(idx, TensorType(i32, idx.type.get_shape())))
            idx = ops[-1].result
        ops.append(kt.GatherOp(op.table, idx, op.result.type))
        rewriter.replace(op, ops)
