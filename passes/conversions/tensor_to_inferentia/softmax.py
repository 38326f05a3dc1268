"""``ktensor.softmax``: one row per partition, max / exp / sum / reciprocal on the
vector and scalar engines over the whole axis."""

from __future__ import annotations

from xdsl.dialects.builtin import f32

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import SbufType, ap
from kaena.target.tiling import balanced

from .function import FunctionLowering
from .interface import OpFamily
from .utils import prod
from .views import DramView


class SoftmaxFamily(OpFamily):
    op_types = (kt.SoftmaxOp,)

    def emit(self, fl: FunctionLowering, op: kt.SoftmaxOp, out: DramView) -> None:
        b = fl.b
        x = fl.view(op.input)
        axis = op.axis.value.data
        shape = x.shape
        outer, L, inner = prod(shape[:axis]), shape[axis], prod(shape[axis + 1:])
        if L * (x.itemsize + 4 + out.itemsize) > fl.budget.big:
            raise fl.error(f"a softmax over {L} elements does not fit in one SBUF partition")
        # rows on partitions: the inner index when the axis is not last, else the outer one
        if inner > 1:
            loop_n, loop_s, rows, pstride, fstride = outer, L * inner, inner, 1, inner
        else:
            loop_n, loop_s, rows, pstride, fstride = 1, 0, outer, L, 1
        pp = balanced(rows, fl.target.partitions)
        x_t = b.alloc(SbufType, pp, L, x.element_type, "x_t")
        e_t = b.alloc(SbufType, pp, L, f32, "e_t")
        m_t = b.alloc(SbufType, pp, 1, f32, "max_t")
        s_t = b.alloc(SbufType, pp, 1, f32, "sum_t")
        y_t = b.alloc(SbufType, pp, L, out.element_type, "y_t")
        for o, _, _ in b.tiles(loop_n, 1):
            for _, p0, pw in b.tiles(rows, pp):
                off = o.scaled(loop_s) + p0.scaled(pstride)
                row, one = ap(0, pw, 0, [[L, 1]]), ap(0, pw, 0, [[1, 1]])
                b.dma(x_t, row, x.var, ap(0, pw, off, [[L, fstride]], pstride))
                b.reduce("max", m_t, one, x_t, row, 1)
                b.tensor_scalar("sub", e_t, row, x_t, row, m_t, one)
                b.activation("exp", e_t, row, e_t, row)
                b.reduce("add", s_t, one, e_t, row, 1)
                b.activation("reciprocal", s_t, one, s_t, one)
                b.tensor_scalar("mul", y_t, row, e_t, row, s_t, one)
                b.dma(out.var, ap(0, pw, off, [[L, fstride]], pstride), y_t, row)
