"""The operator table every frontend assembles from its family modules."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType


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
