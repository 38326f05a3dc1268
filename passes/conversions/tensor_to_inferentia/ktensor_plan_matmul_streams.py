"""``ktensor-plan-matmul-streams``: how a matmul streams its weights in and its result out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import decisions as d
from .ktensor_plan_attention import KtensorPlanAttentionPass
from .planning import FunctionPlan, PlanPass


@dataclass(frozen=True)
class KtensorPlanMatmulStreamsPass(PlanPass):
    """Record ``kaena.plan.weight_blocks = n`` on a matmul whose weights are better loaded
    by ``n`` column-block DMAs, each block's output tiles computed as soon as it has landed,
    than by one DMA the PE array waits for in full: the queue then moves block i + 1 while
    the PE array does block i, and only the last block's compute is exposed. The family
    (``weight_blocks``) prices the counts with the cost model; more blocks cost one DMA's
    fixed latency each. And ``kaena.plan.chain`` on a matmul whose result only the next
    matmul reads, as its lhs (``matmul.chain_consumer``): the result stays in SBUF as that
    matmul's lhs^T tile, drained there in pairs of output tiles, and never goes through DRAM
    (the FFN's [S, 4H] intermediate: a write and a read of it saved). And
    ``kaena.plan.shared_lhs`` on a matmul that reads the lhs^T tile an earlier matmul loaded
    from the same value (``matmul.lhs_provider``: the Q, K and V projections of one layer
    input load it once). And ``kaena.plan.head_tile`` on a Q or K projection whose head-transposed
    result only a planned attention block reads (``head_tiles.head_tile_block``): its drain writes
    each head's features into the block's q^T or k tile in SBUF, no DRAM write and read back,
    when the cost model prices the saved DMAs above the narrower output tiles' PE time and the
    tiles fit the SBUF headroom (``head_tiles.head_tile_fits``). Decisions written by hand are checked."""

    name: ClassVar[str] = "ktensor-plan-matmul-streams"
    stage: ClassVar[str] = "matmul-streams"
    after: ClassVar[type[PlanPass]] = KtensorPlanAttentionPass

    def plan(self, plan: FunctionPlan) -> None:
        for op in plan.ops:
            family = plan.family(op)
            if family is None or plan.is_absorbed(op):
                continue
            chains = family.chains_output(op, plan)
            d.check_or_set_flag(op, d.CHAIN_ATTR, chains, chains, plan.error,
                                "its result is not the lhs of one matmul that can read it from SBUF")
            shares = family.shares_input(op, plan)  # after the chain flag, which it may read
            d.check_or_set_flag(op, d.SHARED_LHS_ATTR, shares, shares, plan.error,
                                "no earlier matmul loads the same lhs^T tile")
            head_ok = family.head_tile(op, plan)
            d.check_or_set_flag(op, d.HEAD_TILE_ATTR, head_ok, head_ok and family.head_tile_pays(op, plan), plan.error,
                                "its result is not the q, k or v of an attention block that can read it from SBUF")
            if d.WEIGHT_BLOCKS_ATTR not in op.attributes:
                n = family.weight_blocks(op, plan)
                if n > 1:
                    d.set_int(op, d.WEIGHT_BLOCKS_ATTR, n)

