"""NeuronCore Pipeline compiles (``kaena.compile(..., pipeline_cores=N | "auto")``): the
partition, each stage lowered on its own, the cores joined, the partition calibrated
with the simulated stage times (docs/pipeline-parallel.md). ``kaena.driver`` calls it."""

from __future__ import annotations

import time
from dataclasses import replace

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from kaena.driver import CompileReport, run_passes
from kaena.weights import module_store


def auto_cores(module: ModuleOp, report: CompileReport) -> int:
    """``--neuroncore-pipeline-cores auto``: among a few candidates (1, the fewest stages whose
    weights each stay resident, twice and four times that; 1, 2, 4, 8 and 16 when no N keeps
    them resident), the best modelled throughput per core (the cost model's partition of the
    module as N cores would compile it, contractions split by columns included: N x its
    slowest stage, the fewest cores on a tie); the comparison goes to ``report.notes``
    (docs/pipeline-parallel.md)."""
    from kaena.passes.transforms.ktensor.ktensor_partition_pipeline import (
        cores_to_hold, plan_stages, stage_capacity, unpinned,
    )
    from kaena.target import target_of
    from kaena.target.costmodel import CostModel

    target = target_of(module)
    cm = CostModel(target)
    most = max(inst.neuron_cores for inst in target.instances)
    units, _ = _units_for(module, 1, cm)
    hold = cores_to_hold(units, target) or cores_to_hold(_units_for(module, most, cm)[0], target)
    tries = (1, hold, 2 * hold, 4 * hold) if hold else (1, 2, 4, 8, 16)
    candidates = sorted({n for n in tries if 1 <= n <= most})
    rows = []
    for n in candidates:
        units, cuts = _units_for(module, n, cm)
        if n > len(units):
            continue
        plan = plan_stages(units, cuts, n, cm)
        bounds = plan.starts + [len(units)]
        stages = [units[a:b] for a, b in zip(bounds, bounds[1:])]
        streamed = sum(u.weight_bytes for st in stages
                       for u in unpinned(st, stage_capacity(target, max(u.working for u in st))))
        rows.append((n, max(plan.stage_cycles), streamed))
    best = min(rows, key=lambda r: (r[0] * r[1], r[0]))
    report.notes.append(auto_note(best[0], rows, hold, cm, _batch(module)))
    return best[0]


def _units_for(module: ModuleOp, cores: int, cm):
    """The partition's units and cut bytes of ``module`` as a ``cores``-stage compile sees it
    (after ``ktensor-split-columns``, on a copy)."""
    from kaena.passes.transforms.ktensor.ktensor_partition_pipeline import cut_bytes, main_of, units_of
    from kaena.passes.transforms.ktensor.ktensor_plan_column_split import KtensorPlanColumnSplitPass
    from kaena.passes.transforms.ktensor.ktensor_split_columns import KtensorSplitColumnsPass
    from kaena.registry import make_context

    if cores > 1:
        module = module.clone()
        ctx = make_context()
        KtensorPlanColumnSplitPass(cores=cores).apply(ctx, module)
        KtensorSplitColumnsPass().apply(ctx, module)
    fn = main_of(module)
    units = units_of(fn, cm)
    return units, cut_bytes(units, fn)


def _batch(module: ModuleOp) -> int:
    """Inferences per run: the inputs' common leading dimension (1 when they have none)."""
    from xdsl.dialects.builtin import TensorType

    from kaena.passes.transforms.ktensor.ktensor_partition_pipeline import main_of

    lead = {a.type.get_shape()[0] for a in main_of(module).args if isinstance(a.type, TensorType) and a.type.get_shape()}
    return lead.pop() if len(lead) == 1 else 1


def auto_note(best: int, rows: list[tuple[int, int, int]], hold: int, cm, batch: int = 1) -> str:
    """Why ``auto`` chose ``best``: each candidate's modelled interval, inferences per second
    per core and weight bytes streamed per inference (beyond each stage's pin budget), and
    which N keeps every weight resident."""
    parts = []
    for n, interval, streamed in rows:
        per_core = batch * cm.target.clock_hz / (interval * n)
        parts.append(f"{n} core(s): interval {interval} cycles, {per_core:,.0f}/s per core"
                     + (f", streams {streamed} weight bytes" if streamed else ""))
    share = "a core's SBUF beside the stage's working set"
    resident = (f"{hold} core(s) is the fewest whose stages' weights each fit {share}" if hold
                else f"no N keeps every weight resident (one layer alone does not fit {share})")
    return (f"--neuroncore-pipeline-cores auto: {best} core(s), the best modelled throughput per core "
            f"({'; '.join(parts)}); {resident}")


