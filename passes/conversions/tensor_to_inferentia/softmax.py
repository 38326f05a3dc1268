"""``ktensor.softmax`` and ``ktensor.log_softmax`` on any axis: rows on partitions, the
axis along the free dim (read with a strided access pattern when it is not last: the
inner index on partitions, an ``inf.loop`` over the outer one), max / exp / sum on the
vector and scalar engines over the whole axis, then the reciprocal (softmax) or the log
(log_softmax: ``(x - max) - log(sum)``, exact without dividing).

Over the last axis a partition holds ``kaena.plan.row_group`` consecutive rows (planned
by ``ktensor-plan-conv-bands``, ``plan_row_group``): one DMA moves ``partitions x
row_group`` rows (contiguous per partition) and the per-row max and sum broadcast along
the row with a stride-0 operand, so a softmax over a short axis (SSD's 21 classes) is a
few large DMAs instead of one per 128 rows."""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects.builtin import f32
from xdsl.ir import Operation, SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import AccessPatternAttr, SbufType, ap
from kaena.target.tiling import balanced, cdiv

from . import decisions as d
from .ktensor_plan_attention import in_attention
from .function import FunctionLowering
from .interface import OpFamily
from .planning import FunctionPlan, itemsize
from .utils import coalesce, ints, prod, row_major_strides
from .views import DramView

# (x tile, the row pattern, the one-element-per-row pattern, the per-row value broadcast
# along the row: None when a partition holds one row) -> the result tile
RowBody = Callable[[object, AccessPatternAttr, AccessPatternAttr, AccessPatternAttr | None], object]


def _row_bytes(op: Operation, L: int, f32_tiles: int) -> int:
    """SBUF bytes per partition of one row of ``op``'s tiles (input, f32 scratch, result)."""
    x_isz = itemsize(op.input.type.element_type)
    return L * (x_isz + 4 * f32_tiles + itemsize(op.results[0].type.element_type))


