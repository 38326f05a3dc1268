"""``ktensor.softmax`` and ``ktensor.log_softmax`` on any axis: one row per
partition, the axis along the free dim (read with a strided access pattern
when it is not last: the inner index on partitions, an ``inf.loop`` over the
outer one), max / exp / sum on the vector and scalar engines over the whole
axis, then the reciprocal (softmax) or the log (log_softmax: ``(x - max) -
log(sum)``, exact without dividing)."""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects.builtin import f32
from xdsl.ir import Operation

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import AccessPatternAttr, SbufType, ap
from kaena.target.tiling import balanced

from .ktensor_plan_attention import in_attention
from .function import FunctionLowering
from .interface import OpFamily
from .utils import prod
from .views import DramView

# (x tile, the row pattern, the one-element-per-partition pattern) -> the result tile
RowBody = Callable[[object, AccessPatternAttr, AccessPatternAttr], object]


def _over_rows(fl: FunctionLowering, op: Operation, out: DramView, f32_tiles: int,
               alloc: Callable[[int, int], RowBody]) -> None:
    """Tile ``op``'s rows along its axis onto partitions and run ``body`` per tile:
    ``alloc(partitions, L)`` allocates the op's tiles and returns the body."""
    b = fl.b
    x = fl.view(op.input)
    if not isinstance(x, DramView) or not isinstance(out, DramView):
        raise fl.error("softmax operands and result must live in DRAM")
    axis = op.axis.value.data
    shape = x.shape
    outer, L, inner = prod(shape[:axis]), shape[axis], prod(shape[axis + 1:])
    if L * (x.itemsize + 4 * f32_tiles + out.itemsize) > fl.budget.big:
        raise fl.error(f"a softmax over {L} elements does not fit in one SBUF partition")
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
            y_t = body(x_t, row, one)
            b.dma(out.var, ap(0, pw, off, [[L, fstride]], pstride), y_t, row)


def softmax_rows(b, x_t, tiles, row: AccessPatternAttr, one: AccessPatternAttr) -> None:
    """``y = exp(x - max) * (1 / sum)`` over the free dim of each row of ``x_t``: max and
    sums on the vector engine, exp and the reciprocal on the scalar engine; ``tiles`` =
    (exp f32, max, sum, y in the result dtype). Shared with ``attention.py``."""
    e_t, m_t, s_t, y_t = tiles
    b.reduce("max", m_t, one, x_t, row, 1)
    b.tensor_scalar("sub", e_t, row, x_t, row, m_t, one)
    b.activation("exp", e_t, row, e_t, row)
    b.reduce("add", s_t, one, e_t, row, 1)
    b.activation("reciprocal", s_t, one, s_t, one)
    b.tensor_scalar("mul", y_t, row, e_t, row, s_t, one)


class SoftmaxFamily(OpFamily):
    op_types = (kt.SoftmaxOp,)

    def lower(self, fl: FunctionLowering, op: kt.SoftmaxOp) -> None:
        if in_attention(fl.plan, op):
            return  # the fused attention of the scores' batch_matmul does it
        super().lower(fl, op)

    def fuses_cast(self, op: kt.SoftmaxOp) -> bool:
        return True  # the last step, e * (1 / sum), rounds once to the result dtype

    def emit(self, fl: FunctionLowering, op: kt.SoftmaxOp, out: DramView) -> None:
        b = fl.b

        def alloc(pp: int, L: int) -> RowBody:
            e_t = b.alloc(SbufType, pp, L, f32, "e_t")
            m_t = b.alloc(SbufType, pp, 1, f32, "max_t")
            s_t = b.alloc(SbufType, pp, 1, f32, "sum_t")
            y_t = b.alloc(SbufType, pp, L, out.element_type, "y_t")

            def body(x_t, row, one):
                softmax_rows(b, x_t, (e_t, m_t, s_t, y_t), row, one)
                return y_t

            return body

        _over_rows(fl, op, out, 1, alloc)


class LogSoftmaxFamily(OpFamily):
    op_types = (kt.LogSoftmaxOp,)

    def emit(self, fl: FunctionLowering, op: kt.LogSoftmaxOp, out: DramView) -> None:
        b = fl.b

        def alloc(pp: int, L: int) -> RowBody:
            c_t = b.alloc(SbufType, pp, L, f32, "xc_t")
            e_t = b.alloc(SbufType, pp, L, f32, "e_t")
            m_t = b.alloc(SbufType, pp, 1, f32, "max_t")
            s_t = b.alloc(SbufType, pp, 1, f32, "lse_t")
            y_t = b.alloc(SbufType, pp, L, out.element_type, "y_t")

            def body(x_t, row, one):
                b.reduce("max", m_t, one, x_t, row, 1)
                b.tensor_scalar("sub", c_t, row, x_t, row, m_t, one)
                b.activation("exp", e_t, row, c_t, row)
                b.reduce("add", s_t, one, e_t, row, 1)
                b.activation("log", s_t, one, s_t, one)
                b.tensor_scalar("sub", y_t, row, c_t, row, s_t, one)
                return y_t

            return body

        _over_rows(fl, op, out, 2, alloc)
