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
from .data_movement import ConcatFamily, copy
from .function import FunctionLowering
from .planning import FunctionPlan
from .utils import row_major_strides
from .views import SbufView, View, into_sbuf, sbuf_to_dram


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
                into_sbuf(fl.b, x, out, at)
            elif isinstance(x, SbufView):
                sbuf_to_dram(fl.b, x, out, at)
            else:
                strides = row_major_strides(out.shape)
                copy(fl, out.var, at * strides[0], strides, x.var, 0, row_major_strides(x.shape), x.shape)
            at += x.shape[0]
