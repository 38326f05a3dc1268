"""The dense ``ktensor.conv2d``'s plan on the PE array: its geometry, its tiles
(``PeConvTiling``: channel tiles or (kh, c) folding, output tiles, the staged and shared
input rows) and its band plan priced by the cost model; ``ktensor-plan-conv-bands``
records it, ``dense_conv`` lowers it, the depthwise families reuse the geometry."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from xdsl.ir import SSAValue

from kaena.dialects import ktensor as kt
from kaena.target.costmodel import CostModel
from kaena.target.description import NeuronCoreTarget
from kaena.target.tiling import Budgets, cdiv, moving_chunk, weight_blocks

from . import decisions as d
from .bands import Geom, band_plan, band_rows
from .planning import FunctionPlan, itemsize
from .slots import slot_of
from .utils import ints


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
    Ob: int  # outputs per weight block (``weight_blocks``)
    CT: int
    CTf: int
    Cr: int
    rows_k: int
    taps_s: int
    rows_mt: int
    cols: int
    stage_isz: int = 0  # a fused input cast: bytes per element of the staging tile its DMAs fill
    shared: bool = False  # kaena.plan.shared_rows: each input row staged once per row residue
    residual: bool = False  # kaena.plan.residual_add: the drain adds a skip on the vector engine first
    wbufs: int = 1  # weight block buffers: 2 when blocks stream, the next loading during this one
    band_budget: int | None = None  # kaena.plan.band_budget: bytes per partition its DRAM input's bands may take

    @property
    def band_share(self) -> int:
        """Bytes per partition a DRAM input's band tiles may take: the moving-operand budget,
        or less where ``ktensor-plan-residency`` gave some of it to a resident value."""
        return self.budget.mid if self.band_budget is None else min(self.budget.mid, self.band_budget)

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

    def input_fits(self, rb: int, nb: int = 1) -> bool:
        """Whether ``nb`` input bands of ``rb`` output rows fit the band share (a resident input: none)."""
        # a fused cast double-buffers its staging tiles and rounds into one band tile
        x_bytes = (nb * self.stage_isz * self.stage_elems(rb) + self.isz * self.band_elems(rb)
                   if self.stage_isz else nb * self.isz * self.band_elems(rb))
        return self.x_res or x_bytes <= self.band_share

    def fits(self, rb: int, nb: int = 1) -> bool:
        return self.input_fits(rb, nb) and (self.o_res or nb * rb * self.g.OW * self.osz <= self.budget.out)

    def _pe_tile(self, rmt: int) -> int:
        cm = self.cm
        return self.CT * self.taps_s * (cm.stationary_load(self.dtype) + cm.matmul(rmt * self.cols, self.dtype))

    def stages(self, rmt: int) -> list[int]:
        """The pipeline of one PSUM tile: the PE's matmuls, the skip's add on the vector engine
        (a residual add), the scalar engine's drain."""
        n = rmt * self.cols
        return [self._pe_tile(rmt)] + ([self.cm.vector(n, 2)] if self.residual else []) + [self.cm.activation(n)]

    def psum_buffers(self, rmt: int, trips: int) -> int:
        """PSUM buffers: the count the cost model prices fastest for the tile pipeline
        (``stages``); one bank each, one kept for the neighbours."""
        return self.cm.buffer_count(self.stages(rmt), trips, self.target.psum_banks - 1)

    def band_cost(self, rb: int, nb: int) -> int:
        """Modelled cycles of one weight block's band loop (input DMAs, PE + drain, result DMAs)."""
        cm, g, isz = self.cm, self.g, self.isz
        rmt = min(self.rows_mt, rb)
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
            computes.append(casts + cm.pipeline(self.stages(rmt), trips, self.psum_buffers(rmt, trips)))
            stores.append(0 if self.o_res else sum(cm.dma(sz * nr * g.OW * self.osz) * k
                                                   for sz, k in ((self.otw, self.Ob // self.otw),
                                                                 (self.Ob % self.otw, 1)) if sz and k))
        return cm.band_loop(loads, computes, stores, nb)


def pe_conv_tiling(plan: FunctionPlan, g: Geom, Cg: int, Og: int, isz: int, osz: int, x_pc: int | None,
                   o_pc: int | None, dtype: str, error: Callable[[str], Exception],
                   stage_isz: int = 0, shared: bool = False, block: int | None = None,
                   skip_pc: int | None = None, residual: bool = False,
                   band_budget: int | None = None) -> PeConvTiling:
    """The tiling of one group; ``x_pc``/``o_pc``: channels per partition tile of a resident
    input/result (None: in DRAM), ``skip_pc`` of a resident skip its drain adds (the PSUM
    tiles follow the first resident layout), ``residual``: it adds a skip; ``stage_isz``:
    the itemsize of a fused input cast's source (0: none); ``shared``: kaena.plan.shared_rows (``can_share_rows``); ``block``:
    kaena.plan.weight_block (None: the big-operand budget); ``band_budget``: kaena.plan.band_budget
    (None: the moving-operand budget). A kernel
    whose weights cannot fit is an error."""
    t = plan.target
    x_res, o_res = x_pc is not None, o_pc is not None
    KH, KW = g.KH, g.KW
    fold = not x_res and KH > 1 and Cg * KH <= t.pe_rows
    layout_pc = o_pc if o_res else skip_pc
    Pc, otw, Ob, wbufs = weight_blocks(t, Cg, Og, KH, KW, isz, fold, x_pc, layout_pc, block)
    if fold and shared:  # kernel row kh on partitions [kh * alignment, + Cg), zeros between
        CT, CTf, Cr, rows_k, taps_s = 1, 1, 0, (KH - 1) * t.partition_alignment + Cg, KW
    elif fold:
        CT, CTf, Cr, rows_k, taps_s = 1, 1, 0, Cg * KH, KW
    else:
        CT, CTf, Cr, rows_k, taps_s = cdiv(Cg, Pc), Cg // Pc, Cg % Pc, min(Cg, Pc), KH * KW
    if CT * otw * taps_s * isz > plan.budget.big:
        raise error(f"a {KH}x{KW} kernel over {Cg} channels does not fit in SBUF tiles")
    assert Ob > 0
    rows_mt, cols = moving_chunk(t, g.OH, g.OW)
    return PeConvTiling(t, plan.cm, plan.budget, g, Cg, Og, isz, osz, x_res, o_res, dtype, fold, Pc, otw,
                        Ob, CT, CTf, Cr, rows_k, taps_s, rows_mt, cols, stage_isz, fold and shared, residual,
                        wbufs, band_budget)


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
                          d.has_flag(op, d.SHARED_ROWS_ATTR) if shared is None else shared,
                          d.get_int(op, d.WEIGHT_BLOCK_ATTR), resident_skip_pc(op, plan),
                          plan.residual_add(op) is not None, d.get_int(op, d.BAND_BUDGET_ATTR))


