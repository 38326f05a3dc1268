"""``ktensor-plan-residual-adds``: which convs add their block's skip on their PSUM drain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.ir import Operation

from kaena.passes.transforms.ktensor.residual_adds import in_place_residual

from . import decisions as d
from .ktensor_plan_matmul_streams import KtensorPlanMatmulStreamsPass
from .planning import FunctionPlan, PlanPass


@dataclass(frozen=True)
class KtensorPlanResidualAddsPass(PlanPass):
    """Record ``kaena.plan.residual_add`` on a dense conv whose only reader is ``skip +
    conv`` (a residual block's end) when the add is the skip's last reader
    (``residual_adds.py``) and the conv's family can do it (``adds_residual``): its drain
    adds each PSUM tile to the skip's tile, then applies the bias and the add's activation
    over it, so the conv's result is never stored and the sum takes the skip's place
    (``ktensor-plan-residency`` keeps the two together); an add writing a narrower cast
    (``kaena.plan.fuse_cast``) has the drain round the sum into the cast's own place. A
    ResNet block stores two values of its output's size at its end instead of three, and
    the add's pass over SBUF or DRAM is gone. Neither side may be written straight into a
    function output. A decision written by hand is checked."""

    name: ClassVar[str] = "ktensor-plan-residual-adds"
    stage: ClassVar[str] = "residual-adds"
    after: ClassVar[type[PlanPass]] = KtensorPlanMatmulStreamsPass

    def plan(self, plan: FunctionPlan) -> None:
        fused: dict[Operation, Operation] = {}
        for op in plan.ops:
            if plan.is_absorbed(op):
                continue
            pair = in_place_residual(op, plan.order)
            if pair is None:
                continue
            conv, skip = pair
            family = plan.family(conv)
            if (family is not None and not plan.is_absorbed(conv) and family.adds_residual(conv, plan)
                    and skip not in plan.direct and op.results[0] not in plan.direct):
                fused[conv] = op
        for op in plan.ops:
            if d.has_flag(op, d.RESIDUAL_ADD_ATTR) and op not in fused:
                raise plan.error(op, f"{d.RESIDUAL_ADD_ATTR} needs a dense conv with no activation whose "
                                     "only reader adds a skip that nothing reads after it, neither "
                                     "written straight into a function output")
        for conv in fused:
            d.set_flag(conv, d.RESIDUAL_ADD_ATTR)
        if fused:
            plan.forget_absorbed()
