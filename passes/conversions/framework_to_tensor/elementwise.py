"""Elementwise arithmetic, activations, clip, pow, casts, comparisons and selection."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import describe_op
from kaena.passes.conversions.framework_to_tensor.common import (
    Lowering,
    StorePattern,
)
from xdsl.dialects.builtin import TensorType, f32, i1, i32
from xdsl.ir import Operation
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from kaena.errors import CompileError


class LowerBinary(RewritePattern):
    KINDS: ClassVar[dict[type, str]] = {
        fw.AddOp: "add", fw.SubOp: "sub", fw.MulOp: "mul", fw.DivOp: "div",
        fw.MaxOp: "max", fw.MinOp: "min",
    }

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        kind = self.KINDS.get(type(op))
        if kind is None:
            return
        a, b = op.operands
        t = op.results[0].type
        if kind in ("max", "min") and t.element_type == i32:
            # integers: compare (int32 read as FP32, exact within 2**24) and select (a move)
            mask = kt.CompareOp("greater" if kind == "max" else "less", a, b,
                                TensorType(i1, t.get_shape()))
            rewriter.replace(op, [mask, kt.SelectOp(mask.result, a, b, t)])
        elif t.element_type != f32:
            raise CompileError(f"{describe_op(op)}: {kind} of {t.element_type} values: the engines "
                               "compute in float32 and write integers only by moving them")
        else:
            rewriter.replace(op, kt.ElementwiseOp(kind, a, b, t))


class LowerUnary(RewritePattern):
    FUNCS: ClassVar[dict[type, str]] = {
        fw.ReluOp: "relu", fw.SigmoidOp: "sigmoid", fw.TanhOp: "tanh", fw.HardSwishOp: "hard_swish",
        fw.ErfOp: "erf", fw.ExpOp: "exp", fw.LogOp: "log", fw.SqrtOp: "sqrt",
        fw.ReciprocalOp: "reciprocal", fw.NegOp: "neg",
    }

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, fw.IdentityOp):
            rewriter.replace(op, [], [op.input])
        elif (func := self.FUNCS.get(type(op))) is not None:
            rewriter.replace(op, kt.ActivationOp(func, op.operands[0], op.results[0].type))
        elif isinstance(op, fw.GeluOp):
            func = "gelu" if op.approximate.data == "none" else "gelu_tanh"
            rewriter.replace(op, kt.ActivationOp(func, op.input, op.result.type))
        elif isinstance(op, fw.LeakyReluOp):
            rewriter.replace(op, kt.ActivationOp("leaky_relu", op.input, op.result.type,
                                                 alpha=op.alpha.value.data))
        elif isinstance(op, fw.HardSigmoidOp):
            rewriter.replace(op, kt.ActivationOp("hard_sigmoid", op.input, op.result.type,
                                                 alpha=op.alpha.value.data, beta=op.beta.value.data))


@dataclass
class LowerClip(StorePattern):
    """relu/relu6 when it is one (fusable), clip when bounded both sides, else max/min by a scalar."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.ClipOp, rewriter: PatternRewriter) -> None:
        lo, hi = op.bounds()
        if (act := op.fusable_activation()) is not None:
            rewriter.replace(op, kt.ActivationOp(act, op.input, op.result.type))
        elif math.isfinite(lo) and math.isfinite(hi):
            rewriter.replace(op, kt.ActivationOp("clip", op.input, op.result.type, alpha=lo, beta=hi))
        elif math.isfinite(lo) or math.isfinite(hi):
            low = Lowering(self.store)
            kind, bound = ("max", lo) if math.isfinite(lo) else ("min", hi)
            value = low.elementwise(kind, op.input, low.scalar(f"clip.{kind}", bound))
            low.reshape(value, fw.shape_of(op.result))  # a rank-0 input stays rank 0 (the scalar is [1])
            rewriter.replace(op, low.ops)
        else:
            rewriter.replace(op, [], [op.input])


class LowerPow(RewritePattern):
    """``x ** e`` for the exponents the scalar engine has a function for;
    3 is ``x * square(x)``."""

    FUNCS: ClassVar[dict[float, str]] = {2.0: "square", 0.5: "sqrt", -0.5: "rsqrt", -1.0: "reciprocal"}

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.PowOp, rewriter: PatternRewriter) -> None:
        e = op.exponent.value.data
        if e == 1.0:
            rewriter.replace(op, [], [op.input])
        elif e in self.FUNCS:
            rewriter.replace(op, kt.ActivationOp(self.FUNCS[e], op.input, op.result.type))
        elif e == 3.0:
            sq = kt.ActivationOp("square", op.input, op.result.type)
            rewriter.replace(op, [sq, kt.ElementwiseOp("mul", op.input, sq.result, op.result.type)])
        else:
            raise CompileError(f"{describe_op(op)}: Pow with exponent {e} is not supported "
                               "(1, 2, 3, 0.5, -0.5, -1 are)")


class LowerMasks(RewritePattern):
    """Casts, comparisons, not and where: one ktensor op each (masks are i1)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, fw.CastOp):
            rewriter.replace(op, kt.CastOp(op.input, op.result.type))
        elif isinstance(op, fw.CompareOp):
            rewriter.replace(op, kt.CompareOp(str(op.kind.data), op.lhs, op.rhs, op.result.type))
        elif isinstance(op, fw.NotOp):
            rewriter.replace(op, kt.LogicalNotOp(op.input))
        elif isinstance(op, fw.LogicalOp):
            rewriter.replace(op, kt.LogicalOp(str(op.kind.data), op.lhs, op.rhs, op.result.type))
        elif isinstance(op, fw.WhereOp):
            rewriter.replace(op, kt.SelectOp(op.cond, op.lhs, op.rhs, op.result.type))
