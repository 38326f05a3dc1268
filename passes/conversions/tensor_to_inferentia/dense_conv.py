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

from xdsl.dialects.builtin import f32
from xdsl.ir import BlockArgument, SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import PsumType, SbufType, ap
from kaena.target.tiling import balanced, cdiv, conv_tiling, weight_blocks, weight_bytes_per_output

from . import decisions as d
from .bands import bands, fill_band, load_band, prefetched_bands
from .dense_conv_plan import (band_loop_cycles, check_dtypes, dram_band_cycles, geometry, is_depthwise,
                              pe_conv_tiling, plan_bands)
from .function import FunctionLowering
from .interface import BiasUse, OpFamily, Pads
from .planning import FunctionPlan, itemsize
from .slots import Slot, slot_of, slot_row_tiles, write_slot
from .utils import E, accumulate, div_exact, ints
from .views import DramView, SbufView, View


class ConvFamily(OpFamily):
    """What every ``ktensor.conv2d`` family shares: the epilogue's activation and the padding."""

    op_types = (kt.Conv2dOp,)

    def fuses_cast(self, op: kt.Conv2dOp) -> bool:
        return op.activation.data in kt.PIECEWISE_LINEAR_ACTIVATIONS

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
        _, otw, Ob = conv_tiling(plan.target, Cg, O, KH, KW, isz, False, pco=pco,
                                 block=d.get_int(op, d.WEIGHT_BLOCK_ATTR))
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
        return band_loop_cycles(op, plan, wide) < cast_trip + band_loop_cycles(op, plan, 0)

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

    def adds_residual(self, op: kt.Conv2dOp, plan: FunctionPlan) -> bool:
        return self.can_write_resident(op, plan) and slot_of(plan, op) is None

    def lower(self, fl: FunctionLowering, op: kt.Conv2dOp) -> None:
        residual = fl.plan.residual_add(op)
        if residual is not None:
            add, skip = residual
            total = fl.plan.materialized(op)  # the sum, or the cast of it the add writes
            if fl.plan.residual_sum(total) is not None and fl.plan.resident_pads(total) is not None:
                out = fl.view(skip)  # the sum over the skip's resident tile
            else:
                out = fl.destination(total)
            fl.views[total] = fl.views[op.results[0]] = out
            self.emit(fl, op, out, skip=fl.view(skip))
            return
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
        residual = plan.residual_add(op)
        skip_res = residual is not None and residual[1] in resident
        isz = itemsize(op.input.type.element_type)
        fold = not x_res and KH > 1 and Cg * KH <= t.pe_rows
        pc = plan.pc(op.input.type.get_shape()[1]) if x_res else None
        Pc, otw, Ob, wbufs = weight_blocks(t, Cg, O // op.groups.value.data, KH, KW, isz, fold, pc,
                                           plan.pc(O) if o_res or skip_res else None,
                                           d.get_int(op, d.WEIGHT_BLOCK_ATTR))
        w = wbufs * Ob * weight_bytes_per_output(Cg, Pc, KH, KW, isz, fold)
        # a skip in DRAM: its band tile (the result band's when both are in DRAM in one type)
        skip_band = residual is not None and not skip_res and (
            o_res or residual[1].type.element_type != plan.materialized(op).type.element_type)
        return (w + 4 * cdiv(O, otw) + (0 if x_res else self._band_share(op, plan)) + (0 if o_res else budget.out)
                + (budget.out if skip_band else 0))

    @staticmethod
    def _band_share(op: kt.Conv2dOp, plan: FunctionPlan) -> int:
        """Bytes per partition its DRAM input's band tiles may take (``PeConvTiling.band_share``)."""
        budget = d.get_int(op, d.BAND_BUDGET_ATTR)
        return plan.budget.mid if budget is None else min(plan.budget.mid, budget)

    def shrink_scratch(self, op: kt.Conv2dOp, plan: FunctionPlan, resident: set[SSAValue], over: int,
                       spill_cycles: int) -> bool:
        """A conv reading DRAM gives ``over`` bytes of its band share to the values live
        beside it (``kaena.plan.band_budget``) when its best band plan within the rest costs
        fewer cycles more than ``spill_cycles`` (``CostModel.band_loop``); a budget already
        recorded is kept."""
        if op.input in resident or d.BAND_BUDGET_ATTR in op.attributes or d.BAND_ROWS_ATTR in op.attributes:
            return False
        share = self._band_share(op, plan)
        now = dram_band_cycles(op, plan, resident, share)
        then = dram_band_cycles(op, plan, resident, share - over) if share > over else None
        if now is None or then is None or then - now >= spill_cycles:
            return False
        d.set_int(op, d.BAND_BUDGET_ATTR, share - over)
        return True

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

    def emit(self, fl: FunctionLowering, op: kt.Conv2dOp, out: View, slot: Slot | None = None,
             skip: View | None = None) -> None:
        check_dtypes(op, fl.error)
        cast = fl.plan.fused_input(op)  # if any, the model input, rounded on the way into the bands
        x, w = fl.view(op.input if cast is None else cast.input), fl.view(op.weight)
        bias = fl.view(op.bias) if op.bias is not None else None
        O, Cg = w.shape[:2]
        groups = op.groups.value.data
        Og = O // groups
        for gi in range(groups):
            _DenseConv(fl, op, x, w, bias, out, gi * Cg, Cg, gi * Og, Og, slot, skip).emit()


