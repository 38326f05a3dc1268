"""Fuse the GELU patterns exporters write into one ``fw.gelu``.

Before ONNX opset 20 there is no Gelu operator: torch writes the exact form
``x * 0.5 * (1 + erf(x / sqrt(2)))`` as ``Div(sqrt2) | Mul(1/sqrt2), Erf,
Add(1), Mul(x), Mul(0.5)`` (the products in any order and association) and the
tanh form ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` with ``Pow(3)``
(or ``x * x * x``). Each becomes ``fw.gelu {approximate = "none" | "tanh"}``:
one scalar-engine function instead of five or more passes over the tensor.
The constants are matched to 1e-4 relative (exporters round them to float32).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kaena.dialects import framework as fw
from kaena.dialects.attributes import KeepSources
from kaena.passes.transforms.fw._patterns import erase_dead, factors, is_scalar, owner, take
from kaena.passes.transforms.fw.fw_dce import FwDeadCodeEliminationPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from kaena.weights import WeightStore, module_store

SQRT2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@dataclass
class FuseGelu(RewritePattern):
    """At the outer ``fw.mul``: factors {0.5, x, 1 + f(x)} with f the erf or tanh part."""

    store: WeightStore

    def _one_plus(self, value: SSAValue, cls: type[Operation]) -> Operation | None:
        """The ``cls`` op in ``1 + cls(..)`` (either order), with the add."""
        add = owner(value, fw.AddOp)
        if add is None:
            return None
        for a, b in ((add.lhs, add.rhs), (add.rhs, add.lhs)):
            if is_scalar(self.store, b, 1.0) and (inner := owner(a, cls)) is not None:
                return inner
        return None

    def _erf_argument(self, erf: fw.ErfOp) -> SSAValue | None:
        """x for ``erf(x / sqrt2)`` or ``erf(x * (1/sqrt2))``."""
        arg = erf.input
        if (div := owner(arg, fw.DivOp)) is not None and is_scalar(self.store, div.rhs, SQRT2):
            return div.lhs
        if (mul := owner(arg, fw.MulOp)) is not None:
            for a, b in ((mul.lhs, mul.rhs), (mul.rhs, mul.lhs)):
                if is_scalar(self.store, b, 1 / SQRT2):
                    return a
        return None

    def _tanh_argument(self, tanh: fw.TanhOp) -> SSAValue | None:
        """x for ``tanh(sqrt(2/pi) * (x + 0.044715 * x^3))``."""
        fs = factors(tanh.input)
        if len(fs) != 2 or take(fs, lambda v: is_scalar(self.store, v, SQRT_2_OVER_PI)) is None:
            return None
        add = owner(fs[0], fw.AddOp)
        if add is None:
            return None
        for x, cube in ((add.lhs, add.rhs), (add.rhs, add.lhs)):
            cf = factors(cube)
            if take(cf, lambda v: is_scalar(self.store, v, 0.044715)) is None:
                continue
            pw = owner(cf[0], fw.PowOp) if len(cf) == 1 else None
            if pw is not None and pw.input == x and pw.exponent.value.data == 3.0:
                return x
            if len(cf) == 3 and all(v == x for v in cf):
                return x
            if len(cf) == 2 and x in cf and (sq := owner(cf[1 - cf.index(x)], fw.PowOp)) is not None \
                    and sq.input == x and sq.exponent.value.data == 2.0:
                return x
        return None

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.MulOp, rewriter: PatternRewriter) -> None:
        fs = factors(op.result)
        if len(fs) != 3 or take(fs, lambda v: is_scalar(self.store, v, 0.5)) is None:
            return
        for i in (0, 1):
            x, other = fs[i], fs[1 - i]
            for cls, approx in ((fw.ErfOp, "none"), (fw.TanhOp, "tanh")):
                inner = self._one_plus(other, cls)
                if inner is None:
                    continue
                arg = self._erf_argument(inner) if cls is fw.ErfOp else self._tanh_argument(inner)
                if arg is None or arg != x or x.type != op.result.type:
                    continue
                matched = [o for o in _producers(op) if o is not op]
                new = fw.GeluOp(x, approx)
                new.result.name_hint = op.result.name_hint
                rewriter.replace(op, new)
                erase_dead(rewriter, matched)
                return


def _producers(op: Operation, depth: int = 8) -> list[Operation]:
    """``op`` and the fw ops it transitively reads (bounded): the candidates a
    fusion may leave dead."""
    seen: list[Operation] = []
    todo = [(op, 0)]
    while todo:
        o, d = todo.pop()
        if o in seen or not isinstance(o, Operation) or o.dialect_name() != "fw":
            continue
        seen.append(o)
        if d < depth:
            todo += [(v.owner, d + 1) for v in o.operands if isinstance(v.owner, Operation)]
    return seen


@dataclass(frozen=True)
class FwFuseGeluPass(ModulePass):
    """Erf and tanh GELU patterns -> ``fw.gelu``."""

    name = "fw-fuse-gelu"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        # KeepSources: the gelu names every node of the pattern (the ones it erased).
        PatternRewriteWalker(KeepSources(FuseGelu(module_store(op)))).rewrite_module(op)
        FwDeadCodeEliminationPass().apply(ctx, op)
