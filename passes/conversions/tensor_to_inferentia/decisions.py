"""The lowering's decisions, recorded as ``kaena.plan.*`` attributes on the ktensor ops.

The ``ktensor-plan-*`` passes write them (IREE's lowering configs are the model),
``convert-tensor-to-inferentia`` reads them and decides nothing itself, so a
decision can be inspected (``kaena-opt --print-between-passes``) or forced by
writing the attribute by hand. On ktensor ops:

====================================  ===================================================
``kaena.plan.engine = "pe"``          a depthwise conv's engine: ``"pe"`` (diagonal
                                      stationaries) or ``"vector"`` (multiply-adds)
``kaena.plan.psum_group = 3``         PSUM row chunks sharing one diagonal stationary
``kaena.plan.psum_buffers = 2``       ... in two PSUM result slots, drained alternately
``kaena.plan.vector_rows = 25``       ... and its last 25 output rows on the vector engine
                                      (multiply-adds), the two engines at once
``kaena.plan.vector_tiles = 2``       ... and its first 2 channel tiles wholly on the
                                      vector engine, at once with the PE array's tiles
``kaena.plan.fuse_cast``              the op writes its single user ``ktensor.cast``'s
                                      result directly (the cast emits nothing)
``kaena.plan.epilogue = 3``           a matmul writes the result of the chain of its next 3
                                      single users (reshapes, transposes, a scale, a bias
                                      add, a cast) directly; they emit nothing
``kaena.plan.fuse_input``             the op does its first operand's producer (its single
                                      user), a cast or an add, on its own input tiles; a
                                      softmax reads its concat's operands itself
``kaena.plan.residual_add``           a dense conv whose single user is an add of a skip
                                      (its last reader) adds the skip on its PSUM drain and
                                      applies the add's activation, writing the sum over the
                                      skip's tile; the add emits nothing
``kaena.plan.fuse_transposes``        a concat reads each operand that is a transpose (through
                                      reshapes) from the transpose's input with permuted
                                      strides, straight into its slot; the transposes and
                                      reshapes emit nothing
``kaena.plan.slot_writers``           on a concat (or the softmax reading it): each operand's
                                      producer, a dense conv through the transpose the concat
                                      reads through, writes its slot of the result on its PSUM
                                      drain (a softmax's rows transposed and done there); the
                                      op emits nothing
``kaena.plan.attention``              a scores batch_matmul lowers its attention block (its
                                      epilogue, the softmax, the context batch_matmul and
                                      its epilogue) as one loop over heads in SBUF
``kaena.plan.head_groups = 3``        ... loading q, k, v in 3 groups of heads, the queue
                                      moving a group while the engines do the one before
``kaena.plan.context_chain``          ... and drains every head's context^T into the lhs^T tile
                                      of the matmul reading the context (heads in pairs on the
                                      partitions), never writing it to DRAM
``kaena.plan.weight_blocks = 4``      a matmul streams its weights in 4 column blocks, the
                                      PE array computing each as soon as it has landed
``kaena.plan.chain``                  ... and keeps its result in SBUF as the lhs^T tile of
                                      the matmul that reads it (no DRAM round trip)
``kaena.plan.shared_lhs``             ... and reads the lhs^T tile an earlier matmul loaded
                                      from the same value (Q, K and V of one input)
``kaena.plan.weight_prefetch =``     ... and loads its weights' K tiles ahead of it: 3 just
``array<i64: 3, 7>``                  before the second-last op ahead of it that loads
                                      weights, 7 before the last (the DMA queue moves
                                      them while earlier ops compute)
``kaena.plan.head_tile``              a matmul (a Q or K projection) drains its head-transposed
                                      result into the [D, (head, row)] SBUF tile its planned
                                      attention block reads as q^T or k (no DRAM round trip)
``kaena.plan.token_tile``             a layer norm keeps its result in SBUF token-major for
                                      the residual add and the matmuls that read it
``kaena.plan.bias_table``             a dense conv reads its bias from the model's table
``kaena.plan.resident = array<..>``   the op's result stays in SBUF, stored with this
                                      zero padding [top, left, bottom, right]
``kaena.plan.store_type = bf16``      ... and stored in this narrower element type
``kaena.plan.weight_block = 16384``   a dense conv's weight blocks take at most 16384 bytes
                                      per partition (below the big-operand budget: written
                                      by ``ktensor-split-batch`` so a group of samples'
                                      activations fit beside them); blocks that stream go
                                      through two buffers of half of it where whole blocks
                                      allow (``tiling.weight_blocks``)
``kaena.plan.band_budget = 22528``    a dense conv reading DRAM: its input band tiles take at
                                      most 22528 bytes per partition (below the moving-operand
                                      budget: written by ``ktensor-plan-residency`` where that
                                      keeps a live value in SBUF, priced below its round trip)
``kaena.plan.band_rows = 28``         a dense conv's output rows per band
``kaena.plan.band_buffers = 2``       ... its input/result band buffers (1 or 2)
``kaena.plan.psum_buffers = 2``       ... its PSUM tiles in rotation
``kaena.plan.row_group = 85``         a softmax over its last axis: consecutive rows per
                                      partition per tile (one DMA moves 128 x 85 rows)
====================================  ===================================================

On a ``func.func`` argument (its ``arg_attrs``), in a NeuronCore Pipeline stage (a module
with ``kaena.pipeline``): ``kaena.plan.resident = array<..>``, the argument (a value an
earlier stage sends) is loaded into SBUF when the function starts, stored with this zero
padding, and its readers take it from there. A function result may be planned resident
too (on its producer, as any value): it is written to its output from SBUF once made.

On the ``func.func``: ``kaena.plan.bias_table_bytes`` (SBUF bytes per partition
kept for the bias table, when there is one) and ``kaena.plan.done`` (the
planning stages that ran, in order).
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DenseArrayBase, DictionaryAttr, IntegerAttr, StringAttr, UnitAttr, i64
from xdsl.ir import Attribute, Operation

from kaena.passes.transforms.ktensor.ktensor_split_batch import WEIGHT_BLOCK

PLAN_PREFIX = "kaena.plan."
ENGINE_ATTR = "kaena.plan.engine"
PSUM_GROUP_ATTR = "kaena.plan.psum_group"
PSUM_BUFFERS_ATTR = "kaena.plan.psum_buffers"
VECTOR_ROWS_ATTR = "kaena.plan.vector_rows"
VECTOR_TILES_ATTR = "kaena.plan.vector_tiles"
FUSE_CAST_ATTR = "kaena.plan.fuse_cast"
EPILOGUE_ATTR = "kaena.plan.epilogue"
FUSE_INPUT_ATTR = "kaena.plan.fuse_input"
RESIDUAL_ADD_ATTR = "kaena.plan.residual_add"
FUSE_TRANSPOSES_ATTR = "kaena.plan.fuse_transposes"
SLOT_WRITERS_ATTR = "kaena.plan.slot_writers"
ATTENTION_ATTR = "kaena.plan.attention"
HEAD_GROUPS_ATTR = "kaena.plan.head_groups"
CONTEXT_CHAIN_ATTR = "kaena.plan.context_chain"
WEIGHT_BLOCKS_ATTR = "kaena.plan.weight_blocks"
WEIGHT_SLOTS_ATTR = "kaena.plan.weight_slots"
CHAIN_ATTR = "kaena.plan.chain"
SHARED_LHS_ATTR = "kaena.plan.shared_lhs"
WEIGHT_PREFETCH_ATTR = "kaena.plan.weight_prefetch"
TOKEN_TILE_ATTR = "kaena.plan.token_tile"
HEAD_TILE_ATTR = "kaena.plan.head_tile"
BIAS_TABLE_ATTR = "kaena.plan.bias_table"
RESIDENT_PLAN_ATTR = "kaena.plan.resident"
STORE_TYPE_ATTR = "kaena.plan.store_type"
BAND_ROWS_ATTR = "kaena.plan.band_rows"
BAND_BUDGET_ATTR = "kaena.plan.band_budget"
WEIGHT_BLOCK_ATTR = WEIGHT_BLOCK  # (ktensor-split-batch writes it)
SHARED_ROWS_ATTR = "kaena.plan.shared_rows"
BAND_BUFFERS_ATTR = "kaena.plan.band_buffers"
PSUM_BUFFERS_ATTR = "kaena.plan.psum_buffers"
ROW_GROUP_ATTR = "kaena.plan.row_group"
BIAS_TABLE_BYTES_ATTR = "kaena.plan.bias_table_bytes"
DONE_ATTR = "kaena.plan.done"

ENGINES = ("pe", "vector")


def get_int(op: Operation, name: str) -> int | None:
    attr = op.attributes.get(name)
    return attr.value.data if isinstance(attr, IntegerAttr) else None


def set_int(op: Operation, name: str, value: int) -> None:
    op.attributes[name] = IntegerAttr(value, i64)


def get_str(op: Operation, name: str) -> str | None:
    attr = op.attributes.get(name)
    return attr.data if isinstance(attr, StringAttr) else None


def set_str(op: Operation, name: str, value: str) -> None:
    op.attributes[name] = StringAttr(value)


def has_flag(op: Operation, name: str) -> bool:
    return name in op.attributes


def set_flag(op: Operation, name: str) -> None:
    op.attributes[name] = UnitAttr()


def check_or_set_flag(op: Operation, name: str, can: bool, pays: bool,
                      error: Callable[[Operation, str], Exception], why: str) -> None:
    """A flag written by hand must be possible (else ``error(op, "<name> is set, but <why>")``);
    unset, the planner sets it where it pays."""
    if has_flag(op, name):
        if not can:
            raise error(op, f"{name} is set, but {why}")
    elif pays:
        set_flag(op, name)


def get_ints(op: Operation, name: str) -> tuple[int, ...] | None:
    attr = op.attributes.get(name)
    if not isinstance(attr, DenseArrayBase):
        return None
    return tuple(int(v) for v in attr.get_values())


def set_ints(op: Operation, name: str, values: tuple[int, ...]) -> None:
    op.attributes[name] = DenseArrayBase.from_list(i64, list(values))


def get_arg_ints(fn: func.FuncOp, index: int, name: str) -> tuple[int, ...] | None:
    """An integer-array decision on argument ``index`` of ``fn`` (its ``arg_attrs``)."""
    attrs = fn.arg_attrs
    if attrs is None or index >= len(attrs.data) or not isinstance(attrs.data[index], DictionaryAttr):
        return None
    attr = attrs.data[index].data.get(name)
    return tuple(int(v) for v in attr.get_values()) if isinstance(attr, DenseArrayBase) else None


def set_arg_ints(fn: func.FuncOp, index: int, name: str, values: tuple[int, ...]) -> None:
    n = len(fn.body.block.args)
    old = list(fn.arg_attrs.data) if fn.arg_attrs is not None else []
    old += [DictionaryAttr({})] * (n - len(old))
    entry = dict(old[index].data) if isinstance(old[index], DictionaryAttr) else {}
    entry[name] = DenseArrayBase.from_list(i64, list(values))
    old[index] = DictionaryAttr(entry)
    fn.arg_attrs = ArrayAttr(old)


def get_type(op: Operation, name: str) -> Attribute | None:
    return op.attributes.get(name)


def stages_done(fn: Operation) -> tuple[str, ...]:
    attr = fn.attributes.get(DONE_ATTR)
    if not isinstance(attr, ArrayAttr):
        return ()
    return tuple(a.data for a in attr.data if isinstance(a, StringAttr))


def mark_done(fn: Operation, stage: str) -> None:
    fn.attributes[DONE_ATTR] = ArrayAttr([StringAttr(s) for s in (*stages_done(fn), stage)])
