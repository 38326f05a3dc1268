"""``ktensor-plan-bias-table``: one packed bias table per model, or each op's own bias DMAs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import decisions as d
from .ktensor_plan_fused_inputs import KtensorPlanFusedInputsPass
from .planning import FunctionPlan, PlanPass


@dataclass(frozen=True)
class KtensorPlanBiasTablePass(PlanPass):
    """One DMA for all the biases of the dense convs (a derived [partitions, columns]
    weight loaded once into a resident tile) when the cost model prices it below the
    ops' own bias DMAs (their fixed cost dominates). Records ``kaena.plan.bias_table``
    on each op that reads the table and ``kaena.plan.bias_table_bytes`` on the
    function: the SBUF bytes per partition residency keeps for it (twice the estimate:
    the resident layout may need narrower PSUM tiles, so more columns). Needs the
    module's weight store; matmul biases keep their own DMA (a model's last layers are
    where NEFF constants get edited in place, and the table would leave an edited bias
    unread)."""

    name: ClassVar[str] = "ktensor-plan-bias-table"
    stage: ClassVar[str] = "bias-table"
    after: ClassVar[type[PlanPass]] = KtensorPlanFusedInputsPass

    def plan(self, plan: FunctionPlan) -> None:
        families = [(op, plan.family(op)) for op in plan.ops]
        uses = [u for op, f in families if f is not None for u in f.bias_uses(op, plan)]
        if plan.store is None or not uses:
            return
        # ops reading one bias the same way (a split batch's samples) share its columns
        distinct: dict[object, list] = {}
        for op, f in families:
            if f is not None and (op_uses := f.bias_uses(op, plan)):
                distinct.setdefault((f.bias_weight(op) or id(op), tuple(op_uses)), op_uses)
        cols = sum(u[2] for op_uses in distinct.values() for u in op_uses)
        isz = max(u[3] for u in uses)  # the widest bias dtype: an upper bound of the table's bytes
        separate = sum(k * plan.cm.dma(nb // k) for nb, k, _, _ in uses)
        packed = plan.cm.dma(plan.target.partitions * cols * isz)
        if not packed < separate:
            return
        d.set_int(plan.fn, d.BIAS_TABLE_BYTES_ATTR, 2 * cols * isz)
        for op, f in families:
            name = f.bias_weight(op) if f is not None else None
            if name is not None and name in plan.store:
                d.set_flag(op, d.BIAS_TABLE_ATTR)
