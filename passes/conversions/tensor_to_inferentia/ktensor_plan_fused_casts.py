"""``ktensor-plan-fused-casts``: which producers write their cast's result directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kaena.dialects import ktensor as kt

from . import decisions as d
from .ktensor_plan_engines import KtensorPlanEnginesPass
from .planning import FunctionPlan, PlanPass


@dataclass(frozen=True)
class KtensorPlanFusedCastsPass(PlanPass):
    """Record ``kaena.plan.fuse_cast`` on an op whose result's single user is a
    ``ktensor.cast`` it can write directly: its family says its last step is one
    rounding to the output dtype, so rounding once to the cast's dtype gives the
    same numbers without the round trip. A result written into a function output
    is not fused. A decision written by hand is checked."""

    name: ClassVar[str] = "ktensor-plan-fused-casts"
    stage: ClassVar[str] = "fused-casts"
    after: ClassVar[type[PlanPass]] = KtensorPlanEnginesPass

    def plan(self, plan: FunctionPlan) -> None:
        for op in plan.ops:
            family = plan.family(op)
            if family is None or plan.is_absorbed(op):
                continue
            fusable = _writes_a_cast(op, plan) and family.fuses_cast(op)
            if d.has_flag(op, d.FUSE_CAST_ATTR) and not fusable:
                raise plan.error(op, f"{d.FUSE_CAST_ATTR} needs a single user ktensor.cast this op can "
                                     "write directly")
            if fusable:
                d.set_flag(op, d.FUSE_CAST_ATTR)


def _writes_a_cast(op, plan: FunctionPlan) -> bool:
    """Whether ``op``'s result feeds only a ``ktensor.cast`` (and no function output)."""
    res = op.results[0]
    if res in plan.direct or not res.has_one_use():
        return False
    return isinstance(next(iter(res.uses)).operation, kt.CastOp)
