"""``ktensor.concat`` along the batch of NCHW values: the samples a split batch
(``ktensor-split-batch``) computed one by one, joined for the layers that run on the
whole batch. Each sample is resident in SBUF or in DRAM on its own (a sample the
residency planner spills must not pull the batch out of SBUF): a resident result
takes resident samples by one scalar-engine copy per channel tile and DRAM samples by
DMA; a DRAM result takes resident samples by DMA and DRAM ones by the generic
concat's strided DMAs."""

from __future__ import annotations

from xdsl.ir import SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import ap

from .data_movement import ConcatFamily, copy
from .function import FunctionLowering
from .planning import FunctionPlan
from .utils import E, row_major_strides
from .views import DramView, SbufView, View


class BatchConcatFamily(ConcatFamily):
    op_types = (kt.ConcatOp,)

    def accepts(self, op: kt.ConcatOp, plan: FunctionPlan) -> bool:
        return op.axis.value.data == 0 and len(op.result.type.get_shape()) == 4

    def can_write_resident(self, op, plan: FunctionPlan) -> bool:
        return True

    def reads_through_transposes(self, op, plan: FunctionPlan) -> bool:
        return False

    def can_read_resident(self, op, value: SSAValue, plan: FunctionPlan) -> bool:
        return not plan.is_absorbed(op)

    def scratch_bytes(self, op, plan: FunctionPlan, resident: set[SSAValue]) -> int:
        return 0

    def emit(self, fl: FunctionLowering, op: kt.ConcatOp, out: View) -> None:
        at = 0
        for v in op.inputs:
            x = fl.view(v)
            if isinstance(out, SbufView):
                into_sbuf(fl, x, out, at)
            elif isinstance(x, SbufView):
                sbuf_to_dram(fl, x, out, at)
            else:
                strides = row_major_strides(out.shape)
                copy(fl, out.var, at * strides[0], strides, x.var, 0, row_major_strides(x.shape), x.shape)
            at += x.shape[0]


def _dram_plane(view: DramView, n: E, ct: E, pc: int, cw: int, padded_w: int | None):
    """The access pattern of channels [ct * pc, + cw) of image ``n`` of an NCHW DRAM value,
    one channel per row; ``padded_w`` splits the plane into rows to match a padded tile."""
    _, C, H, W = view.shape
    dims = [[H * W, 1]] if padded_w is None else [[H, W], [W, 1]]
    return ap(0, cw, (n.scaled(C) + ct.scaled(pc)).scaled(H * W), dims, H * W)


def into_sbuf(fl: FunctionLowering, x: View, out: SbufView, at: int) -> None:
    for n, _, _ in fl.b.tiles(x.shape[0], 1):
        for ct, _, cw in fl.b.tiles(x.shape[1], out.pc):
            dst = out.interior(0, cw, ct, n + E(at))
            if isinstance(x, SbufView):
                fl.b.activation("identity", out.tile, dst, x.tile, x.interior(0, cw, ct, n))
            else:
                padded = None if out.Wp == out.shape[3] else out.Wp
                fl.b.dma(out.tile, dst, x.var, _dram_plane(x, n, ct, out.pc, cw, padded))


def sbuf_to_dram(fl: FunctionLowering, x: SbufView, out: DramView, at: int) -> None:
    for n, _, _ in fl.b.tiles(x.shape[0], 1):
        for ct, _, cw in fl.b.tiles(x.shape[1], x.pc):
            padded = None if x.Wp == x.shape[3] else x.Wp
            fl.b.dma(out.var, _dram_plane(out, n + E(at), ct, x.pc, cw, padded), x.tile, x.interior(0, cw, ct, n))
