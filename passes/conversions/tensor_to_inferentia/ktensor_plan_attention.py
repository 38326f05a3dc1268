"""``ktensor-plan-attention``: which attention blocks lower as one loop nest in SBUF."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import ClassVar

from xdsl.dialects.builtin import f32
from xdsl.ir import Operation, SSAValue

from kaena.dialects import ktensor as kt

from . import decisions as d
from .epilogues import Epilogue, planned_epilogue
from .ktensor_plan_bias_table import KtensorPlanBiasTablePass
from .matmul_tiles import planned_tiles, streamable
from .planning import FunctionPlan, PlanPass, itemsize
from .utils import prod


@dataclass(frozen=True)
class AttentionBlock:
    """``softmax(q @ k * scale + mask) @ v`` as the IR spells it: the scores batch_matmul
    (its epilogue the scale and the per-key mask add), the softmax over keys (with its
    fused cast), the context batch_matmul reading the probabilities (its epilogue the
    head-merging layout and cast). Shapes: q [B, Lq, D], k [B, D, Lk], v [B, Lk, Dv]."""

    scores: kt.BatchMatmulOp
    scores_epilogue: Epilogue
    softmax: kt.SoftmaxOp
    context: kt.BatchMatmulOp
    context_epilogue: Epilogue
    B: int
    Lq: int
    Lk: int
    D: int
    Dv: int

    @property
    def members(self) -> tuple[Operation, ...]:
        """The ops the block's lowering emits besides the scores batch_matmul itself."""
        return (self.softmax, self.context)

    def sbuf_bytes(self, plan: FunctionPlan) -> int:
        """Bytes per partition of the block's tiles (q^T, k, v and the context^T of every
        head, one head's scores, exponentials, probabilities and their transpose, the mask,
        the identity)."""
        qk = itemsize(self.scores.lhs.type.element_type)
        pv = itemsize(self.context.lhs.type.element_type)
        out = itemsize(plan.materialized(self.context).type.element_type)
        heads = self.B * (self.Lq * qk + self.Lk * qk + self.Dv * pv + self.Lq * out)
        one = self.Lk * (4 + 4 + 4 + pv) + self.Lq * pv + 8 + plan.target.partitions * pv
        return heads + one

    def dma_cycles(self, plan: FunctionPlan) -> tuple[int, int]:
        """(fused, per-op) DMA queue cycles: fused, q, k, v in and the context out once for
        every head, the mask once; per op, each head's q^T, k and scores through DRAM, the
        softmax's read and write, each head's v, probabilities and context."""
        cm, B, Lq, Lk, D, Dv = plan.cm, self.B, self.Lq, self.Lk, self.D, self.Dv
        qk = itemsize(self.scores.lhs.type.element_type)
        pv = itemsize(self.context.lhs.type.element_type)
        out = itemsize(plan.materialized(self.context).type.element_type)
        mask = self.scores_epilogue.bias is not None
        fused = (cm.dma(B * Lq * D * qk) + cm.dma(B * D * Lk * qk) + cm.dma(B * Lk * Dv * pv)
                 + cm.dma(B * Lq * Dv * out) + (cm.dma(Lq * Lk * 4) if mask else 0))
        per_op = B * (cm.dma(Lq * D * qk) + cm.dma(D * Lk * qk) + 2 * cm.dma(Lq * Lk * 4)
                      + 2 * cm.dma(Lq * Lk * pv) + cm.dma(Lk * Dv * pv) + cm.dma(Lq * Dv * out)
                      + (cm.dma(Lk * 4) if mask else 0))
        return fused, per_op

    def head_compute(self, plan: FunctionPlan) -> int:
        """Engine cycles of one head, its instructions one after another (each waits for
        the one before): the scores and their drain, the mask add, the softmax, the
        probabilities' transpose and its drain, the context and its drain."""
        cm, Lq, Lk, D, Dv = plan.cm, self.Lq, self.Lk, self.D, self.Dv
        qk = str(self.scores.lhs.type.element_type)
        pv = str(self.context.lhs.type.element_type)
        mask = cm.vector(Lk, 2) if self.scores_epilogue.bias is not None else 0
        softmax = 2 * cm.vector(Lk) + cm.vector(Lk) + cm.activation(Lk) + cm.activation(1) + cm.vector(Lk)
        return (cm.gemm(K=D, M=Lq, N=Lk, dtype=qk).cycles + cm.activation(Lk) + mask + softmax
                + cm.gemm(K=Lq, M=Lk, N=Lq, dtype=pv).cycles + cm.activation(Lq)
                + cm.gemm(K=Lk, M=Dv, N=Lq, dtype=pv).cycles + cm.activation(Lq))

    def group_cycles(self, plan: FunctionPlan, groups: int) -> int:
        """Cycles from the block's first load to its context landing in DRAM when q, k, v
        load in ``groups`` groups of heads (three DMAs each, back to back on the queue),
        each group's heads computed once it has landed: ``CostModel.streamed`` plus the
        context's one write."""
        cm, B, Lq, Lk, D, Dv = plan.cm, self.B, self.Lq, self.Lk, self.D, self.Dv
        qk = itemsize(self.scores.lhs.type.element_type)
        pv = itemsize(self.context.lhs.type.element_type)
        out = itemsize(plan.materialized(self.context).type.element_type)
        h = B // groups
        load = cm.dma(h * Lq * D * qk) + cm.dma(h * D * Lk * qk) + cm.dma(h * Lk * Dv * pv)
        return cm.streamed(load, h * self.head_compute(plan), groups) + cm.dma(B * Lq * Dv * out)

    def group_counts(self, pairs: bool) -> tuple[int, ...]:
        """The head group counts the block can load in: divisors of the head count, leaving
        an even number of heads per group when its context is chained (heads in pairs)."""
        return tuple(g for g in range(1, self.B + 1) if self.B % g == 0 and not (pairs and (self.B // g) % 2))

    def head_groups(self, plan: FunctionPlan, pairs: bool = False) -> int:
        """The group count ``group_cycles`` prices fastest (the fewest on a tie)."""
        return min(self.group_counts(pairs), key=lambda g: (self.group_cycles(plan, g), g))


def planned_head_groups(plan: FunctionPlan, blk: AttentionBlock) -> int:
    """``kaena.plan.head_groups`` on the block's scores (1 when absent), checked."""
    if d.HEAD_GROUPS_ATTR not in blk.scores.attributes:
        return 1
    g = d.get_int(blk.scores, d.HEAD_GROUPS_ATTR)
    pairs = d.has_flag(blk.scores, d.CONTEXT_CHAIN_ATTR)
    if g not in blk.group_counts(pairs):
        raise plan.error(blk.scores, f"{d.HEAD_GROUPS_ATTR} = {g}, but the block has {blk.B} heads "
                                     "(the groups must divide them"
                                     + (", an even number each: its context is chained)" if pairs else ")"))
    return g


def context_consumer(plan: FunctionPlan, blk: AttentionBlock) -> kt.MatmulOp | None:
    """The matmul that can read ``blk``'s context^T straight from SBUF as its lhs^T tile, if
    one can: the context (through its epilogue: the head merge, reshapes, a cast) is a plain
    [Lq, heads x Dv] matrix only that matmul reads, as its lhs; it is ``streamable`` with
    whole K tiles of all partitions, 2 x Dv of them (a pair of heads per K tile, the odd head's
    context matmul writing PSUM partitions Dv.. ), an even head count."""
    t = plan.target
    v = plan.materialized(blk.context)
    if v in plan.direct or not v.has_one_use():
        return None
    user = next(iter(v.uses)).operation
    if not isinstance(user, kt.MatmulOp) or user.lhs is not v or user not in plan.order \
            or plan.fused_input(user) is not None or len(v.type.get_shape()) != 2 or not streamable(plan, user):
        return None
    B, Lq, Dv = blk.B, blk.Lq, blk.Dv
    lo = blk.context_epilogue.layout
    if tuple(v.type.get_shape()) != (Lq, B * Dv) or (lo.sb, lo.sm, lo.sd) != (Dv, B * Dv, 1):
        return None
    tu = planned_tiles(plan, user)
    if 2 * Dv != t.partitions or B % 2 or Dv not in t.psum_matmul_partition_starts \
            or tu.P != t.partitions or tu.Kr:
        return None
    return user


def planned_context_chain(plan: FunctionPlan, blk: AttentionBlock) -> Operation | None:
    """The matmul reading the block's context^T from SBUF (``kaena.plan.context_chain``), checked."""
    if not d.has_flag(blk.scores, d.CONTEXT_CHAIN_ATTR):
        return None
    user = context_consumer(plan, blk)
    if user is None:
        raise plan.error(blk.scores, f"{d.CONTEXT_CHAIN_ATTR} is set, but its context is not the lhs of one "
                                     "matmul that can read it from SBUF in pairs of heads")
    return user


def _single_user(plan: FunctionPlan, v: SSAValue) -> Operation | None:
    if v in plan.direct or not v.has_one_use():
        return None
    user = next(iter(v.uses)).operation
    return user if user in plan.order else None


def _plain_batch_matmul(op: Operation) -> bool:
    return (isinstance(op, kt.BatchMatmulOp) and not op.transpose_lhs.value.data
            and not op.transpose_rhs.value.data and op.lhs.type.element_type == op.rhs.type.element_type)


def find_block(plan: FunctionPlan, op: Operation) -> tuple[AttentionBlock | None, str]:
    """The attention block whose scores ``op`` computes, or None and why not (after the
    epilogue planning)."""
    if not _plain_batch_matmul(op):
        return None, "not a batch_matmul without transposed operands"
    *batch, Lq, D = op.lhs.type.get_shape()
    *kbatch, _, Lk = op.rhs.type.get_shape()
    if batch != kbatch:
        return None, "its operands' batch dims differ"
    ep = planned_epilogue(plan, op, True)
    if any(not isinstance(e, kt.ElementwiseOp) for e in ep.ops):  # a scale and a mask: row-major
        return None, "its epilogue moves or casts the scores"
    scores = plan.materialized(op)
    softmax = _single_user(plan, scores)
    rank = len(scores.type.get_shape())
    if not isinstance(softmax, kt.SoftmaxOp) or softmax.axis.value.data not in (rank - 1, -1) \
            or scores.type.element_type != f32 or d.EPILOGUE_ATTR in softmax.attributes:
        return None, "its scores are not the input of a softmax over keys only it reads"
    probs = plan.materialized(softmax)
    context = _single_user(plan, probs)
    if context is None or not _plain_batch_matmul(context) or context.lhs is not probs:
        return None, "its probabilities are not the lhs of a batch_matmul only they feed"
    *vbatch, Lv, Dv = context.rhs.type.get_shape()
    rhs_owner = context.rhs.owner
    if vbatch != batch or Lv != Lk or isinstance(rhs_owner, Operation) and (
            rhs_owner not in plan.order or plan.order[rhs_owner] > plan.order[op]):
        return None, "the context's values are not defined before the scores, in the same batch"
    cep = planned_epilogue(plan, context, True)
    if cep.bias is not None or cep.layout.D != Dv:
        return None, "the context's epilogue adds a bias or splits its features"
    blk = AttentionBlock(op, ep, softmax, context, cep, prod(batch), Lq, Lk, D, Dv)
    why = _fits(plan, blk)
    return (blk, "") if why is None else (None, why)


def _fits(plan: FunctionPlan, blk: AttentionBlock) -> str | None:
    """Why the block's tiles do not fit the engines (None when they do)."""
    t = plan.target
    M = t.pe_columns
    if blk.D > t.pe_rows or blk.Lq > t.partitions or blk.Lk > t.partitions or blk.Dv > M:
        return (f"a head of {blk.Lq} queries, {blk.Lk} keys and {blk.D}/{blk.Dv} features exceeds "
                "the PE array")
    if any(q0 not in t.psum_matmul_partition_starts for q0 in range(0, max(blk.Lq, blk.Lk), M)):
        return "its query or key tiles start on PSUM partitions a matmul cannot write"
    if max(blk.Lq, blk.Lk) > min(t.psum_bank_entries, t.pe_max_moving):
        return "a row of scores exceeds one PSUM bank or moving tile"
    b = plan.budget
    if blk.sbuf_bytes(plan) > b.big + b.mid + b.out:
        return "every head's q, k, v and context do not fit in SBUF at once"
    return None


_BLOCKS: "weakref.WeakKeyDictionary[FunctionPlan, dict[Operation, AttentionBlock]]" = weakref.WeakKeyDictionary()


def planned_blocks(plan: FunctionPlan) -> dict[Operation, AttentionBlock]:
    """Op -> its planned block (``kaena.plan.attention`` on the scores), for every member."""
    if plan not in _BLOCKS:
        blocks: dict[Operation, AttentionBlock] = {}
        for op in plan.ops:
            if d.has_flag(op, d.ATTENTION_ATTR):
                blk, why = find_block(plan, op)
                if blk is None:
                    raise plan.error(op, f"{d.ATTENTION_ATTR} is set, but {why}")
                for m in (op, *blk.members):
                    blocks[m] = blk
        _BLOCKS[plan] = blocks
    return _BLOCKS[plan]


def in_attention(plan: FunctionPlan, op: Operation) -> bool:
    """Whether ``op`` is emitted by a planned attention block other than as its scores."""
    blk = planned_blocks(plan).get(op)
    return blk is not None and blk.scores is not op


@dataclass(frozen=True)
class KtensorPlanAttentionPass(PlanPass):
    """Record ``kaena.plan.attention`` on a scores batch_matmul whose attention block
    (``AttentionBlock``) lowers as one loop over heads with its intermediates in SBUF:
    q, k, v loaded once for all heads, per head the scores on the PE array (queries on
    PSUM partitions), the scale and mask in their drain, the softmax along the free dim,
    the probabilities transposed on the PE array, the context matmul, every head's
    context written back once. Chosen when the cost model prices its DMAs below the
    per-op lowering's (which sends scores and probabilities through DRAM per head).
    With it ``kaena.plan.head_groups``: q, k, v load in that many groups of heads, the
    count ``AttentionBlock.head_groups`` prices fastest. A decision written by hand is
    checked. And ``kaena.plan.context_chain`` when the block's context is the lhs of one matmul
    that can read its context^T from SBUF (``context_chain_pays``): each head's drain writes
    its [Dv, queries] tile onto partitions (head % 2) * Dv of that matmul's lhs^T tile (then
    the head groups hold an even number of heads)."""

    name: ClassVar[str] = "ktensor-plan-attention"
    stage: ClassVar[str] = "attention"
    after: ClassVar[type[PlanPass]] = KtensorPlanBiasTablePass

    def plan(self, plan: FunctionPlan) -> None:
        for op in plan.ops:
            if not isinstance(op, kt.BatchMatmulOp) or plan.is_absorbed(op):
                continue
            blk, why = find_block(plan, op)
            if d.has_flag(op, d.ATTENTION_ATTR):
                if blk is None:
                    raise plan.error(op, f"{d.ATTENTION_ATTR} is set, but {why}")
            elif blk is not None:
                fused, per_op = blk.dma_cycles(plan)
                if fused < per_op:
                    d.set_flag(op, d.ATTENTION_ATTR)
            if d.has_flag(op, d.CONTEXT_CHAIN_ATTR) and not d.has_flag(op, d.ATTENTION_ATTR):
                raise plan.error(op, f"{d.CONTEXT_CHAIN_ATTR} is set, but the op is no planned attention block's scores")
            if blk is not None and d.has_flag(op, d.ATTENTION_ATTR):
                if d.has_flag(op, d.CONTEXT_CHAIN_ATTR):
                    planned_context_chain(plan, blk)  # written by hand: checked
                elif context_chain_pays(plan, blk):
                    d.set_flag(op, d.CONTEXT_CHAIN_ATTR)
                if d.HEAD_GROUPS_ATTR in op.attributes:
                    planned_head_groups(plan, blk)  # written by hand: checked
                else:
                    d.set_int(op, d.HEAD_GROUPS_ATTR,
                              blk.head_groups(plan, d.has_flag(op, d.CONTEXT_CHAIN_ATTR)))


def context_chain_pays(plan: FunctionPlan, blk: AttentionBlock) -> bool:
    """Whether the block's context^T goes to its consumer's lhs^T tile in SBUF: it can
    (``context_consumer``), the DRAM write and read saved price above the cost of
    even head groups (``group_cycles``, the context's write there included either way), and
    the tile, live from the block to the matmul, fits the SBUF headroom the single-op
    budgets leave (less the bias table)."""
    if context_consumer(plan, blk) is None:
        return False
    cm, b = plan.cm, plan.budget
    out = itemsize(plan.materialized(blk.context).type.element_type)
    size = blk.B * blk.Lq * blk.Dv * out
    saved = 2 * cm.dma(size)
    lost = blk.group_cycles(plan, blk.head_groups(plan, True)) - blk.group_cycles(plan, blk.head_groups(plan))
    headroom = b.sbuf - b.big - b.mid - b.out - (d.get_int(plan.fn, d.BIAS_TABLE_BYTES_ATTR) or 0)
    return saved > lost and size // plan.target.partitions <= headroom


def block_sources(plan: FunctionPlan, blk: AttentionBlock) -> tuple[str, ...]:
    """The framework nodes a block implements, for its instructions' source names."""
    names: list[str] = []
    for op in (blk.scores, blk.softmax, blk.context):
        names += [n for n in plan.sources(op) if n not in names]
    return tuple(names)
