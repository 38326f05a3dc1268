"""``kaena.compile``: model file in, ``Neff`` out, through the three dialects.

The pipeline is a list of pass specs (the same strings ``kaena-opt -p`` takes),
so a user can reproduce any stage with the tools; ``extra_passes`` and pass
plugins slot user passes in at the framework, tensor or Inferentia level.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline
from xdsl.utils.exceptions import ArgSpecParseError

from kaena.version import __version__
from kaena.dialects.attributes import MODEL_NAME_ATTR
from kaena.dialects.dominance import verify_ir
from kaena.dialects.framework import graph_macs
from kaena.errors import CompileError, KaenaError
from kaena.neff import Neff
from kaena.registry import all_passes, load_pass_plugin, make_context, pipeline_error
from kaena.target import get_target
from kaena.weights import WEIGHTS_ATTR, module_store

AUTO_CAST_MODES = ("none", "matmult", "all")
AUTO_CAST_TYPES = ("bf16", "fp16")
PASS_STAGES = ("framework", "tensor", "inferentia")
COMPILER_VERSION = f"kaena {__version__}"


@dataclass
class CompileOptions:
    """neuron-cc style options; every field has a ``kaena-compile`` flag."""

    auto_cast: str = "matmult"
    auto_cast_type: str = "bf16"
    target: str = "inf1"
    input_shapes: dict[str, list[int]] | None = None
    extra_passes: Sequence[str | ModulePass] = ()
    extra_passes_stage: str = "tensor"
    pass_plugins: Sequence[str] = ()
    name: str | None = None
    # The framework the model comes from (None: told by the path or the object) and, for
    # a live torch.nn.Module, the example inputs it is exported with.
    framework: str | None = None
    example_inputs: object = None
    # Run the IR verifier after every pass (mlir-opt's --verify-each) rather than once at the end.
    verify_each: bool = False
    # NeuronCore Pipeline: the graph cut into this many stages, one per core (1: one core;
    # "auto": the best modelled throughput per core among a few N, docs/pipeline-parallel.md)
    pipeline_cores: int | str = 1
    # Re-batch the model to this many inferences per run (each input's leading dimension)
    # before compiling it (neuron-cc's --batch-size; None: as exported).
    batch_size: int | None = None

    def validate(self) -> None:
        if self.auto_cast not in AUTO_CAST_MODES:
            raise KaenaError(
                f"--auto-cast '{self.auto_cast}' is not one of {', '.join(AUTO_CAST_MODES)}"
            )
        if self.auto_cast_type not in AUTO_CAST_TYPES:
            raise KaenaError(
                f"--auto-cast-type '{self.auto_cast_type}' is not one of {', '.join(AUTO_CAST_TYPES)}"
            )
        if self.extra_passes_stage not in PASS_STAGES:
            raise KaenaError(
                f"extra_passes_stage '{self.extra_passes_stage}' is not one of {', '.join(PASS_STAGES)}"
            )
        most = max(inst.neuron_cores for inst in get_target(self.target).instances)
        if self.pipeline_cores != "auto" and (
                isinstance(self.pipeline_cores, bool) or not isinstance(self.pipeline_cores, int)
                or not 1 <= self.pipeline_cores <= most):
            raise KaenaError(
                f"--neuroncore-pipeline-cores '{self.pipeline_cores}' must be a number of cores from 1 to {most}"
                " or 'auto'"
            )
        if self.batch_size is not None and (isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int)
                                            or self.batch_size < 1):
            raise KaenaError(f"--batch-size '{self.batch_size}' must be a positive number of inferences per run")
        if self.framework is not None:
            from kaena.frontends import FRAMEWORKS

            if self.framework not in FRAMEWORKS:
                raise KaenaError(f"--framework '{self.framework}' is not one of {', '.join(FRAMEWORKS)}")


@dataclass
class CompileReport:
    """What a compile did: per-pass seconds and the final module."""

    pass_seconds: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # decisions the compile explains (kaena-compile prints them)
    module: ModuleOp | None = None
    # The model's multiply-accumulates as its graph defines them (counted right after import).
    model_macs: int = 0


def pipeline_specs(options: CompileOptions) -> dict[str, list[str | ModulePass]]:
    """The pass specs of each stage, user passes included."""
    stages: dict[str, list[str | ModulePass]] = {
        "framework": [f"inf-set-target{{target={options.target}}}",
                      "fw-constant-fold", "fw-fold-batchnorm", "fw-fuse-conv", "fw-fuse-gelu",
                      "fw-fuse-layer-norm", "fw-simplify-where", "fw-dce"],
        "tensor": [
            "convert-framework-to-tensor",
            "ktensor-fuse-bias-activation",
            f"ktensor-auto-cast{{mode={options.auto_cast} type={options.auto_cast_type}}}",
            "ktensor-split-batch",
        ],
        "inferentia": [
            # the lowering's decisions, recorded as kaena.plan.* attributes, then the lowering
            "ktensor-plan-engines",
            "ktensor-plan-fused-casts",
            "ktensor-plan-epilogues",
            "ktensor-plan-fused-inputs",
            "ktensor-plan-bias-table",
            "ktensor-plan-residual-adds",
            "ktensor-plan-residency",
            "ktensor-plan-conv-bands",
            "ktensor-plan-weight-prefetch",
            "convert-tensor-to-inferentia",
            "inf-allocate-sram",
            "inf-insert-semaphores",
        ],
    }
    # User passes run at the end of their stage: after Kaena's rewrites on that
    # dialect, before the lowering to the next one.
    stages[options.extra_passes_stage] += list(options.extra_passes)
    return stages


def pipeline_passes(options: CompileOptions) -> dict[str, list[ModulePass]]:
    """Each stage's passes, parsed once (so a bad pipeline fails before the import)."""
    return {stage: _build_passes(specs) for stage, specs in pipeline_specs(options).items()}


