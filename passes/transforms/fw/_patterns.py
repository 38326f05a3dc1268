"""Matching helpers the fw fusions share: scalar constants, product trees, and
erasing what a fusion left dead (so ``KeepSources`` credits those nodes too)."""

from __future__ import annotations

import math

from kaena.dialects import framework as fw
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter

from kaena.weights import WeightStore


def scalar(store: WeightStore, value: SSAValue) -> float | None:
    """The value of a one-element constant (``fw.weight``), else None."""
    name = fw.fw_weight(value)
    if name is None or store[name].size != 1:
        return None
    return float(store[name].reshape(()))


def is_scalar(store: WeightStore, value: SSAValue, want: float, rel: float = 1e-4) -> bool:
    got = scalar(store, value)
    return got is not None and math.isclose(got, want, rel_tol=rel, abs_tol=1e-7)


def owner(value: SSAValue, cls: type[Operation]) -> Operation | None:
    return value.owner if isinstance(value.owner, cls) else None


def factors(value: SSAValue, limit: int = 4) -> list[SSAValue]:
    """The leaves of the product tree of ``fw.mul`` ops rooted at ``value``
    (inner products only when used once): ``(x * a) * 0.5`` -> [x, a, 0.5]."""
    op = value.owner
    if not isinstance(op, fw.MulOp) or limit == 0:
        return [value]
    out: list[SSAValue] = []
    for v in (op.lhs, op.rhs):
        inner = isinstance(v.owner, fw.MulOp) and v.has_one_use()
        out += factors(v, limit - 1) if inner else [v]
    return out


def take(values: list[SSAValue], pred) -> SSAValue | None:
    """Remove and return the first of ``values`` satisfying ``pred``."""
    for i, v in enumerate(values):
        if pred(v):
            return values.pop(i)
    return None


def erase_dead(rewriter: PatternRewriter, ops: list[Operation]) -> None:
    """Erase the matched ops (not weights) the fusion left without uses."""
    changed = True
    while changed:
        changed = False
        for op in ops:
            if op.parent is not None and not isinstance(op, fw.WeightOp) and \
                    all(not r.uses for r in op.results):
                rewriter.erase(op)
                changed = True
