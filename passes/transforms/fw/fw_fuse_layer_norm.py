"""Fuse the decomposed layer normalization older exporters write into ``fw.layer_norm``.

Before opset 17 torch writes ``nn.LayerNorm`` as
``m = ReduceMean(x); d = Sub(x, m); v = ReduceMean(Pow(d, 2)); n = Div(d, Sqrt(Add(v, eps)));
y = Add(Mul(n, gamma), beta)`` (reductions over the trailing axes, keepdims;
``d * d`` for the square also taken). ``Mul(n, gamma)`` becomes
``fw.layer_norm(x, gamma)``, then an ``Add`` of a constant ``beta`` folds in as
its bias: one op the lowering computes in one pass over each row (statistics in
FP32) instead of nine elementwise and reduction passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaena.dialects import framework as fw
from kaena.dialects.attributes import KeepSources
from kaena.passes.transforms.fw._patterns import erase_dead, owner, scalar
from kaena.passes.transforms.fw.fw_dce import FwDeadCodeEliminationPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
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


def _trailing_mean(value: SSAValue) -> fw.ReduceOp | None:
    """The keepdims mean over trailing axes producing ``value``."""
    red = owner(value, fw.ReduceOp)
    if red is None or red.kind.data != "mean" or not red.keepdims.value.data:
        return None
    axes, rank = fw.ints(red.axes), len(fw.shape_of(red.input))
    return red if list(axes) == list(range(rank - len(axes), rank)) else None


def _square_of(value: SSAValue) -> SSAValue | None:
    if (pw := owner(value, fw.PowOp)) is not None and pw.exponent.value.data == 2.0:
        return pw.input
    if (mul := owner(value, fw.MulOp)) is not None and mul.lhs == mul.rhs:
        return mul.lhs
    return None


@dataclass
class FuseLayerNorm(RewritePattern):
    """``Mul(normalized(x), gamma)`` (either order) -> ``fw.layer_norm(x, gamma)``."""

    store: WeightStore

    def _normalized(self, value: SSAValue):
        """(x, axis, epsilon, matched ops) for ``(x - mean) / sqrt(var + eps)``."""
        div = owner(value, fw.DivOp)
        if div is None:
            return None
        sub, sqrt = owner(div.lhs, fw.SubOp), owner(div.rhs, fw.SqrtOp)
        if sub is None or sqrt is None:
            return None
        mean = _trailing_mean(sub.rhs)
        if mean is None or mean.input != sub.lhs:
            return None
        add = owner(sqrt.input, fw.AddOp)
        if add is None:
            return None
        for v, e in ((add.lhs, add.rhs), (add.rhs, add.lhs)):
            eps = scalar(self.store, e)
            var = _trailing_mean(v)
            if eps is None or var is None or fw.ints(var.axes) != fw.ints(mean.axes):
                continue
            if _square_of(var.input) != sub.result:
                continue
            x = sub.lhs
            axis = fw.ints(mean.axes)[0]
            return x, axis, eps, [div, sub, sqrt, mean, add, var, var.input.owner]
        return None

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.MulOp, rewriter: PatternRewriter) -> None:
        for n, gamma in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            if fw.fw_weight(gamma) is None:
                continue
            found = self._normalized(n)
            if found is None:
                continue
            x, axis, eps, matched = found
            new = fw.LayerNormOp(x, gamma, None, axis, eps)
            try:
                new.verify()
            except Exception:
                continue  # gamma does not broadcast to the normalized dims
            if new.result.type != op.result.type:
                continue
            new.result.name_hint = op.result.name_hint
            rewriter.replace(op, new)
            erase_dead(rewriter, matched)
            return


class FuseLayerNormBias(RewritePattern):
    """``Add(layer_norm without bias, beta)`` (either order, constant beta) -> its bias."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.AddOp, rewriter: PatternRewriter) -> None:
        for v, beta in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            ln = fw.sole_use_producer(v, fw.LayerNormOp)
            if ln is None or ln.bias is not None or fw.fw_weight(beta) is None:
                continue
            new = fw.LayerNormOp(ln.input, ln.scale, beta, ln.axis.value.data, ln.epsilon.value.data)
            try:
                new.verify()
            except Exception:
                continue
            if new.result.type != op.result.type:
                continue
            new.result.name_hint = op.result.name_hint
            rewriter.replace(op, new)
            rewriter.erase(ln)
            return


@dataclass(frozen=True)
class FwFuseLayerNormPass(ModulePass):
    """Decomposed layer normalization -> ``fw.layer_norm``."""

    name = "fw-fuse-layer-norm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        store = module_store(op)
        # KeepSources: the layer_norm names every node of the pattern.
        PatternRewriteWalker(
            KeepSources(GreedyRewritePatternApplier([FuseLayerNorm(store), FuseLayerNormBias()]))
        ).rewrite_module(op)
        FwDeadCodeEliminationPass().apply(ctx, op)
