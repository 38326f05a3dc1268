"""Depthwise ``ktensor.conv2d`` (one input channel per group): on the PE array
(diagonal stationaries) or on the vector engine (multiply-adds), whichever
``ktensor-plan-engines`` recorded (``kaena.plan.engine``)."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import f32
from xdsl.ir import Attribute, SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import PsumType, SbufType, ap
from kaena.isa import DType
from kaena.target.tiling import balanced, cdiv, moving_chunk

from . import decisions as d
from . import depthwise_split as split_rows
from .bands import Geom, band_rows, bands, load_band
from .dense_conv import ConvFamily
from .dense_conv_plan import check_dtypes, geometry, is_depthwise
from .function import FunctionLowering
from .planning import FunctionPlan, itemsize
from .utils import E, accumulate
from .views import DramView, SbufView, View


# --- planning: the engine and the PSUM group ---------------------------------------------------
def psum_group(plan: FunctionPlan, C: int, taps: int, OH: int, OW: int, dtype: str) -> int:
    """Row chunks (one PSUM bank each) that share each diagonal stationary of a depthwise
    conv on the PE array: the count the cost model prices lowest (fewest banks on a tie),
    keeping one bank for the neighbouring ops' PSUM tiles."""
    t = plan.target
    rows, cols = moving_chunk(t, OH, OW)
    per_bank = cdiv(rows * cols, t.psum_bank_entries)
    row_chunks = cdiv(OH, rows)
    most = max(1, min(row_chunks, (t.psum_banks - 1) // per_bank))
    return min(range(1, most + 1),
               key=lambda g: (plan.cm.depthwise_conv("pe", C, taps, OH, OW, dtype, group=g).cycles, g))


def _shape(op: kt.Conv2dOp) -> tuple[int, int, int, int, int, str]:
    O, _, KH, KW = op.weight.type.get_shape()
    OH, OW = op.results[0].type.get_shape()[2:]
    return O, op.input.type.get_shape()[1], KH * KW, OH, OW, str(op.input.type.element_type)


def pe_applies(op: kt.Conv2dOp) -> bool:
    """The diagonal form needs one output per input channel."""
    O, C, *_ = _shape(op)
    return O == C


def choose_engine(op: kt.Conv2dOp, plan: FunctionPlan) -> str:
    """The engine the cost model prices lower in the operand dtype. "pe": diagonal
    stationary matrices (needs one output per input channel); "vector": per-partition
    multiply-adds."""
    if not pe_applies(op):
        return "vector"
    O, C, taps, OH, OW, dt = _shape(op)
    group = psum_group(plan, C, taps, OH, OW, dt)
    pe = plan.cm.depthwise_conv("pe", C, taps, OH, OW, dt, group=group)
    vec = plan.cm.depthwise_conv("vector", C, taps, OH, OW, dt)
    return "pe" if pe.cycles < vec.cycles else "vector"


def choose_psum_group(op: kt.Conv2dOp, plan: FunctionPlan) -> int:
    _, C, taps, OH, OW, dt = _shape(op)
    return psum_group(plan, C, taps, OH, OW, dt)


def choose_psum_buffers(op: kt.Conv2dOp, plan: FunctionPlan, group: int) -> int:
    """Two PSUM result slots of ``group`` row chunks when both fit beside the bank kept for
    the neighbouring ops (the scalar engine drains one while the PE array fills the other;
    MobileNetV2's 14x14 and 7x7 depthwise convs), else one."""
    t = plan.target
    _, _, _, OH, OW, _ = _shape(op)
    rows, cols = moving_chunk(t, OH, OW)
    per_bank = cdiv(rows * cols, t.psum_bank_entries)
    return 2 if 2 * group * per_bank <= t.psum_banks - 1 else 1


# --- the PE array: diagonal stationaries -----------------------------------------------------
class DepthwisePeFamily(ConvFamily):
    """Channel ``c`` on partition ``c % 128`` (the resident layout, read and written in
    place); per block of <= 64 channels and per tap the stationary is a diagonal matrix
    (identity x per-partition weight, one vector instruction per op) and one matmul per
    moving chunk accumulates the tap in PSUM, like a dense conv with K = M = 64."""

    def accepts(self, op: kt.Conv2dOp, plan: FunctionPlan) -> bool:
        return is_depthwise(op) and plan.engine(op) == "pe"

    def can_write_resident(self, op, plan: FunctionPlan) -> bool:
        return True

    def can_read_resident(self, op: kt.Conv2dOp, value: SSAValue, plan: FunctionPlan) -> bool:
        return op.input is value and op.weight is not value and op.bias is not value

    def scratch_bytes(self, op: kt.Conv2dOp, plan: FunctionPlan, resident: set[SSAValue]) -> int:
        _, _, KH, KW = op.weight.type.get_shape()
        C = op.input.type.get_shape()[1]
        t, budget = plan.target, plan.budget
        isz = itemsize(op.input.type.element_type)
        ct = cdiv(C, plan.pc(C))
        wsz = ct * KH * KW * (1 + t.pe_columns) * isz
        both = op.input in resident and plan.materialized(op) in resident
        OH, OW = op.results[0].type.get_shape()[2:]
        return (wsz + t.pe_columns * isz + 4 * ct + (0 if op.input in resident else budget.mid)
                + (0 if plan.materialized(op) in resident else budget.out)
                + (split_rows.scratch_bytes(budget, OH, OW) if both else 0))

    def emit(self, fl: FunctionLowering, op: kt.Conv2dOp, out: View) -> None:
        check_dtypes(op, fl.error)
        x, w = fl.view(op.input), fl.view(op.weight)
        bias = fl.view(op.bias) if op.bias is not None else None
        group = d.get_int(op, d.PSUM_GROUP_ATTR)
        if group is None:
            raise fl.error(f"it has no {d.PSUM_GROUP_ATTR}: run ktensor-plan-engines after changing the IR")
        buffers = d.get_int(op, d.PSUM_BUFFERS_ATTR) or 1
        if buffers not in (1, 2):
            raise fl.error(f"{d.PSUM_BUFFERS_ATTR} = {buffers}: 1 or 2")
        _DepthwisePe(fl, op, x, w, bias, out, group, buffers).emit()


def identity_tile(fl: FunctionLowering, dtype: Attribute) -> SSAValue:
    """A [partitions, pe_columns] tile, 1 where column == partition % pe_columns, once per
    dtype. With a weight store: a derived constant, one DMA (no vector-engine op, so it does
    not queue behind the previous op's vector work: the first depthwise conv's diagonals wait
    for it). Else built from a DRAM scratch row of zeros with a one in the middle, read back
    with a partition stride of -1 (row p starts p elements earlier)."""
    key = str(dtype)
    if key in fl.identity:
        return fl.identity[key]
    b, M, P = fl.b, fl.target.pe_columns, fl.target.partitions
    store = fl.plan.store
    if store is not None:
        value = np.zeros((P, M), DType.from_name(key).np)
        value[np.arange(P), np.arange(P) % M] = 1
        var = fl.dram("file", store.add_derived("kaena.eye", value), [P, M], dtype)
        eye = b.alloc(SbufType, P, M, dtype, "eye", resident=True)
        b.dma(eye, ap(0, P, 0, [[M, 1]]), var, ap(0, P, 0, [[M, 1]], M))
        fl.identity[key] = eye
        return eye
    L = 2 * M - 1
    row = b.alloc(SbufType, 1, L, dtype, "eye_row")
    b.memset(row, ap(0, 1, 0, [[L, 1]]), 0.0)
    b.memset(row, ap(0, 1, M - 1, [[1, 1]]), 1.0)
    var = fl.scratch([L], dtype)
    b.dma(var, ap(0, 1, 0, [[L, 1]]), row, ap(0, 1, 0, [[L, 1]]))
    eye = b.alloc(SbufType, P, M, dtype, "eye", resident=True)
    for p0 in range(0, P, M):
        n = min(M, P - p0)
        b.dma(eye, ap(p0, n, 0, [[M, 1]]), var, ap(0, n, M - 1, [[M, 1]], -1))
    fl.identity[key] = eye
    return eye


def _load_per_channel(fl: FunctionLowering, pairs, pc: int, CTf: int, Cr: int) -> None:
    """DMA per-channel columns (weights, bias): channel c on partition c % pc, k values each."""
    b = fl.b
    for t_, var, k in pairs:
        if t_ is None or var is None:
            continue
        if CTf:
            b.dma(t_, ap(0, pc, 0, [[CTf * k, 1]]), var.var, ap(0, pc, 0, [[CTf, pc * k], [k, 1]], k))
        if Cr:
            b.dma(t_, ap(0, Cr, CTf * k, [[k, 1]]), var.var, ap(0, Cr, CTf * pc * k, [[k, 1]], k))


class _DepthwisePe:
    def __init__(self, fl: FunctionLowering, op: kt.Conv2dOp, x: View, w: DramView, bias: DramView | None,
                 out: View, group: int, buffers: int = 1):
        self.fl, self.b, self.op = fl, fl.b, op
        self.x, self.w, self.bias, self.out = x, w, bias, out
        self.g = g = geometry(op)
        self.M = fl.target.pe_columns
        self.C = C = x.shape[1]
        self.taps = g.KH * g.KW
        self.pc = fl.pc(C)
        self.x_res, self.o_res = isinstance(x, SbufView), isinstance(out, SbufView)
        self.rows_mt, self.cols = moving_chunk(fl.target, g.OH, g.OW)
        isz, osz = x.itemsize, out.itemsize

        def fits(rb: int) -> bool:
            return ((self.x_res or g.rows_in(rb) * g.Wp * isz <= fl.budget.mid)
                    and (self.o_res or rb * g.OW * osz <= fl.budget.out))

        self.fits = fits
        self.group = group
        self.buffers = buffers
        # the last ``vrows`` output rows run on the vector engine (ktensor-plan-conv-bands)
        self.vrows = d.get_int(op, d.VECTOR_ROWS_ATTR) or 0
        if self.vrows and not (self.x_res and self.o_res and 0 < self.vrows < g.OH):
            raise fl.error(f"{d.VECTOR_ROWS_ATTR} = {self.vrows} needs a resident input and result "
                           f"and 0 < rows < {g.OH}")
        self.pe_rows = g.OH - self.vrows
        # the last ``vtiles`` full channel tiles wholly on the vector engine, paired with the
        # PE array's first tiles (ktensor-plan-conv-bands)
        self.vtiles = d.get_int(op, d.VECTOR_TILES_ATTR) or 0
        P = fl.target.partitions
        if self.vtiles and not (self.x_res and self.o_res and self.pc == P
                                and 0 < self.vtiles <= min(C // P - 1, cdiv(C, P) - self.vtiles)):
            raise fl.error(f"{d.VECTOR_TILES_ATTR} = {self.vtiles} needs a resident input and result and "
                           f"at most as many full channel tiles of {P} as stay on the PE array, one full one among them "
                           f"({cdiv(C, P)} tiles)")

    def load_diagonals(self) -> None:
        """diag[p, (ct, tap, j)] = w[ct * pc + p, tap] where j == p % M, else 0"""
        b, pc, taps, M, w = self.b, self.pc, self.taps, self.M, self.w
        CT, CTf, Cr = cdiv(self.C, pc), self.C // pc, self.C % pc
        eye = identity_tile(self.fl, w.element_type)
        w_col = b.alloc(SbufType, pc, CT * taps, w.element_type, "w_col")
        self.diag = b.alloc(SbufType, pc, CT * taps * M, w.element_type, "w_diag")
        bias = self.bias
        self.b_t = b.alloc(SbufType, pc, CT, bias.element_type, "b_t") if bias else None
        self.w_col = w_col
        self.eye = eye
        _load_per_channel(self.fl, ((w_col, w, taps), (self.b_t, bias, 1)), pc, CTf, Cr)

    def build_diagonals(self, ct: E, cw: int) -> None:
        """Channel tile ``ct``'s diagonals (emitted one tile ahead of its matmuls)."""
        taps, M = self.taps, self.M
        self.b.tensor_tensor("mul", self.diag, ap(0, cw, ct.scaled(taps * M), [[taps, M], [M, 1]]),
                             self.eye, ap(0, cw, 0, [[taps, 0], [M, 1]]),
                             self.w_col, ap(0, cw, ct.scaled(taps), [[taps, 1], [M, 0]]))

    def channel_tiles(self, C: int):
        """(ct, c0, cw, vt) over the PE array's channel tiles, each tile's diagonals built
        on the vector engine one tile ahead (before the tile in flight's vector work), so
        the PE array finds tile ct + 1's ready: the first tile's first, then in tile ct's
        iteration ct + 1's (a loop over the full tiles followed by a full one, the rest
        peeled). The ``vtiles`` vector tiles are the last full ones (the remainder stays on
        the PE array, where it costs less), ``vt`` the one done beside the j-th PE tile
        (j < ``vtiles``, those iterations unrolled), else None. The semaphores see a loop as
        one item spanning all the bytes its iterations touch, so a vector tile in a loop
        would hold back every PE tile after it; unrolled, a PE tile's drains wait only for
        the work on the bytes they write."""
        b, pc, k = self.b, self.pc, self.vtiles
        full, rem = divmod(C, pc)
        pf = full - k  # full tiles on the PE array, tiles [0, pf); vector tiles [pf, full)
        order = [(t, pc) for t in range(pf)] + ([(full, rem)] if rem else [])

        def tile(j: int):
            if j + 1 < len(order):
                self.build_diagonals(E(order[j + 1][0]), order[j + 1][1])
            ct, cw = order[j]
            return E(ct), E(ct * pc), cw, E(pf + j) if j < k else None

        self.build_diagonals(E(order[0][0]), order[0][1])
        for j in range(k):
            yield tile(j)
        looped = pf - 1 - k
        if looped > 0:
            with b.loop(looped) as i:
                self.build_diagonals(i + (k + 1), pc)
                yield i + k, (i + k).scaled(pc), pc, None
        for j in range(max(k, pf - 1), len(order)):
            yield tile(j)

    def emit(self) -> None:
        b, g, fl, x, out = self.b, self.g, self.fl, self.x, self.out
        self.load_diagonals()
        rb = band_rows(g, self.rows_mt, self.fits, fl.error)
        self.rows_mt = min(self.rows_mt, rb)
        # G row chunks share each stationary load, chunk i in PSUM bank(s) i
        self.G = min(self.group, cdiv(rb, self.rows_mt))
        t = fl.target
        self.bank = cdiv(self.rows_mt * self.cols, t.psum_bank_entries) * t.psum_bank_entries
        # kaena.plan.psum_buffers: two result slots, the scalar engine draining one group of
        # row chunks (or channel block) while the PE array accumulates the next
        self.bufs = self.buffers
        self.slot = self.G * self.bank
        if self.x_res:
            self.x_t, self.Wx = x.tile, x.Wp
        else:
            self.Wx = g.Wp
            self.x_t = b.alloc(SbufType, self.pc, g.rows_in(rb) * g.Wp, x.element_type, "x_t")
        self.ps = b.alloc(PsumType, self.M, (self.bufs - 1) * self.slot + (self.G - 1) * self.bank
                          + self.rows_mt * self.cols, f32, "ps")
        self.o_t = None if self.o_res else b.alloc(SbufType, self.pc, rb * g.OW, out.element_type, "o_t")
        N, C, H, W = x.shape
        for n, _, _ in b.tiles(N, 1):
            for ct, c0, cw, vt in self.channel_tiles(C):
                first = True
                if vt is not None:
                    split_rows.emit_vector_rows(self, n, vt, self.pc, 0, g.OH)
                if self.vrows:
                    split_rows.emit_vector_rows(self, n, ct, cw, self.pe_rows, self.vrows)
                band_iter = bands(b, g, rb) if not self.x_res else (
                    (r0, nr, True) for _, r0, nr in b.tiles(self.pe_rows, rb))
                for r0, nr, clean in band_iter:
                    if self.x_res:
                        xb = x.base(ct, n) + (-g.pt * self.Wx - g.pl) + r0.scaled(g.sh * self.Wx)
                    else:
                        load_band(b, g, x, self.x_t, cw, n.scaled(C * H * W) + c0.scaled(H * W), r0, nr,
                                  clean, 0.0, first)
                        xb = E(0)
                    first = False
                    for p0 in range(0, cw, self.M):
                        self.block(n, ct, r0, nr, xb, p0, min(self.M, cw - p0))
                    if not self.o_res:
                        b.dma(out.var, ap(0, cw, (n.scaled(C) + c0).scaled(g.OH * g.OW) + r0.scaled(g.OW),
                                          [[nr * g.OW, 1]], g.OH * g.OW),
                              self.o_t, ap(0, cw, 0, [[nr * g.OW, 1]]))

    def block(self, n: E, ct: E, r0: E, nr: int, xb: E, p0: int, bw: int) -> None:
        """Channels [p0, p0 + bw) of channel tile ``ct`` over one band."""
        b, g, out, taps, Wx, bank = self.b, self.g, self.out, self.taps, self.Wx, self.bank
        b_ap = ap(p0, bw, ct, [[1, 1]]) if self.b_t else None
        for _, cc, nc in b.tiles(g.OW, self.cols):
            for _, rg, ng, buf in b.pingpong(nr, self.G * self.rows_mt, self.bufs):
                so = (buf + p0 // self.M) % self.bufs * self.slot
                # taps unrolled, each row chunk drained right after its last tap's matmul: the
                # semaphores order sibling items, so the scalar engine drains chunk i while the
                # PE array runs chunk i + 1's last matmul, and the next group's first matmul
                # into chunk i waits for chunk i's drain only (a tap loop would wait for all)
                for t in range(taps):
                    kh, kw = E(t // g.KW), E(t % g.KW)
                    b.load_stationary(self.diag, ap(p0, bw, (ct.scaled(taps) + t).scaled(self.M), [[bw, 1]]))
                    for gi, ri, nrr in b.tiles(ng, self.rows_mt):
                        rr = rg + ri
                        mv = (xb + (rr.scaled(g.sh) + kh.scaled(g.dh)).scaled(Wx)
                              + cc.scaled(g.sw) + kw.scaled(g.dw))
                        b.matmul(self.ps, ap(0, bw, gi.scaled(bank) + so, [[nrr * nc, 1]]),
                                 self.x_t, ap(p0, bw, mv, [[nrr, g.sh * Wx], [nc, g.sw]]),
                                 accumulate=accumulate(E(t)))
                        if t == taps - 1:
                            if self.o_res:
                                dst, dst_ap = out.tile, ap(p0, bw, out.base(ct, n) + (r0 + rr).scaled(out.Wp) + cc,
                                                           [[nrr, out.Wp], [nc, 1]])
                            else:
                                dst, dst_ap = self.o_t, ap(p0, bw, rr.scaled(g.OW) + cc, [[nrr, g.OW], [nc, 1]])
                            b.act(self.op.activation.data, dst, dst_ap, self.ps,
                                  ap(0, bw, gi.scaled(bank) + so, [[nrr * nc, 1]]), self.b_t, b_ap)


# --- the vector engine: multiply-adds ------------------------------------------------------------
class DepthwiseVectorFamily(ConvFamily):
    """Channels on partitions, each tap one multiply by a per-partition weight and one add
    over a whole band; ``m`` outputs per input channel. (On the PE array a depthwise tap is
    a diagonal stationary matrix: K = M = 64 rows of which one is non-zero per column, 1/64
    of the array; the vector engine's 3 cycles per element per tap beat that for FP32 and
    stay within 1.5x for BF16.) Operands in DRAM."""

    def accepts(self, op: kt.Conv2dOp, plan: FunctionPlan) -> bool:
        return is_depthwise(op) and plan.engine(op) == "vector"

    def scratch_bytes(self, op, plan: FunctionPlan, resident: set[SSAValue]) -> int:
        return plan.budget.big + plan.budget.mid + plan.budget.out

    def emit(self, fl: FunctionLowering, op: kt.Conv2dOp, out: View) -> None:
        check_dtypes(op, fl.error)
        x, w = fl.view(op.input), fl.view(op.weight)
        bias = fl.view(op.bias) if op.bias is not None else None
        assert isinstance(x, DramView) and isinstance(out, DramView)
        _conv_vector(fl, op, x, w, bias, out, geometry(op))


def _conv_vector(fl: FunctionLowering, op: kt.Conv2dOp, x: DramView, w: DramView, bias: DramView | None,
                 out: DramView, g: Geom) -> None:
    b, budget = fl.b, fl.budget
    N, C, H, W = x.shape
    m = out.shape[1] // C
    OW, taps = g.OW, g.KH * g.KW
    isz, osz = x.itemsize, out.itemsize
    Pc = balanced(C, fl.target.partitions)
    CT, CTf, Cr = cdiv(C, Pc), C // Pc, C % Pc

    def fits(rb: int) -> bool:
        return (g.rows_in(rb) * g.Wp * isz <= budget.mid and 2 * rb * OW * 4 <= budget.big
                and rb * OW * osz <= budget.out)

    rb = band_rows(g, 1, fits, fl.error)
    x_t = b.alloc(SbufType, Pc, g.rows_in(rb) * g.Wp, x.element_type, "x_t")
    w_t = b.alloc(SbufType, Pc, CT * m * taps, w.element_type, "w_t")
    acc = b.alloc(SbufType, Pc, rb * OW, f32, "acc")
    tmp = b.alloc(SbufType, Pc, rb * OW, f32, "tmp") if taps > 1 else None
    o_t = b.alloc(SbufType, Pc, rb * OW, out.element_type, "o_t")
    b_t = b.alloc(SbufType, Pc, CT * m, bias.element_type, "b_t") if bias else None
    _load_per_channel(fl, ((w_t, w, m * taps), (b_t, bias, m)), Pc, CTf, Cr)
    for n, _, _ in b.tiles(N, 1):
        for ct, c0, cw in b.tiles(C, Pc):
            first = True
            for r0, nr, clean in bands(b, g, rb):
                load_band(b, g, x, x_t, cw, n.scaled(C * H * W) + c0.scaled(H * W), r0, nr, clean, 0.0, first)
                first = False
                _vector_band(fl, op, g, (x_t, w_t, acc, tmp, o_t, b_t), out, m, n, ct, c0, cw, r0, nr)


def _vector_band(fl: FunctionLowering, op: kt.Conv2dOp, g: Geom, tiles, out: DramView, m: int,
                 n: E, ct: E, c0: E, cw: int, r0: E, nr: int) -> None:
    """The taps of one band for each of the ``m`` outputs per channel, then its DMA out."""
    b = fl.b
    x_t, w_t, acc, tmp, o_t, b_t = tiles
    OH, OW, KH, KW, taps = g.OH, g.OW, g.KH, g.KW, g.KH * g.KW
    O = out.shape[1]
    a_ap = ap(0, cw, 0, [[nr * OW, 1]])
    for j in range(m):
        for kh in range(KH):
            for kw in range(KW):
                tap = kh * KW + kw
                src = ap(0, cw, kh * g.dh * g.Wp + kw * g.dw, [[nr, g.sh * g.Wp], [OW, g.sw]])
                s_ap = ap(0, cw, ct.scaled(m * taps) + j * taps + tap, [[1, 1]])
                if tap == 0:
                    b.tensor_scalar("mul", acc, a_ap, x_t, src, w_t, s_ap)
                else:
                    b.tensor_scalar("mul", tmp, a_ap, x_t, src, w_t, s_ap)
                    b.tensor_tensor("add", acc, a_ap, acc, a_ap, tmp, a_ap)
        b_ap = ap(0, cw, ct.scaled(m) + j, [[1, 1]]) if b_t else None
        b.act(op.activation.data, o_t, a_ap, acc, a_ap, b_t, b_ap)
        dst = (n.scaled(O) + c0.scaled(m) + j).scaled(OH * OW) + r0.scaled(OW)
        b.dma(out.var, ap(0, cw, dst, [[nr * OW, 1]], m * OH * OW), o_t, a_ap)
