"""``ktensor-split-batch``: run a batched CNN's activation-heavy front in small groups
of samples and its weight-heavy rest on larger ones.

At batch B a layer's weights are loaded once for all B samples, which is what batching
buys; but a front layer's B activations (ResNet-50's 112x112x64 at 224 px) overflow
SBUF and spill to DRAM: a batch of 2 cost 1.8x a batch of 1 per image. This pass gives
every op the largest group size (one sample, a chunk of samples, or the whole batch,
``_group_sizes``) at which the live activations from it to the end take at most
``1/sbuf-share`` of an SBUF partition, so group sizes only grow along the program; each
stretch of one group size is cloned once per group (on ``ktensor.slice`` of the inputs,
weights shared: the front's weights are the small ones) and groups are concatenated
where the size grows. Chunks run one after another (a chunk's samples through the front
and its own stretch before the next chunk starts), the last one holding what is left
when the chunk does not divide B; the chunk is the size that streams the fewest weight
bytes per sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from kaena.dialects import ktensor as kt
from kaena.dialects.utils import ints, shape_of
from kaena.passes.transforms.ktensor.ktensor_partition_pipeline import nbytes
from kaena.target import target_of

# The whole batch stays together where its live activations take at most this share of
# SBUF: the rest holds the ops' own tiles and the weights streaming in.
SBUF_SHARE = 2

# Ops computed sample by sample when their batch-carrying operands and result lead with
# the batch (the per-op conditions below add what their attributes must not do to dim 0).
_PER_SAMPLE = (kt.Conv2dOp, kt.Pool2dOp, kt.ElementwiseOp, kt.ActivationOp, kt.CastOp, kt.PadOp,
               kt.ConcatOp, kt.ResizeNearestOp)


# The values crossing the cut are concatenated in DRAM, so their producers write DRAM. A
# contraction or a pool does so while still reading its operands from SBUF; a pointwise
# op keeps its operands and result on one side, so a cut after one would pull the whole
# residual chain before it out of SBUF.
_WRITES_APART = (kt.Conv2dOp, kt.Pool2dOp)


@dataclass(frozen=True)
class KtensorSplitBatchPass(ModulePass):
    """``sbuf-share``: the batch stays whole where its live activations take at most
    1/sbuf-share of SBUF (a larger share splits more of the front). ``chunk``: the group
    size of the stretch between the per-sample front and the first op that mixes samples,
    run chunk by chunk, the last chunk holding the rest (0: the size that streams the
    fewest weight bytes per sample)."""

    name = "ktensor-split-batch"

    sbuf_share: int = SBUF_SHARE
    chunk: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        budget = target.sbuf_bytes // target.partitions // max(1, self.sbuf_share)
        for fn in op.walk():
            if isinstance(fn, func.FuncOp) and fn.body.blocks:
                _split_function(fn, budget, target.partitions, self.chunk)


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


def _split_function(fn: func.FuncOp, budget: int, partitions: int, chunk: int = 0) -> None:
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
    if chunk:
        segments = _segments(ops, batched, batch, budget, partitions, chunk)
    else:
        segments = _fewest_weight_bytes(ops, [_segments(ops, batched, batch, budget, partitions, c)
                                              for c in range(1, batch)])
    if segments is None:
        return
    _rewrite(block, ops, segments, batched, batch)


def _weight_bytes_per_sample(ops: Sequence[Operation], segments: list[tuple[int, int]]) -> float:
    """The weight bytes a plan streams per sample: each stretch's weights once per group."""
    bounds = [start for start, _ in segments[1:]] + [len(ops)]
    batch = segments[-1][1]
    return sum(nbytes(o.type) * len(_groups_of(g, batch)) / batch for (start, g), end in zip(segments, bounds)
               for op in ops[start:end] for o in op.operands if isinstance(o.owner, kt.WeightOp))


def _fewest_weight_bytes(ops: Sequence[Operation], plans: list[list[tuple[int, int]] | None]):
    """The plan streaming the fewest weight bytes per sample (a batched CNN whose front
    runs in groups is bound by its weights' DMA), the larger chunk on a tie; None if none splits."""
    plans = [p for p in plans if p is not None]
    return min(reversed(plans), key=lambda p: _weight_bytes_per_sample(ops, p), default=None)


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


def _group_sizes(batch: int) -> list[int]:
    """The group sizes a stretch may run at besides the chunk: one sample, or the whole
    batch. (The rewrite takes any chain of sizes, but sizes between the chunk and the
    batch (ResNet-50's layer3 in pairs, then layer4 in fours) leave earlier groups' results
    resident beside a later group's weight tiles, and the SBUF allocator then finds no
    contiguous room for the largest weight tiles.)"""
    return [1, batch]


def _live_bytes(ops: Sequence[Operation], batched: set[SSAValue], partitions: int) -> list[int]:
    """Bytes per partition of the batch-carrying values live while each op runs (whole batch)."""
    index = {op: i for i, op in enumerate(ops)}
    last_use: dict[SSAValue, int] = {}
    for i, op in enumerate(ops):
        for o in op.operands:
            last_use[o] = i
    live = [0] * len(ops)
    for v in batched:
        start = index.get(v.owner, 0)
        for i in range(start, last_use.get(v, start) + 1):
            live[i] += _partition_bytes(v.type, partitions)
    return live


