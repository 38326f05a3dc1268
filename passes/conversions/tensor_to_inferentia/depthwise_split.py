"""A depthwise conv on the PE array and the vector engine at once, split by channel tiles
and by output rows.

On the PE array a depthwise tap is a diagonal stationary (1/64 of the array's
columns do work); the vector engine does the same tap as a multiply by a
per-partition weight and an add (``docs/isa.md``: no fused multiply-add, 3 cycles
per element). Each alone leaves the other idle, so ``ktensor-plan-conv-bands``
records ``kaena.plan.vector_rows``: the last rows of the output plane go to the
vector engine, the rest stay on the PE array, as many as ``CostModel.depthwise_split``
prices fastest, and ``kaena.plan.vector_tiles``: the last full channel tiles go
wholly to the vector engine, which costs it the same per tile whatever the tile's channel
count and needs no diagonals, while the PE array does the others (MobileNetV2's 14x14 and
7x7 depthwise convs, where the stationary loads and fixed costs make a few rows a poor
share). The vector rows and tiles read the resident input in place and write the
resident result in place, their bias and clamps on the vector engine too, so the
scalar engine drains the PE array's PSUM without waiting for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects.builtin import f32

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import SbufType, ap
from kaena.target.tiling import Budgets, cdiv

from . import decisions as d
from .dense_conv_plan import geometry
from .planning import FunctionPlan
from .utils import E

if TYPE_CHECKING:
    from .depthwise_conv import _DepthwisePe

# Activations whose bias and clamp the vector engine applies itself: (max 0, min 6) steps.
_CLAMPS = {"none": (), "relu": (("max", 0.0),), "relu6": (("max", 0.0), ("min", 6.0))}


def vector_band_rows(budget: Budgets, out_rows: int, out_cols: int) -> int:
    """Output rows per vector band: its fp32 accumulator and product tiles share ``budget.out``."""
    return max(1, min(out_rows, budget.out // (2 * 4 * out_cols)))


def scratch_bytes(budget: Budgets, out_rows: int, out_cols: int) -> int:
    """Bytes per partition of the vector rows' tiles (reserved whenever the split may happen)."""
    return 2 * 4 * vector_band_rows(budget, out_rows, out_cols) * out_cols


def splittable(op: kt.Conv2dOp, plan: FunctionPlan) -> bool:
    """Input and result resident (both engines read and write them in place) and an
    activation the vector engine can finish (none, relu, relu6)."""
    return (op.activation.data in _CLAMPS and plan.resident_pads(op.input) is not None
            and plan.resident_pads(plan.materialized(op)) is not None)


def epilogue_ops(op: kt.Conv2dOp) -> int:
    """Vector ops after the taps: the bias add and the clamps (at least one, to store)."""
    return max(1, (op.bias is not None) + len(_CLAMPS[op.activation.data]))


def choose_split(op: kt.Conv2dOp, plan: FunctionPlan, group: int) -> tuple[int, int]:
    """(vector tiles, vector rows) that ``CostModel.depthwise_split`` prices fastest: up to
    as many full channel tiles on the vector engine as stay on the PE array (a full one
    among those), and rows of the PE array's tiles (0, 0: all on the PE array; fewest
    tiles, then rows, on a tie)."""
    g = geometry(op)
    C = op.input.type.get_shape()[1]
    dt = str(op.input.type.element_type)
    vb = vector_band_rows(plan.budget, g.OH, g.OW)
    clamps = 1 if op.activation.data == "relu6" else 0  # after the scalar engine's relu
    P = plan.target.partitions
    most = max(0, min(C // P - 1, cdiv(C, P) // 2))

    def cost(k: int, r: int) -> int:
        return plan.cm.depthwise_split(C, g.KH * g.KW, g.OH, g.OW, r, dt, group=group, vector_band_rows=vb,
                                       epilogue_ops=epilogue_ops(op), clamps=clamps, vector_tiles=k).cycles

    return min(((k, r) for k in range(most + 1) for r in range(g.OH)), key=lambda kr: (cost(*kr), kr))


def plan_split(op: kt.Conv2dOp, plan: FunctionPlan) -> None:
    """Record ``kaena.plan.vector_tiles`` and ``kaena.plan.vector_rows`` on a PE-array
    depthwise conv (kept when either is already set)."""
    if (d.get_int(op, d.VECTOR_ROWS_ATTR) is not None or d.get_int(op, d.VECTOR_TILES_ATTR) is not None
            or not splittable(op, plan)):
        return
    group = d.get_int(op, d.PSUM_GROUP_ATTR) or 1
    tiles, rows = choose_split(op, plan, group)
    if tiles:
        d.set_int(op, d.VECTOR_TILES_ATTR, tiles)
    if rows:
        d.set_int(op, d.VECTOR_ROWS_ATTR, rows)


def emit_vector_rows(pe: "_DepthwisePe", n: E, ct: E, cw: int, first: int, rows: int) -> None:
    """Rows [first, first + rows) of channel tile ``ct``: per band, tap 0 a multiply, each
    further tap a multiply and an add, all in fp32, then bias and clamps into the resident
    result."""
    b, g, x, out, op = pe.b, pe.g, pe.x, pe.out, pe.op
    taps, Wx = pe.taps, pe.Wx
    vb = vector_band_rows(pe.fl.budget, rows, g.OW)
    acc = b.alloc(SbufType, pe.pc, vb * g.OW, f32, "dw_acc")
    tmp = b.alloc(SbufType, pe.pc, vb * g.OW, f32, "dw_prod") if taps > 1 else None
    steps = ([("add", pe.b_t, ap(0, cw, ct, [[1, 1]]), None)] if pe.b_t is not None else [])
    steps += [(alu, None, None, imm) for alu, imm in _CLAMPS[op.activation.data]]
    steps = steps or [("bypass", None, None, None)]
    for _, s0, nr in b.tiles(rows, vb):
        r = s0 + first
        a_ap = ap(0, cw, 0, [[nr * g.OW, 1]])
        x0 = x.base(ct, n) + (-g.pt * Wx - g.pl) + r.scaled(g.sh * Wx)
        for kh in range(g.KH):
            for kw in range(g.KW):
                tap = kh * g.KW + kw
                src = ap(0, cw, x0 + kh * g.dh * Wx + kw * g.dw, [[nr, g.sh * Wx], [g.OW, g.sw]])
                w_ap = ap(0, cw, ct.scaled(taps) + tap, [[1, 1]])
                if tap == 0:
                    b.tensor_scalar("mul", acc, a_ap, x.tile, src, pe.w_col, w_ap)
                else:
                    b.tensor_scalar("mul", tmp, a_ap, x.tile, src, pe.w_col, w_ap)
                    b.tensor_tensor("add", acc, a_ap, acc, a_ap, tmp, a_ap)
        dst_ap = ap(0, cw, out.base(ct, n) + r.scaled(out.Wp), [[nr, out.Wp], [g.OW, 1]])
        for i, (alu, scalar, scalar_ap, imm) in enumerate(steps):
            last = i == len(steps) - 1
            b.tensor_scalar(alu, out.tile if last else acc, dst_ap if last else a_ap, acc, a_ap,
                            scalar, scalar_ap, imm=imm)