class _DenseConv:
    """Channels [cb, cb + Cg) -> outputs [obase, obase + Og) of one conv on the PE array
    (plus ``skip`` on the drain, the sum written over it: a residual add done in place)."""

    def __init__(self, fl: FunctionLowering, op: kt.Conv2dOp, x: View, w: DramView, bias: DramView | None,
                 out: View, cb: int, Cg: int, obase: int, Og: int, slot: Slot | None = None,
                 skip: View | None = None):
        self.fl, self.b, self.op, self.slot, self.skip = fl, fl.b, op, slot, skip
        residual = fl.plan.residual_add(op)
        self.func = op.activation.data if residual is None else residual[0].activation.data
        self.x, self.w, self.bias, self.out = x, w, bias, out
        self.cb, self.Cg, self.obase, self.Og = cb, Cg, obase, Og
        self.g = g = geometry(op)
        self.x_res, self.o_res = isinstance(x, SbufView), isinstance(out, SbufView)
        # the resident layout the PSUM tiles follow: the result's, else a resident skip's
        self.layout = out if self.o_res else skip if isinstance(skip, SbufView) else None
        self.x_type = op.input.type.element_type  # the operand dtype (a fused cast's result)
        self.staged = self.x_type != x.element_type
        self.tl = tl = pe_conv_tiling(fl.plan, g, Cg, Og, itemsize(self.x_type), out.itemsize,
                                      x.pc if self.x_res else None, out.pc if self.o_res else None,
                                      str(self.x_type), fl.error, x.itemsize if self.staged else 0,
                                      self.staged and d.has_flag(op, d.SHARED_ROWS_ATTR),
                                      d.get_int(op, d.WEIGHT_BLOCK_ATTR),
                                      self.layout.pc if self.layout is not None else None, skip is not None,
                                      d.get_int(op, d.BAND_BUDGET_ATTR))
        self.rb = d.get_int(op, d.BAND_ROWS_ATTR)
        self.nxb = d.get_int(op, d.BAND_BUFFERS_ATTR)
        nps = d.get_int(op, d.PSUM_BUFFERS_ATTR)
        if None in (self.rb, self.nxb, nps):
            raise fl.error(f"it has no band plan ({d.BAND_ROWS_ATTR}, {d.BAND_BUFFERS_ATTR}, "
                           f"{d.PSUM_BUFFERS_ATTR}): run ktensor-plan-conv-bands after changing the IR")
        self.rows_mt = min(tl.rows_mt, self.rb)
        self.taps = g.KH * g.KW
        # a resident result sent to other cores: each band stored once drained (one group: all of it)
        self.sends = fl.take_sends(fl.plan.materialized(op)) if self.o_res and slot is None and Og == out.shape[1] \
            else []
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
        self.w_ts = [b.alloc(SbufType, tl.rows_k, tl.CT * tl.Ob * tl.taps_s, self.w.element_type, "w_t")
                     for _ in range(tl.wbufs)]
        if tl.shared:
            # the partitions between the kernel rows' groups contract zero weights with zeros:
            # filled once (a staging tile's too when no padding fill will cover it)
            g = self.g
            tiles = [*self.w_ts, self.x_ts[0]]
            if not (g.pt or g.pb or g.pl or g.pr):
                tiles += self.stages
            for t in tiles:
                b.memset(t, ap(0, t.type.partitions, 0, [[t.type.free_elements, 1]]), 0.0, hoisted=True)
        # (a residual add's drain takes two engines: its PSUM tiles rotate through as many as planned)
        self.pss = [b.alloc(PsumType, tl.otw, self.rows_mt * tl.cols, f32, "ps")
                    for _ in range(nps if self.skip is not None else min(nps, 2))]
        self.o_ts = [None] * self.nxb if self.o_res else [
            b.alloc(SbufType, tl.otw, self.rb * self.g.OW, out.element_type, "o_t") for _ in range(self.nxb)]
        # a skip in DRAM is added in a band tile of its own (the result band's when the sum is
        # stored in the skip's type, in DRAM as well)
        skip = self.skip
        self.s_ts = None
        if isinstance(skip, DramView):
            self.s_ts = self.o_ts if not self.o_res and skip.element_type == out.element_type else [
                b.alloc(SbufType, tl.otw, self.rb * self.g.OW, skip.element_type, "s_t") for _ in range(self.nxb)]
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
            self.load_weights(E(0), self.Og, 0)
        if self.bias and not self.from_table:
            self.load_bias()
        N = self.x.shape[0]
        # weight stationary: each block loads once and every sample of the batch runs over it
        # (streamed blocks alternate buffers: the queue loads the next during this one)
        for _, o0, ob, wbuf in b.pingpong(self.Og, tl.Ob, tl.wbufs):
            if not single_block:
                self.load_weights(o0, ob, wbuf)
            for n, _, _ in b.tiles(N, 1):
                if self.x_res:
                    for _, r0, nr, buf in b.pingpong(g.OH, self.rb, self.nxb):
                        self.compute_band(n, o0, ob, r0, nr, buf, wbuf)
                elif self.nxb == 1:
                    first = True
                    for r0, nr, clean in bands(b, g, self.rb):
                        self.load_input(n, r0, nr, clean, first)
                        first = False
                        self.compute_band(n, o0, ob, r0, nr, 0, wbuf)
                else:
                    for r0, nr, buf in prefetched_bands(b, g, self.rb, functools.partial(self.load_input, n)):
                        self.compute_band(n, o0, ob, r0, nr, buf, wbuf)

    def load_weights(self, o0: E, ob: int, wbuf: int) -> None:
        """Outputs [o0, o0 + ob)'s weights into weight buffer ``wbuf``."""
        b, tl, w, Cg, taps = self.b, self.tl, self.w, self.Cg, self.taps
        w_t = self.w_ts[wbuf]
        KH, KW = self.g.KH, self.g.KW
        src0 = o0.scaled(Cg * taps) + self.obase * Cg * taps
        if tl.fold:  # partition kh*Cg + c holds w[o, c, kh, :] as [o][kw] (shared rows: kh*alignment + c)
            step = self.fl.target.partition_alignment if tl.shared else Cg
            for kh in range(KH):
                b.dma(w_t, ap(kh * step, Cg, 0, [[ob * KW, 1]]),
                      w.var, ap(0, Cg, src0 + kh * KW, [[ob, Cg * taps], [KW, 1]], taps))
            return
        # partition c % Pc holds w[o, c, :, :] as [ct][o][tap]
        Pc, CTf, Cr = tl.Pc, tl.CTf, tl.Cr
        if CTf:
            b.dma(w_t, ap(0, Pc, 0, [[CTf * ob * taps, 1]]),
                  w.var, ap(0, Pc, src0, [[CTf, Pc * taps], [ob, Cg * taps], [taps, 1]], taps))
        if Cr:
            b.dma(w_t, ap(0, Cr, CTf * ob * taps, [[ob * taps, 1]]),
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
        """(first channel in the block, channels, SBUF partition and channel tile in the
        resident layout, PSUM slot) per PSUM tile; consecutive tiles alternate slots."""
        b, otw, npss = self.b, self.tl.otw, len(self.pss)
        if self.layout is None:
            for _, j0, ow_, slot in b.pingpong(ob, otw, npss):
                yield j0, ow_, 0, None, slot
            return
        pc = self.layout.pc
        per = cdiv(pc, otw)
        for _, jc0, jw, slot in b.pingpong(ob, pc, npss if per % 2 else 1):
            cto = div_exact(o0 + jc0 + self.obase, pc)
            for h in range(cdiv(jw, otw)):
                yield jc0 + h * otw, min(otw, jw - h * otw), h * otw, cto, (slot + h) % npss

    def compute_band(self, n: E, o0: E, ob: int, r0: E, nr: int, buf: int, wbuf: int) -> None:
        """Outputs [o0, o0 + ob) of rows [r0, r0 + nr) of sample n, from band buffer ``buf``
        and weight buffer ``wbuf``."""
        b, g, tl, x, out = self.b, self.g, self.tl, self.x, self.out
        w_t = self.w_ts[wbuf]
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
            s_t = self.s_ts[buf] if self.s_ts is not None else None
            if s_t is not None:  # the skip's band
                O = out.shape[1]
                src = (n.scaled(O) + o0 + j0 + self.obase).scaled(g.OH * g.OW) + r0.scaled(g.OW)
                b.dma(s_t, ap(0, ow_, 0, [[nr * g.OW, 1]]), self.skip.var, ap(0, ow_, src, [[nr * g.OW, 1]], g.OH * g.OW))
            for _, rr, nrr, rslot in b.pingpong(nr, self.rows_mt, len(self.pss)):
                ps = self.pss[(slot + rslot) % len(self.pss)]
                for _, c0, nc in b.tiles(g.OW, tl.cols):
                    self.tap_matmuls(ps, w_t, x_t, xb, j0, ow_, ob, rr, nrr, c0, nc)
                    if self.o_res:
                        dst, dst_ap = out.tile, ap(part, ow_, out.base(cto, n) + (r0 + rr).scaled(out.Wp) + c0,
                                                   [[nrr, out.Wp], [nc, 1]])
                    else:
                        dst, dst_ap = o_t, ap(0, ow_, rr.scaled(g.OW) + c0, [[nrr, g.OW], [nc, 1]])
                    ps_ap = ap(0, ow_, 0, [[nrr * nc, 1]])
                    if self.skip is not None:  # skip += psum (its last use), then bias and activation
                        if s_t is not None:
                            acc, acc_ap = s_t, ap(0, ow_, rr.scaled(g.OW) + c0, [[nrr, g.OW], [nc, 1]])
                        else:
                            sk = self.skip
                            acc, acc_ap = sk.tile, ap(part, ow_, sk.base(cto, n) + (r0 + rr).scaled(sk.Wp) + c0,
                                                      [[nrr, sk.Wp], [nc, 1]])
                        b.tensor_tensor("add", acc, acc_ap, ps, ps_ap, acc, acc_ap)
                        if not (self.func == "none" and self.b_t is None and acc is dst):
                            b.act(self.func, dst, dst_ap, acc, acc_ap, self.b_t, b_ap)
                    else:
                        b.act(self.func, dst, dst_ap, ps, ps_ap, self.b_t, b_ap)
            for sent in self.sends:  # this band of the out tile, done: sent while the next computes
                O = out.shape[1]
                dst = (n.scaled(O) + o0 + j0).scaled(g.OH * g.OW) + r0.scaled(g.OW)
                b.dma(sent.var, ap(0, ow_, dst, [[nr * g.OW, 1]], g.OH * g.OW),
                      out.tile, ap(part, ow_, out.base(cto, n) + r0.scaled(out.Wp), [[nr, out.Wp], [g.OW, 1]]))
            if self.slot is not None:
                write_slot(b, self.slot, out.var, o_t, ow_, o0 + j0 + self.obase, n, r0, nr, g.OW,
                           self.fl.target.partitions, self.rows_ts[slot % len(self.rows_ts)] if self.slot.rows else None)
            elif not self.o_res:
                O = out.shape[1]
                dst = (n.scaled(O) + o0 + j0 + self.obase).scaled(g.OH * g.OW) + r0.scaled(g.OW)
                b.dma(out.var, ap(0, ow_, dst, [[nr * g.OW, 1]], g.OH * g.OW), o_t, ap(0, ow_, 0, [[nr * g.OW, 1]]))

    def tap_matmuls(self, ps: SSAValue, w_t: SSAValue, x_t: SSAValue, xb: E, j0: E, ow_: int, ob: int, rr: E,
                    nrr: int, c0: E, nc: int) -> None:
        """One PSUM tile: a matmul per (channel tile, tap), accumulated."""
        b, g, tl, taps = self.b, self.g, self.tl, self.taps
        acc_ap = ap(0, ow_, 0, [[nrr * nc, 1]])
        if tl.fold:
            with b.loop(g.KW) as kw:
                b.load_stationary(w_t, ap(0, tl.rows_k, j0.scaled(g.KW) + kw, [[ow_, g.KW]]))
                b.matmul(ps, acc_ap, x_t, ap(0, tl.rows_k, rr.scaled(g.Wp) + c0.scaled(g.sw) + kw.scaled(g.dw),
                                            [[nrr, g.Wp], [nc, g.sw]]), accumulate=accumulate(kw))
            return
        Wx = self.Wx
        for ct, _, cw in b.tiles(self.Cg, tl.Pc):
            with b.loop(g.KH) as kh, b.loop(g.KW) as kw:
                tap = kh.scaled(g.KW) + kw
                b.load_stationary(w_t, ap(0, cw, ct.scaled(ob * taps) + j0.scaled(taps) + tap, [[ow_, taps]]))
                mv = (xb + ct.scaled(self.bp) + (rr.scaled(g.sh) + kh.scaled(g.dh)).scaled(Wx)
                      + c0.scaled(g.sw) + kw.scaled(g.dw))
                b.matmul(ps, acc_ap, x_t, ap(0, cw, mv, [[nrr, g.sh * Wx], [nc, g.sw]]),
                         accumulate=accumulate(ct + kh + kw))
