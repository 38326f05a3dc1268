"""``ktensor-partition-pipeline{cores=N}``: cut ``@main`` into N NeuronCore Pipeline stages.

The stages are contiguous runs of the program (requests stream through them in
order). Each op is priced with the target's cost model (per engine: PE, ACT, POOL,
DMA, the engines overlap so the busiest sets a stage's time; the DMA of the share of its
weights beyond its pin budget, which streams each inference while the rest stays resident
and loads once, ``kaena.neff.resident``: the SBUF the values and tiles live at one op may
take less the stage's working set beside its weights, ``working_set``, the budget
``ktensor-plan-matmul-streams`` pins within when the stage is lowered); a cut costs the
transfer of the bytes that cross it, by device DRAM on one chip (a DMA out on the
sender, one in on the receiver) or over NeuronLink between chips. A dynamic
program minimises the slowest stage (the pipeline's interval), then the bytes
crossing cuts. An op's ``kaena.pipeline.cost_scale`` (the driver sets it from a
simulated first compile, docs/pipeline-parallel.md) scales its modelled cycles. The plan is recorded as attributes: ``kaena.pipeline.stage`` on
every op, ``kaena.pipeline`` (cores, chips, per-stage cycles and weight bytes, per-cut
bytes and link, the honest roofline ``roofline_cycles``) on the module; ``ktensor-extract-stage`` reads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import PIPELINE_ATTR
from kaena.dialects.utils import ints
from kaena.errors import CompileError
from kaena.isa import DType
from kaena.target import NeuronCoreTarget, target_of
from kaena.target.costmodel import CostModel
from kaena.target.tiling import cdiv, pinned_weight_budget

STAGE_ATTR = "kaena.pipeline.stage"
SCALE_ATTR = "kaena.pipeline.cost_scale"
PLAN_ATTR = PIPELINE_ATTR
# ops that never start a stage: they only re-view or re-type their producer's result
_FOLLOWERS = (kt.CastOp, kt.ReshapeOp)
_ENGINES = 4  # pe, act, pool, dma


def main_of(module: ModuleOp) -> func.FuncOp:
    fn = next((f for f in module.ops if isinstance(f, func.FuncOp) and f.sym_name.data == "main"), None)
    if fn is None:
        raise CompileError("the module has no func.func @main to partition")
    return fn


def nbytes(t) -> int:
    """Device bytes of a tensor value (a mask's as it is stored, ``kt.MASK_STORAGE``)."""
    if not isinstance(t, TensorType):
        return 0
    name = str(t.element_type)
    return math.prod(t.get_shape()) * DType.from_name(str(kt.MASK_STORAGE) if name == "i1" else name).itemsize


def _dtype(v: SSAValue) -> str:
    return str(v.type.element_type)


def op_cycles(op: Operation, cm: CostModel) -> list[int]:
    """Modelled busy cycles [pe, act, pool, dma] of one ktensor op on one core, without
    loading its weights (``weight_cycles``: what streaming them costs per inference)."""
    t = cm.target
    out = [0] * _ENGINES
    res = op.results[0].type if op.results else None
    numel = math.prod(res.get_shape()) if isinstance(res, TensorType) else 0
    per_part = math.ceil(numel / t.partitions)
    if isinstance(op, kt.Conv2dOp):
        w, r = op.weight.type.get_shape(), res.get_shape()
        g = op.groups.value.data
        n = r[0] * r[2] * r[3]
        taps = w[2] * w[3]
        if g > 1 and w[1] == 1:  # depthwise: the vector engine, one tap at a time
            out[2] += math.ceil(w[0] / t.partitions) * taps * cm.vector(n, 2)
        else:
            out[0] += g * cm.gemm(w[1] * taps, w[0] // g, n, _dtype(op.input)).cycles
        out[1] += math.ceil(w[0] / t.partitions) * cm.activation(n)
    elif isinstance(op, kt.MatmulOp):
        a, b = op.lhs.type.get_shape(), op.rhs.type.get_shape()
        out[0] += cm.gemm(a[-1], math.prod(a[:-1]), b[-1], _dtype(op.lhs)).cycles
        out[1] += cm.activation(per_part)
    elif isinstance(op, kt.BatchMatmulOp):
        a, b = op.lhs.type.get_shape(), op.rhs.type.get_shape()
        batch = math.prod(a[:-2])
        out[0] += batch * cm.gemm(a[-1], a[-2], b[-1], _dtype(op.lhs)).cycles
        out[1] += cm.activation(per_part)
    elif isinstance(op, kt.GatherOp):  # one DMA gather of the indexed rows from DRAM
        out[3] += cm.dma_gather(math.prod(op.indices.type.get_shape()), nbytes(res))
    elif isinstance(op, kt.ReshapeOp | kt.WeightOp):
        pass
    elif isinstance(op, kt.ActivationOp | kt.SoftmaxOp | kt.LogSoftmaxOp | kt.LayerNormOp):
        out[1] += cm.activation(per_part)
    elif isinstance(op, kt.Pool2dOp):
        k = ints(op.kernel)
        out[2] += cm.vector(per_part * k[0] * k[1])
    elif numel:
        tensors = sum(1 for v in op.operands if isinstance(v.type, TensorType))
        out[2] += cm.vector(per_part, max(1, tensors))
    # activations through DRAM: their bytes at the queue's bandwidth (how many DMAs carry
    # them is the lowering's choice)
    out[3] += round(cm.dma_floor(sum(nbytes(v.type) for v in dram_traffic(op)), 0))
    return out


_CONTRACTIONS = (kt.MatmulOp, kt.BatchMatmulOp)
# between a contraction and the contraction reading its result, the ops the matmul lowering
# folds into its tiles' layout (casts, reshapes, the head transposes of attention)
_VIEWS = _FOLLOWERS + (kt.TransposeOp,)


def _through_views(v: SSAValue) -> SSAValue:
    """``v``'s source past the casts, reshapes and transposes that re-view or re-type it."""
    while isinstance(v.owner, _VIEWS):
        v = v.owner.operands[0]
    return v


def _readers(v: SSAValue) -> list[Operation]:
    """The ops reading ``v``, past casts, reshapes and transposes."""
    out = []
    for use in v.uses:
        op = use.operation
        out += [r for res in op.results for r in _readers(res)] if isinstance(op, _VIEWS) else [op]
    return out


def dram_traffic(op: Operation) -> list[SSAValue]:
    """The values an op moves through DRAM by DMA: activations that are not 4-D (the residency
    planner keeps only those in SBUF, ``ktensor-plan-residency``), each written by its producer
    and read by each reader, but for one contraction's result read only by contractions (the
    matmul lowering keeps it in SBUF as their operand tile: chains, head tiles) and for an
    operand an earlier contraction loaded (a shared lhs^T tile)."""
    if isinstance(op, _VIEWS + (kt.WeightOp, func.ReturnOp)):
        return []

    def in_dram(v: SSAValue) -> bool:
        return isinstance(v.type, TensorType) and len(v.type.get_shape()) != 4 and not isinstance(v.owner, kt.WeightOp)

    def kept(v: SSAValue) -> bool:  # a contraction's result only contractions read
        src = _through_views(v)
        readers = _readers(src)
        return isinstance(src.owner, _CONTRACTIONS) and bool(readers) and all(isinstance(r, _CONTRACTIONS) for r in readers)

    def loaded(v: SSAValue) -> bool:  # an earlier contraction loaded the same operand tile
        return isinstance(op, _CONTRACTIONS) and any(
            isinstance(r, _CONTRACTIONS) and r.parent is op.parent and r.is_before_in_block(op) for r in _readers(v))

    table = op.table if isinstance(op, kt.GatherOp) else None
    reads = [v for v in dict.fromkeys(op.operands) if v is not table and in_dram(v) and not kept(v) and not loaded(v)]
    return reads + [v for v in op.results if in_dram(v) and not kept(v)]


def weighted_macs(op: Operation, cm: CostModel) -> int:
    """MACs of one ktensor op as its graph defines them, FP32 ones counted
    ``pe_fp32_slowdown`` times (the PE floor's measure, ``CostModel.pe_floor``)."""
    res = op.results[0].type if op.results else None
    if isinstance(op, kt.Conv2dOp) and isinstance(res, TensorType):
        w, r = op.weight.type.get_shape(), res.get_shape()
        macs, v = r[0] * r[2] * r[3] * w[0] * w[1] * w[2] * w[3], op.input
    elif isinstance(op, kt.MatmulOp | kt.BatchMatmulOp):
        a, b = op.lhs.type.get_shape(), op.rhs.type.get_shape()
        macs, v = math.prod(a) * b[-1], op.lhs
    else:
        return 0
    return macs * (cm.target.pe_fp32_slowdown if _dtype(v) == "f32" else 1)


def working_bytes(op: Operation, partitions: int) -> int:
    """Bytes per SBUF partition of the activations ``op`` holds beside its weights: its
    tensor operands that are not weights and its results (a result only a cast reads as
    the cast's type: the op writes it), each spread over the partitions. A cast or reshape
    holds none of its own (fused into its producer, or a view)."""
    if isinstance(op, _FOLLOWERS + (kt.WeightOp,)):
        return 0
    stored = [next(iter(v.uses)).operation.results[0]
              if v.has_one_use() and isinstance(next(iter(v.uses)).operation, kt.CastOp) else v for v in op.results]
    values = {v for v in op.operands if not isinstance(v.owner, kt.WeightOp)} | set(stored)
    return sum(cdiv(nbytes(v.type), partitions) for v in values)


def working_set(ops, partitions: int) -> int:
    """A stage's working set (bytes per partition): its largest op's ``working_bytes``, what
    its SBUF must keep free beside the weights it pins (``tiling.pinned_weight_budget``)."""
    return max((working_bytes(op, partitions) for op in ops), default=0)


def stage_capacity(target: NeuronCoreTarget, working: int) -> int:
    """Weight bytes a stage with working set ``working`` (bytes per partition) keeps resident."""
    return target.partitions * pinned_weight_budget(target, working)


def weight_bytes(op: Operation) -> int:
    """Weight bytes a stage would keep resident in SBUF or stream each inference. A
    gather's table stays in DRAM (the DMA gather reads only the indexed rows, priced in
    ``op_cycles``), so it counts for neither."""
    tables = {op.table} if isinstance(op, kt.GatherOp) else set()
    return sum(nbytes(v.type) for v in set(op.operands) - tables if isinstance(v.owner, kt.WeightOp))


@dataclass
class Unit:
    """A run of ops that stays on one stage: a computing op and the casts/reshapes after it.
    ``weight_cycles``: DMA cycles of streaming its weights each inference, paid only by a
    stage whose weights do not stay resident (more than its ``stage_capacity``)."""

    ops: list[Operation]
    cycles: list[int]
    weight_bytes: int = 0
    weight_cycles: int = 0
    macs: int = 0  # weighted MACs (``weighted_macs``), unscaled: the roofline's PE floor
    working: int = 0  # the largest ``working_bytes`` of its ops


def cost_scale(op: Operation) -> float:
    """``kaena.pipeline.cost_scale`` on an op (1 when absent): how much slower its stage ran
    than modelled in an earlier compile (the driver's calibration), applied to its cycles."""
    a = op.attributes.get(SCALE_ATTR)
    return float(a.value.data) if isinstance(a, FloatAttr) else 1.0


def units_of(fn: func.FuncOp, cm: CostModel) -> list[Unit]:
    units: list[Unit] = []
    for op in fn.body.block.ops:
        if isinstance(op, func.ReturnOp | kt.WeightOp):
            continue
        scale = cost_scale(op)
        c = [round(x * scale) for x in op_cycles(op, cm)]
        wb = weight_bytes(op)
        wc = round(cm.dma(wb) * scale) if wb else 0
        macs = weighted_macs(op, cm)
        work = working_bytes(op, cm.target.partitions)
        if units and isinstance(op, _FOLLOWERS):
            u = units[-1]
            u.ops.append(op)
            u.cycles = [a + b for a, b in zip(u.cycles, c)]
            u.weight_bytes += wb
            u.weight_cycles += wc
            u.macs += macs
            u.working = max(u.working, work)
        else:
            units.append(Unit([op], c, wb, wc, macs, work))
    return units


def cut_bytes(units: list[Unit], fn: func.FuncOp) -> list[int]:
    """Bytes that cross the cut before unit i (values made earlier, used at or after i)."""
    where = {op: i for i, u in enumerate(units) for op in u.ops}
    ret = fn.body.block.last_op
    delta = [0] * (len(units) + 1)
    for i, u in enumerate(units):
        for op in u.ops:
            for v in op.results:
                last = max((where[use.operation] for use in v.uses if use.operation in where), default=i)
                if last > i:
                    delta[i + 1] += nbytes(v.type)
                    delta[last + 1] -= nbytes(v.type)
    del ret
    out, run = [], 0
    for i in range(len(units)):
        run += delta[i]
        out.append(run)
    return out  # out[0] == 0: nothing crosses before the first unit


@dataclass(frozen=True)
class Plan:
    starts: list[int]  # first unit of each stage
    stage_cycles: list[int]
    cut_bytes: list[int]  # per cut (stage k -> k+1)
    links: list[str]  # "dram" (same chip) or "neuronlink"


def _chip(stage: int, target: NeuronCoreTarget) -> int:
    return stage // target.cores_per_chip


def plan_stages(units: list[Unit], cuts: list[int], cores: int, cm: CostModel, capacity: int = 0) -> Plan:
    """Min-max dynamic program over contiguous stages: the slowest stage first, then
    the bytes crossing cuts. ``capacity``: a stage's resident weight bytes (0: each stage's
    ``stage_capacity``, by the working set of its units)."""
    t = cm.target
    n = len(units)
    pre = [[0] * (n + 1) for _ in range(_ENGINES)]
    for i, u in enumerate(units):
        for e, v in enumerate(u.cycles):
            pre[e][i + 1] = pre[e][i] + v

    def send(k: int, i: int) -> int:  # stage k sends the cut before unit i
        if i >= n or k + 1 >= cores or not cuts[i]:
            return 0
        same = _chip(k, t) == _chip(k + 1, t)
        return cm.dma(cuts[i]) if same else cm.neuronlink(cuts[i])

    def recv(j: int) -> int:
        return cm.dma(cuts[j]) if j > 0 and cuts[j] else 0

    memo: dict[tuple[int, int], int] = {}

    def streamed(j: int, i: int, working: int) -> int:
        if (j, i) not in memo:
            memo[j, i] = streamed_cycles(units[j:i], capacity or stage_capacity(t, working), t.dma_fixed_cycles)
        return memo[j, i]

    def cost(k: int, j: int, i: int, working: int) -> int:
        pe, act, pool, dma = (pre[e][i] - pre[e][j] for e in range(_ENGINES))
        return max(pe, act, pool, dma + streamed(j, i, working) + recv(j) + send(k, i))

    inf = (math.inf, math.inf)
    best: list[list[tuple[float, float]]] = [[inf] * (n + 1) for _ in range(cores + 1)]
    back = [[0] * (n + 1) for _ in range(cores + 1)]
    best[0][0] = (0, 0)
    for k in range(1, cores + 1):
        for i in range(k, n - (cores - k) + 1):
            cand = inf
            arg = 0
            working = 0
            for j in range(i - 1, k - 2, -1):  # the stage [j, i) grows down: its working set with it
                working = max(working, units[j].working)
                prev = best[k - 1][j]
                if prev[0] == math.inf:
                    continue
                c = (max(prev[0], cost(k - 1, j, i, working)), prev[1] + (cuts[j] if j else 0))
                if c <= cand:  # on a tie the earliest cut, as before
                    cand, arg = c, j
            best[k][i], back[k][i] = cand, arg
    starts = []
    i = n
    for k in range(cores, 0, -1):
        j = back[k][i]
        starts.append(j)
        i = j
    starts.reverse()
    bounds = starts + [n]
    stage_cycles = [cost(k, bounds[k], bounds[k + 1], max(u.working for u in units[bounds[k]:bounds[k + 1]]))
                    for k in range(cores)]
    cut_list = [cuts[s] for s in starts[1:]]
    links = ["dram" if _chip(k, t) == _chip(k + 1, t) else "neuronlink" for k in range(cores - 1)]
    return Plan(starts, stage_cycles, cut_list, links)


def unpinned(units: list[Unit], capacity: int) -> list[Unit]:
    """The units of a stage whose weights stream each inference: the weights pin largest first
    (then in program order) while they fit ``capacity``, each whole, as
    ``ktensor-plan-matmul-streams`` and ``inf-allocate-sram`` pin a stage's weight tiles."""
    left, out = capacity, []
    for u in sorted((u for u in units if u.weight_bytes), key=lambda u: -u.weight_bytes):
        if u.weight_bytes <= left:
            left -= u.weight_bytes
        else:
            out.append(u)
    return out


def streamed_cycles(units: list[Unit], capacity: int, fixed: int) -> int:
    """DMA cycles a stage of ``units`` spends streaming its ``unpinned`` weights each inference
    (at least ``fixed``, one DMA's fixed latency, when any streams)."""
    cycles = sum(u.weight_cycles for u in unpinned(units, capacity))
    return cycles + fixed if cycles else 0


def roofline(units: list[Unit], cuts: list[int], cores: int, cm: CostModel) -> int:
    """The pipeline's honest roofline (cycles per request): over every way of cutting the
    units into ``cores`` contiguous stages, the least slowest stage, a stage taking the
    larger of its PE floor (its weighted MACs at the PE's peak) and its DMA queue's share
    of the cuts, the transfer in of the cut before it and out of the cut after it (one
    DMA each on one chip, NeuronLink to the next). No lowering overhead, no weights
    (resident), no compute on ACT/POOL: an interval cannot beat it. It is at least the
    total PE floor / ``cores`` and the largest transfer some cut must make."""
    t = cm.target
    n = len(units)
    pre = [0] * (n + 1)
    for i, u in enumerate(units):
        pre[i + 1] = pre[i] + u.macs

    def link(k: int, i: int) -> int:  # the cut before unit i, made by stage k
        if not cuts[i]:
            return 0
        return cm.dma(cuts[i]) if _chip(k, t) == _chip(k + 1, t) else cm.neuronlink(cuts[i])

    def cost(k: int, j: int, i: int) -> int:
        dma = (cm.dma(cuts[j]) if j > 0 and cuts[j] else 0) + (link(k, i) if i < n and k + 1 < cores else 0)
        return max(math.ceil(cm.pe_floor(pre[i] - pre[j])), dma)

    best = [[math.inf] * (n + 1) for _ in range(cores + 1)]
    best[0][0] = 0
    for k in range(1, cores + 1):
        for i in range(k, n - (cores - k) + 1):
            best[k][i] = min((max(best[k - 1][j], cost(k - 1, j, i)) for j in range(k - 1, i)
                              if best[k - 1][j] != math.inf), default=math.inf)
    return int(best[cores][n])


def _i64s(values: list[int]) -> ArrayAttr:
    return ArrayAttr([IntegerAttr(int(v), i64) for v in values])


@dataclass(frozen=True)
class KtensorPartitionPipelinePass(ModulePass):
    """Assign every op of ``@main`` to one of ``cores`` pipeline stages (one per
    NeuronCore), balancing the cost model's stage times; records the plan."""

    name: ClassVar[str] = "ktensor-partition-pipeline"

    cores: int = 1
    # a stage's resident weight bytes (0: each stage's ``stage_capacity``; tests set a small one)
    capacity: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        most = max(inst.neuron_cores for inst in target.instances)
        if not 1 <= self.cores <= most:
            raise CompileError(f"--neuroncore-pipeline-cores {self.cores}: must be between 1 and {most}")
        fn = main_of(op)
        cm = CostModel(target)
        units = units_of(fn, cm)
        if len(units) < self.cores:
            raise CompileError(
                f"--neuroncore-pipeline-cores {self.cores}: the model has only {len(units)} layers to "
                f"place; use at most {len(units)} cores"
            )
        cuts = cut_bytes(units, fn)
        plan = plan_stages(units, cuts, self.cores, cm, self.capacity)
        bounds = plan.starts + [len(units)]
        stage_of: dict[Operation, int] = {}
        for k in range(self.cores):
            for u in units[bounds[k]:bounds[k + 1]]:
                for o in u.ops:
                    stage_of[o] = k
        weights = [0] * self.cores
        for o in fn.body.block.ops:
            if isinstance(o, kt.WeightOp):
                users = [stage_of[u.operation] for u in o.result.uses if u.operation in stage_of]
                k = min(users, default=0)
                stage_of[o] = k
                for s in sorted(set(users)):
                    weights[s] += nbytes(o.result.type)
        for o in fn.body.block.ops:
            if o in stage_of:
                o.attributes[STAGE_ATTR] = IntegerAttr(stage_of[o], i64)
        op.attributes[PLAN_ATTR] = DictionaryAttr({
            "cores": IntegerAttr(self.cores, i64),
            "chips": IntegerAttr(_chip(self.cores - 1, target) + 1, i64),
            "stage_cycles": _i64s(plan.stage_cycles),
            "weight_bytes": _i64s(weights),
            "cut_bytes": _i64s(plan.cut_bytes),
            "cut_links": ArrayAttr([StringAttr(s) for s in plan.links]),
            "cores_to_hold_weights": IntegerAttr(cores_to_hold(units, target, self.capacity), i64),
            "roofline_cycles": IntegerAttr(roofline(units, cuts, self.cores, cm), i64),
        })




def cores_to_hold(units: list[Unit], target: NeuronCoreTarget, capacity: int = 0) -> int:
    """The fewest contiguous stages whose weights each fit their ``stage_capacity``
    (``capacity`` when given; greedy packing is optimal for contiguous parts: a longer stage
    only holds more in less room); 0 when one layer alone does not."""

    def room(working: int) -> int:
        return capacity or stage_capacity(target, working)

    stages, held, working = 1, 0, 0
    for u in units:
        w = u.weight_bytes
        if w > room(u.working):
            return 0
        if held + w > room(max(working, u.working)):
            stages, held, working = stages + 1, 0, 0
        held += w
        working = max(working, u.working)
    return stages


def stage_of(op: Operation) -> int | None:
    a = op.attributes.get(STAGE_ATTR)
    return a.value.data if isinstance(a, IntegerAttr) else None


def pipeline_cores(module: ModuleOp) -> int:
    """The number of stages the module was partitioned into (1 when it was not)."""
    plan = module.attributes.get(PLAN_ATTR)
    if not isinstance(plan, DictionaryAttr):
        return 1
    cores = plan.data.get("cores")
    return cores.value.data if isinstance(cores, IntegerAttr) else 1
