"""``ktensor.pool2d``: image planes on partitions, one vector reduction per band
over a 4-D window pattern (dilations are its strides); a resident input is pooled in place (its stored zero
padding read directly)."""

from __future__ import annotations

from xdsl.dialects.builtin import f32
from xdsl.ir import Attribute, Operation, SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import SbufType, ap
from kaena.target.tiling import balanced, cdiv

from .bands import Geom, band_rows, bands, in_bounds_rows, load_band
from .function import FunctionLowering
from .interface import OpFamily, Pads
from .planning import FunctionPlan, itemsize
from .utils import E, ints
from .views import DramView, SbufView, View


def excludes_padding(op: kt.Pool2dOp) -> bool:
    """An average pool dividing by the in-bounds count (its padding is not zeros to it)."""
    return (op.kind.data != "max" and op.count_include_pad is not None
            and op.count_include_pad.value.data == 0 and any(ints(op.pads)))


def _geometry(op: kt.Pool2dOp, x_shape, out_shape) -> Geom:
    return Geom.of(x_shape, ints(op.kernel), ints(op.strides), ints(op.pads), op.dilation_values(),
                   out_shape)


class PoolFamily(OpFamily):
    op_types = (kt.Pool2dOp,)

    def fuses_cast(self, op: kt.Pool2dOp) -> bool:
        return True

    def can_write_resident(self, op: kt.Pool2dOp, plan: FunctionPlan) -> bool:
        return not excludes_padding(op)

    def can_read_resident(self, op: kt.Pool2dOp, value: SSAValue, plan: FunctionPlan) -> bool:
        if excludes_padding(op):
            return False
        return op.kind.data != "max" or not any(ints(op.pads)) or _nonnegative(value, plan)

    def resident_padding(self, op: kt.Pool2dOp) -> Pads:
        p = ints(op.pads)
        return (p[0], p[1], p[2], p[3])

    def narrower_input_type(self, op: kt.Pool2dOp, plan: FunctionPlan) -> Attribute | None:
        """A max pool that rounds its result to a narrower type: rounding is monotonic, so
        it commutes with max and the input may be stored in that type."""
        cast = plan.fused_cast(op)
        if op.kind.data != "max" or cast is None:
            return None
        narrow = cast.result.type.element_type
        if itemsize(narrow) >= itemsize(op.input.type.element_type):
            return None
        return narrow

    def settle_residency(self, op: kt.Pool2dOp, plan: FunctionPlan, resident: set[SSAValue]) -> bool:
        """A resident result needs a resident input."""
        mat = plan.materialized(op)
        if mat in resident and op.input not in resident:
            resident.discard(mat)
            return True
        return False

    def scratch_bytes(self, op: kt.Pool2dOp, plan: FunctionPlan, resident: set[SSAValue]) -> int:
        return ((0 if op.input in resident else plan.budget.big)
                + (0 if plan.materialized(op) in resident else plan.budget.out))

    def emit(self, fl: FunctionLowering, op: kt.Pool2dOp, out: View) -> None:
        x = fl.view(op.input)
        if isinstance(x, SbufView):
            _pool_resident(fl, op, x, out)
            return
        assert isinstance(out, DramView), "a resident pool result needs a resident input"
        _pool_dram(fl, op, x, out)


def _nonnegative(v: SSAValue, plan: FunctionPlan) -> bool:
    """Whether ``v`` is known >= 0 (a relu'd result, maybe cast), so zero padding can
    stand in for a max pool's -inf."""
    owner = v.owner
    if isinstance(owner, kt.CastOp):
        owner = owner.input.owner
    family = plan.family(owner) if isinstance(owner, Operation) else None
    return family is not None and family.nonnegative(owner, plan)


def _pool_dram(fl: FunctionLowering, op: kt.Pool2dOp, x: DramView, out: DramView) -> None:
    b = fl.b
    N, C, H, W = x.shape
    OH, OW = out.shape[2:]
    g = _geometry(op, x.shape, out.shape)
    is_max = op.kind.data == "max"
    exclude = (not is_max and op.count_include_pad is not None
               and op.count_include_pad.value.data == 0 and (g.pt or g.pl or g.pb or g.pr))
    fill = float("-inf") if is_max else 0.0

    def fits(rb: int) -> bool:
        nin = g.rows_in(rb) * g.Wp
        extra = (nin + 2 * rb * OW) * 4 if exclude else 0
        return nin * x.itemsize + extra <= fl.budget.big and rb * OW * out.itemsize <= fl.budget.out

    rb = band_rows(g, 1, fits, fl.error)
    planes = N * C
    pp = balanced(planes, fl.target.partitions)
    nin = g.rows_in(rb) * g.Wp
    x_t = b.alloc(SbufType, pp, nin, x.element_type, "x_t")
    o_t = b.alloc(SbufType, pp, rb * OW, out.element_type, "o_t")
    masks = None
    if exclude:
        masks = (b.alloc(SbufType, pp, nin, f32, "mask_t"), b.alloc(SbufType, pp, rb * OW, f32, "rcount_t"),
                 b.alloc(SbufType, pp, rb * OW, f32, "sum_t"))
    for _, p0, pw in b.tiles(planes, pp):
        first = True
        for r0, nr, clean in bands(b, g, rb):
            load_band(b, g, x, x_t, pw, p0.scaled(H * W), r0, nr, clean, fill, first)
            first = False
            o_ap = ap(0, pw, 0, [[nr * OW, 1]])
            win = [[nr, g.sh * g.Wp], [OW, g.sw], [g.KH, g.dh * g.Wp], [g.KW, g.dw]]
            if masks is None:
                b.reduce("max" if is_max else "add", o_t, o_ap, x_t, ap(0, pw, 0, win), 2,
                         scale=None if is_max else 1.0 / (g.KH * g.KW))
            else:
                _average_in_bounds(fl, g, masks, x_t, o_t, o_ap, win, pw, nin, r0, nr, clean)
            b.dma(out.var, ap(0, pw, p0.scaled(OH * OW) + r0.scaled(OW), [[nr * OW, 1]], OH * OW),
                  o_t, o_ap)


