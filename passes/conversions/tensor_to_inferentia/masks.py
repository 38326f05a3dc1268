"""Masks: ``ktensor.compare``, ``ktensor.logical_not``, ``ktensor.logical``, ``ktensor.select``.

i1 storage: a mask (i1 tensor) is stored as f32 0.0 / 1.0, in DRAM and SBUF alike
(``utils.MASK_STORAGE``). The vector engine's comparisons write exactly that, SELECT takes
any nonzero predicate, and ``cast`` i1 -> f32 is then a plain copy.

All three stream through SBUF like the pointwise ops (``pointwise.stream_chunks``): operands
broadcast by stride-0 DMA access patterns, [partitions, free] chunks, DRAM in and out.
"""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType, i32
from xdsl.ir import BlockArgument, SSAValue

from kaena.dialects import ktensor as kt

from .function import FunctionLowering
from .indexing import restrict_input_range
from .interface import OpFamily
from .pointwise import Tile, stream_chunks
from .planning import FunctionPlan
from .utils import storage_type
from .views import DramView, View

# the comparisons the vector engine lacks, as the negation of one it has
_NEGATED = {"less_equal": "greater", "greater_equal": "less"}


def lower_to_dram(family: OpFamily, fl: FunctionLowering, op) -> None:
    """``OpFamily.lower`` for an op whose result is an i1 (or any) value kept in DRAM:
    scratch of the stored type, or the function's output it is written into."""
    if fl.plan.is_fused_cast(op):
        return
    value = fl.plan.materialized(op)
    out = fl.direct.get(value)
    if out is None:
        t = value.type
        assert isinstance(t, TensorType)
        out = DramView(fl.scratch(t.get_shape(), storage_type(t.element_type)), tuple(t.get_shape()))
    fl.views[value] = out
    fl.views[op.results[0]] = out
    family.emit(fl, op, out)


class _MaskFamily(OpFamily):
    def scratch_bytes(self, op, plan: FunctionPlan, resident) -> int:
        return plan.budget.big

    def lower(self, fl: FunctionLowering, op) -> None:
        lower_to_dram(self, fl, op)

    def emit(self, fl: FunctionLowering, op, out: View) -> None:
        operands = [fl.view(v) for v in op.operands]
        if not all(isinstance(v, DramView) for v in [*operands, out]):
            raise fl.error("masks are computed between DRAM values")
        from kaena.dialects.inferentia import ap

        def chunk(tiles: list[SSAValue], o_t: SSAValue, pw: int, fw: int) -> None:
            a = ap(0, pw, 0, [[fw, 1]])
            self.compute(fl, op, [(t, a) for t in tiles], (o_t, a))

        stream_chunks(fl, operands, out, chunk)

    def compute(self, fl: FunctionLowering, op, ins: list[Tile], out: Tile) -> None:
        raise NotImplementedError


# The vector engine compares int32 values as FP32: exact within +-2**24.
EXACT_INT = 2**24


# ops that only move int32 values: a compared value holds what their data operands hold
_MOVES = {kt.ReshapeOp: (0,), kt.TransposeOp: (0,), kt.SliceOp: (0,), kt.BroadcastOp: (0,),
          kt.PadOp: (0,), kt.GatherOp: (0,), kt.SelectOp: (1, 2), kt.ConcatOp: None}


def integer_sources(value: SSAValue) -> list[BlockArgument]:
    """The function arguments whose int32 values ``value`` holds (through data movement);
    constants (checked within 2**24 at import) add none."""
    found, stack, seen = [], [value], set()
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if isinstance(v, BlockArgument):
            found.append(v)
        elif type(v.owner) in _MOVES:
            slots = _MOVES[type(v.owner)]
            stack.extend(v.owner.operands if slots is None else [v.owner.operands[i] for i in slots])
    return found


class CompareFamily(_MaskFamily):
    """``lhs kind rhs`` -> 1.0/0.0: one vector comparison per chunk (f32 or i32 operands).
    The model inputs whose int32 values are compared (directly or moved) get
    ``kaena.valid_range = [-2**24, 2**24]``: the runtime refuses values the FP32
    comparison would not tell apart."""

    op_types = (kt.CompareOp,)

    def emit(self, fl: FunctionLowering, op, out: View) -> None:
        for v in op.operands:
            if v.type.element_type == i32:
                for arg in integer_sources(v):
                    view = fl.view(arg)
                    if isinstance(view, DramView):
                        restrict_input_range(view.var, -EXACT_INT, EXACT_INT + 1)
        super().emit(fl, op, out)

    def compute(self, fl, op: kt.CompareOp, ins, out) -> None:
        (l_t, l_ap), (r_t, r_ap) = ins
        kind = op.kind.data
        if kind in _NEGATED:
            # a <= b is not (a > b), a >= b is not (a < b)
            fl.b.tensor_tensor(_NEGATED[kind], out[0], out[1], l_t, l_ap, r_t, r_ap)
            fl.b.tensor_scalar("equal", out[0], out[1], out[0], out[1], imm=0.0)
        else:
            fl.b.tensor_tensor(kind, out[0], out[1], l_t, l_ap, r_t, r_ap)


class LogicalNotFamily(_MaskFamily):
    """``not m`` = ``m == 0``: one vector comparison with an immediate."""

    op_types = (kt.LogicalNotOp,)

    def compute(self, fl, op: kt.LogicalNotOp, ins, out) -> None:
        (x_t, x_ap), = ins
        fl.b.tensor_scalar("equal", out[0], out[1], x_t, x_ap, imm=0.0)


class LogicalFamily(_MaskFamily):
    """and/or/xor of 0.0/1.0 masks: min, max, and ``(a == b) == 0`` (two comparisons)."""

    op_types = (kt.LogicalOp,)

    def compute(self, fl, op: kt.LogicalOp, ins, out) -> None:
        (l_t, l_ap), (r_t, r_ap) = ins
        kind = op.kind.data
        if kind == "xor":
            fl.b.tensor_tensor("equal", out[0], out[1], l_t, l_ap, r_t, r_ap)
            fl.b.tensor_scalar("equal", out[0], out[1], out[0], out[1], imm=0.0)
        else:
            fl.b.tensor_tensor("min" if kind == "and" else "max", out[0], out[1], l_t, l_ap, r_t, r_ap)


class SelectFamily(_MaskFamily):
    """``cond ? a : b``: on_false copied into the result tile (bypass), then SELECT
    overwrites it with on_true where the mask is nonzero (values move unconverted)."""

    op_types = (kt.SelectOp,)

    def compute(self, fl, op: kt.SelectOp, ins, out) -> None:
        (c_t, c_ap), (t_t, t_ap), (f_t, f_ap) = ins
        fl.b.tensor_scalar("bypass", out[0], out[1], f_t, f_ap)
        fl.b.select(out[0], out[1], c_t, c_ap, t_t, t_ap)
