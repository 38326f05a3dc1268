"""``ktensor-plan-weight-prefetch``: which matmuls load their weights ahead of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import decisions as d
from .ktensor_plan_conv_bands import KtensorPlanConvBandsPass
from .ktensor_plan_matmul_streams import pinned_matmuls
from .ktensor_plan_residency import live_bytes, sbuf_limit
from .matmul import prefetch_anchors, prefetchable, weight_bytes, weight_loaders
from .matmul_tiles import planned_tiles
from .planning import FunctionPlan, PlanPass, itemsize


@dataclass(frozen=True)
class KtensorPlanWeightPrefetchPass(PlanPass):
    """Record ``kaena.plan.weight_prefetch = array<i64: ...>`` on a matmul whose weights
    (one tile) can load ahead of it: its K tiles issued just before the weight-loading
    ops ahead of it, on the in-order DMA queue that runs ahead of the compute (a classifier
    after a global pool otherwise loads its weights with nothing left to overlap). Walking
    back from the matmul, each such op takes the K tiles that cost the queue (``CostModel.dma``)
    no more than its own weights (at least one), while the weight tile fits in SBUF beside
    the resident values and tiles live at every op it spans; the earliest takes the rest.
    Not in a pipeline stage for a matmul whose weights it pins (``pinned_matmuls``): they load
    once at model load, and a load split into K-tile DMAs could not be pinned.
    Decisions written by hand are checked."""

    name: ClassVar[str] = "ktensor-plan-weight-prefetch"
    stage: ClassVar[str] = "weight-prefetch"
    after: ClassVar[type[PlanPass]] = KtensorPlanConvBandsPass

    def plan(self, plan: FunctionPlan) -> None:
        live, limit = live_bytes(plan), sbuf_limit(plan)
        pinned = pinned_matmuls(plan) if plan.pipelined else set()
        for op in plan.ops:
            if d.WEIGHT_PREFETCH_ATTR in op.attributes:
                spans = prefetch_anchors(plan, op)  # checks it
            elif prefetchable(plan, op) and op not in pinned:
                spans = _plan_prefetch(plan, op, live, limit)
                if spans:
                    d.set_ints(op, d.WEIGHT_PREFETCH_ATTR, tuple(n for _, n in spans))
            else:
                continue
            if spans:
                nbytes = _tile_bytes(plan, op)
                for i in range(plan.order[spans[0][0]], plan.order[op]):
                    live[i] += nbytes


def _tile_bytes(plan: FunctionPlan, op) -> int:
    return planned_tiles(plan, op).KT * op.rhs.type.get_shape()[-1] * itemsize(op.rhs.type.element_type)


def _plan_prefetch(plan: FunctionPlan, op, live: list[int], limit: int) -> list[tuple[object, int]]:
    tl = planned_tiles(plan, op)
    N = op.rhs.type.get_shape()[-1]
    nbytes = _tile_bytes(plan, op)
    tile_cycles = plan.cm.dma(tl.P * N * itemsize(op.rhs.type.element_type))  # one K tile's DMA
    spans: list[tuple[object, int]] = []
    left, end = tl.KT, plan.order[op]
    for anchor in reversed(weight_loaders(plan, op)):
        # beside what is live, room for one more op's big operand: the ring the allocator
        # rotates the next ops' tiles through must not be split below a tile's size
        if any(live[i] + nbytes + plan.budget.big > limit for i in range(plan.order[anchor], end)):
            break
        n = max(1, min(left, plan.cm.dma(weight_bytes(anchor)) // tile_cycles))
        spans.insert(0, (anchor, n))
        left -= n
        if not left:
            break
    if spans and left:
        spans[0] = (spans[0][0], spans[0][1] + left)
    return spans
