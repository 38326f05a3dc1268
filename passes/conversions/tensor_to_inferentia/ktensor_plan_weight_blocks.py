"""``ktensor-plan-weight-blocks``: how many column blocks a matmul streams its weights in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import decisions as d
from .ktensor_plan_attention import KtensorPlanAttentionPass
from .planning import FunctionPlan, PlanPass


@dataclass(frozen=True)
class KtensorPlanWeightBlocksPass(PlanPass):
    """Record ``kaena.plan.weight_blocks = n`` on a matmul whose weights are better loaded
    by ``n`` column-block DMAs, each block's output tiles computed as soon as it has landed,
    than by one DMA the PE array waits for in full: the queue then moves block i + 1 while
    the PE array does block i, and only the last block's compute is exposed. The family
    (``weight_blocks``) prices the counts with the cost model; more blocks cost one DMA's
    fixed latency each. A decision written by hand is checked at emission."""

    name: ClassVar[str] = "ktensor-plan-weight-blocks"
    stage: ClassVar[str] = "weight-blocks"
    after: ClassVar[type[PlanPass]] = KtensorPlanAttentionPass

    def plan(self, plan: FunctionPlan) -> None:
        for op in plan.ops:
            family = plan.family(op)
            if family is None or plan.is_absorbed(op) or d.WEIGHT_BLOCKS_ATTR in op.attributes:
                continue
            n = family.weight_blocks(op, plan)
            if n > 1:
                d.set_int(op, d.WEIGHT_BLOCKS_ATTR, n)