def resident_skip_pc(op: kt.Conv2dOp, plan: FunctionPlan) -> int | None:
    """Channels per partition tile of the resident skip ``op``'s drain adds, if any."""
    residual = plan.residual_add(op)
    if residual is None or plan.resident_pads(residual[1]) is None:
        return None
    return plan.pc(residual[1].type.get_shape()[1])


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
    if tl.band_budget is not None and not tl.input_fits(1):
        raise error(f"{d.BAND_BUDGET_ATTR} = {tl.band_budget} leaves no room for one output row's input band; "
                    f"remove it or raise it to the bytes per partition one row needs")
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
        pe = cm.pipeline(tl.stages(rmt), trips, tl.psum_buffers(rmt, trips))
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


def band_loop_cycles(op: kt.Conv2dOp, plan: FunctionPlan, stage_isz: int) -> int:
    """``CostModel.band_loop``'s cycles of a folded conv reading DRAM, at its best band plan,
    its bands loaded in the operand dtype or (``stage_isz``) staged in a wider one."""
    error = functools.partial(plan.error, op)
    O, Cg = op.weight.type.get_shape()[:2]
    tl = pe_conv_tiling(plan, geometry(op), Cg, O, itemsize(op.input.type.element_type),
                        itemsize(op.results[0].type.element_type), None, None,
                        str(op.input.type.element_type), error, stage_isz,
                        block=d.get_int(op, d.WEIGHT_BLOCK_ATTR), band_budget=d.get_int(op, d.BAND_BUDGET_ATTR))
    rb, nb = band_plan(tl.g, tl.rows_mt, tl.fits, tl.band_cost, error)
    return op.input.type.get_shape()[0] * cdiv(O, tl.Ob) * tl.band_cost(rb, nb)


class _NoBand(Exception):
    """No band of the conv fits the share priced (``dram_band_cycles``)."""


def dram_band_cycles(op: kt.Conv2dOp, plan: FunctionPlan, resident: set[SSAValue],
                     band_budget: int) -> int | None:
    """``CostModel.band_loop``'s cycles of a dense conv reading DRAM, all its groups and
    weight blocks, at its best band plan within ``band_budget`` bytes per partition of
    input bands, given the values ``resident`` (its result's and skip's layouts); the
    cheaper of a copy per kernel row and shared rows where it may share them. None when
    no band fits (with shared rows either)."""
    O, Cg = op.weight.type.get_shape()[:2]
    mat, residual, cast = plan.materialized(op), plan.residual_add(op), plan.fused_input(op)
    skip = residual[1] if residual is not None else None
    groups = op.groups.value.data
    cycles = []
    try:
        for shared in (False, True) if shares_rows(op, plan) else (False,):
            tl = pe_conv_tiling(plan, geometry(op), Cg, O // groups, itemsize(op.input.type.element_type),
                                itemsize(plan.stored_type(mat)), None, plan.pc(O) if mat in resident else None,
                                str(op.input.type.element_type), _NoBand,
                                itemsize(cast.input.type.element_type) if cast is not None else 0, shared,
                                d.get_int(op, d.WEIGHT_BLOCK_ATTR),
                                plan.pc(skip.type.get_shape()[1]) if skip is not None and skip in resident else None,
                                residual is not None, band_budget)
            rb, nb = band_plan(tl.g, tl.rows_mt, tl.fits, tl.band_cost, _NoBand)
            cycles.append(op.input.type.get_shape()[0] * groups * cdiv(tl.Og, tl.Ob) * tl.band_cost(rb, nb))
    except _NoBand:
        return None
    return min(cycles)