def _segments(ops: Sequence[Operation], batched: set[SSAValue], batch: int, budget: int,
              partitions: int, chunk: int = 0) -> list[tuple[int, int]] | None:
    """(first op, group size) of each stretch, sizes growing, the last stretch (at least
    the return) at the whole batch; None when the whole batch fits or nothing can split."""
    sizes = _group_sizes(batch)
    if 1 < chunk < batch:
        sizes = sorted({*sizes, chunk})
    live = _live_bytes(ops, batched, partitions)
    fits = [max((g for g in sizes if live[i] * g <= budget * batch), default=1) for i in range(len(ops))]
    if min(fits) == batch:
        return None  # the whole batch fits: each weight streams once per run
    if 1 < chunk < batch:  # chunks of samples up to the first op that needs the whole batch
        mixing = next((i for i, op in enumerate(ops)
                       if any(r in batched for r in op.results) and not _per_sample(op, batched, batch)),
                      len(ops) - 1)
        fits = [min(f, chunk) if i < mixing else f for i, f in enumerate(fits)]
    fits[-1] = batch  # the terminator joins every group
    want, lowest = [0] * len(ops), batch
    for i in range(len(ops) - 1, -1, -1):  # the largest non-decreasing sizes within fits
        lowest = min(lowest, fits[i])
        want[i] = lowest
    if want[0] == batch:
        return None
    segments: list[tuple[int, int]] = []
    for i, op in enumerate(ops):
        g = want[i]
        if segments and g > segments[-1][1] and not _can_cut(ops, i, batched):
            g = segments[-1][1]  # not a place to join groups: keep the smaller size a little longer
        if g < batch and any(r in batched for r in op.results) and not _per_sample(op, batched, batch):
            return None  # an op that mixes samples before the batch can be whole
        if not segments or g != segments[-1][1]:
            segments.append((i, g))
    if segments[-1][1] != batch:
        segments.append((len(ops) - 1, batch))
    return segments


def _crossing(ops: Sequence[Operation], k: int, batched: set[SSAValue]) -> list[SSAValue]:
    """The batch-carrying values made before op ``k`` that ops from ``k`` on read."""
    before = {r for op in ops[:k] for r in op.results if r in batched}
    seen: dict[SSAValue, None] = {}
    for op in ops[k:]:
        for o in op.operands:
            if o in before:
                seen.setdefault(o, None)
    return list(seen)


def _can_cut(ops: Sequence[Operation], k: int, batched: set[SSAValue]) -> bool:
    """Groups may join before op ``k`` when every value crossing there comes from an op that
    writes DRAM apart from its operands, or op ``k`` is the terminator."""
    if k == len(ops) - 1:
        return True
    return all(isinstance(v.owner, _WRITES_APART) for v in _crossing(ops, k, batched))


def _with_batch(t: TensorType, n: int) -> TensorType:
    return TensorType(t.element_type, [n, *t.get_shape()[1:]])


def _groups_of(g: int, batch: int) -> list[tuple[int, int]]:
    """(first sample, samples) of each group at group size ``g``: the last one holds the
    rest when ``g`` does not divide the batch (a batch of 7 in pairs: 2, 2, 2, 1)."""
    return [(o, min(g, batch - o)) for o in range(0, batch, g)]


class _Groups:
    """Each batch-carrying value's version per group, made on demand: slices of the
    inputs, clones' results, concatenations of a smaller group size's groups."""

    def __init__(self, batched: set[SSAValue], anchor: InsertPoint, batch: int):
        self.batched, self.anchor, self.batch = batched, anchor, batch
        self.size_of: dict[SSAValue, int] = {}  # the group size a value is computed at
        self.versions: dict[tuple[SSAValue, int, int], SSAValue] = {}  # (value, first sample, samples)

    def get(self, v: SSAValue, first: int, n: int) -> SSAValue:
        if v not in self.batched:
            return v
        key = (v, first, n)
        if key in self.versions:
            return self.versions[key]
        made = self.size_of.get(v)  # None: an input (or a value of the whole-batch stretch)
        if made is None:
            if n == self.batch:
                return v
            rank = len(v.type.get_shape())
            new = kt.SliceOp(v, [first] + [0] * (rank - 1), [1] * rank, _with_batch(v.type, n))
        else:
            parts = [self.get(v, o, m) for o, m in _groups_of(made, self.batch) if first <= o < first + n]
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
    for stretch, g in stretches:
        for op in stretch:
            for r in op.results:
                groups.size_of[r] = g
    # chunk by chunk (the largest group size below the batch): a chunk's samples go through
    # every stretch before the next chunk's start, so only one chunk's activations are live
    chunk = max(g for _, g in stretches)
    for c_first, c_n in _groups_of(chunk, batch):
        for stretch, g in stretches:
            for first, n in _groups_of(g, batch):
                if not c_first <= first < c_first + c_n:
                    continue
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
    cloned = [op for stretch, _ in stretches for op in stretch]
    for op in ops[whole_from:]:
        for i, o in enumerate(op.operands):
            if o in groups.size_of:
                op.operands[i] = groups.get(o, 0, batch)
    for op in reversed(cloned):
        op.detach()
        op.erase()