def _average_in_bounds(fl: FunctionLowering, g: Geom, masks, x_t, o_t, o_ap, win, pw: int, nin: int,
                       r0, nr: int, clean: bool) -> None:
    """Divide by the in-bounds count: pool a 0/1 mask of the same band."""
    b = fl.b
    m_t, c_t, s_t = masks
    j_lo, j_hi = in_bounds_rows(g, r0, g.rows_in(nr), clean)
    b.memset(m_t, ap(0, pw, 0, [[nin, 1]]), 0.0)
    if j_hi > j_lo:
        b.memset(m_t, ap(0, pw, j_lo * g.Wp + g.pl, [[j_hi - j_lo, g.Wp], [g.W, 1]]), 1.0)
    b.reduce("add", c_t, o_ap, m_t, ap(0, pw, 0, win), 2)
    b.activation("reciprocal", c_t, o_ap, c_t, o_ap)
    b.reduce("add", s_t, o_ap, x_t, ap(0, pw, 0, win), 2)
    b.tensor_tensor("mul", o_t, o_ap, s_t, o_ap, c_t, o_ap)


def _pool_resident(fl: FunctionLowering, op: kt.Pool2dOp, x: SbufView, out: View) -> None:
    """One vector reduction per (image, channel tile, band) whose window pattern reads the
    stored (zero) padding directly, into a resident result or a band tile DMA'd to DRAM;
    when every channel tile's whole plane fits one result tile (a global pool), that
    tile goes to DRAM in one DMA per image instead of one per channel tile."""
    b = fl.b
    N, C, H, W = x.shape
    OH, OW = out.shape[2:]
    g = _geometry(op, x.shape, out.shape)
    is_max = op.kind.data == "max"
    o_res = isinstance(out, SbufView)
    Wx = x.Wp
    CT = cdiv(C, x.pc)
    whole = not o_res and CT * OH * OW * out.itemsize <= fl.budget.out
    if o_res:
        rb, o_t = OH, None
    elif whole:
        rb, o_t = OH, b.alloc(SbufType, x.pc, CT * OH * OW, out.element_type, "o_t")
    else:
        rb = band_rows(g, 1, lambda r: r * OW * out.itemsize <= fl.budget.out, fl.error)
        o_t = b.alloc(SbufType, x.pc, rb * OW, out.element_type, "o_t")
    for n, _, _ in b.tiles(N, 1):
        for ct, c0, cw in b.tiles(C, x.pc):
            xoff = x.base(ct, n) + (-g.pt * Wx - g.pl)
            for _, r0, nr in b.tiles(OH, rb):
                src = ap(0, cw, xoff + r0.scaled(g.sh * Wx), [[nr, g.sh * Wx], [OW, g.sw], [g.KH, g.dh * Wx], [g.KW, g.dw]])
                if o_res:
                    dst, dst_ap = out.tile, ap(0, cw, out.base(ct, n) + r0.scaled(out.Wp), [[nr, out.Wp], [OW, 1]])
                elif whole:
                    dst, dst_ap = o_t, ap(0, cw, ct.scaled(OH * OW), [[OH * OW, 1]])
                else:
                    dst, dst_ap = o_t, ap(0, cw, 0, [[nr * OW, 1]])
                b.reduce("max" if is_max else "add", dst, dst_ap, x.tile, src, 2,
                         scale=None if is_max else 1.0 / (g.KH * g.KW))
                if not o_res and not whole:
                    b.dma(out.var, ap(0, cw, (n.scaled(C) + c0).scaled(OH * OW) + r0.scaled(OW),
                                      [[nr * OW, 1]], OH * OW), o_t, dst_ap)
        if whole:
            _store_planes(fl, out, o_t, n, C, x.pc, OH * OW)


def _store_planes(fl: FunctionLowering, out: DramView, o_t: SSAValue, n: E, C: int, pc: int, plane: int) -> None:
    """Image ``n``'s result, channel tile ``ct`` at ``ct * plane`` of ``o_t``, to DRAM: the
    full channel tiles in one DMA, the partial last one in another."""
    CTf, Cr = divmod(C, pc)
    base = n.scaled(C * plane)
    if CTf:
        fl.b.dma(out.var, ap(0, pc, base, [[CTf, pc * plane], [plane, 1]], plane),
                 o_t, ap(0, pc, 0, [[CTf * plane, 1]]))
    if Cr:
        fl.b.dma(out.var, ap(0, Cr, base + CTf * pc * plane, [[plane, 1]], plane),
                 o_t, ap(0, Cr, CTf * plane, [[plane, 1]]))
