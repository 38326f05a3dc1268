"""Concat slots written by the operands' producers (``kaena.plan.slot_writers``): a dense
conv whose result reaches a concat through a transpose and reshapes (the concat reading
through them, ``kaena.plan.fuse_transposes``) stores its PSUM drain's tiles straight into
its slot of the concat's result, or of the result of the softmax over its rows that reads
the concat (``kaena.plan.fuse_input``): then it transposes each tile on the vector engine
(pixels on partitions, the softmax rows along the free dim) and does the softmax there.
SSD's heads: no DRAM-to-DRAM concat, no softmax pass over the scores in DRAM."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import f32
from xdsl.ir import Operation, SSAValue

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import SbufType, ap

from . import decisions as d
from .planning import FunctionPlan, transposed_operand
from .utils import E, ints, prod, row_major_strides


@dataclass(frozen=True)
class Slot:
    """Where a producer writes: ``value`` (the consumer's result), element (n, c, h, w) of
    the producer's NCHW result at ``base + n*s[0] + c*s[1] + h*s[2] + w*s[3]``; ``rows``:
    the softmax's row length when the consumer is a softmax over the concat, else None."""

    consumer: Operation
    value: SSAValue
    base: int
    strides: tuple[int, int, int, int]
    rows: int | None


def _concat_of(v: SSAValue) -> tuple[kt.ConcatOp, int] | None:
    """The concat (and operand index) ``v`` reaches through single-use transposes and reshapes."""
    while v.has_one_use():
        user = next(iter(v.uses))
        op = user.operation
        if isinstance(op, kt.ConcatOp):
            return op, user.index
        if not isinstance(op, kt.TransposeOp | kt.ReshapeOp):
            return None
        v = op.results[0]
    return None


def consumer_of(plan: FunctionPlan, cat: kt.ConcatOp) -> Operation:
    """The op whose result the producers of ``cat``'s operands would write: the softmax
    that reads ``cat`` itself (``kaena.plan.fuse_input``), else ``cat``."""
    v = cat.results[0]
    if v.has_one_use():
        user = next(iter(v.uses)).operation
        if isinstance(user, kt.SoftmaxOp) and d.has_flag(user, d.FUSE_INPUT_ATTR):
            return user
    return cat


def geometry(plan: FunctionPlan, cat: kt.ConcatOp, i: int, consumer: Operation) -> Slot | None:
    """Operand ``i``'s slot, when the concat reads it through a transpose of a 4-D value."""
    chain = transposed_operand(plan, cat.operands[i], cat) if d.has_flag(cat, d.FUSE_TRANSPOSES_ATTR) else None
    if chain is None or len(chain[0].input.type.get_shape()) != 4:
        return None
    axis = cat.axis.value.data
    out_shape = tuple(cat.results[0].type.get_shape())
    strides = row_major_strides(out_shape)
    t = chain[0]
    shape = tuple(t.results[0].type.get_shape())
    dst = tuple(strides[:axis]) + row_major_strides(shape[axis:])
    s = [0, 0, 0, 0]
    for k, p in enumerate(ints(t.perm)):
        s[p] = dst[k]
    at = sum(v.type.get_shape()[axis] for v in cat.operands[:i])
    rows = None
    if isinstance(consumer, kt.SoftmaxOp):
        rows = out_shape[-1]
    return Slot(consumer, consumer.results[0], at * strides[axis], (s[0], s[1], s[2], s[3]), rows)


def slot_of(plan: FunctionPlan, producer: Operation) -> Slot | None:
    """The slot ``producer`` writes (its concat's consumer has ``kaena.plan.slot_writers``)."""
    found = _concat_of(producer.results[0]) if producer.results else None
    if found is None:
        return None
    cat, i = found
    consumer = consumer_of(plan, cat)
    if not d.has_flag(consumer, d.SLOT_WRITERS_ATTR):
        return None
    return geometry(plan, cat, i, consumer)


def slot_ops(plan: FunctionPlan, producer: Operation) -> list[Operation]:
    """The ops whose work ``producer`` does by writing its slot (its transpose and reshapes,
    the concat, the softmax reading it), for the nodes its instructions name."""
    slot = slot_of(plan, producer)
    if slot is None:
        return []
    chain, v = [], producer.results[0]
    while True:  # single uses all the way (slot_of checked)
        op = next(iter(v.uses)).operation
        chain.append(op)
        if op is slot.consumer:
            return chain
        v = op.results[0]


def plan_slot_writers(plan: FunctionPlan, cat: kt.ConcatOp) -> Operation | None:
    """The consumer of ``cat`` whose operands' producers can all write their slots (each a
    planned op whose family ``writes_slot``, with the consumer's element type), else None."""
    consumer = consumer_of(plan, cat)
    axis = cat.axis.value.data
    if prod(cat.results[0].type.get_shape()[:axis]) != 1:
        return None
    for i, v in enumerate(cat.operands):
        slot = geometry(plan, cat, i, consumer)
        if slot is None:
            return None
        producer = transposed_operand(plan, v, cat)[0].input.owner
        if not isinstance(producer, Operation) or producer not in plan.order \
                or producer.results[0].type.element_type != consumer.results[0].type.element_type:
            return None
        family = plan.family(producer)
        if family is None or plan.is_absorbed(producer) or not family.writes_slot(producer, plan, slot):
            return None
    return consumer


# (transposed rows, their exp, the per-row max, the per-row sum) of a producer's softmax rows
RowTiles = tuple[SSAValue, SSAValue, SSAValue, SSAValue]


def slot_row_tiles(b, slot: Slot, partitions: int, otw: int, band: int, element_type) -> RowTiles:
    """The tiles a producer transposes ``band`` pixels of ``otw`` channels into (at most
    ``partitions`` pixels a tile column block), for the softmax over ``slot.rows``."""
    free = max(1, band // partitions) * otw
    rows = free // slot.rows
    return (b.alloc(SbufType, partitions, free, element_type, "rows_t"),
            b.alloc(SbufType, partitions, free, f32, "e_t"),
            b.alloc(SbufType, partitions, rows, f32, "max_t"),
            b.alloc(SbufType, partitions, rows, f32, "sum_t"))


def write_slot(b, slot: Slot, var: SSAValue, o_t: SSAValue, cw: int, c0: E, n: E, r0: E, nr: int, OW: int,
               partitions: int, tiles: RowTiles | None) -> None:
    """Store a drained band (``cw`` channels from ``c0``, rows [r0, r0 + nr) of image ``n``,
    channel-major in ``o_t``) into the slot; for a softmax, per block of ``partitions``
    pixels transposed onto partitions first (their rows along the free dim), then softmaxed
    in the tiles, one DMA per block run."""
    from .softmax import row_views, softmax_rows  # softmax.py imports the planning passes, which import this

    sn, sc, sh, sw = slot.strides
    base = n.scaled(sn) + c0.scaled(sc) + r0.scaled(sh) + slot.base
    npx = nr * OW
    if tiles is None:
        dims = [[npx, sw]] if sh == OW * sw else [[nr, sh], [OW, sw]]
        b.dma(var, ap(0, cw, base, dims, sc), o_t, ap(0, cw, 0, [[npx, 1]]))
        return
    x_t, e_t, m_t, s_t = tiles
    P, L = partitions, slot.rows
    full, rem = divmod(npx, P)
    for k, pp, px0 in [(full, P, 0)] * bool(full) + [(1, rem, full * P)] * bool(rem):
        with b.loop(k) as j:
            b.transpose(x_t, ap(0, pp, j.scaled(cw), [[cw, 1]]), o_t, ap(0, cw, j.scaled(P) + px0, [[pp, 1]]))
        row, one, bcast = row_views(pp, k * cw // L, L)
        softmax_rows(b, x_t, (e_t, m_t, s_t, x_t), row, one, bcast)
        b.dma(var, ap(0, pp, base + px0 * sw, [[k, P * sw], [cw, 1]], sw), x_t, ap(0, pp, 0, [[k * cw, 1]]))
