"""``ktensor-split-batch``: run a batched CNN's activation-heavy front in small groups
of samples and its weight-heavy rest on larger ones.

At batch B a layer's weights are loaded once for all B samples, which is what batching
buys; but a front layer's B activations (ResNet-50's 112x112x64 at 224 px) overflow
SBUF and spill to DRAM: a batch of 2 cost 1.8x a batch of 1 per image. This pass cuts
the program into stretches where groups of samples can join (``_can_cut``) and runs each
stretch on groups of a size that only grows along the program (one sample, then e.g.
pairs, then the whole batch: nested, each group made of whole groups of the stretch
before, ``_levels``). A stretch may run on a group size when, at each of its ops, the
group's live activations and the op's weight tile with the next weighted op's (loading
ahead) fit an SBUF partition less the residency planner's headroom. Of the plans that
fit (``_plans``), the one adding the fewest DMA cycles per sample wins (``_DmaCycles``,
the target's ``dma_cycles``: each stretch's weight loads once per group, the values
crossing each join written to DRAM and read back). Each stretch is cloned once per group (on
``ktensor.slice`` of the inputs, weights shared), depth first (a group's samples go
through the smaller groups' stretches just before its own), and groups are concatenated
where the size grows. The plan is recorded on the function as
``kaena.plan.batch_groups`` (the group size of each stretch, in program order)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, ModuleOp, TensorType, i64
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from kaena.dialects import ktensor as kt
from kaena.dialects.utils import ints, shape_of
from kaena.passes.transforms.ktensor.ktensor_partition_pipeline import nbytes
from kaena.passes.transforms.ktensor.residual_adds import in_place_residual
from kaena.target import target_of
from kaena.target.tiling import Budgets, headroom_limit

# The share of an SBUF partition (less the residency planner's headroom) that the live
# activations of a group and the op's own weight tile may take: 1, all of it.
SBUF_SHARE = 1

PLAN_ATTR = "kaena.plan.batch_groups"  # on the function: the group size of each stretch
# on a dense conv: the bytes per SBUF partition its weight blocks may take, when a group's
# activations fit beside its blocks only below the big-operand budget (read by the lowering)
WEIGHT_BLOCK = "kaena.plan.weight_block"

# Ops computed sample by sample when their batch-carrying operands and result lead with
# the batch (the per-op conditions below add what their attributes must not do to dim 0).
_PER_SAMPLE = (kt.Conv2dOp, kt.Pool2dOp, kt.ElementwiseOp, kt.ActivationOp, kt.CastOp, kt.PadOp,
               kt.ConcatOp, kt.ResizeNearestOp)


# The values crossing the cut are concatenated in DRAM, so their producers write DRAM. A
# contraction or a pool does so while still reading its operands from SBUF; a pointwise
# op keeps its operands and result on one side, so a cut after one would pull the whole
# residual chain before it out of SBUF.
_WRITES_APART = (kt.Conv2dOp, kt.Pool2dOp)
# A cast does so from resident operands of its shape when only the join reads its result
# (``pointwise.py``): after a cast to a narrower type, the least a join can move.
_WRITES_JOIN = (kt.CastOp,)


@dataclass(frozen=True)
class KtensorSplitBatchPass(ModulePass):
    """``sbuf-share``: a group's live activations and its ops' weight tiles take at most
    1/sbuf-share of an SBUF partition less the residency planner's headroom (a larger
    share splits more). ``chunk``: only plans whose smallest group size between one
    sample and the batch is ``chunk`` (1: none; 0: any, the plan adding the fewest DMA
    cycles per sample)."""

    name = "ktensor-split-batch"

    sbuf_share: int = SBUF_SHARE
    chunk: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        limit = headroom_limit(target.sbuf_bytes_per_partition) // max(1, self.sbuf_share)
        for fn in op.walk():
            if isinstance(fn, func.FuncOp) and fn.body.blocks:
                _split_function(fn, target, limit, self.chunk)


def _partition_bytes(t, partitions: int) -> int:
    """Bytes per SBUF partition of a value resident channel-major (NCHW: channels on
    partitions) or, for other ranks, spread over every partition."""
    if not isinstance(t, TensorType):
        return 0
    shape = t.get_shape()
    if len(shape) == 4:
        n, c, h, w = shape
        return -(-c // min(c, partitions)) * n * h * w * (nbytes(t) // max(1, n * c * h * w))
    return -(-nbytes(t) // partitions)


def _split_function(fn: func.FuncOp, target, limit: int, chunk: int = 0) -> None:
    block = fn.body.blocks[0]
    args = [a for a in block.args if isinstance(a.type, TensorType) and a.type.get_shape()]
    batches = {a.type.get_shape()[0] for a in args}
    if len(batches) != 1:
        return
    batch = batches.pop()
    if batch < 2:
        return
    ops = list(block.ops)
    batched = _batch_carrying(ops, set(args), batch)
    plans = [p for p in _plans(ops, batched, batch, limit, target)
             if not chunk or min((g for _, g in p if 1 < g < batch), default=1) == chunk]
    segments = _fewest_dma_cycles(ops, plans, batched, target)
    if segments is None:
        return
    fn.attributes[PLAN_ATTR] = DenseArrayBase.from_list(i64, [g for _, g in segments])
    for i, b in _weight_blocks(ops, segments, batched, batch, limit, target).items():
        ops[i].attributes[WEIGHT_BLOCK] = IntegerAttr(b, i64)
    _rewrite(block, ops, segments, batched, batch)


class _DmaCycles:
    """The DMA queue cycles a plan adds per sample to the unsplit program's (the target's
    ``dma_cycles``: fixed latency plus bytes at the core's DRAM bandwidth): each stretch's
    weight loads once per group (a batched CNN whose front runs in groups is bound by its
    weights' DMA), and the values crossing each join, written to DRAM by their producers
    and read back by the join (``batch_concat.py``)."""

    def __init__(self, ops: Sequence[Operation], batched: set[SSAValue], target):
        self.ops, self.batched, self.target = ops, batched, target
        self.loads = [0]  # prefix sums: the cycles of the weight loads of ops[:i]
        for op in ops:
            self.loads.append(self.loads[-1] + sum(target.dma_cycles(nbytes(o.type)) for o in op.operands
                                                   if isinstance(o.owner, kt.WeightOp)))
        self.joined: dict[int, int] = {}

    def crossing(self, k: int) -> int:
        if k not in self.joined:
            self.joined[k] = sum(2 * self.target.dma_cycles(nbytes(v.type))
                                 for v in _crossing(self.ops, k, self.batched))
        return self.joined[k]

    def per_sample(self, segments: list[tuple[int, int]]) -> float:
        bounds = [start for start, _ in segments[1:]] + [len(self.ops)]
        batch = segments[-1][1]
        runs = [len(level) for level in _levels([g for _, g in segments[:-1]], batch)] + [1]
        loads = sum((self.loads[end] - self.loads[start]) * k for (start, _), end, k in zip(segments, bounds, runs))
        return (loads + sum(self.crossing(start) for start, _ in segments[1:])) / batch


def _fewest_dma_cycles(ops: Sequence[Operation], plans: list[list[tuple[int, int]]],
                       batched: set[SSAValue], target) -> list[tuple[int, int]] | None:
    """The plan adding the fewest DMA cycles per sample, on a tie the one with fewer
    stretches, then the smaller groups first (evener groups); None if there is none."""
    cost = _DmaCycles(ops, batched, target)
    return min(plans, key=lambda p: (cost.per_sample(p), len(p), [g for _, g in p]), default=None)


def _batch_carrying(ops: Sequence[Operation], args: set[SSAValue], batch: int) -> set[SSAValue]:
    """Values computed from the inputs (the others are weights and constants)."""
    carrying: set[SSAValue] = set(args)
    for op in ops:
        if any(o in carrying for o in op.operands):
            carrying.update(op.results)
    return carrying


def _per_sample(op: Operation, batched: set[SSAValue], batch: int) -> bool:
    """Whether ``op`` computes each sample from that sample alone (dim 0 is the batch)."""
    if not isinstance(op, _PER_SAMPLE) or len(op.results) != 1:
        return False
    result = op.results[0]
    if not isinstance(result.type, TensorType) or not result.type.get_shape() or result.type.get_shape()[0] != batch:
        return False
    lead = result.type.get_shape()
    for o in op.operands:
        shape = o.type.get_shape() if isinstance(o.type, TensorType) else ()
        if o in batched and (not shape or shape[0] != batch):
            return False
        if (isinstance(op, kt.ElementwiseOp | kt.ConcatOp) and o not in batched and len(shape) == len(lead)
                and shape[0] != 1):
            return False  # a constant operand with a row of its own per sample
    if isinstance(op, kt.ConcatOp):
        return op.axis.value.data != 0
    if isinstance(op, kt.PadOp):
        p, rank = ints(op.pads), len(shape_of(op.input))
        return p[0] == 0 and p[rank] == 0
    return True


def _live_bytes(ops: Sequence[Operation], batched: set[SSAValue], partitions: int) -> list[int]:
    """Bytes per partition of the batch-carrying values live while each op runs (whole batch).
    A residual add a conv's drain does in place (``residual_adds.py``) stores no conv result,
    and its sum takes the skip's place from the add on; a contraction, pool or pointwise op
    whose single reader is a cast writes the cast's result (``ktensor-plan-fused-casts``), so
    its own is not stored."""
    index = {op: i for i, op in enumerate(ops)}
    last_use: dict[SSAValue, int] = {}
    for i, op in enumerate(ops):
        for o in op.operands:
            last_use[o] = i
    unstored: set[SSAValue] = set()
    starts: dict[SSAValue, int] = {}
    for i, op in enumerate(ops):
        if (fused := in_place_residual(op, index)) is not None:
            unstored.add(fused[0].results[0])
            starts[op.results[0]] = i + 1
        if isinstance(op, kt.CastOp) and _writes_its_cast(op.input):
            unstored.add(op.input)
            starts[op.results[0]] = index[op.input.owner]
    live = [0] * len(ops)
    for v in batched:
        if v in unstored:
            continue
        start = starts.get(v, index.get(v.owner, 0))
        for i in range(start, last_use.get(v, start) + 1):
            live[i] += _partition_bytes(v.type, partitions)
    return live


def _writes_its_cast(v: SSAValue) -> bool:
    """Whether ``v``'s producer writes its single reader's cast directly (as
    ``ktensor-plan-fused-casts`` plans it: an op whose last step is one rounding)."""
    op = v.owner
    if not v.has_one_use() or not isinstance(op, kt.Conv2dOp | kt.ElementwiseOp | kt.Pool2dOp):
        return False
    return isinstance(op, kt.Pool2dOp) or op.activation.data in kt.PIECEWISE_LINEAR_ACTIVATIONS


def _own_tiles(ops: Sequence[Operation], target) -> list[int]:
    """Per op, bytes per SBUF partition of its weight tiles: at most the big-operand budget
    (``Budgets.big``: larger weights stream through tiles of that size)."""
    big, partitions = Budgets.of(target).big, target.partitions
    return [min(big, sum(-(-nbytes(o.type) // partitions) for o in op.operands
                         if isinstance(o.owner, kt.WeightOp)))
            for op in ops]


def _least_tiles(ops: Sequence[Operation], own: Sequence[int], target) -> list[int]:
    """Per op, the smallest weight tile it may take: a dense conv's block of one resident
    channel tile of outputs over all its input channels and taps (``kaena.plan.weight_block``
    narrows it down to that), any other op's whole tile."""
    least = list(own)
    for i, op in enumerate(ops):
        if isinstance(op, kt.Conv2dOp) and op.groups.value.data == 1 and own[i]:
            O, Cg, KH, KW = op.weight.type.get_shape()
            isz = nbytes(op.weight.type) // max(1, O * Cg * KH * KW)
            bias = -(-nbytes(op.bias.type) // target.partitions) if op.bias is not None else 0
            block = -(-Cg // min(Cg, target.pe_rows)) * min(O, target.partitions) * KH * KW * isz
            least[i] = min(own[i], block + bias)
    return least


def _ahead(ops: Sequence[Operation], own: Sequence[int]) -> list[int]:
    """Per op, the index of the next op with weight tiles (the in-order DMA queue loads them
    while it runs, ``inf-allocate-sram`` puts them in other memory), or -1 when that is a
    matmul (``ktensor-plan-weight-prefetch`` loads its tile ahead only where it fits)."""
    nxt, ahead = [-1] * len(own), -1
    for i in range(len(own) - 1, -1, -1):
        nxt[i] = ahead
        if own[i]:
            ahead = -1 if isinstance(ops[i], kt.MatmulOp) else i
    return nxt


def _weight_tiles(ops: Sequence[Operation], target, tiles: Sequence[int] | None = None) -> list[int]:
    """Per op, bytes per SBUF partition of its weight tiles (``tiles``, else its own) and of
    the next weighted op's."""
    tiles = _own_tiles(ops, target) if tiles is None else tiles
    return [t + (tiles[j] if j >= 0 else 0) for t, j in zip(tiles, _ahead(ops, tiles))]


def _weight_blocks(ops: Sequence[Operation], segments: list[tuple[int, int]], batched: set[SSAValue],
                   batch: int, limit: int, target) -> dict[int, int]:
    """The op indices whose weight blocks the plan narrows, and their bytes per partition:
    at each op the group's live activations, its block and the next weighted op's must fit
    ``limit``; the bytes over it come off the two in proportion to their room above
    ``_least_tiles`` (which the plan was made to fit). Narrowed blocks stream through two
    buffers where halves allow (``tiling.weight_blocks``): shared out, both keep streaming,
    where narrowing one to its least would load and compute its blocks in turn (batch 8:
    layer4.0's conv3 at 1,088 bytes, 661 images/s against 698) and narrowing the one with
    more room first can cut a conv reading DRAM into many blocks that each read it again
    (batch 6: 316 images/s against 647)."""
    live = _live_bytes(ops, batched, target.partitions)
    own = _own_tiles(ops, target)
    least = _least_tiles(ops, own, target)
    nxt = _ahead(ops, own)
    bounds = [start for start, _ in segments[1:]] + [len(ops)]
    block = list(own)
    for (start, g), end in zip(segments, bounds):
        for i in range(start, end):
            pair = [j for j in (i, nxt[i]) if j >= 0]
            over = -(-live[i] * g // batch) + sum(block[j] for j in pair) - limit
            room = sum(block[j] - least[j] for j in pair)
            if over > 0:
                for j in pair:  # (a plan fits at the least blocks: room >= over)
                    block[j] -= min(block[j] - least[j], -(-over * (block[j] - least[j]) // max(1, room)))
    return {i: b for i, b in enumerate(block) if b < own[i]}


def _plans(ops: Sequence[Operation], batched: set[SSAValue], batch: int, limit: int,
           target) -> list[list[tuple[int, int]]]:
    """Every plan: (first op, group size) of each stretch, sizes growing (a size is the
    most samples a group of the stretch holds, ``_levels``), the last stretch (at least
    the return) at the whole batch; stretches start where groups can join
    (``_can_cut``), an op mixing samples runs on the whole batch, and an op runs at a size
    at which its group's live activations and its weight tiles fit ``limit`` bytes per
    partition (one sample always; the whole batch only if it fits). Group sizes are those of the batch split evenly
    (``ceil(batch / k)``: other sizes make the same groups). No plan when the whole batch
    fits everywhere."""
    live = _live_bytes(ops, batched, target.partitions)
    weights = _weight_tiles(ops, target, _least_tiles(ops, _own_tiles(ops, target), target))
    cuts = [0] + [i for i in range(1, len(ops))
                  if any(r in batched for r in ops[i].results) and _can_cut(ops, i, batched)]
    if cuts[-1] != len(ops) - 1:
        cuts.append(len(ops) - 1)  # the terminator joins every group
    ends = cuts[1:] + [len(ops)]
    largest = []  # per stretch between cuts: the largest group size that fits
    for start, end in zip(cuts, ends):
        g = batch
        for i in range(start, end):
            while g > 1 and -(-live[i] * g // batch) + weights[i] > limit:
                g -= 1
        largest.append(g)
    if min(largest) == batch:
        return []  # the whole batch fits: each weight streams once per run
    mixing = [any(any(r in batched for r in op.results) and not _per_sample(op, batched, batch)
                  for op in ops[start:end]) for start, end in zip(cuts, ends)]
    sizes = sorted({-(-batch // k) for k in range(1, batch + 1)})
    plans: list[list[tuple[int, int]]] = []

    def grow(j: int, below: int, plan: list[tuple[int, int]]) -> None:
        if j == len(cuts):
            if plan[-1][1] == batch and len(plan) > 1:
                plans.append(plan)
            return
        last = j == len(cuts) - 1
        for g in sizes:
            if g < below:
                continue
            if g != batch and (last or mixing[j] or g > largest[j]):
                continue
            if g == batch and g > largest[j]:
                continue  # (a stretch mixing samples that does not fit the batch: no plan)
            grow(j + 1, g if g < batch else batch, plan if plan and plan[-1][1] == g else [*plan, (cuts[j], g)])

    grow(0, 1, [])
    return plans


def _crossing(ops: Sequence[Operation], k: int, batched: set[SSAValue]) -> list[SSAValue]:
    """The batch-carrying values made before op ``k`` that ops from ``k`` on read."""
    before = {r for op in ops[:k] for r in op.results if r in batched}
    seen: dict[SSAValue, None] = {}
    for op in ops[k:]:
        for o in op.operands:
            if o in before:
                seen.setdefault(o, None)
    return list(seen)


def _writes_apart(v: SSAValue, batched: set[SSAValue]) -> bool:
    """Whether ``v``'s producer can write it to DRAM while its operands stay in SBUF: a
    contraction or a pool, or a cast of a value of its shape (the lowering writes a join's
    operand from resident tiles, ``pointwise.py``)."""
    op = v.owner
    if isinstance(op, _WRITES_APART):
        return True
    shape = v.type.get_shape() if isinstance(v.type, TensorType) else ()
    return (isinstance(op, _WRITES_JOIN) and len(shape) == 4
            and all(o in batched and o.type.get_shape() == shape for o in op.operands))


def _can_cut(ops: Sequence[Operation], k: int, batched: set[SSAValue]) -> bool:
    """Groups may join before op ``k`` when every value crossing there comes from an op that
    writes DRAM apart from its operands, or op ``k`` is the terminator."""
    if k == len(ops) - 1:
        return True
    return all(_writes_apart(v, batched) for v in _crossing(ops, k, batched))


def _with_batch(t: TensorType, n: int) -> TensorType:
    return TensorType(t.element_type, [n, *t.get_shape()[1:]])


def _split(first: int, n: int, g: int) -> list[tuple[int, int]]:
    """(first sample, samples) of the fewest groups of at most ``g`` samples that
    ``n`` samples from ``first`` make, as even as they come (7 in fours: 4, 3; 5 in
    pairs: 2, 2, 1)."""
    k = -(-n // g)
    sizes = [n // k + (i < n % k) for i in range(k)]
    return [(first + sum(sizes[:i]), m) for i, m in enumerate(sizes)]


def _levels(sizes: Sequence[int], batch: int) -> list[list[tuple[int, int]]]:
    """The groups at each of ``sizes`` (growing, below the batch): the largest size's
    groups split the batch, each smaller size's split the groups above it, so a group is
    made of whole smaller groups (a batch of 8 in threes over pairs: 3, 3, 2 over
    2 + 1, 2 + 1, 2)."""
    levels: list[list[tuple[int, int]]] = []
    above = [(0, batch)]
    for g in reversed(sizes):
        above = [grp for first, n in above for grp in _split(first, n, g)]
        levels.append(above)
    return levels[::-1]


class _Groups:
    """Each batch-carrying value's version per group, made on demand: slices of the
    inputs, clones' results, concatenations of a smaller group size's groups."""

    def __init__(self, batched: set[SSAValue], anchor: InsertPoint, batch: int):
        self.batched, self.anchor, self.batch = batched, anchor, batch
        self.made_in: dict[SSAValue, list[tuple[int, int]]] = {}  # the groups a value is computed in
        self.versions: dict[tuple[SSAValue, int, int], SSAValue] = {}  # (value, first sample, samples)

    def get(self, v: SSAValue, first: int, n: int) -> SSAValue:
        if v not in self.batched:
            return v
        key = (v, first, n)
        if key in self.versions:
            return self.versions[key]
        made = self.made_in.get(v)  # None: an input (or a value of the whole-batch stretch)
        if made is None:
            if n == self.batch:
                return v
            rank = len(v.type.get_shape())
            new = kt.SliceOp(v, [first] + [0] * (rank - 1), [1] * rank, _with_batch(v.type, n))
        else:
            parts = [self.get(v, o, m) for o, m in made if first <= o < first + n]
            new = kt.ConcatOp(parts, 0, _with_batch(v.type, n))
        Rewriter.insert_op(new, self.anchor)
        self.versions[key] = new.results[0]
        return new.results[0]


def _rewrite(block: Block, ops: Sequence[Operation], segments: list[tuple[int, int]], batched: set[SSAValue],
             batch: int) -> None:
    whole_from = segments[-1][0]
    groups = _Groups(batched, InsertPoint.before(ops[whole_from]), batch)
    bounds = [start for start, _ in segments[1:]] + [len(ops)]
    stretches = [([op for op in ops[start:end] if any(r in batched for r in op.results)], g)
                 for (start, g), end in zip(segments[:-1], bounds)]
    levels = _levels([g for _, g in stretches], batch)
    for (stretch, _), level in zip(stretches, levels):
        for op in stretch:
            for r in op.results:
                groups.made_in[r] = level
    # depth first: a group's samples go through the smaller groups' stretches just before
    # the group's own, so only one group per size has activations live at a time

    def emit(level: int, first: int, n: int) -> None:
        stretch, _ = stretches[level]
        if level:
            for o, m in levels[level - 1]:
                if first <= o < first + n:
                    emit(level - 1, o, m)
        for op in stretch:
            clone = type(op).create(
                operands=[groups.get(o, first, n) for o in op.operands],
                result_types=[_with_batch(r.type, n) for r in op.results],
                properties=op.properties.copy(), attributes=op.attributes.copy(), location=op.location,
            )
            Rewriter.insert_op(clone, groups.anchor)
            for r, c in zip(op.results, clone.results):
                groups.versions[(r, first, n)] = c
                samples = f"{first}" if n == 1 else f"{first}-{first + n - 1}"
                c.name_hint = f"{r.name_hint}.s{samples}" if r.name_hint else None

    for first, n in levels[-1]:
        emit(len(levels) - 1, first, n)
    cloned = [op for stretch, _ in stretches for op in stretch]
    for op in ops[whole_from:]:
        for i, o in enumerate(op.operands):
            if o in groups.made_in:
                op.operands[i] = groups.get(o, 0, batch)
    for op in reversed(cloned):
        op.detach()
        op.erase()
