"""Dense ``ktensor.conv2d`` (and grouped ones, group by group) on the PE array.

Channels (in tiles of <= 128) are the contraction and every (kh, kw) tap is one
matmul accumulated in PSUM, the moving operand's access pattern doing the
stride and window (no im2col). With few channels the (kh, c) pairs are folded
onto the contraction partitions instead (each holds a row-shifted copy of its
channel's band), so a 7x7 first layer runs 7 matmuls of K = 7C per tile
instead of 49 of K = C. A resident input is read in place (its stored padding
is the conv's), a resident result is written by the epilogue straight into its
tile; only DRAM operands go through band tiles. The band plan (rows, buffers)
and the PSUM rotation are planned by ``ktensor-plan-conv-bands``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from xdsl.dialects.builtin import f32
from xdsl.ir import BlockArgument, SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import PsumType, SbufType, ap
from kaena.target.costmodel import CostModel
from kaena.target.description import NeuronCoreTarget
from kaena.target.tiling import Budgets, balanced, cdiv, conv_tiling, moving_chunk

from . import decisions as d
from .bands import Geom, band_plan, band_rows, bands, fill_band, load_band, prefetched_bands
from .function import FunctionLowering
from .interface import BiasUse, OpFamily, Pads
from .planning import FunctionPlan, itemsize
from .slots import Slot, slot_of, slot_row_tiles, write_slot
from .utils import E, accumulate, div_exact, ints
from .views import DramView, SbufView, View


def is_depthwise(op: kt.Conv2dOp) -> bool:
    """One input channel per group (several groups): the depthwise families lower it."""
    return op.weight.type.get_shape()[1] == 1 and op.groups.value.data > 1


def geometry(op: kt.Conv2dOp) -> Geom:
    x_shape, w_shape = op.input.type.get_shape(), op.weight.type.get_shape()
    return Geom.of(x_shape, w_shape[2:], ints(op.strides), ints(op.pads), ints(op.dilations),
                   op.results[0].type.get_shape())


def check_dtypes(op: kt.Conv2dOp, error: Callable[[str], Exception]) -> None:
    x, w = op.input.type.element_type, op.weight.type.element_type
    if x != w:
        raise error(f"input and weight have different element types ({x} and {w}); "
                    "run auto-cast so both are the same")


@dataclass(frozen=True, eq=False)
class PeConvTiling:
    """The tiles of one group of a PE convolution: ``Pc`` contraction rows per channel tile
    (``CT`` tiles: ``CTf`` full, ``Cr`` rows left), ``otw`` outputs per PSUM tile, ``Ob`` per
    weight block, ``rows_mt`` x ``cols`` output positions per moving tile."""

    target: NeuronCoreTarget
    cm: CostModel
    budget: Budgets
    g: Geom
    Cg: int
    Og: int
    isz: int
    osz: int
    x_res: bool
    o_res: bool
    dtype: str
    fold: bool
    Pc: int
    otw: int
    Ob: int
    CT: int
    CTf: int
    Cr: int
    rows_k: int
    taps_s: int
    rows_mt: int
    cols: int
    stage_isz: int = 0  # a fused input cast: bytes per element of the staging tile its DMAs fill
    shared: bool = False  # kaena.plan.shared_rows: each input row staged once per row residue

    @property
    def residues(self) -> int:
        """Staged row groups: kernel row kh reads input rows of residue kh mod sh (shared rows)."""
        return min(self.g.sh, self.g.KH) if self.shared else self.g.KH

    @property
    def qmax(self) -> int:
        """Band rows by which the last kernel row of a residue is shifted (shared rows)."""
        return (self.g.KH - 1) // self.g.sh if self.shared else 0

    @property
    def stage_parts(self) -> int:
        """Partitions of a staging tile: (kh, c) folded, or one aligned group per residue."""
        return (self.residues - 1) * self.target.partition_alignment + self.Cg if self.shared else self.rows_k

    def band_elems(self, rb: int) -> int:
        g = self.g
        return rb * g.Wp if self.fold else self.CT * g.rows_in(rb) * g.Wp

    def stage_elems(self, rb: int) -> int:
        return (rb + self.qmax) * self.g.Wp if self.shared else self.band_elems(rb)

    def fits(self, rb: int, nb: int = 1) -> bool:
        # a fused cast double-buffers its staging tiles and rounds into one band tile
        x_bytes = (nb * self.stage_isz * self.stage_elems(rb) + self.isz * self.band_elems(rb)
                   if self.stage_isz else nb * self.isz * self.band_elems(rb))
        return ((self.x_res or x_bytes <= self.budget.mid)
                and (self.o_res or nb * rb * self.g.OW * self.osz <= self.budget.out))

    def _pe_tile(self, rmt: int) -> int:
        cm = self.cm
        return self.CT * self.taps_s * (cm.stationary_load(self.dtype) + cm.matmul(rmt * self.cols, self.dtype))

    def psum_buffers(self, rmt: int, trips: int) -> int:
        """PSUM buffers: the count the cost model prices fastest for the (PE tile,
        scalar-engine drain) pipeline; one bank each, one kept for the neighbours."""
        return self.cm.buffer_count([self._pe_tile(rmt), self.cm.activation(rmt * self.cols)], trips,
                                    self.target.psum_banks - 1)

    def band_cost(self, rb: int, nb: int) -> int:
        """Modelled cycles of one weight block's band loop (input DMAs, PE + drain, result DMAs)."""
        cm, g, isz = self.cm, self.g, self.isz
        rmt = min(self.rows_mt, rb)
        chunk = self._pe_tile(rmt)
        loads, computes, stores = [], [], []
        for r0 in range(0, g.OH, rb):
            nr = min(rb, g.OH - r0)
            if self.shared:  # a DMA per row residue, the rows its kernel rows share
                loads.append(sum(cm.dma(self.Cg * (nr + (g.KH - 1 - m) // g.sh) * g.W * self.stage_isz)
                                 for m in range(self.residues)))
            elif self.fold:
                loads.append(g.KH * cm.dma(self.Cg * nr * g.W * (self.stage_isz or isz)))
            else:
                loads.append(sum(cm.dma(c * g.rows_in(nr) * g.W * isz)
                                 for c in (self.CTf * self.Pc, self.Cr) if c))
            trips = cdiv(self.Ob, self.otw) * cdiv(nr, rmt) * cdiv(g.OW, self.cols)
            # shared rows: the kernel rows shifted by q >= 1 band rows take a rounding of their own
            casts = self.qmax * cm.activation(nr * g.Wp)
            computes.append(casts + cm.pipeline([chunk, cm.activation(rmt * self.cols)], trips,
                                                self.psum_buffers(rmt, trips)))
            stores.append(0 if self.o_res else sum(cm.dma(sz * nr * g.OW * self.osz) * k
                                                   for sz, k in ((self.otw, self.Ob // self.otw),
                                                                 (self.Ob % self.otw, 1)) if sz and k))
        return cm.band_loop(loads, computes, stores, nb)


def pe_conv_tiling(plan: FunctionPlan, g: Geom, Cg: int, Og: int, isz: int, osz: int, x_pc: int | None,
                   o_pc: int | None, dtype: str, error: Callable[[str], Exception],
                   stage_isz: int = 0, shared: bool = False) -> PeConvTiling:
    """The tiling of one group; ``x_pc``/``o_pc``: channels per partition tile of a resident
    input/result (None: in DRAM); ``stage_isz``: the itemsize of a fused input cast's
    source (0: none); ``shared``: kaena.plan.shared_rows (``can_share_rows``). A kernel
    whose weights cannot fit is an error."""
    t = plan.target
    x_res, o_res = x_pc is not None, o_pc is not None
    KH, KW = g.KH, g.KW
    fold = not x_res and KH > 1 and Cg * KH <= t.pe_rows
    Pc, otw, Ob = conv_tiling(t, Cg, Og, KH, KW, isz, fold, x_pc, o_pc)
    if fold and shared:  # kernel row kh on partitions [kh * alignment, + Cg), zeros between
        CT, CTf, Cr, rows_k, taps_s = 1, 1, 0, (KH - 1) * t.partition_alignment + Cg, KW
    elif fold:
        CT, CTf, Cr, rows_k, taps_s = 1, 1, 0, Cg * KH, KW
    else:
        CT, CTf, Cr, rows_k, taps_s = cdiv(Cg, Pc), Cg // Pc, Cg % Pc, min(Cg, Pc), KH * KW
    if CT * otw * taps_s * isz > plan.budget.big:
        raise error(f"a {KH}x{KW} kernel over {Cg} channels does not fit in SBUF tiles")
    if o_res and Ob < Og:
        Ob = (Ob // o_pc) * o_pc  # weight blocks of whole resident channel tiles
        assert Ob > 0
    rows_mt, cols = moving_chunk(t, g.OH, g.OW)
    return PeConvTiling(t, plan.cm, plan.budget, g, Cg, Og, isz, osz, x_res, o_res, dtype, fold, Pc, otw,
                        Ob, CT, CTf, Cr, rows_k, taps_s, rows_mt, cols, stage_isz, fold and shared)


def can_share_rows(target: NeuronCoreTarget, g: Geom, Cg: int, staged: bool) -> bool:
    """Whether a folded conv whose bands are staged (a fused input cast) can stage each input
    row once: a stride below the kernel height (kernel rows kh and kh + sh read the same rows,
    one band row apart), no dilation, and one partition group per kernel row at aligned
    starts within the PE rows (the roundings copy a residue's rows to each of its kernel rows'
    groups; an engine's partition ranges start at multiples of the alignment)."""
    return (staged and g.dh == 1 and 1 < g.KH and g.sh < g.KH and Cg * g.KH <= target.pe_rows
            and Cg <= target.partition_alignment
            and (g.KH - 1) * target.partition_alignment + Cg <= target.pe_rows)


def planned_tiling(op: kt.Conv2dOp, plan: FunctionPlan, error: Callable[[str], Exception],
                   shared: bool | None = None) -> PeConvTiling:
    """The tiling of ``op``'s groups from the op and the residency plan (``shared``: the
    kaena.plan.shared_rows to price, else the one recorded)."""
    O, Cg = op.weight.type.get_shape()[:2]
    mat = plan.materialized(op)
    x_res = plan.resident_pads(op.input) is not None
    o_res = plan.resident_pads(mat) is not None
    cast = plan.fused_input(op)
    return pe_conv_tiling(plan, geometry(op), Cg, O // op.groups.value.data,
                          itemsize(plan.stored_type(op.input)), itemsize(plan.stored_type(mat)),
                          plan.pc(op.input.type.get_shape()[1]) if x_res else None,
                          plan.pc(O) if o_res else None, str(op.input.type.element_type), error,
                          itemsize(cast.input.type.element_type) if cast is not None else 0,
                          d.has_flag(op, d.SHARED_ROWS_ATTR) if shared is None else shared)


def shares_rows(op: kt.Conv2dOp, plan: FunctionPlan) -> bool:
    """Whether ``op`` may take kaena.plan.shared_rows: a dense conv reading DRAM that does
    its input cast (kaena.plan.fuse_input) and whose geometry allows it (``can_share_rows``)."""
    O, Cg = op.weight.type.get_shape()[:2]
    return (plan.fused_input(op) is not None and op.groups.value.data == 1
            and plan.resident_pads(op.input) is None
            and can_share_rows(plan.target, geometry(op), Cg, True))


def plan_shared_rows(op: kt.Conv2dOp, plan: FunctionPlan) -> None:
    """Record kaena.plan.shared_rows when ``CostModel.band_loop`` prices the conv's best band
    plan with each input row staged once (a DMA per row residue, an extra rounding per
    shifted kernel row) below its best band plan with a copy per kernel row. A recorded
    flag on a conv that cannot share its rows is an error."""
    if d.has_flag(op, d.SHARED_ROWS_ATTR):
        if not shares_rows(op, plan):
            raise plan.error(op, f"{d.SHARED_ROWS_ATTR} needs a folded conv reading DRAM that does its input "
                                 "cast, with a stride below its kernel height, no dilation and aligned "
                                 "partition groups for its kernel rows")
        return
    if not shares_rows(op, plan) or d.get_int(op, d.BAND_ROWS_ATTR) is not None:
        return
    error = functools.partial(plan.error, op)
    costs = []
    for shared in (False, True):
        tl = planned_tiling(op, plan, error, shared)
        rb, nb = band_plan(tl.g, tl.rows_mt, tl.fits, tl.band_cost, error)
        costs.append(tl.band_cost(rb, nb))
    if costs[1] < costs[0]:
        d.set_flag(op, d.SHARED_ROWS_ATTR)


def plan_bands(op: kt.Conv2dOp, plan: FunctionPlan) -> tuple[int, int, int]:
    """(band rows, band buffers, PSUM buffers): a DRAM input takes the band height and
    buffer count ``CostModel.band_loop`` prices lowest; a resident one the tallest band
    whose result tiles fit."""
    error = functools.partial(plan.error, op)
    check_dtypes(op, error)
    tl = planned_tiling(op, plan, error)
    slot = slot_of(plan, op)
    if tl.x_res and slot is not None and slot.rows:
        tallest = band_rows(tl.g, tl.rows_mt, tl.fits, error)
        heights = {min(tallest, k * tl.rows_mt) for k in range(1, cdiv(tallest, tl.rows_mt) + 1)}
        rb, nxb = min(sorted(heights, reverse=True), key=lambda r: _slot_band_cost(tl, r, slot.rows)), 1
    elif tl.x_res and slot is not None:  # result buffers alternate: a band's store overlaps the next
        rb, nxb = band_plan(tl.g, tl.rows_mt, tl.fits, lambda r, nb: _slot_band_cost(tl, r, None, nb), error)
    elif tl.x_res:
        rb, nxb = band_rows(tl.g, tl.rows_mt, tl.fits, error), 1
    else:
        rb, nxb = band_plan(tl.g, tl.rows_mt, tl.fits, tl.band_cost, error)
    rows_mt = min(tl.rows_mt, rb)
    return rb, nxb, tl.psum_buffers(rows_mt, cdiv(tl.Og, tl.otw) * cdiv(tl.g.OH, rows_mt))


def _slot_band_cost(tl: PeConvTiling, rb: int, L: int | None, buffers: int = 2) -> int:
    """``CostModel.band_loop`` of a conv over a resident input writing its slot: per band
    the PE tiles and drain, then (softmax rows of ``L``) per PSUM tile the transposes of
    each block of pixels and the softmax over them, its stores overlapping the next band's
    compute (a set of row tiles per PSUM slot); else the stores of ``buffers`` result tiles."""
    cm, g, P = tl.cm, tl.g, tl.target.partitions
    rmt = min(tl.rows_mt, rb)
    computes, stores = [], []
    for r0 in range(0, g.OH, rb):
        nr = min(rb, g.OH - r0)
        trips = cdiv(tl.Ob, tl.otw) * cdiv(nr, rmt) * cdiv(g.OW, tl.cols)
        pe = cm.pipeline([tl._pe_tile(rmt), cm.activation(rmt * tl.cols)], trips, tl.psum_buffers(rmt, trips))
        full, rem = divmod(nr * g.OW, P)
        soft = store = 0
        if L is None:
            full, rem, store = 0, 0, cm.dma(tl.otw * nr * g.OW * tl.osz)
        for k, pp in [(full, P)] * bool(full) + [(1, rem)] * bool(rem):
            n, two = k * tl.otw, 2 if k * tl.otw > L else 1
            soft += (k * cm.vector(tl.otw) + cm.vector(n) + cm.vector(n, two) + cm.activation(n) + cm.vector(n)
                     + cm.activation(n // L) + cm.vector(n, two))
            store += cm.dma(pp * n * tl.osz)
        tiles = cdiv(tl.Og, tl.otw)
        computes.append(pe + tiles * soft)
        stores.append(tiles * store)
    return cm.band_loop([0] * len(computes), computes, stores, buffers)


def _band_loop_cycles(op: kt.Conv2dOp, plan: FunctionPlan, stage_isz: int) -> int:
    """``CostModel.band_loop``'s cycles of a folded conv reading DRAM, at its best band plan,
    its bands loaded in the operand dtype or (``stage_isz``) staged in a wider one."""
    error = functools.partial(plan.error, op)
    O, Cg = op.weight.type.get_shape()[:2]
    tl = pe_conv_tiling(plan, geometry(op), Cg, O, itemsize(op.input.type.element_type),
                        itemsize(op.results[0].type.element_type), None, None,
                        str(op.input.type.element_type), error, stage_isz)
    rb, nb = band_plan(tl.g, tl.rows_mt, tl.fits, tl.band_cost, error)
    return op.input.type.get_shape()[0] * cdiv(O, tl.Ob) * tl.band_cost(rb, nb)


class ConvFamily(OpFamily):
    """What every ``ktensor.conv2d`` family shares: the epilogue's activation and the padding."""

    op_types = (kt.Conv2dOp,)

    def fuses_cast(self, op: kt.Conv2dOp) -> bool:
        return op.activation.data in ("none", "relu", "relu6")

    def nonnegative(self, op: kt.Conv2dOp, plan: FunctionPlan) -> bool:
        return op.activation.data in ("relu", "relu6")

    def resident_padding(self, op: kt.Conv2dOp) -> Pads:
        p = ints(op.pads)
        return (p[0], p[1], p[2], p[3])


class DenseConvFamily(ConvFamily):
    def accepts(self, op: kt.Conv2dOp, plan: FunctionPlan) -> bool:
        return not is_depthwise(op)

    def can_write_resident(self, op: kt.Conv2dOp, plan: FunctionPlan) -> bool:
        if op.groups.value.data != 1:
            return False
        O, Cg, KH, KW = op.weight.type.get_shape()
        pco = plan.pc(O)
        isz = itemsize(op.input.type.element_type)
        _, otw, Ob = conv_tiling(plan.target, Cg, O, KH, KW, isz, False, pco=pco)
        return ((pco % otw == 0 or O <= pco) and (otw == pco or otw % plan.target.partition_alignment == 0)
                and (Ob == O or Ob >= pco))

    def can_read_resident(self, op: kt.Conv2dOp, value: SSAValue, plan: FunctionPlan) -> bool:
        return op.input is value and op.weight is not value and op.bias is not value \
            and op.groups.value.data == 1

    def fuses_input(self, op: kt.Conv2dOp, plan: FunctionPlan) -> bool:
        """A narrowing cast of a model input feeding a folded conv (the first layer): the
        (kh, c) bands are loaded from the FP32 input and rounded on the vector engine,
        when the cost model prices those wider loads below the cast's round trip through
        DRAM plus the narrow loads (a 3x3 stride-2 stem: yes; a 7x7 one: no)."""
        cast = op.input.owner
        if not (isinstance(cast, kt.CastOp) and isinstance(cast.input, BlockArgument)
                and op.groups.value.data == 1):
            return False
        N, C, H, W = cast.input.type.get_shape()
        g = geometry(op)
        if not (g.KH > 1 and C * g.KH <= plan.target.pe_rows):
            return False
        wide, narrow = itemsize(cast.input.type.element_type), itemsize(cast.result.type.element_type)
        if wide <= narrow:
            return False
        cm, plane = plan.cm, C * H * W
        cast_trip = N * (cm.dma(plane * wide) + cm.dma(plane * narrow))
        return _band_loop_cycles(op, plan, wide) < cast_trip + _band_loop_cycles(op, plan, 0)

    def writes_slot(self, op: kt.Conv2dOp, plan: FunctionPlan, slot: Slot) -> bool:
        """A DRAM result (no fused cast, no epilogue) whose PSUM tiles hold whole softmax rows
        (channel-contiguous, pixel-major: NHWC) when the slot's consumer is a softmax."""
        if op.groups.value.data != 1 or plan.fused_cast(op) is not None or d.EPILOGUE_ATTR in op.attributes:
            return False
        if slot.rows is None:
            return True
        O, Cg, KH, KW = op.weight.type.get_shape()
        W = op.results[0].type.get_shape()[3]
        _, otw, _ = conv_tiling(plan.target, Cg, O, KH, KW, itemsize(op.input.type.element_type), False)
        return slot.strides[1:] == (1, W * O, O) and otw % slot.rows == 0 and O % otw == 0

    def lower(self, fl: FunctionLowering, op: kt.Conv2dOp) -> None:
        slot = slot_of(fl.plan, op)
        if slot is None:
            super().lower(fl, op)
            return
        dest = fl.views.get(slot.value)
        if dest is None:
            dest = fl.destination(slot.value)
            fl.views[slot.value] = dest
        assert isinstance(dest, DramView), "a concat slot lives in DRAM"
        fl.views[op.results[0]] = DramView(dest.var, tuple(op.results[0].type.get_shape()))
        self.emit(fl, op, fl.views[op.results[0]], slot)

    def scratch_bytes(self, op: kt.Conv2dOp, plan: FunctionPlan, resident: set[SSAValue]) -> int:
        slot = slot_of(plan, op)
        if slot is not None and slot.rows is not None:  # the transposed rows, their exp, max and sum
            # two sets (consecutive PSUM tiles alternate), each at most otw / partitions of the
            # result band's bytes twice over (otw <= 64)
            return self._scratch_bytes(op, plan, resident) + 2 * plan.budget.out
        return self._scratch_bytes(op, plan, resident)

    def _scratch_bytes(self, op: kt.Conv2dOp, plan: FunctionPlan, resident: set[SSAValue]) -> int:
        O, Cg, KH, KW = op.weight.type.get_shape()
        t, budget = plan.target, plan.budget
        x_res, o_res = op.input in resident, plan.materialized(op) in resident
        isz = itemsize(op.input.type.element_type)
        fold = not x_res and KH > 1 and Cg * KH <= t.pe_rows
        pc = plan.pc(op.input.type.get_shape()[1]) if x_res else None
        Pc, otw, Ob = conv_tiling(t, Cg, O // op.groups.value.data, KH, KW, isz, fold, pc,
                                  plan.pc(O) if o_res else None)
        w = (1 if fold else cdiv(Cg, Pc)) * Ob * (KW if fold else KH * KW) * isz
        return w + 4 * cdiv(O, otw) + (0 if x_res else budget.mid) + (0 if o_res else budget.out)

    def bias_uses(self, op: kt.Conv2dOp, plan: FunctionPlan) -> list[BiasUse]:
        if op.bias is None or not isinstance(op.bias.owner, kt.WeightOp):
            return []
        isz = itemsize(op.bias.type.element_type)
        O = op.weight.type.get_shape()[0]
        groups = op.groups.value.data
        Og = O // groups
        otw = balanced(Og, plan.target.pe_columns)
        return [(Og * isz, 1 + (Og % otw > 0), cdiv(Og, otw), isz)] * groups

    def bias_weight(self, op: kt.Conv2dOp) -> str | None:
        v = op.bias
        while v is not None and isinstance(v.owner, kt.ReshapeOp):
            v = v.owner.input
        return v.owner.weight_name.data if v is not None and isinstance(v.owner, kt.WeightOp) else None

    def band_plan(self, op: kt.Conv2dOp, plan: FunctionPlan) -> tuple[int, int, int]:
        return plan_bands(op, plan)

    def emit(self, fl: FunctionLowering, op: kt.Conv2dOp, out: View, slot: Slot | None = None) -> None:
        check_dtypes(op, fl.error)
        cast = fl.plan.fused_input(op)  # if any, the model input, rounded on the way into the bands
        x, w = fl.view(op.input if cast is None else cast.input), fl.view(op.weight)
        bias = fl.view(op.bias) if op.bias is not None else None
        O, Cg = w.shape[:2]
        groups = op.groups.value.data
        Og = O // groups
        for gi in range(groups):
            _DenseConv(fl, op, x, w, bias, out, gi * Cg, Cg, gi * Og, Og, slot).emit()


class _DenseConv:
    """Channels [cb, cb + Cg) -> outputs [obase, obase + Og) of one conv on the PE array."""

    def __init__(self, fl: FunctionLowering, op: kt.Conv2dOp, x: View, w: DramView, bias: DramView | None,
                 out: View, cb: int, Cg: int, obase: int, Og: int, slot: Slot | None = None):
        self.fl, self.b, self.op, self.slot = fl, fl.b, op, slot
        self.x, self.w, self.bias, self.out = x, w, bias, out
        self.cb, self.Cg, self.obase, self.Og = cb, Cg, obase, Og
        self.g = g = geometry(op)
        self.x_res, self.o_res = isinstance(x, SbufView), isinstance(out, SbufView)
        self.x_type = op.input.type.element_type  # the operand dtype (a fused cast's result)
        self.staged = self.x_type != x.element_type
        self.tl = tl = pe_conv_tiling(fl.plan, g, Cg, Og, itemsize(self.x_type), out.itemsize,
                                      x.pc if self.x_res else None, out.pc if self.o_res else None,
                                      str(self.x_type), fl.error, x.itemsize if self.staged else 0,
                                      self.staged and d.has_flag(op, d.SHARED_ROWS_ATTR))
        self.rb = d.get_int(op, d.BAND_ROWS_ATTR)
        self.nxb = d.get_int(op, d.BAND_BUFFERS_ATTR)
        nps = d.get_int(op, d.PSUM_BUFFERS_ATTR)
        if None in (self.rb, self.nxb, nps):
            raise fl.error(f"it has no band plan ({d.BAND_ROWS_ATTR}, {d.BAND_BUFFERS_ATTR}, "
                           f"{d.PSUM_BUFFERS_ATTR}): run ktensor-plan-conv-bands after changing the IR")
        self.rows_mt = min(tl.rows_mt, self.rb)
        self.taps = g.KH * g.KW
        self._alloc_tiles(nps)

    def _alloc_tiles(self, nps: int) -> None:
        b, tl, x, out = self.b, self.tl, self.x, self.out
        if self.x_res:
            self.x_ts, self.bp, self.Wx = [x.tile], x.ct_stride, x.Wp
        else:
            self.bp, self.Wx = self.g.rows_in(self.rb) * self.g.Wp, self.g.Wp  # one channel tile's band
            self.x_ts = [b.alloc(SbufType, tl.rows_k, tl.band_elems(self.rb), self.x_type, "x_t")
                         for _ in range(1 if self.staged else self.nxb)]
            # a fused cast's bands arrive in the input dtype (the buffers that prefetch), then
            # the vector engine rounds each into the one band tile once the previous band is done
            self.stages = [b.alloc(SbufType, tl.stage_parts, tl.stage_elems(self.rb), x.element_type, "x_stage")
                           for _ in range(self.nxb)] if self.staged else None
            self.x_ts *= self.nxb if self.staged else 1
        self.w_t = b.alloc(SbufType, tl.rows_k, tl.CT * tl.Ob * tl.taps_s, self.w.element_type, "w_t")
        if tl.shared:
            # the partitions between the kernel rows' groups contract zero weights with zeros:
            # filled once (a staging tile's too when no padding fill will cover it)
            g = self.g
            tiles = [self.w_t, self.x_ts[0]]
            if not (g.pt or g.pb or g.pl or g.pr):
                tiles += self.stages
            for t in tiles:
                b.memset(t, ap(0, t.type.partitions, 0, [[t.type.free_elements, 1]]), 0.0, hoisted=True)
        self.pss = [b.alloc(PsumType, tl.otw, self.rows_mt * tl.cols, f32, "ps") for _ in range(min(nps, 2))]
        self.o_ts = [None] * self.nxb if self.o_res else [
            b.alloc(SbufType, tl.otw, self.rb * self.g.OW, out.element_type, "o_t") for _ in range(self.nxb)]
        if self.slot is not None and self.slot.rows is not None:
            # one set per PSUM slot: a tile's softmax runs while the one before it is stored
            self.rows_ts = [slot_row_tiles(b, self.slot, self.fl.target.partitions, tl.otw, self.rb * self.g.OW,
                                           out.element_type) for _ in range(min(2, len(self.pss)))]
        bias = self.bias
        table = self.fl.bias_tables.columns(self.op, bias, self.obase, self.Og, tl.otw) if bias else None
        self.from_table = table is not None
        if table:
            self.b_t, self.bcol = table
        else:
            self.b_t = b.alloc(SbufType, tl.otw, cdiv(self.Og, tl.otw), bias.element_type, "b_t") if bias else None
            self.bcol = 0

    def emit(self) -> None:
        b, tl, g = self.b, self.tl, self.g
        single_block = tl.Ob == self.Og
        # weights first: the DMA queue is in order, so they stream ahead of the work
        if single_block:
            self.load_weights(E(0), self.Og)
        if self.bias and not self.from_table:
            self.load_bias()
        N = self.x.shape[0]
        for n, _, _ in b.tiles(N, 1):
            for _, o0, ob in b.tiles(self.Og, tl.Ob):
                if not single_block:
                    self.load_weights(o0, ob)
                if self.x_res:
                    for _, r0, nr, buf in b.pingpong(g.OH, self.rb, self.nxb):
                        self.compute_band(n, o0, ob, r0, nr, buf)
                elif self.nxb == 1:
                    first = True
                    for r0, nr, clean in bands(b, g, self.rb):
                        self.load_input(n, r0, nr, clean, first)
                        first = False
                        self.compute_band(n, o0, ob, r0, nr, 0)
                else:
                    for r0, nr, buf in prefetched_bands(b, g, self.rb, functools.partial(self.load_input, n)):
                        self.compute_band(n, o0, ob, r0, nr, buf)

    def load_weights(self, o0: E, ob: int) -> None:
        b, tl, w, Cg, taps = self.b, self.tl, self.w, self.Cg, self.taps
        KH, KW = self.g.KH, self.g.KW
        src0 = o0.scaled(Cg * taps) + self.obase * Cg * taps
        if tl.fold:  # partition kh*Cg + c holds w[o, c, kh, :] as [o][kw] (shared rows: kh*alignment + c)
            step = self.fl.target.partition_alignment if tl.shared else Cg
            for kh in range(KH):
                b.dma(self.w_t, ap(kh * step, Cg, 0, [[ob * KW, 1]]),
                      w.var, ap(0, Cg, src0 + kh * KW, [[ob, Cg * taps], [KW, 1]], taps))
            return
        # partition c % Pc holds w[o, c, :, :] as [ct][o][tap]
        Pc, CTf, Cr = tl.Pc, tl.CTf, tl.Cr
        if CTf:
            b.dma(self.w_t, ap(0, Pc, 0, [[CTf * ob * taps, 1]]),
                  w.var, ap(0, Pc, src0, [[CTf, Pc * taps], [ob, Cg * taps], [taps, 1]], taps))
        if Cr:
            b.dma(self.w_t, ap(0, Cr, CTf * ob * taps, [[ob * taps, 1]]),
                  w.var, ap(0, Cr, src0 + CTf * Pc * taps, [[ob, Cg * taps], [taps, 1]], taps))

    def load_bias(self) -> None:
        b, otw, obase, bias = self.b, self.tl.otw, self.obase, self.bias
        bf, br = divmod(self.Og, otw)
        if bf:
            b.dma(self.b_t, ap(0, otw, 0, [[bf, 1]]), bias.var, ap(0, otw, obase, [[bf, otw]], 1))
        if br:
            b.dma(self.b_t, ap(0, br, bf, [[1, 1]]), bias.var, ap(0, br, obase + bf * otw, [[1, 1]], 1))

    def load_input(self, n: E, r0: E, nr: int, clean: bool, first: bool, slot: int = 0) -> None:
        if self.x_res:
            return
        b, g, tl, x = self.b, self.g, self.tl, self.x
        _, C, H, W = x.shape
        x_t = self.x_ts[slot]
        plane = n.scaled(C * H * W) + self.cb * H * W
        if not tl.fold:
            if tl.CTf:
                load_band(b, g, x, x_t, tl.Pc, plane, r0, nr, clean, 0.0, first, (tl.CTf, self.bp, tl.Pc * H * W))
            if tl.Cr:
                load_band(b, g, x, x_t, tl.Cr, plane + tl.CTf * tl.Pc * H * W, r0, nr, clean, 0.0,
                          first and not tl.CTf, dst_off=tl.CTf * self.bp)
            return
        x_dst = self.stages[slot] if self.staged else x_t
        fill_band(b, g, x_dst, tl.stage_parts, nr, clean, 0.0, first)
        Cg = self.Cg
        if tl.shared:
            self._load_residues(x_dst, plane, r0, nr, clean)
            return
        for kh in range(g.KH):
            # x_t row j of partitions (kh, c) = padded input row (r0 + j)*sh + kh*dh
            self._stage_rows(x_dst, kh * Cg, plane, r0, kh * g.dh - g.pt, nr, clean)

    def _stage_rows(self, dst: SSAValue, part0: int, plane: E, r0: E, shift: int, n_rows: int,
                    clean: bool) -> None:
        """One DMA: row j of ``dst``'s partitions [part0, + Cg) = padded input row
        (r0 + j) * sh + shift, for the rows j < n_rows inside the input (all of them when
        ``clean``)."""
        b, g, x, Cg = self.b, self.g, self.x, self.Cg
        H, W = x.shape[2], x.shape[3]
        if clean:
            j_lo, j_hi = 0, n_rows
        else:
            top = r0.const * g.sh + shift
            j_lo = max(0, cdiv(-top, g.sh))
            j_hi = min(n_rows, (g.H - 1 - top) // g.sh + 1) if g.H - 1 - top >= 0 else 0
        if j_hi <= j_lo:
            return
        row0 = (r0 + j_lo).scaled(g.sh) + shift
        b.dma(dst, ap(part0, Cg, j_lo * g.Wp + g.pl, [[j_hi - j_lo, g.Wp], [W, 1]]),
              x.var, ap(0, Cg, plane + row0.scaled(W), [[j_hi - j_lo, g.sh * W], [W, 1]], H * W))

    def _load_residues(self, stage: SSAValue, plane: E, r0: E, nr: int, clean: bool) -> None:
        """Shared rows: staging group m (partitions [m * alignment, + Cg)) row j holds padded
        input row (r0 + j) * sh + m - pt, for the nr + (KH - 1 - m) // sh rows its kernel
        rows kh = q * sh + m read (kh at band row j reads group row j + q): one DMA each."""
        g = self.g
        align = self.fl.target.partition_alignment
        for m in range(self.tl.residues):
            self._stage_rows(stage, m * align, plane, r0, m - g.pt, nr + (g.KH - 1 - m) // g.sh, clean)

    def _round_shared(self, x_t: SSAValue, stage: SSAValue, nr: int) -> None:
        """Shared rows: round staging group m into the band groups of kernel rows q * sh + m,
        read q rows down; the kernel rows with q = 0 are the staging layout itself (one vector
        op), each later q one op more, alternating the scalar and the vector engine."""
        b, g, tl, Cg = self.b, self.g, self.tl, self.Cg
        align = self.fl.target.partition_alignment
        n = nr * g.Wp
        for q in range(tl.qmax + 1):
            groups = min(g.sh, g.KH - q * g.sh)
            parts = (groups - 1) * align + Cg
            dst = ap(q * g.sh * align, parts, 0, [[n, 1]])
            src = ap(0, parts, q * g.Wp, [[n, 1]])
            if q % 2:
                b.activation("identity", x_t, dst, stage, src)
            else:
                b.tensor_scalar("bypass", x_t, dst, stage, src)

    def out_tiles(self, o0: E, ob: int):
        """(first channel in the block, channels, SBUF partition, channel tile, PSUM
        slot) per PSUM tile; consecutive tiles alternate slots."""
        b, otw, npss = self.b, self.tl.otw, len(self.pss)
        if not self.o_res:
            for _, j0, ow_, slot in b.pingpong(ob, otw, npss):
                yield j0, ow_, 0, None, slot
            return
        pc = self.out.pc
        per = cdiv(pc, otw)
        for _, jc0, jw, slot in b.pingpong(ob, pc, npss if per % 2 else 1):
            cto = div_exact(o0 + jc0 + self.obase, pc)
            for h in range(cdiv(jw, otw)):
                yield jc0 + h * otw, min(otw, jw - h * otw), h * otw, cto, (slot + h) % npss

    def compute_band(self, n: E, o0: E, ob: int, r0: E, nr: int, buf: int) -> None:
        b, g, tl, x, out = self.b, self.g, self.tl, self.x, self.out
        x_t, o_t = self.x_ts[buf % len(self.x_ts)], self.o_ts[buf]
        if self.staged and tl.shared:
            self._round_shared(x_t, self.stages[buf], nr)
        elif self.staged:  # round the staged band into the band tile (the previous band is done with it)
            band = ap(0, tl.rows_k, 0, [[nr * g.Wp, 1]])
            b.tensor_scalar("bypass", x_t, band, self.stages[buf], band)
        # moving operand: band tile, or the resident plane (its padding offset)
        xb = (n.scaled(x.plane) + (x.pads[0] - g.pt) * self.Wx + (x.pads[1] - g.pl)
              + r0.scaled(g.sh * self.Wx)) if self.x_res else E(0)
        for j0, ow_, part, cto, slot in self.out_tiles(o0, ob):
            b_ap = ap(0, ow_, div_exact(o0 + j0, tl.otw) + self.bcol, [[1, 1]]) if self.b_t else None
            for _, rr, nrr, rslot in b.pingpong(nr, self.rows_mt, len(self.pss)):
                ps = self.pss[(slot + rslot) % len(self.pss)]
                for _, c0, nc in b.tiles(g.OW, tl.cols):
                    self.tap_matmuls(ps, x_t, xb, j0, ow_, ob, rr, nrr, c0, nc)
                    if self.o_res:
                        dst, dst_ap = out.tile, ap(part, ow_, out.base(cto, n) + (r0 + rr).scaled(out.Wp) + c0,
                                                   [[nrr, out.Wp], [nc, 1]])
                    else:
                        dst, dst_ap = o_t, ap(0, ow_, rr.scaled(g.OW) + c0, [[nrr, g.OW], [nc, 1]])
                    b.act(self.op.activation.data, dst, dst_ap, ps, ap(0, ow_, 0, [[nrr * nc, 1]]),
                          self.b_t, b_ap)
            if self.slot is not None:
                write_slot(b, self.slot, out.var, o_t, ow_, o0 + j0 + self.obase, n, r0, nr, g.OW,
                           self.fl.target.partitions, self.rows_ts[slot % len(self.rows_ts)] if self.slot.rows else None)
            elif not self.o_res:
                O = out.shape[1]
                dst = (n.scaled(O) + o0 + j0 + self.obase).scaled(g.OH * g.OW) + r0.scaled(g.OW)
                b.dma(out.var, ap(0, ow_, dst, [[nr * g.OW, 1]], g.OH * g.OW), o_t, ap(0, ow_, 0, [[nr * g.OW, 1]]))

    def tap_matmuls(self, ps: SSAValue, x_t: SSAValue, xb: E, j0: E, ow_: int, ob: int, rr: E, nrr: int,
                    c0: E, nc: int) -> None:
        """One PSUM tile: a matmul per (channel tile, tap), accumulated."""
        b, g, tl, taps = self.b, self.g, self.tl, self.taps
        acc_ap = ap(0, ow_, 0, [[nrr * nc, 1]])
        if tl.fold:
            with b.loop(g.KW) as kw:
                b.load_stationary(self.w_t, ap(0, tl.rows_k, j0.scaled(g.KW) + kw, [[ow_, g.KW]]))
                b.matmul(ps, acc_ap, x_t, ap(0, tl.rows_k, rr.scaled(g.Wp) + c0.scaled(g.sw) + kw.scaled(g.dw),
                                            [[nrr, g.Wp], [nc, g.sw]]), accumulate=accumulate(kw))
            return
        Wx = self.Wx
        for ct, _, cw in b.tiles(self.Cg, tl.Pc):
            with b.loop(g.KH) as kh, b.loop(g.KW) as kw:
                tap = kh.scaled(g.KW) + kw
                b.load_stationary(self.w_t, ap(0, cw, ct.scaled(ob * taps) + j0.scaled(taps) + tap, [[ow_, taps]]))
                mv = (xb + ct.scaled(self.bp) + (rr.scaled(g.sh) + kh.scaled(g.dh)).scaled(Wx)
                      + c0.scaled(g.sw) + kw.scaled(g.dw))
                b.matmul(ps, acc_ap, x_t, ap(0, cw, mv, [[nrr, g.sh * Wx], [nc, g.sw]]),
                         accumulate=accumulate(ct + kh + kw))