def _build_passes(specs: Sequence[str | ModulePass]) -> list[ModulePass]:
    available = all_passes()
    passes: list[ModulePass] = []
    for spec in specs:
        if isinstance(spec, ModulePass):
            passes.append(spec)
            continue
        try:
            passes.extend(PassPipeline.parse_spec(available, spec).passes)
        except (ValueError, ArgSpecParseError) as e:  # ArgSpecParseError is a BaseException
            raise pipeline_error(spec, e) from None
    return passes


def import_model(model, options: CompileOptions) -> ModuleOp:
    """Framework file or object -> framework-dialect module (the framework from the
    path or the object unless ``options.framework`` names it)."""
    from kaena.frontends import import_model as import_framework_model

    return import_framework_model(model, framework=options.framework, input_shapes=options.input_shapes,
                                  example_inputs=options.example_inputs, batch_size=options.batch_size)


# Told (stage name, stages done, stages in all) as a compile moves on, for progress displays.
Progress = Callable[[str, int, int], None]


def lower(model, options: CompileOptions, report: CompileReport | None = None,
          progress: Progress | None = None) -> ModuleOp:
    """Import ``model`` and run the whole pass pipeline; returns the Inferentia-level module."""
    options.validate()
    tell = progress or (lambda stage, done, total: None)
    for plugin in options.pass_plugins:
        load_pass_plugin(os.fspath(plugin))
    from kaena.pipelining import auto_cores, lower_pipeline

    report = report if report is not None else CompileReport()
    stages = pipeline_passes(options)
    npasses = sum(len(stages[stage]) for stage in PASS_STAGES)
    total = npasses + (2 if options.verify_each else 3)  # import, the passes, [verify,] encode
    tell("import", 0, total)
    t0 = time.perf_counter()
    module = import_model(model, options)
    report.pass_seconds.append(("import", time.perf_counter() - t0))
    report.model_macs = graph_macs(module)
    # Held for the compile (the module holds it too): registries only refer to it weakly.
    store = module_store(module)  # noqa: F841
    ctx = make_context()
    each = {"verify_each": options.verify_each, "progress": _PassCounter(tell, total)}
    try:
        cores = options.pipeline_cores
        if cores == "auto":
            run_passes(ctx, module, stages["framework"] + stages["tensor"], report, **each, prune_weights=True)
            cores = auto_cores(module, report)
            stages = {**stages, "framework": [], "tensor": []}
        options.pipeline_cores = cores
        if cores == 1:
            for stage in PASS_STAGES:
                run_passes(ctx, module, stages[stage], report, **each, prune_weights=True)
        else:
            module = lower_pipeline(ctx, module, stages, cores, report, **each)
        if not options.verify_each:
            tell("verify", total - 2, total)
            t0 = time.perf_counter()
            try:
                verify_ir(module)
            except Exception as e:
                raise CompileError(
                    f"internal error: the compiled module fails verification ({type(e).__name__}: {e}); "
                    "rerun with --verify-each to name the pass, and please report it with the model"
                ) from e
            report.pass_seconds.append(("verify", time.perf_counter() - t0))
    except CompileError as e:
        _prefix_model_file(e, model)
        raise
    report.module = module
    return module


class _PassCounter:
    """Tells ``progress`` each pass as it starts, counting them (import is step 0)."""

    def __init__(self, tell: Progress, total: int):
        self.tell, self.total, self.done = tell, total, 0

    def __call__(self, name: str) -> None:
        self.done = min(self.done + 1, self.total - 1)
        self.tell(name, self.done, self.total)


