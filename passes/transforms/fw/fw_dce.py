"""Remove dead framework nodes: ``fw`` ops (weights included) whose results are
unused, e.g. ONNX nodes feeding nothing or what a fold left behind.

``fw`` ops are ``Pure``, so this is xDSL's dead-code elimination
(``RemoveUnusedOperations``) restricted to the ``fw`` dialect: other dialects'
ops are left to ``-p dce``, as before."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker
from xdsl.transforms.dead_code_elimination import RemoveUnusedOperations


class RemoveDeadFwOp(RemoveUnusedOperations):
    """xDSL's trivially-dead check and erase, for ``fw`` ops only."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if op.dialect_name() == "fw":
            super().match_and_rewrite(op, rewriter)


@dataclass(frozen=True)
class FwDeadCodeEliminationPass(ModulePass):
    name = "fw-dce"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        # Uses before definitions: one reverse walk frees whole dead chains.
        PatternRewriteWalker(RemoveDeadFwOp(), walk_reverse=True).rewrite_module(op)
