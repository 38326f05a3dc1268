"""Layer normalization and reductions."""

from __future__ import annotations

import math

import numpy as np
from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.passes.conversions.framework_to_tensor.common import Lowering, StorePattern, tensor, weight_name
from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern


class LowerLayerNorm(StorePattern):
    """fw.layer_norm over dims [axis, rank) -> ktensor.layer_norm over the last
    dim of the input flattened to [*x[:axis], D]: scale and bias become [D]
    (broadcast into derived weights when they are weights)."""

    def _param(self, low: Lowering, value: SSAValue | None, norm: tuple[int, ...]) -> SSAValue | None:
        if value is None:
            return None
        d = math.prod(norm)
        shape = fw.shape_of(value)
        if (name := weight_name(value)) is not None and shape != (d,):
            return low.weight(name, np.broadcast_to(self.store[name], norm).reshape(d))
        padded = low.reshape(value, (1,) * (len(norm) - len(shape)) + shape)
        return low.reshape(low.broadcast(padded, norm), (d,))

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.LayerNormOp, rewriter: PatternRewriter) -> None:
        x = fw.shape_of(op.input)
        axis = op.normalized_axis()
        norm = x[axis:]
        low = Lowering(self.store)
        flat = low.reshape(op.input, (*x[:axis], math.prod(norm)))
        scale, bias = self._param(low, op.scale, norm), self._param(low, op.bias, norm)
        ln = low.add(kt.LayerNormOp(flat, scale, bias, op.epsilon.value.data))
        rewriter.replace(op, low.ops, [low.reshape(ln, x)])


class LowerReduce(RewritePattern):
    """fw.reduce -> ktensor.reduce (rank kept), then a reshape when not keepdims."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.ReduceOp, rewriter: PatternRewriter) -> None:
        x, axes = fw.shape_of(op.input), fw.ints(op.axes)
        kept = tuple(1 if i in axes else d for i, d in enumerate(x))
        red = kt.ReduceOp(str(op.kind.data), op.input, axes, tensor(kept, op.input))
        ops = [red]
        if kept != fw.shape_of(op.result):
            ops.append(kt.ReshapeOp(red.result, op.result.type))
        rewriter.replace(op, ops)