def _segments(R: int, P: int, G: int) -> list[tuple[int, int, int]]:
    """(chunks, partitions, rows per partition) covering ``R`` rows: full chunks of
    ``P x G`` rows, then the remainder's whole rows per partition, then one row per partition."""
    full, rem = divmod(R, P * G)
    segs = [(full, P, G)] if full else []
    if rem >= P:
        segs.append((1, P, rem // P))
        rem %= P
    if rem:
        segs.append((1, rem, 1))
    return segs


def _f32_tiles(op: Operation) -> int:
    return 2 if isinstance(op, kt.LogSoftmaxOp) else 1


def plan_row_group(op: Operation, plan: FunctionPlan) -> int | None:
    """The rows per partition of a softmax over its last axis that ``CostModel.band_loop``
    prices lowest (one input DMA, the max / exp / sum / scale chain, one result DMA per
    chunk, one buffer) among those whose tiles fit the op's SBUF share; None when the
    axis is not last."""
    shape = tuple(op.input.type.get_shape())
    axis = op.axis.value.data
    if prod(shape[axis + 1:]) > 1:
        return None
    cm, P = plan.cm, plan.target.partitions
    R, L = prod(shape[:axis]), shape[axis]
    x_isz, y_isz = itemsize(op.input.type.element_type), itemsize(op.results[0].type.element_type)
    most = max(1, min(plan.budget.big // _row_bytes(op, L, _f32_tiles(op)), R // P))

    def cost(G: int) -> int:
        loads, computes, stores = [], [], []
        for chunks, pp, g in _segments(R, P, G):
            n = g * L
            two = 2 if g > 1 else 1  # the broadcast operand is a second input
            comp = (cm.vector(n) + cm.vector(n, two) + cm.activation(n) + cm.vector(n)
                    + cm.activation(g) + cm.vector(n, two))
            loads += [cm.dma(pp * n * x_isz)] * chunks
            computes += [comp] * chunks
            stores += [cm.dma(pp * n * y_isz)] * chunks
        return cm.band_loop(loads, computes, stores, 1)

    rows = cdiv(R, P)
    candidates = {min(most, cdiv(rows, k)) for k in range(1, min(rows, 64) + 1)} | {1}
    return min(sorted(candidates, reverse=True), key=cost)


def _over_rows(fl: FunctionLowering, op: Operation, out: DramView, f32_tiles: int,
               alloc: Callable[[int, int], RowBody]) -> None:
    """Tile ``op``'s rows along its axis onto partitions and run ``body`` per tile:
    ``alloc(partitions, free)`` allocates the op's tiles and returns the body."""
    b = fl.b
    x = fl.view(op.input) if not d.has_flag(op, d.FUSE_INPUT_ATTR) else None
    if not isinstance(x, DramView | None) or not isinstance(out, DramView):
        raise fl.error("softmax operands and result must live in DRAM")
    axis = op.axis.value.data
    shape = tuple(op.input.type.get_shape())
    outer, L, inner = prod(shape[:axis]), shape[axis], prod(shape[axis + 1:])
    if _row_bytes(op, L, f32_tiles) > fl.budget.big:
        raise fl.error(f"a softmax over {L} elements does not fit in one SBUF partition")
    group = d.get_int(op, d.ROW_GROUP_ATTR) or 1
    if d.has_flag(op, d.FUSE_INPUT_ATTR):
        _over_concat(fl, op, out, L, group, alloc)
        return
    if inner == 1 and group > 1:
        _over_grouped_rows(fl, op, x, out, outer, L, group, alloc)
        return
    # rows on partitions: the inner index when the axis is not last, else the outer one
    if inner > 1:
        loop_n, loop_s, rows, pstride, fstride = outer, L * inner, inner, 1, inner
    else:
        loop_n, loop_s, rows, pstride, fstride = 1, 0, outer, L, 1
    pp = balanced(rows, fl.target.partitions)
    x_t = b.alloc(SbufType, pp, L, x.element_type, "x_t")
    body = alloc(pp, L)
    for o, _, _ in b.tiles(loop_n, 1):
        for _, p0, pw in b.tiles(rows, pp):
            off = o.scaled(loop_s) + p0.scaled(pstride)
            row, one = ap(0, pw, 0, [[L, 1]]), ap(0, pw, 0, [[1, 1]])
            b.dma(x_t, row, x.var, ap(0, pw, off, [[L, fstride]], pstride))
            y_t = body(x_t, row, one, None)
            b.dma(out.var, ap(0, pw, off, [[L, fstride]], pstride), y_t, row)


def _over_grouped_rows(fl: FunctionLowering, op: Operation, x: DramView, out: DramView, R: int, L: int,
                       G: int, alloc: Callable[[int, int], RowBody]) -> None:
    """Rows over the last axis, ``G`` consecutive ones per partition (``_segments``)."""
    b, P = fl.b, fl.target.partitions
    segs = _segments(R, P, G)
    pmax, gmax = max(s[1] for s in segs), max(s[2] for s in segs)
    x_t = b.alloc(SbufType, pmax, gmax * L, x.element_type, "x_t")
    body = alloc(pmax, gmax * L)
    start = 0
    for chunks, pp, g in segs:
        n = g * L
        for c, _, _ in b.tiles(chunks, 1):
            off = c.scaled(pp * n) + start
            src = ap(0, pp, off, [[n, 1]], n)
            row, one, bcast = row_views(pp, g, L)
            b.dma(x_t, ap(0, pp, 0, [[n, 1]]), x.var, src)
            y_t = body(x_t, row, one, bcast)
            b.dma(out.var, src, y_t, ap(0, pp, 0, [[n, 1]]))
        start += chunks * pp * n


# one operand of a concat a softmax reads itself: (value, units, unit stride, channel stride,
# rows per unit); a unit is ``rows per unit`` consecutive rows (a pixel of a transposed NCHW
# head: its C = rows x L channels), element (unit u, channel c) at u * unit stride + c * channel stride
Source = tuple[SSAValue, int, int, int, int]


def fused_sources(plan: FunctionPlan, op: Operation) -> list[Source] | None:
    """How a softmax over its last axis reads its input's producer, a concat of rows (the
    slots contiguous: nothing but unit dims before the concat axis), operand by operand:
    a plain operand row after row, one the concat reads through a transpose
    (``kaena.plan.fuse_transposes``) from the transpose's input, a pixel (the transposed
    last dim, a multiple of the axis) at a time; None when it cannot."""
    cat = op.input.owner
    shape = tuple(op.input.type.get_shape())
    axis = op.axis.value.data
    if not isinstance(cat, kt.ConcatOp) or axis != len(shape) - 1:
        return None
    cat_axis, L = cat.axis.value.data, shape[-1]
    if cat_axis >= axis or prod(shape[:cat_axis]) != 1:
        return None
    chains = plan.read_through(cat) if d.has_flag(cat, d.FUSE_TRANSPOSES_ATTR) else [None] * len(cat.operands)
    out: list[Source] = []
    for v, chain in zip(cat.operands, chains):
        if chain is None:
            out.append((v, prod(v.type.get_shape()) // L, L, 1, 1))
            continue
        t = chain[0]
        T = tuple(t.results[0].type.get_shape())
        xs = row_major_strides(t.input.type.get_shape())
        sT = [xs[q] for q in ints(t.perm)]
        C = T[-1]
        dims, (ss,) = coalesce(T[cat_axis:-1], [sT[cat_axis:-1]])
        if C % L or len(dims) > 1:
            return None
        out.append((t.input, dims[0] if dims else 1, ss[0] if dims else 0, sT[-1], C // L))
    return out


def _over_concat(fl: FunctionLowering, op: Operation, out: DramView, L: int, G: int,
                 alloc: Callable[[int, int], RowBody]) -> None:
    """A softmax that reads its concat's operands itself (``fused_sources``): per operand,
    chunks of ``partitions x units`` units (about ``G`` rows per partition), the result
    rows stored contiguously into the operand's slot."""
    b, P = fl.b, fl.target.partitions
    sources = fused_sources(fl.plan, op)
    assert sources is not None, "kaena.plan.fuse_input on a softmax whose concat it cannot read"
    plans = [(src, _segments(units, P, max(1, G // A))) for src in sources
             for (_, units, _, _, A) in [src]]
    pmax = max(pp for _, segs in plans for _, pp, _ in segs)
    fmax = max(k * s[4] * L for s, segs in plans for _, _, k in segs)
    x_t = None
    body = None
    row0 = 0
    for (v, units, s_u, s_c, A), segs in plans:
        x = fl.view(v)
        if not isinstance(x, DramView):
            raise fl.error("a softmax reads its concat's operands from DRAM")
        if x_t is None:
            x_t = b.alloc(SbufType, pmax, fmax, x.element_type, "x_t")
            body = alloc(pmax, fmax)
        u0 = 0
        for chunks, pp, k in segs:
            g, n = k * A, k * A * L
            for c, _, _ in b.tiles(chunks, 1):
                src = ap(0, pp, c.scaled(pp * k * s_u) + u0 * s_u, [[k, s_u], [A * L, s_c]], k * s_u)
                dst = ap(0, pp, c.scaled(pp * n) + (row0 + u0 * A) * L, [[n, 1]], n)
                row, one, bcast = row_views(pp, g, L)
                b.dma(x_t, ap(0, pp, 0, [[n, 1]]), x.var, src)
                y_t = body(x_t, row, one, bcast)
                b.dma(out.var, dst, y_t, ap(0, pp, 0, [[n, 1]]))
            u0 += chunks * pp * k
        row0 += units * A


def row_views(pp: int, g: int, L: int):
    """(the rows, one value per row, that value broadcast along its row) of a tile holding
    ``g`` rows of ``L`` per partition on ``pp`` partitions (no broadcast view for one row)."""
    if g > 1:
        return ap(0, pp, 0, [[g, L], [L, 1]]), ap(0, pp, 0, [[g, 1]]), ap(0, pp, 0, [[g, 1], [L, 0]])
    return ap(0, pp, 0, [[L, 1]]), ap(0, pp, 0, [[1, 1]]), None


def _per_row(b, alu: str, out, row, inp, s_t, one, bcast) -> None:
    """``out = inp <alu> s`` with ``s`` one value per row: a per-partition scalar when a
    partition holds one row, else a stride-0 broadcast along each row."""
    if bcast is None:
        b.tensor_scalar(alu, out, row, inp, row, s_t, one)
    else:
        b.tensor_tensor(alu, out, row, inp, row, s_t, bcast)


def softmax_rows(b, x_t, tiles, row: AccessPatternAttr, one: AccessPatternAttr,
                 bcast: AccessPatternAttr | None = None) -> None:
    """``y = exp(x - max) * (1 / sum)`` over the innermost dim of each row of ``x_t``: max and
    sums on the vector engine, exp and the reciprocal on the scalar engine; ``tiles`` =
    (exp f32, max, sum, y in the result dtype). Shared with ``attention.py``."""
    e_t, m_t, s_t, y_t = tiles
    b.reduce("max", m_t, one, x_t, row, 1)
    _per_row(b, "sub", e_t, row, x_t, m_t, one, bcast)
    b.activation("exp", e_t, row, e_t, row)
    b.reduce("add", s_t, one, e_t, row, 1)
    b.activation("reciprocal", s_t, one, s_t, one)
    _per_row(b, "mul", y_t, row, e_t, s_t, one, bcast)


class _RowsFamily(OpFamily):
    def row_group(self, op: Operation, plan: FunctionPlan) -> int | None:
        return plan_row_group(op, plan)

    def fuses_input(self, op: Operation, plan: FunctionPlan) -> bool:
        return fused_sources(plan, op) is not None


class SoftmaxFamily(_RowsFamily):
    op_types = (kt.SoftmaxOp,)

    def lower(self, fl: FunctionLowering, op: kt.SoftmaxOp) -> None:
        if in_attention(fl.plan, op):
            return  # the fused attention of the scores' batch_matmul does it
        super().lower(fl, op)

    def row_group(self, op: Operation, plan: FunctionPlan) -> int | None:
        return None if in_attention(plan, op) else plan_row_group(op, plan)

    def fuses_input(self, op: Operation, plan: FunctionPlan) -> bool:
        return not in_attention(plan, op) and fused_sources(plan, op) is not None

    def fuses_cast(self, op: kt.SoftmaxOp) -> bool:
        return True  # the last step, e * (1 / sum), rounds once to the result dtype

    def emit(self, fl: FunctionLowering, op: kt.SoftmaxOp, out: DramView) -> None:
        b = fl.b

        def alloc(pp: int, n: int) -> RowBody:
            e_t = b.alloc(SbufType, pp, n, f32, "e_t")
            rows = max(1, n // op.input.type.get_shape()[op.axis.value.data])
            m_t = b.alloc(SbufType, pp, rows, f32, "max_t")
            s_t = b.alloc(SbufType, pp, rows, f32, "sum_t")
            y_t = b.alloc(SbufType, pp, n, out.element_type, "y_t")

            def body(x_t, row, one, bcast):
                softmax_rows(b, x_t, (e_t, m_t, s_t, y_t), row, one, bcast)
                return y_t

            return body

        _over_rows(fl, op, out, 1, alloc)


class LogSoftmaxFamily(_RowsFamily):
    op_types = (kt.LogSoftmaxOp,)

    def emit(self, fl: FunctionLowering, op: kt.LogSoftmaxOp, out: DramView) -> None:
        b = fl.b

        def alloc(pp: int, n: int) -> RowBody:
            c_t = b.alloc(SbufType, pp, n, f32, "xc_t")
            e_t = b.alloc(SbufType, pp, n, f32, "e_t")
            rows = max(1, n // op.input.type.get_shape()[op.axis.value.data])
            m_t = b.alloc(SbufType, pp, rows, f32, "max_t")
            s_t = b.alloc(SbufType, pp, rows, f32, "lse_t")
            y_t = b.alloc(SbufType, pp, n, out.element_type, "y_t")

            def body(x_t, row, one, bcast):
                b.reduce("max", m_t, one, x_t, row, 1)
                _per_row(b, "sub", c_t, row, x_t, m_t, one, bcast)
                b.activation("exp", e_t, row, c_t, row)
                b.reduce("add", s_t, one, e_t, row, 1)
                b.activation("log", s_t, one, s_t, one)
                _per_row(b, "sub", y_t, row, c_t, s_t, one, bcast)
                return y_t

            return body

        _over_rows(fl, op, out, 2, alloc)
