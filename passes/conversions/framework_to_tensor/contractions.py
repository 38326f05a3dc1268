"""Gemm and MatMul -> ktensor.matmul (2-D, weights folded) and ktensor.batch_matmul."""

from __future__ import annotations

import math

import numpy as np
from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.passes.conversions.framework_to_tensor.common import (
    Lowering,
    StorePattern,
    tensor,
    weight_name,
)
from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import PatternRewriter, op_type_rewrite_pattern


class LowerGemm(StorePattern):
    """``alpha * op(A) @ op(B) + beta * C``: scales and transposes go into weights."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.GemmOp, rewriter: PatternRewriter) -> None:
        low = Lowering(self.store)
        alpha, beta = op.alpha.value.data, op.beta.value.data
        a = low.transpose(op.a) if op.trans_a.value.data else op.a
        b = op.b
        if op.trans_b.value.data:
            b = low.transpose(b)
        if alpha != 1.0 and (name := weight_name(b)) is not None:
            b, alpha = low.weight(name, self.store[name] * np.float32(alpha)), 1.0
        elif alpha != 1.0 and (name := weight_name(a)) is not None:
            a, alpha = low.weight(name, self.store[name] * np.float32(alpha)), 1.0
        m, n = fw.shape_of(a)[0], fw.shape_of(b)[1]

        bias: SSAValue | None = None
        addend: SSAValue | None = None
        c = op.c if beta != 0.0 else None
        if c is not None and (name := weight_name(c)) is not None:
            arr = self.store[name]
            if beta != 1.0:
                arr = arr * np.float32(beta)
            if arr.shape in ((n,), (1, n)) or arr.size == 1:
                arr = np.broadcast_to(arr.reshape(-1), (n,))
                if alpha == 1.0:
                    bias = op.c if arr.shape == fw.shape_of(op.c) and beta == 1.0 else low.weight(name, arr)
                else:
                    addend = low.weight(name, arr)
            else:
                addend = op.c if beta == 1.0 else low.weight(name, arr)
        elif c is not None:
            addend = c if beta == 1.0 else low.elementwise("mul", c, low.scalar("gemm.beta", beta))

        result = low.add(kt.MatmulOp(a, b, bias, tensor((m, n), a)))
        if alpha != 1.0:
            result = low.elementwise("mul", result, low.scalar("gemm.alpha", alpha))
        if addend is not None:
            result = low.elementwise("add", result, addend)
        rewriter.replace(op, low.ops, [result])


class LowerMatmul(StorePattern):
    """numpy matmul. A right operand without batch dims (or batch 1; weights
    [H, N] in Linear layers) -> one 2-D ktensor.matmul on the flattened left
    operand [B*S, H], between reshapes (ktensor-fuse-bias-activation then folds
    a bias add as for Gemm). Both operands batched (attention's Q @ K^T, P @ V)
    -> ktensor.batch_matmul on equal batch dims: a missing or size-1 batch dim
    is materialised with ktensor.broadcast (rare: attention heads match)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.MatmulOp, rewriter: PatternRewriter) -> None:
        a, b, r = fw.shape_of(op.lhs), fw.shape_of(op.rhs), fw.shape_of(op.result)
        low = Lowering(self.store)
        k = a[-1]
        n = 1 if len(b) == 1 else b[-1]
        if len(b) > 2 and math.prod(b[:-2]) != 1:
            a2 = (1, k) if len(a) == 1 else a
            m = a2[-2]
            batch = tuple(np.broadcast_shapes(a2[:-2], b[:-2]))
            lhs = low.broadcast(low.reshape(op.lhs, (1,) * (len(batch) + 2 - len(a2)) + a2), (*batch, m, k))
            rhs = low.broadcast(low.reshape(op.rhs, (1,) * (len(batch) + 2 - len(b)) + b), (*batch, k, n))
            mm = low.add(kt.BatchMatmulOp(lhs, rhs, tensor((*batch, m, n), lhs)))
            rewriter.replace(op, low.ops, [low.reshape(mm, r)])
            return
        lhs = low.reshape(op.lhs, (math.prod(a[:-1]), k))
        rhs = low.reshape(op.rhs, (k, n))
        mm = low.add(kt.MatmulOp(lhs, rhs, None, tensor((fw.shape_of(lhs)[0], n), lhs)))
        rewriter.replace(op, low.ops, [low.reshape(mm, r)])
