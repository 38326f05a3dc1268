"""``ktensor-plan-matmul-streams``: how a matmul streams its weights in and its result out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kaena.dialects import ktensor as kt
from kaena.passes.transforms.ktensor.ktensor_partition_pipeline import working_set
from kaena.target.tiling import pinned_weight_budget

from . import decisions as d
from .ktensor_plan_attention import KtensorPlanAttentionPass
from .matmul_tiles import streamable
from .planning import FunctionPlan, PlanPass, itemsize
from kaena.target.tiling import cdiv


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
    tiles fit the SBUF headroom (``head_tiles.head_tile_fits``). Decisions written by hand are checked.

    In a pipeline stage (``kaena.pipeline`` on the module) the matmuls whose weights fill the
    stage's pin budget (``tiling.pinned_weight_budget``: the SBUF the values and tiles live at
    one op may take, less the stage's working set), largest first, get no
    ``weight_blocks``: one DMA into one tile, which ``inf-allocate-sram`` pins (largest first
    too) so that it is loaded once at model load, not streamed per inference in blocks it
    cannot pin. A weight
    streamed there in more than 2 blocks gets ``kaena.plan.weight_slots = 2``: its blocks
    alternate between two block slots instead of filling a tile of the whole weight, which
    leaves the stage's SBUF to the pinned weights."""

    name: ClassVar[str] = "ktensor-plan-matmul-streams"
    stage: ClassVar[str] = "matmul-streams"
    after: ClassVar[type[PlanPass]] = KtensorPlanAttentionPass

    def plan(self, plan: FunctionPlan) -> None:
        pinned = pinned_matmuls(plan) if plan.pipelined else set()
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
            if op in pinned:  # loaded once by one DMA: inf-allocate-sram pins it
                continue
            if d.WEIGHT_BLOCKS_ATTR not in op.attributes:
                n = family.weight_blocks(op, plan)
                if n > 1:
                    d.set_int(op, d.WEIGHT_BLOCKS_ATTR, n)
                if plan.pipelined and n > 2 and d.WEIGHT_SLOTS_ATTR not in op.attributes:
                    d.set_int(op, d.WEIGHT_SLOTS_ATTR, 2)



def pinned_matmuls(plan: FunctionPlan) -> set:
    """The matmuls of a pipeline stage whose weight tiles fill its pin budget, largest first
    (program order on a tie): the most weight bytes loaded once rather than per inference.
    The budget leaves the stage's working set free (``working_set``), as the partitioner
    priced the stage's resident weights."""
    sized = [(n, i, op) for i, op in enumerate(plan.ops)
             if not plan.is_absorbed(op) and (n := weight_bytes_per_partition(op, plan)) is not None]
    left = pinned_weight_budget(plan.target, working_set(plan.ops, plan.target.partitions))
    chosen = set()
    for n, _, op in sorted(sized, key=lambda s: (-s[0], s[1])):
        if n <= left:
            left -= n
            chosen.add(op)
    return chosen


def weight_bytes_per_partition(op, plan: FunctionPlan) -> int | None:
    """Bytes per SBUF partition of the one weight tile of a matmul with streamable weights
    (``[K partitions, (kt, N)]``) that no decision written by hand splits; None otherwise."""
    if not isinstance(op, kt.MatmulOp) or not isinstance(op.rhs.owner, kt.WeightOp) \
            or d.WEIGHT_BLOCKS_ATTR in op.attributes or not streamable(plan, op):
        return None
    K, N = op.rhs.type.get_shape()[-2:]
    return cdiv(K, plan.target.partitions) * N * itemsize(op.rhs.type.element_type)
