"""``ktensor-plan-epilogues``: which ops a matmul's PSUM drain writes through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import decisions as d
from .ktensor_plan_fused_casts import KtensorPlanFusedCastsPass
from .planning import FunctionPlan, PlanPass


@dataclass(frozen=True)
class KtensorPlanEpiloguesPass(PlanPass):
    """Record ``kaena.plan.epilogue = n`` on a matmul whose next ``n`` single users its
    drain and result DMA can do instead (``epilogues.py``): a division or product by a
    constant and the add of a per-feature vector (``in * scale + bias`` on the scalar
    engine), reshapes and transposes (the result DMA writes the permuted layout, no
    DRAM-to-DRAM copy), a float cast (the drain rounds once to it). Each of those ops
    would otherwise read and write its whole tensor through DRAM. A decision written
    by hand is checked."""

    name: ClassVar[str] = "ktensor-plan-epilogues"
    stage: ClassVar[str] = "epilogues"
    after: ClassVar[type[PlanPass]] = KtensorPlanFusedCastsPass

    def plan(self, plan: FunctionPlan) -> None:
        for op in plan.ops:
            family = plan.family(op)
            if family is None or plan.is_absorbed(op) or plan.fused_cast(op) is not None:
                continue
            n = family.epilogue_length(op, plan)
            forced = d.get_int(op, d.EPILOGUE_ATTR)
            if forced is not None and not 0 <= forced <= n:
                raise plan.error(op, f"{d.EPILOGUE_ATTR} = {forced}, but its drain can write "
                                     f"through at most {n} of its next users")
            if forced is None and n:
                d.set_int(op, d.EPILOGUE_ATTR, n)
            if forced or n:
                plan.forget_absorbed()
