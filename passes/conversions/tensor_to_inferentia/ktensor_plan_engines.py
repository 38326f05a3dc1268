"""``ktensor-plan-engines``: where each depthwise convolution runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kaena.dialects import ktensor as kt

from . import decisions as d
from .dense_conv_plan import is_depthwise
from .depthwise_conv import choose_engine, choose_psum_buffers, choose_psum_group, pe_applies
from .planning import FunctionPlan, PlanPass


@dataclass(frozen=True)
class KtensorPlanEnginesPass(PlanPass):
    """Record ``kaena.plan.engine`` on each depthwise conv: the engine
    ``CostModel.depthwise_conv`` prices lower (``pe`` or ``vector``), and on the PE
    array ``kaena.plan.psum_group``, the row chunks sharing one stationary load, and
    ``kaena.plan.psum_buffers = 2`` when two result slots of those fit in PSUM. An
    engine already recorded (by hand) is kept."""

    name: ClassVar[str] = "ktensor-plan-engines"
    stage: ClassVar[str] = "engines"

    def plan(self, plan: FunctionPlan) -> None:
        for op in plan.ops:
            if not isinstance(op, kt.Conv2dOp) or not is_depthwise(op):
                continue
            engine = d.get_str(op, d.ENGINE_ATTR)
            if engine is None:
                engine = choose_engine(op, plan)
                d.set_str(op, d.ENGINE_ATTR, engine)
            elif engine not in d.ENGINES or (engine == "pe" and not pe_applies(op)):
                raise plan.error(op, f'{d.ENGINE_ATTR} = "{engine}" is not possible here '
                                     "(pe needs one output per input channel; engines: pe, vector)")
            if engine == "pe" and d.get_int(op, d.PSUM_GROUP_ATTR) is None:
                d.set_int(op, d.PSUM_GROUP_ATTR, choose_psum_group(op, plan))
                if choose_psum_buffers(op, plan, d.get_int(op, d.PSUM_GROUP_ATTR)) == 2:
                    d.set_int(op, d.PSUM_BUFFERS_ATTR, 2)
