"""``ktensor-plan-residency``: which values stay in SBUF between ops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, BlockArgument, Operation, SSAValue

from kaena.passes.transforms.ktensor.ktensor_partition_pipeline import nbytes as value_bytes
from kaena.target.tiling import cdiv, headroom_limit

from . import decisions as d
from .interface import Pads
from .ktensor_plan_residual_adds import KtensorPlanResidualAddsPass
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
    to DRAM, unless the op can give up the bytes over from its own tiles for fewer
    modelled cycles than that value's round trip through DRAM (a conv reading DRAM takes
    lower bands, ``kaena.plan.band_budget``: at batch 8 ResNet-50's stem would have sent
    the first half-batch's layer3 result to DRAM for 206 bytes). Records
    ``kaena.plan.resident`` (the stored padding) and, for a value only a max pool rounding to a narrower type reads, ``kaena.plan.store_type`` on
    the op defining each resident value. In a NeuronCore Pipeline stage
    (``plan.pipelined``) the function's arguments (values earlier stages send) are
    candidates too, live from the function's start (loaded there, recorded in the
    argument's ``arg_attrs``), and so are its results with readers in the stage (written
    to their outputs from SBUF): else a pointwise op mixing a stage input with a computed
    value (a residual add) keeps both in DRAM, and a sent value's readers read it back.
    A residual add's sum done in place (``kaena.plan.residual_add``) shares its skip's
    tile (and a chain of such blocks one tile): they stay together or go to DRAM together,
    stored with the padding any of their readers needs, each taking the tile's bytes from
    where the one before it ends."""

    name: ClassVar[str] = "ktensor-plan-residency"
    stage: ClassVar[str] = "residency"
    after: ClassVar[type[PlanPass]] = KtensorPlanResidualAddsPass

    def plan(self, plan: FunctionPlan) -> None:
        users, producer = _candidates(plan)
        group = _tile_groups(plan, users)
        pads: dict[SSAValue, Pads] = {}
        narrow: dict[SSAValue, Attribute] = {}
        nbytes: dict[SSAValue, int] = {}
        for v, us in users.items():
            pads[v], narrow_type, nbytes[v] = _layout(plan, v, us, narrowing=v in producer and v not in group)
            if narrow_type is not None:
                narrow[v] = narrow_type
        for v, vs in group.items():  # one tile: the padding all its values' readers need
            pads[v] = tuple(max(p) for p in zip(*(_layout(plan, w, users[w], False)[0] for w in vs)))
            nbytes[v] = _stored_bytes(plan, v, pads[v], v.type.element_type)
        resident = {v for v in users if nbytes[v] <= plan.budget.sbuf // 2}
        _spill(plan, resident, users, producer, nbytes, group)
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


def _tile_groups(plan: FunctionPlan, users: dict[SSAValue, list[Operation]]) -> dict[SSAValue, tuple[SSAValue, ...]]:
    """Value -> the values sharing its tile: a skip and the sums of the residual adds done
    in place over it, one after another (a ResNet stage's chain of blocks). A group one of
    whose values cannot stay in SBUF goes to DRAM whole (dropped from ``users``)."""
    root: dict[SSAValue, SSAValue] = {}

    def find(v: SSAValue) -> SSAValue:
        while root.get(v, v) is not v:
            v = root[v]
        return v

    for op in plan.ops:
        residual = plan.residual_add(op)
        if residual is not None and plan.residual_sum(residual[0].results[0]) is not None:
            add, skip = residual
            root.setdefault(skip, skip)
            root[add.results[0]] = find(skip)
    members: dict[SSAValue, list[SSAValue]] = {}
    for v in root:  # program order
        members.setdefault(find(v), []).append(v)
    groups: dict[SSAValue, tuple[SSAValue, ...]] = {}
    for vs in members.values():
        if all(v in users for v in vs):
            groups.update({v: tuple(vs) for v in vs})
        else:
            for v in vs:
                users.pop(v, None)
    return groups


def first_live(plan: FunctionPlan, v: SSAValue, producer: Operation | None) -> int:
    """The index of the first op ``v`` (resident) takes SBUF at: its producer's, 0 for an
    argument, past its add for a residual sum done in place (its skip's bytes until then)."""
    if plan.residual_sum(v) is not None:
        return plan.order[v.owner] + 1
    return plan.order[producer] if producer is not None else 0


def _can_read(plan: FunctionPlan, user: Operation, v: SSAValue) -> bool:
    if plan.residual_skip(user) is not None:
        return True  # a residual add its conv's drain does, reading the skip on either side
    family = plan.family(user)
    return family is not None and family.can_read_resident(user, v, plan)


def _layout(plan: FunctionPlan, v: SSAValue, users: list[Operation], narrowing: bool = True,
            pads: Pads | None = None) -> tuple[Pads, Attribute | None, int]:
    """(stored padding, narrower store type or None, bytes per partition) of a resident ``v``:
    the largest padding any consumer reads (or ``pads``), stored in its only consumer's
    narrower type (not with ``narrowing`` off: an argument is loaded as it is, by DMA)."""
    p = [0, 0, 0, 0] if pads is None else list(pads)
    for u in users if pads is None else ():
        p = [max(a, b) for a, b in zip(p, plan.family(u).resident_padding(u))]
    narrow = None
    if len(users) == 1 and narrowing:
        narrow = plan.family(users[0]).narrower_input_type(users[0], plan)
    pads = (p[0], p[1], p[2], p[3])
    return pads, narrow, _stored_bytes(plan, v, pads, narrow or v.type.element_type)


def _stored_bytes(plan: FunctionPlan, v: SSAValue, pads: Pads, element_type: Attribute) -> int:
    """Bytes per partition of 4-D ``v`` stored channel-major with ``pads`` in ``element_type``."""
    N, C, H, W = v.type.get_shape()
    return cdiv(C, plan.pc(C)) * N * (H + pads[0] + pads[2]) * (W + pads[1] + pads[3]) * itemsize(element_type)


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
        nbytes = _stored_bytes(plan, v, plan.resident_pads(v), plan.stored_type(v))
        if v in args or plan.residual_sum(v) is not None:
            first = first_live(plan, v, None)
        else:
            first = plan.order[v.owner]
            while first > 0 and plan.is_absorbed(plan.ops[first]):  # a fused cast: its producer writes it
                first -= 1
        for i in range(first, max((plan.order[u] for u in users), default=first) + 1):
            live[i] += nbytes
    return live


def _spill(plan: FunctionPlan, resident: set[SSAValue], users: dict[SSAValue, list[Operation]],
           producer: dict[SSAValue, Operation], nbytes: dict[SSAValue, int],
           group: dict[SSAValue, tuple[SSAValue, ...]]) -> None:
    """Send values to DRAM, farthest next use first (a value with the others of its tile),
    until every op fits."""
    order, ops = plan.order, plan.ops
    limit = sbuf_limit(plan)
    while True:
        _settle(plan, resident)
        while stray := [v for v in resident if any(w not in resident for w in group.get(v, ()))]:
            resident.difference_update(stray)
            _settle(plan, resident)
        start = {v: first_live(plan, v, producer.get(v)) for v in resident}
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
        victim = max(live, key=lambda v: (next_use(v), nbytes[v], -span[v][0]))
        victims = group.get(victim, (victim,))
        family = plan.family(ops[i])
        excess = sum(nbytes[v] for v in live) + _scratch(plan, ops[i], resident) - limit
        if family is not None and not plan.is_absorbed(ops[i]) \
                and family.shrink_scratch(ops[i], plan, resident, excess, _round_trip(plan, victims, users)):
            continue  # the op gave up some of its tiles' bytes instead
        resident.difference_update(victims)


def _round_trip(plan: FunctionPlan, values: Sequence[SSAValue], users: dict[SSAValue, list[Operation]]) -> int:
    """The DMA cycles ``values`` in DRAM would add: each written once and read by each reader."""
    return sum(plan.cm.dma(value_bytes(v.type)) * (1 + len(users[v])) for v in values)
