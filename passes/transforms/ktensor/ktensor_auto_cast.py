"""Auto-cast FP32 ``ktensor`` programs to BF16/FP16 compute.

Inferentia's tensor engine multiplies BF16/FP16 at full rate (FP32 at 1/4)
and accumulates FP32 in PSUM, while model inputs and outputs stay FP32.
``matmult`` casts only contraction operands (results stay FP32); ``all``
computes everything in the low type and casts at the function's edges. Casts
of weights are folded into derived low-precision weights in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import ml_dtypes
import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import BFloat16Type, Float16Type, Float32Type, ModuleOp, TensorType
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
)
from xdsl.rewriter import InsertPoint, Rewriter

from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import KEEP_FP32_ATTR, KeepSources, inherit_sources
from kaena.errors import KaenaError
from kaena.weights import WeightStore, module_store

MODES = ("none", "matmult", "all")
TYPES: dict[str, tuple[Attribute, type]] = {
    "bf16": (BFloat16Type(), ml_dtypes.bfloat16),
    "fp16": (Float16Type(), np.float16),
}


def _is_f32(value: SSAValue) -> bool:
    return isinstance(value.type, TensorType) and isinstance(value.type.element_type, Float32Type)


def _is_float(value: SSAValue) -> bool:
    return isinstance(value.type, TensorType) and isinstance(
        value.type.element_type, Float32Type | BFloat16Type | Float16Type)


def _with_elt(t: TensorType, elt: Attribute) -> TensorType:
    return TensorType(elt, t.get_shape())


@dataclass
class _Caster:
    """Makes low-precision versions of values, one per value, placed right after its definition."""

    store: WeightStore
    low: Attribute
    np_dtype: type
    cache: dict[SSAValue, SSAValue] = field(default_factory=dict)

    def weight(self, op: kt.WeightOp) -> kt.WeightOp:
        name = self.store.add_derived(op.weight_name.data,
                                      self.store[op.weight_name.data].astype(self.np_dtype))
        return kt.WeightOp(name, _with_elt(op.result.type, self.low))

    def lowered(self, value: SSAValue, rewriter: PatternRewriter, user: Operation) -> SSAValue:
        """The low-precision ``value`` for ``user``. A cast of a computed value is the
        compiler's, converting its producer's result: it names the producer's nodes (so
        a producer that writes the cast directly is attributed to its own nodes only).
        A cast of a function argument names the ops it is made for."""
        owner = value.owner
        if value in self.cache:
            cached = self.cache[value]
            if isinstance(cached.owner, kt.CastOp) and not isinstance(owner, Operation):
                inherit_sources([cached.owner], user)
            return cached
        if kt.weight_name(value) is not None and isinstance(owner, kt.WeightOp):
            new: Operation = self.weight(owner)
        elif _moves_only(value):
            new = self.moved(owner, rewriter, user)
        else:
            new = kt.CastOp(value, _with_elt(value.type, self.low))
            inherit_sources([new], owner if isinstance(owner, Operation) else user)
        where = InsertPoint.at_start(owner) if isinstance(owner, Block) else InsertPoint.after(owner)
        rewriter.insert(new, where)
        new.results[0].name_hint = value.name_hint
        self.cache[value] = new.results[0]
        return new.results[0]


    def moved(self, owner: Operation, rewriter: PatternRewriter, user: Operation) -> Operation:
        """A concat or nearest resize of the low-precision operands: the same bits as the cast
        of its FP32 result, without that result going through DRAM in FP32 and back."""
        low_type = _with_elt(owner.results[0].type, self.low)
        if isinstance(owner, kt.ConcatOp):
            new: Operation = kt.ConcatOp([self.lowered(v, rewriter, user) for v in owner.inputs],
                                         owner.axis.value.data, low_type)
        else:
            assert isinstance(owner, kt.ResizeNearestOp)
            new = kt.ResizeNearestOp(self.lowered(owner.input, rewriter, user),
                                     [int(x) for x in owner.scales.get_values()], low_type)
        inherit_sources([new], owner)
        return new


def _moves_only(value: SSAValue) -> bool:
    """A single-use FP32 concat or nearest resize (of float values): it only moves elements,
    so its low-precision version is the same op over its operands' low versions."""
    owner = value.owner
    return (isinstance(owner, kt.ConcatOp | kt.ResizeNearestOp) and value.has_one_use()
            and all(_is_f32(v) for v in owner.operands))


def _erase_dead_moves(op: Operation, rewriter: PatternRewriter) -> None:
    """Erase ``op`` (a concat or resize replaced by its low-precision version) once unused,
    then the moves before it that only it used."""
    if not isinstance(op, kt.ConcatOp | kt.ResizeNearestOp) or any(r.uses for r in op.results):
        return
    operands = [v.owner for v in op.operands if isinstance(v.owner, Operation)]
    rewriter.erase(op)
    for o in operands:
        _erase_dead_moves(o, rewriter)


