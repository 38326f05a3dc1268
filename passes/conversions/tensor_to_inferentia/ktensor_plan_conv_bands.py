"""``ktensor-plan-conv-bands``: band heights, band buffers and PSUM rotation of the dense convs,
rows per partition of the softmaxes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kaena.dialects import ktensor as kt

from . import decisions as d
from .dense_conv_plan import is_depthwise, plan_shared_rows
from .depthwise_split import plan_split
from .ktensor_plan_residency import KtensorPlanResidencyPass
from .planning import FunctionPlan, PlanPass


@dataclass(frozen=True)
class KtensorPlanConvBandsPass(PlanPass):
    """Record ``kaena.plan.band_rows``, ``kaena.plan.band_buffers`` and
    ``kaena.plan.psum_buffers`` on each op whose family plans bands (dense convs),
    and ``kaena.plan.vector_tiles`` / ``kaena.plan.vector_rows`` on each depthwise conv on the PE array whose input
    and result are resident (the channel tiles and rows ``CostModel.depthwise_split`` gives the vector
    engine, ``depthwise_split``):
    reading DRAM, the band height and 1 or 2 input/result buffers that
    ``CostModel.band_loop`` prices lowest among those fitting the per-op SBUF shares;
    reading a resident input, the tallest band whose tiles fit; and the PSUM buffer
    count ``CostModel.buffer_count`` prices fastest; and ``kaena.plan.row_group`` on each
    softmax over its last axis (``softmax.plan_row_group``); and ``kaena.plan.shared_rows`` on
    a folded conv doing its input cast whose input rows its kernel rows share, when the cost
    model prices staging each row once lower (``dense_conv_plan.plan_shared_rows``). Needs the residency plan (a
    resident operand has no band tiles). A plan already recorded is kept."""

    name: ClassVar[str] = "ktensor-plan-conv-bands"
    stage: ClassVar[str] = "conv-bands"
    after: ClassVar[type[PlanPass]] = KtensorPlanResidencyPass

    def plan(self, plan: FunctionPlan) -> None:
        names = (d.BAND_ROWS_ATTR, d.BAND_BUFFERS_ATTR, d.PSUM_BUFFERS_ATTR)
        for op in plan.ops:
            if isinstance(op, kt.Conv2dOp) and is_depthwise(op) and plan.engine(op) == "pe":
                plan_split(op, plan)
            elif isinstance(op, kt.Conv2dOp) and not is_depthwise(op):
                plan_shared_rows(op, plan)
            family = plan.family(op)
            if family is not None and d.get_int(op, d.ROW_GROUP_ATTR) is None:
                group = family.row_group(op, plan)
                if group is not None:
                    d.set_int(op, d.ROW_GROUP_ATTR, group)
            if family is None or all(d.get_int(op, n) is not None for n in names):
                continue
            bands = family.band_plan(op, plan)
            if bands is not None:
                for n, v in zip(names, bands):
                    d.set_int(op, n, v)
