"""Record the target on the module once (``kaena.target``), as xDSL's
``x86-set-arch`` records ``x86.arch``: the lowering, the allocator, the
semaphore pass, the ``inf`` verifiers and the NEFF encoder read it from there
instead of each taking a ``target`` option."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from kaena.target import DEFAULT_TARGET, get_target, set_target


@dataclass(frozen=True)
class SetTargetPass(ModulePass):
    """Sets the ``kaena.target`` attribute on the module."""

    name = "inf-set-target"

    target: str = DEFAULT_TARGET

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        set_target(op, get_target(self.target))
