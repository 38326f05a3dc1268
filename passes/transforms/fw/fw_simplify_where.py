"""Simplify the ``fw.where`` selections exporters write around attention masks.

``torch.onnx.export`` guards every softmax of scaled-dot-product attention with
``Where(IsNaN(p), 0, p)``, imported as ``where(not(p == p), 0, p)``: swapping the
branches drops the ``not`` (one pass over the [B, H, S, S] probabilities fewer).
Its padding masks ``And`` a constant mask with the run-time one (``where(c, m,
false)``); a constant condition that is all true or all false selects one branch,
broadcast to the result; so does an ``and`` with an all-true constant (an ``or``
with an all-false one). All rewrites are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from kaena.dialects import framework as fw
from kaena.dialects.attributes import KeepSources
from kaena.passes.transforms.fw.fw_dce import FwDeadCodeEliminationPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType, i1
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from kaena.weights import WeightStore, module_store


class SwapNegatedCondition(RewritePattern):
    """``where(not(c), a, b)`` -> ``where(c, b, a)``."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.WhereOp, rewriter: PatternRewriter) -> None:
        neg = op.cond.owner
        if not isinstance(neg, fw.NotOp):
            return
        new = fw.WhereOp(neg.input, op.rhs, op.lhs, op.result.type)
        new.result.name_hint = op.result.name_hint
        rewriter.replace(op, new)


def constant_mask(store: WeightStore, value: SSAValue) -> np.ndarray | None:
    """The values of an i1 constant (``fw.cast`` of a ``fw.weight`` to i1: nonzero is true)."""
    cast = value.owner
    if not isinstance(cast, fw.CastOp) or value.type.element_type != i1:
        return None
    name = fw.fw_weight(cast.input)
    return None if name is None else store[name] != 0


@dataclass
class FoldUniformCondition(RewritePattern):
    """``where(c, a, b)`` with ``c`` a constant all true (all false) -> ``a`` (``b``),
    expanded to the result's shape when the condition broadcast it."""

    store: WeightStore

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.WhereOp, rewriter: PatternRewriter) -> None:
        mask = constant_mask(self.store, op.cond)
        if mask is None or mask.size == 0 or not (mask.all() or not mask.any()):
            return
        chosen = op.lhs if mask.all() else op.rhs
        shape = fw.shape_of(op.result)
        if fw.shape_of(chosen) == shape:
            # an identity keeps a returned value distinct from the function's arguments
            new = fw.IdentityOp(chosen)
        else:
            new = fw.ExpandOp(chosen, shape, TensorType(chosen.type.element_type, shape))
        new.result.name_hint = op.result.name_hint
        rewriter.replace(op, new)


@dataclass
class FoldIdentityMask(RewritePattern):
    """``and(c, m)`` with ``c`` a constant all true, ``or(c, m)`` with ``c`` all false -> ``m``
    (either operand order), expanded to the result's shape when ``c`` broadcast it: the
    exporters' ``And`` of a constant mask with the run-time padding mask."""

    store: WeightStore

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.LogicalOp, rewriter: PatternRewriter) -> None:
        if op.kind.data not in ("and", "or"):
            return
        for const, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            mask = constant_mask(self.store, const)
            if mask is None or mask.size == 0 or not (mask.all() if op.kind.data == "and" else not mask.any()):
                continue
            shape = fw.shape_of(op.result)
            new = (fw.IdentityOp(other) if fw.shape_of(other) == shape
                   else fw.ExpandOp(other, shape, TensorType(i1, shape)))
            new.result.name_hint = op.result.name_hint
            rewriter.replace(op, new)
            return


@dataclass(frozen=True)
class FwSimplifyWherePass(ModulePass):
    """Negated and constant conditions of ``fw.where``, rewritten exactly."""

    name = "fw-simplify-where"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        store = module_store(op)
        patterns = [SwapNegatedCondition(), FoldUniformCondition(store), FoldIdentityMask(store)]
        PatternRewriteWalker(GreedyRewritePatternApplier([KeepSources(p) for p in patterns])).rewrite_module(op)
        FwDeadCodeEliminationPass().apply(ctx, op)
