"""Indexing ops: ``ktensor.gather`` (embedding lookups by run-time ids), ``ktensor.slice``
and ``ktensor.broadcast`` (strided / stride-0 DRAM-to-DRAM DMAs).

gather: the ids are DMA'd into an int32 SBUF tile, one id per partition, up to
``target.partitions`` ids per step; one ``inf.dma_gather`` per step and column
chunk fetches the table rows into SBUF, one DMA writes them to the destination.
The steps are one ``inf.loop`` (``Builder.tiles``). An ids input that feeds a
gather directly gets ``kaena.valid_range = [0, V)``: the runtime refuses
out-of-vocabulary ids before the device faults on them.
"""

from __future__ import annotations

from xdsl.dialects.builtin import DenseArrayBase, i64
from xdsl.ir import SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import VALID_RANGE_ATTR, DramOp, SbufType, ap

from .data_movement import copy
from .function import FunctionLowering
from .interface import OpFamily
from .planning import FunctionPlan
from .utils import broadcast_strides, ints, prod, row_major_strides
from .views import DramView


def restrict_input_range(var: SSAValue, lo: int, hi: int) -> None:
    """Record on an ``inf.dram "input"`` that only [lo, hi) are valid (intersecting an earlier one)."""
    owner = var.owner
    if not isinstance(owner, DramOp) or owner.kind.data != "input":
        return
    old = owner.valid_range
    if old is not None:
        lo, hi = max(lo, old[0]), min(hi, old[1])
    owner.attributes[VALID_RANGE_ATTR] = DenseArrayBase.from_list(i64, [lo, hi])


class GatherFamily(OpFamily):
    op_types = (kt.GatherOp,)

    def scratch_bytes(self, op, plan: FunctionPlan, resident) -> int:
        return plan.budget.big

    def emit(self, fl: FunctionLowering, op: kt.GatherOp, out: DramView) -> None:
        b = fl.b
        table, idx = fl.view(op.table), fl.view(op.indices)
        if not isinstance(table, DramView) or not isinstance(idx, DramView) or not isinstance(out, DramView):
            raise fl.error("gather reads its table and ids from DRAM and writes DRAM")
        V = table.shape[0]
        D = prod(table.shape[1:])
        N = prod(idx.shape)
        if N == 0 or D == 0:
            return
        restrict_input_range(idx.var, 0, V)
        P = fl.target.partitions
        cap = max(1, fl.budget.big // max(1, table.itemsize))
        step = min(P, N)
        cols = min(D, cap)
        ids_t = b.alloc(SbufType, step, 1, idx.element_type, "ids_t")
        rows_t = b.alloc(SbufType, step, cols, table.element_type, "rows_t")
        for _, i0, n in b.tiles(N, step):
            b.dma(ids_t, ap(0, n, 0, [[1, 1]]), idx.var, ap(0, n, i0, [[1, 1]], 1))
            for _, c0, cw in b.tiles(D, cols):
                b.dma_gather(rows_t, ap(0, n, 0, [[cw, 1]]), table.var, ap(0, V, c0, [[cw, 1]], D),
                             ids_t, ap(0, n, 0, [[1, 1]]))
                b.dma(out.var, ap(0, n, i0.scaled(D) + c0, [[cw, 1]], D), rows_t, ap(0, n, 0, [[cw, 1]]))


class SliceFamily(OpFamily):
    """A static strided slice: one strided DRAM-to-DRAM copy."""

    op_types = (kt.SliceOp,)

    def scratch_bytes(self, op, plan: FunctionPlan, resident) -> int:
        return 0

    def emit(self, fl: FunctionLowering, op: kt.SliceOp, out: DramView) -> None:
        x = fl.view(op.input)
        if not isinstance(x, DramView) or not isinstance(out, DramView):
            raise fl.error("slice reads and writes DRAM")
        xs = row_major_strides(x.shape)
        offs, steps = ints(op.offsets), ints(op.strides)
        base = sum(o * s for o, s in zip(offs, xs))
        copy(fl, out.var, 0, row_major_strides(out.shape), x.var, base,
             [s * k for s, k in zip(xs, steps)], out.shape)


class BroadcastFamily(OpFamily):
    """Materialised broadcasting: a DRAM-to-DRAM copy whose source repeats with stride 0."""

    op_types = (kt.BroadcastOp,)

    def scratch_bytes(self, op, plan: FunctionPlan, resident) -> int:
        return 0

    def emit(self, fl: FunctionLowering, op: kt.BroadcastOp, out: DramView) -> None:
        x = fl.view(op.input)
        if not isinstance(x, DramView) or not isinstance(out, DramView):
            raise fl.error("broadcast reads and writes DRAM")
        copy(fl, out.var, 0, row_major_strides(out.shape), x.var, 0,
             broadcast_strides(x.shape, out.shape), out.shape)
