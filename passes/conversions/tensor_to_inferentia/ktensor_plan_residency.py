"""``ktensor-plan-residency``: which values stay in SBUF between ops."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, BlockArgument, Operation, SSAValue

from kaena.target.tiling import cdiv, headroom_limit

from . import decisions as d
from .interface import Pads
from .ktensor_plan_matmul_streams import KtensorPlanMatmulStreamsPass
from .planning import FunctionPlan, PlanPass, itemsize


@dataclass(frozen=True)
class KtensorPlanResidencyPass(PlanPass):
    """Choose the values that stay in SBUF from their producer to their last consumer
    (channel-major, zero-padded for the convolutions and pools that read them); the
    others live in DRAM. A value is a candidate when its producer's family can write
    that layout and every consumer's can read it (families keep their own mixes
    consistent, e.g. pointwise ops keep all operands on one side). Then, walking the
    program, while the resident bytes live at an op plus the op's own tiles exceed
    7/8 of SBUF (less the bias table), the live value whose next use is farthest goes
    to DRAM. Records ``kaena.plan.resident`` (the stored padding) and, for a value
    only a max pool rounding to a narrower type reads, ``kaena.plan.store_type`` on
    the op defining each resident value. In a NeuronCore Pipeline stage
    (``plan.pipelined``) the function's arguments (values earlier stages send) are
    candidates too, live from the function's start (loaded there, recorded in the
    argument's ``arg_attrs``), and so are its results with readers in the stage (written
    to their outputs from SBUF): else a pointwise op mixing a stage input with a computed
    value (a residual add) keeps both in DRAM, and a sent value's readers read it back."""

    name: ClassVar[str] = "ktensor-plan-residency"
    stage: ClassVar[str] = "residency"
    after: ClassVar[type[PlanPass]] = KtensorPlanMatmulStreamsPass

    def plan(self, plan: FunctionPlan) -> None:
        users, producer = _candidates(plan)
        pads: dict[SSAValue, Pads] = {}
        narrow: dict[SSAValue, Attribute] = {}
        nbytes: dict[SSAValue, int] = {}
        for v, us in users.items():
            pads[v], narrow_type, nbytes[v] = _layout(plan, v, us, narrowing=v in producer)
            if narrow_type is not None:
                narrow[v] = narrow_type
        resident = {v for v in users if nbytes[v] <= plan.budget.sbuf // 2}
        _spill(plan, resident, users, producer, nbytes)
        for v in users:  # program order: a deterministic attribute order
            if v in resident and isinstance(v, BlockArgument):
                d.set_arg_ints(plan.fn, v.index, d.RESIDENT_PLAN_ATTR, pads[v])
            elif v in resident:
                d.set_ints(v.owner, d.RESIDENT_PLAN_ATTR, pads[v])
                if v in narrow:
                    v.owner.attributes[d.STORE_TYPE_ATTR] = narrow[v]
        for op, family in _planned_ops(plan):  # token-major [S, H] values (token_tiles.py)
            can = family.token_major_result(op, plan)
            d.check_or_set_flag(op, d.TOKEN_TILE_ATTR, can, can, plan.error,
                                "a reader of its result cannot take it from SBUF token-major")


def _planned_ops(plan: FunctionPlan):
    """(op, family) of the ops that lower to instructions of their own."""
    for op in plan.ops:
        family = plan.family(op)
        if family is not None and not plan.is_absorbed(op):
            yield op, family


def _candidates(plan: FunctionPlan) -> tuple[dict[SSAValue, list[Operation]], dict[SSAValue, Operation]]:
    """Value -> its consumers, and value -> its producer, of the values that could stay in SBUF
    (in a pipeline stage also its 4-D arguments, which have no producer, and its results
    read in the stage, written to their outputs as well)."""
    users: dict[SSAValue, list[Operation]] = {}
    producer: dict[SSAValue, Operation] = {}
    if plan.pipelined:
        for arg in plan.fn.body.block.args:
            t = arg.type
            us = [u.operation for u in arg.uses]
            if isinstance(t, TensorType) and len(t.get_shape()) == 4 and us \
                    and all(u in plan.order and _can_read(plan, u, arg) for u in us):
                users[arg] = us
    for op, family in _planned_ops(plan):
        v = plan.materialized(op)
        t = v.type
        if not isinstance(t, TensorType) or len(t.get_shape()) != 4 or not family.can_write_resident(op, plan):
            continue
        us = [u.operation for u in v.uses if u.operation is not plan.ret]
        if v in plan.direct and not (plan.pipelined and v in plan.ret.arguments):
            continue  # written straight into its output (through reshapes: not resident)
        sent = plan.pipelined and v in plan.ret.arguments  # a pointwise producer keeps one side
        if (us or sent) and all(u in plan.order and _can_read(plan, u, v) for u in us):
            users[v], producer[v] = us, op
    return users, producer


def _can_read(plan: FunctionPlan, user: Operation, v: SSAValue) -> bool:
    family = plan.family(user)
    return family is not None and family.can_read_resident(user, v, plan)


def _layout(plan: FunctionPlan, v: SSAValue, users: list[Operation],
            narrowing: bool = True) -> tuple[Pads, Attribute | None, int]:
    """(stored padding, narrower store type or None, bytes per partition) of a resident ``v``:
    the largest padding any consumer reads, stored in its only consumer's narrower type
    (not with ``narrowing`` off: an argument is loaded as it is, by DMA)."""
    p = [0, 0, 0, 0]
    for u in users:
        p = [max(a, b) for a, b in zip(p, plan.family(u).resident_padding(u))]
    narrow = None
    if len(users) == 1 and narrowing:
        narrow = plan.family(users[0]).narrower_input_type(users[0], plan)
    N, C, H, W = v.type.get_shape()
    isz = itemsize(narrow or v.type.element_type)
    nbytes = cdiv(C, plan.pc(C)) * N * (H + p[0] + p[2]) * (W + p[1] + p[3]) * isz
    return (p[0], p[1], p[2], p[3]), narrow, nbytes


def _settle(plan: FunctionPlan, resident: set[SSAValue]) -> None:
    """Let every family drop the resident values it cannot mix, until none does."""
    changed = True
    while changed:
        changed = False
        for op, family in _planned_ops(plan):
            changed |= family.settle_residency(op, plan, resident)


def _scratch(plan: FunctionPlan, op: Operation, resident: set[SSAValue]) -> int:
    if plan.is_absorbed(op):
        return 0
    family = plan.family(op)
    return plan.budget.big if family is None else family.scratch_bytes(op, plan, resident)


def sbuf_limit(plan: FunctionPlan) -> int:
    """Bytes per partition the values and tiles live at one op may take: SBUF less headroom
    for alignment and fragmentation, and less the bias table."""
    return headroom_limit(plan.budget.sbuf) - (d.get_int(plan.fn, d.BIAS_TABLE_BYTES_ATTR) or 0)


def live_bytes(plan: FunctionPlan) -> list[int]:
    """Per op, bytes per partition of the resident values live at it (as planned) plus its own tiles."""
    args = [a for a in plan.fn.body.block.args if plan.resident_pads(a) is not None]
    resident = {v for op in plan.ops for v in op.results if plan.resident_pads(v) is not None} | set(args)
    live = [_scratch(plan, op, resident) for op in plan.ops]
    for v in resident:
        users = [u.operation for u in v.uses if u.operation is not plan.ret]
        _, _, nbytes = _layout(plan, v, users, narrowing=v not in args)
        if v in args:  # loaded when the function starts
            first = 0
        else:
            first = plan.order[v.owner]
        while first > 0 and plan.is_absorbed(plan.ops[first]):  # a fused cast: its producer writes it
            first -= 1
        for i in range(first, max((plan.order[u] for u in users), default=first) + 1):
            live[i] += nbytes
    return live


def _spill(plan: FunctionPlan, resident: set[SSAValue], users: dict[SSAValue, list[Operation]],
           producer: dict[SSAValue, Operation], nbytes: dict[SSAValue, int]) -> None:
    """Send values to DRAM, farthest next use first, until every op fits."""
    order, ops = plan.order, plan.ops
    limit = sbuf_limit(plan)
    while True:
        _settle(plan, resident)
        start = {v: order[producer[v]] if v in producer else 0 for v in resident}
        span = {v: (start[v], max((order[u] for u in users[v]), default=start[v])) for v in resident}
        over = None
        for i, op in enumerate(ops):
            live = [v for v in users if v in resident and span[v][0] <= i <= span[v][1]]
            if live and sum(nbytes[v] for v in live) + _scratch(plan, op, resident) > limit:
                over = (i, live)
                break
        if over is None:
            return
        i, live = over

        def next_use(v: SSAValue) -> int:
            return min((order[u] for u in users[v] if order[u] > i), default=-1)

        # farthest next use, then the largest, then the earliest defined
        resident.discard(max(live, key=lambda v: (next_use(v), nbytes[v], -span[v][0])))
