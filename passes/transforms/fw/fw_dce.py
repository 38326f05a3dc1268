"""Remove dead framework nodes: ``fw`` ops (weights included) whose results are
unused, e.g. ONNX nodes feeding nothing or what a fold left behind.

Every ``fw`` op is side-effect free, so an unused one can always go."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from kaena.dialects import framework as fw


def erase_dead_fw_ops(module: ModuleOp) -> int:
    """Erase unused fw ops (one reverse walk frees whole dead chains); returns the count."""
    erased = 0
    for op in list(module.walk(reverse=True)):
        if isinstance(op, fw._FwOp) and all(not r.uses for r in op.results):
            op.detach()
            op.erase()
            erased += 1
    return erased


@dataclass(frozen=True)
class FwDeadCodeEliminationPass(ModulePass):
    name = "fw-dce"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        erase_dead_fw_ops(op)