def lower_pipeline(ctx, module: ModuleOp, stages: dict[str, list[ModulePass]], cores: int,
                   report: CompileReport, **each) -> ModuleOp:
    """NeuronCore Pipeline: partition the tensor-level module, lower each stage on its own
    (as ``inf.core k``), join the cores with cross-core sends, then partition once more with
    the simulated stage times (docs/pipeline-parallel.md). ``each``: ``run_passes``'s
    ``verify_each`` and ``progress``, as on one core."""
    run_passes(ctx, module, stages["framework"] + stages["tensor"], report, **each)
    # a contraction whose weights alone exceed a stage's resident share: split by columns
    run_passes(ctx, module, [f"ktensor-plan-column-split{{cores={cores}}}", "ktensor-split-columns"], report, **each)
    tensor_level = module.clone()
    run_passes(ctx, module, [f"ktensor-partition-pipeline{{cores={cores}}}"], report, **each)
    joined = _lower_stages(ctx, module, stages, cores, report, **each)
    calibrated = _calibrate(ctx, tensor_level, module, joined, stages, cores, report, **each)
    return calibrated if calibrated is not None else joined


def _calibrate(ctx, tensor_level: ModuleOp, planned: ModuleOp, joined: ModuleOp, stages, cores: int,
               report: CompileReport, **each) -> ModuleOp | None:
    """Partition again with each op's modelled cycles scaled by how much slower (or faster)
    its stage simulated than modelled (``kaena.pipeline.cost_scale``); the second compile
    when its slowest stage is faster, else None. The cost model prices ops, not the
    lowering's data movement (spills of large activations), which the simulation sees."""
    from xdsl.dialects.builtin import DictionaryAttr, FloatAttr, IntegerAttr, f64

    from kaena.passes.transforms.ktensor.ktensor_partition_pipeline import SCALE_ATTR, main_of, stage_of

    first = _stage_busy(joined)
    plan = planned.attributes["kaena.pipeline"]
    assert isinstance(plan, DictionaryAttr)
    modelled = [a.value.data for a in plan.data["stage_cycles"].data if isinstance(a, IntegerAttr)]
    scale = [min(64.0, max(1 / 64, b / m)) if m else 1.0 for b, m in zip(first, modelled)]
    for op, planned_op in zip(main_of(tensor_level).body.block.ops, main_of(planned).body.block.ops):
        k = stage_of(planned_op)
        if k is not None:
            op.attributes[SCALE_ATTR] = FloatAttr(round(scale[k], 4), f64)
    t0 = time.perf_counter()
    run_passes(ctx, tensor_level, [f"ktensor-partition-pipeline{{cores={cores}}}"], report, "[calibrated]",
               **each)
    second = _lower_stages(ctx, tensor_level, stages, cores, report, "calibrated ", **each)
    after = _stage_busy(second)
    report.pass_seconds.append(("pipeline-calibration", time.perf_counter() - t0))
    if max(after) < max(first):
        report.notes.append(f"pipeline: slowest stage {max(first)} -> {max(after)} cycles after calibrating the "
                            "partition with the first compile's simulated stage times")
        return second
    return None


def _stage_busy(joined: ModuleOp) -> list[int]:
    from kaena.codegen import emit_neff
    from kaena.simulator.pipeline import core_busy_cycles

    return core_busy_cycles(emit_neff(joined, module_store(joined), name="stages", compiler_version=""))


def _lower_stages(ctx, module: ModuleOp, stages: dict[str, list[ModulePass]], cores: int,
                  report: CompileReport, tag: str = "", **each) -> ModuleOp:
    """Lower each stage of a partitioned module on its own, join the cores, connect them."""
    from xdsl.ir import Block, Region

    from kaena.dialects.inferentia import CoreOp

    joined = ModuleOp(Region(Block()))
    for key, value in module.attributes.items():
        joined.attributes[key] = value
    for k in range(cores):
        part = module.clone()
        specs = [f"ktensor-extract-stage{{stage={k}}}"] + [
            replace(p, core=k) if p.name == "convert-tensor-to-inferentia" else p for p in stages["inferentia"]
        ]
        run_passes(ctx, part, specs, report, f"[{tag}{k}]", **each)
        for core in [op for op in part.ops if isinstance(op, CoreOp)]:
            core.detach()
            joined.body.block.add_op(core)
    run_passes(ctx, joined, ["inf-connect-pipeline"], report, **each)
    return joined