def run_passes(ctx, module: ModuleOp, specs: Sequence[str | ModulePass], report: CompileReport,
               suffix: str = "", *, verify_each: bool = True,
               progress: Callable[[str], None] | None = None, prune_weights: bool = False) -> None:
    """Apply ``specs`` to ``module``, timing each pass into ``report`` (and verifying after
    each unless ``verify_each`` is off: then the caller verifies once at the end).
    ``prune_weights``: after each pass that added weights (folded, re-laid-out, cast), and
    at the end, free the weights the module no longer refers to; only for a module no other
    one shares a store with."""
    store = module_store(module) if prune_weights and WEIGHTS_ATTR in module.attributes else None
    for p in _build_passes(specs):
        if progress is not None:
            progress(p.name)
        t0 = time.perf_counter()
        held = len(store) if store is not None else 0
        try:
            p.apply(ctx, module)
            if verify_each:
                verify_ir(module)
            if store is not None and len(store) != held:
                store.retain(referenced_weights(module))
        except KaenaError:
            raise
        except Exception as e:
            # A verifier failure after a pass is a compiler bug: name the pass.
            raise CompileError(
                f"internal error in pass '{p.name}': {type(e).__name__}: {e}. "
                "Please report it with the model"
            ) from e
        report.pass_seconds.append((p.name + suffix, time.perf_counter() - t0))
    if store is not None:
        store.retain(referenced_weights(module))  # what passes dropped without adding any


def referenced_weights(module: ModuleOp) -> set[str]:
    """The weight names the module's IR refers to: ``fw.weight``, ``ktensor.weight`` and
    ``file`` variables (``inf.dram``), the only ops that name a weight."""
    from kaena.dialects import framework as fw
    from kaena.dialects import ktensor as kt
    from kaena.dialects.inferentia import DramOp

    names: set[str] = set()
    for op in module.walk():
        if isinstance(op, fw.WeightOp | kt.WeightOp):
            names.add(op.weight_name.data)
        elif isinstance(op, DramOp) and op.kind.data == "file":
            names.add(op.var_name.data)
    return names


def _prefix_model_file(error: CompileError, model) -> None:
    """Start the message with the model file (``model.onnx: ...``), as import errors do,
    so one line names the file and (from the pass) the node."""
    if not isinstance(model, str | os.PathLike):
        return
    path = os.fspath(model)
    if not error.message.startswith(f"{path}: "):
        error.message = f"{path}: {error.message}"
        error.args = (error.message, *error.args[1:])


def compile(model, *, report: CompileReport | None = None, progress: Progress | None = None, **kwargs) -> Neff:
    """Compile a model (a model file or a framework object) to a NEFF.

    Keyword options are the fields of ``CompileOptions`` (``auto_cast``,
    ``auto_cast_type``, ``target``, ``input_shapes``, ``extra_passes``,
    ``extra_passes_stage``, ``pass_plugins``, ``name``, ``framework``,
    ``example_inputs``, ``verify_each``, ``pipeline_cores``, ``batch_size``).
    """
    from kaena.codegen import emit_neff

    try:
        options = CompileOptions(**kwargs)
    except TypeError as e:
        raise KaenaError(f"kaena.compile: {e}") from None
    report = report if report is not None else CompileReport()
    module = lower(model, options, report, progress)
    name = options.name or _model_name(model, module)
    if progress is not None:
        progress("encode-neff", len(report.pass_seconds), len(report.pass_seconds) + 1)
    t0 = time.perf_counter()
    # The NEFF's weights still in the model file (FP32 ones no pass changed) are read into
    # memory first: the Neff outlives the compile, the file may not stay as it is.
    module_store(module).materialize(referenced_weights(module))
    neff = emit_neff(
        module,
        module_store(module),
        name=name,
        compiler_version=COMPILER_VERSION,
        metadata={
            "options": {
                "auto_cast": options.auto_cast,
                "auto_cast_type": options.auto_cast_type,
                "target": options.target,
                **({"pipeline_cores": options.pipeline_cores} if options.pipeline_cores != 1 else {}),
            },
            "passes": [n for n, _ in report.pass_seconds if n not in ("import", "verify")],
            # What the honest roofline counts (kaena.reports.profile): the graph's MACs, and
            # how many of them run in FP32 (all of them with --auto-cast none).
            "model": {"macs": report.model_macs,
                      "fp32_macs": report.model_macs if options.auto_cast == "none" else 0},
            **_batch_metadata(module),
        },
    )
    report.pass_seconds.append(("encode-neff", time.perf_counter() - t0))
    return neff


def _batch_metadata(module: ModuleOp) -> dict:
    """``{"batch": B}`` when every model input has rank >= 2 and the same leading dimension B
    (what kaena-estimate counts as inferences per run); empty otherwise."""
    from kaena.dialects.inferentia import CoreOp, DramOp

    leading = {op.result.type.get_shape()[0] for core in module.ops if isinstance(core, CoreOp)
               for op in core.body.block.ops if isinstance(op, DramOp) and op.kind.data == "input"
               and not op.var_name.data.startswith("pipe.") and len(op.result.type.get_shape()) >= 2}
    return {"batch": leading.pop()} if len(leading) == 1 else {}


def _model_name(model, module: ModuleOp) -> str:
    from xdsl.dialects.builtin import StringAttr

    attr = module.attributes.get(MODEL_NAME_ATTR)
    if isinstance(attr, StringAttr) and attr.data:
        return attr.data
    if isinstance(model, str | os.PathLike):
        return os.path.splitext(os.path.basename(os.fspath(model)))[0]
    return "model"
