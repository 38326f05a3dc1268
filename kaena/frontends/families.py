"""What every frontend shares: the operator table it assembles from its family modules,
and the source names of the ops a node's converter emitted."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from xdsl.ir import Block, Operation

from kaena.dialects import framework as fw
from kaena.dialects.attributes import set_sources


def assemble(families: Iterable[ModuleType], converters: dict | None = None,
             notes: dict[str, str] | None = None) -> tuple[dict, dict[str, str]]:
    """(operator -> converter, operator -> ``--list-operators`` note) from modules that each
    define ``CONVERTERS`` and ``NOTES``, on top of ``converters``/``notes``; an operator two
    families register is a bug, caught at import."""
    table, limits = dict(converters or {}), dict(notes or {})
    for family in families:
        repeated = set(family.CONVERTERS) & set(table)
        if repeated:
            raise AssertionError(f"{family.__name__} repeats {', '.join(sorted(repeated))}")
        table.update(family.CONVERTERS)
        limits.update(family.NOTES)
    return table, limits


def mark_sources(block: Block, last: Operation | None, name: str) -> None:
    """Every op a node's converter emitted (those after ``last``, or the whole block) implements
    that node: record its name (``kaena.source``). Weights are data, not the node."""
    op = block.first_op if last is None else last.next_op
    while op is not None:
        if not isinstance(op, fw.WeightOp):
            set_sources(op, [name])
        op = op.next_op