@dataclass
class CastContractionOperands(RewritePattern):
    """matmult mode: lhs/rhs of matmul and batch_matmul, input/weight of conv2d in the low type
    (not the matmuls the compiler made of other operators: ``kaena.keep_fp32``)."""

    caster: _Caster
    OPERANDS: ClassVar[dict[type, tuple[int, int]]] = {kt.MatmulOp: (0, 1), kt.Conv2dOp: (0, 1),
                                                       kt.BatchMatmulOp: (0, 1)}

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if KEEP_FP32_ATTR in op.attributes:
            return
        for index in self.OPERANDS.get(type(op), ()):
            value = op.operands[index]
            if _is_f32(value):
                low = self.caster.lowered(value, rewriter, op)
                rewriter.replace_uses_with_if(
                    value, low, lambda use, o=op, i=index: use.operation is o and use.index == i
                )
                if isinstance(value.owner, Operation):
                    _erase_dead_moves(value.owner, rewriter)


@dataclass
class ComputeInLowType(RewritePattern):
    """all mode: every ktensor value becomes low precision; casts between the two vanish."""

    caster: _Caster

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if op.dialect_name() != "ktensor":
            return
        if isinstance(op, kt.WeightOp):
            # an integer or bool constant is an f32 weight cast to i32/i1: keep it exact
            feeds_ints = op.result.uses and all(
                isinstance(u.operation, kt.CastOp) and not _is_float(u.operation.result)
                for u in op.result.uses)
            if _is_f32(op.result) and not feeds_ints:
                rewriter.replace(op, self.caster.weight(op))
            return
        if isinstance(op, kt.CastOp):
            elts = {op.input.type.element_type, op.result.type.element_type}
            if elts <= {Float32Type(), self.caster.low}:
                rewriter.replace(op, [], [op.input])
            elif _is_f32(op.result):  # i32/i1 -> f32 (masks, ids): straight to the low type
                rewriter.replace_value_with_new_type(op.result, _with_elt(op.result.type, self.caster.low))
            return
        for result in op.results:
            if _is_f32(result):
                rewriter.replace_value_with_new_type(result, _with_elt(result.type, self.caster.low))


def _cast_function_edges(fn: func.FuncOp, low: Attribute) -> None:
    """Arguments are cast to ``low`` on entry, low results back to FP32 at each return."""
    block = fn.body.blocks[0]
    for arg in reversed(block.args):
        if _is_f32(arg) and arg.uses:
            cast = kt.CastOp(arg, _with_elt(arg.type, low))
            inherit_sources([cast], *(o for o in block.ops if arg in o.operands))  # in program order
            Rewriter.insert_op(cast, InsertPoint.at_start(block))
            cast.result.name_hint = arg.name_hint
            arg.replace_uses_with_if(cast.result, lambda use, c=cast: use.operation is not c)
    for ret in [o for o in fn.walk() if isinstance(o, func.ReturnOp)]:
        for i, (value, want) in enumerate(zip(ret.operands, fn.function_type.outputs)):
            if isinstance(value.type, TensorType) and value.type != want:
                cast = kt.CastOp(value, want)
                if isinstance(value.owner, Operation):
                    inherit_sources([cast], value.owner)
                Rewriter.insert_op(cast, InsertPoint.before(ret))
                ret.operands = [*ret.operands[:i], cast.result, *ret.operands[i + 1:]]


@dataclass(frozen=True)
class AutoCastPass(ModulePass):
    """Cast FP32 compute to ``type``: ``mode`` is none, matmult (contraction operands) or all."""

    name = "ktensor-auto-cast"

    mode: str = "matmult"
    type: str = "bf16"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise KaenaError(f"auto-cast: mode '{self.mode}' is invalid; use one of {', '.join(MODES)}")
        if self.type not in TYPES:
            raise KaenaError(
                f"auto-cast: type '{self.type}' is invalid; use one of {', '.join(TYPES)}"
            )

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.mode == "none":
            return
        low, np_dtype = TYPES[self.type]
        caster = _Caster(module_store(op), low, np_dtype)
        # matmult mode names its casts itself (``_Caster.lowered``); all mode replaces
        # ops, whose replacements keep their nodes through KeepSources
        pattern = (CastContractionOperands(caster) if self.mode == "matmult"
                   else KeepSources(ComputeInLowType(caster)))
        PatternRewriteWalker(GreedyRewritePatternApplier([pattern]),
                             apply_recursively=False).rewrite_module(op)
        if self.mode == "all":
            for fn in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
                if fn.body.blocks:
                    _cast_function_edges(fn, low)
        kt.erase_dead_weights(op)
