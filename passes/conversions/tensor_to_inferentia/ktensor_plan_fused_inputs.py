"""``ktensor-plan-fused-inputs``: which ops do their input's producer on their own tiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.ir import Operation

from . import decisions as d
from .ktensor_plan_epilogues import KtensorPlanEpiloguesPass
from .planning import FunctionPlan, PlanPass
from .slots import consumer_of, plan_slot_writers


@dataclass(frozen=True)
class KtensorPlanFusedInputsPass(PlanPass):
    """Record ``kaena.plan.fuse_input`` on an op that does the producer of its first
    operand itself, when that producer has no other user and its family agrees
    (``fuses_input``): a matmul loads an FP32 lhs and rounds it to the operand dtype on
    the scalar engine instead of reading a cast's result; a layer norm loads both
    operands of the residual add before it and adds them on the vector engine; a softmax
    over its last axis reads the operands of the concat of rows before it into its row
    tiles (through the transposes the concat reads through) and stores each slot. The
    producer's result then never goes through DRAM. A decision written by hand is checked.

    Also ``kaena.plan.fuse_transposes`` on a concat whose family reads transposed operands
    through (``reads_through_transposes``) when one of its operands is a single-use
    transpose, through reshapes (``FunctionPlan.read_through``): the concat's DMAs read
    the transpose's input with permuted strides straight into the operand's slot, one
    DRAM-to-DRAM pass instead of two (SSD's NHWC heads).

    Then ``kaena.plan.slot_writers`` on such a concat, or on the softmax reading it, when
    every operand's producer can write its slot itself (``slots.py``): SSD's heads store
    their boxes, and softmax their scores, on their PSUM drains."""

    name: ClassVar[str] = "ktensor-plan-fused-inputs"
    stage: ClassVar[str] = "fused-inputs"
    after: ClassVar[type[PlanPass]] = KtensorPlanEpiloguesPass

    def plan(self, plan: FunctionPlan) -> None:
        for op in plan.ops:
            family = plan.family(op)
            if family is None or plan.is_absorbed(op):
                continue
            fusable = _sole_producer(op, plan) is not None and family.fuses_input(op, plan)
            if d.has_flag(op, d.FUSE_INPUT_ATTR) and not fusable:
                raise plan.error(op, f"{d.FUSE_INPUT_ATTR} needs a first operand whose producer only "
                                     "this op uses and that this op can do itself")
            if fusable:
                d.set_flag(op, d.FUSE_INPUT_ATTR)
                plan.forget_absorbed()
            if family.reads_through_transposes(op, plan) and any(plan.read_through(op)):
                d.set_flag(op, d.FUSE_TRANSPOSES_ATTR)
                plan.forget_absorbed()
        for op in plan.ops:
            family = plan.family(op)
            if family is not None and family.reads_through_transposes(op, plan) \
                    and not _forced_slots(op, plan):
                consumer = plan_slot_writers(plan, op)
                if consumer is not None:
                    d.set_flag(consumer, d.SLOT_WRITERS_ATTR)
                    plan.forget_absorbed()


def _forced_slots(cat: Operation, plan: FunctionPlan) -> bool:
    """Whether ``kaena.plan.slot_writers`` is written by hand on ``cat``'s consumer (checked)."""
    consumer = consumer_of(plan, cat)
    forced = [o for o in (cat, consumer) if d.has_flag(o, d.SLOT_WRITERS_ATTR)]
    if forced and (forced[0] is not consumer or plan_slot_writers(plan, cat) is not consumer):
        raise plan.error(forced[0], f"{d.SLOT_WRITERS_ATTR} needs a concat (or the softmax reading it) "
                                    "whose operands' producers can all write their slots")
    return bool(forced)


def _sole_producer(op: Operation, plan: FunctionPlan) -> Operation | None:
    """The producer of ``op``'s first operand if ``op`` is its only user and nothing else
    writes or absorbs it."""
    if not op.operands:
        return None
    v = op.operands[0]
    p = v.owner
    if not isinstance(p, Operation) or p not in plan.order or not v.has_one_use() or v in plan.direct:
        return None
    if plan.is_absorbed(p) or plan.fused_cast(p) is not None or d.EPILOGUE_ATTR in p.attributes \
            or d.FUSE_INPUT_ATTR in p.attributes:
        return None
    return p
