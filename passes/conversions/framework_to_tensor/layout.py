"""Weights and layout: reshape, transpose, softmax, concat, pad, resize, slice, broadcast."""

from __future__ import annotations

from dataclasses import dataclass

from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.passes.conversions.framework_to_tensor.common import (
    Lowering,
    StorePattern,
)
from xdsl.ir import Operation
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern


class LowerWeight(StorePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.WeightOp, rewriter: PatternRewriter) -> None:
        rewriter.replace(op, kt.WeightOp(op.weight_name.data, op.result.type))


class LowerLayout(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, fw.FlattenOp | fw.ReshapeOp):
            rewriter.replace(op, kt.ReshapeOp(op.input, op.result.type))
        elif isinstance(op, fw.TransposeOp):
            rewriter.replace(op, kt.TransposeOp(op.input, fw.ints(op.perm), op.result.type))
        elif isinstance(op, fw.SoftmaxOp):
            axis = op.axis.value.data
            if axis < 0:
                axis += len(fw.shape_of(op.input))
            rewriter.replace(op, kt.SoftmaxOp(op.input, axis))
        elif isinstance(op, fw.ConcatOp):
            axis = op.axis.value.data % len(fw.shape_of(op.result))
            rewriter.replace(op, kt.ConcatOp(list(op.inputs), axis, op.result.type))
        elif isinstance(op, fw.PadOp):
            rewriter.replace(op, kt.PadOp(op.input, fw.ints(op.pads), str(op.mode.data), op.result.type,
                                          value=op.value.value.data))
        elif isinstance(op, fw.LogSoftmaxOp):
            rewriter.replace(op, kt.LogSoftmaxOp(op.input, op.axis.value.data % len(fw.shape_of(op.input))))
        elif isinstance(op, fw.SliceOp):
            rewriter.replace(op, kt.SliceOp(op.input, fw.ints(op.starts), fw.ints(op.steps), op.result.type))
        elif isinstance(op, fw.ResizeNearestOp):
            rewriter.replace(op, kt.ResizeNearestOp(op.input, fw.ints(op.scales), op.result.type))


@dataclass
class LowerExpand(StorePattern):
    """Expand: leading unit dims by a reshape, then ktensor.broadcast (a derived
    weight for a weight)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.ExpandOp, rewriter: PatternRewriter) -> None:
        x, r = fw.shape_of(op.input), fw.shape_of(op.result)
        low = Lowering(self.store)
        value = low.broadcast(low.reshape(op.input, (1,) * (len(r) - len(x)) + x), r)
        rewriter.replace(op, low.ops, [value])
