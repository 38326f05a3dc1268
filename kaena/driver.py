"""``kaena.compile``: model file in, ``Neff`` out, through the three dialects.

The pipeline is a list of pass specs (the same strings ``kaena-opt -p`` takes),
so a user can reproduce any stage with the tools; ``extra_passes`` and pass
plugins slot user passes in at the framework, tensor or Inferentia level.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline

from kaena.version import __version__
from kaena.dialects.attributes import MODEL_NAME_ATTR
from kaena.errors import CompileError, KaenaError
from kaena.neff import Neff
from kaena.registry import all_passes, load_pass_plugin, make_context
from kaena.target import get_target
from kaena.weights import module_store

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
        get_target(self.target)
        if self.framework is not None:
            from kaena.frontends import FRAMEWORKS

            if self.framework not in FRAMEWORKS:
                raise KaenaError(f"--framework '{self.framework}' is not one of {', '.join(FRAMEWORKS)}")


@dataclass
class CompileReport:
    """What a compile did: per-pass seconds and the final module."""

    pass_seconds: list[tuple[str, float]] = field(default_factory=list)
    module: ModuleOp | None = None


def pipeline_specs(options: CompileOptions) -> dict[str, list[str | ModulePass]]:
    """The pass specs of each stage, user passes included."""
    stages: dict[str, list[str | ModulePass]] = {
        "framework": [f"inf-set-target{{target={options.target}}}",
                      "fw-constant-fold", "fw-fold-batchnorm", "fw-fuse-conv", "fw-fuse-gelu",
                      "fw-fuse-layer-norm", "fw-dce"],
        "tensor": [
            "convert-framework-to-tensor",
            "ktensor-fuse-bias-activation",
            f"ktensor-auto-cast{{mode={options.auto_cast} type={options.auto_cast_type}}}",
        ],
        "inferentia": [
            # the lowering's decisions, recorded as kaena.plan.* attributes, then the lowering
            "ktensor-plan-engines",
            "ktensor-plan-fused-casts",
            "ktensor-plan-epilogues",
            "ktensor-plan-fused-inputs",
            "ktensor-plan-bias-table",
            "ktensor-plan-residency",
            "ktensor-plan-conv-bands",
            "convert-tensor-to-inferentia",
            "inf-allocate-sram",
            "inf-insert-semaphores",
        ],
    }
    # User passes run at the end of their stage: after Kaena's rewrites on that
    # dialect, before the lowering to the next one.
    stages[options.extra_passes_stage] += list(options.extra_passes)
    return stages


def _build_passes(specs: Sequence[str | ModulePass]) -> list[ModulePass]:
    available = all_passes()
    passes: list[ModulePass] = []
    for spec in specs:
        if isinstance(spec, ModulePass):
            passes.append(spec)
            continue
        try:
            passes.extend(PassPipeline.parse_spec(available, spec).passes)
        except ValueError as e:
            raise KaenaError(f"pass pipeline '{spec}': {e}") from None
    return passes


def import_model(model, options: CompileOptions) -> ModuleOp:
    """Framework file or object -> framework-dialect module (the framework from the
    path or the object unless ``options.framework`` names it)."""
    from kaena.frontends import import_model as import_framework_model

    return import_framework_model(model, framework=options.framework, input_shapes=options.input_shapes,
                                  example_inputs=options.example_inputs)


def lower(model, options: CompileOptions, report: CompileReport | None = None) -> ModuleOp:
    """Import ``model`` and run the whole pass pipeline; returns the Inferentia-level module."""
    options.validate()
    for plugin in options.pass_plugins:
        load_pass_plugin(os.fspath(plugin))
    report = report if report is not None else CompileReport()
    t0 = time.perf_counter()
    module = import_model(model, options)
    report.pass_seconds.append(("import", time.perf_counter() - t0))
    # Held for the compile (the module holds it too): registries only refer to it weakly.
    store = module_store(module)  # noqa: F841
    ctx = make_context()
    stages = pipeline_specs(options)
    try:
        for stage in ("framework", "tensor", "inferentia"):
            for p in _build_passes(stages[stage]):
                t0 = time.perf_counter()
                try:
                    p.apply(ctx, module)
                    module.verify()
                except KaenaError:
                    raise
                except Exception as e:
                    # A verifier failure after a pass is a compiler bug: name the pass.
                    raise CompileError(
                        f"internal error in pass '{p.name}': {type(e).__name__}: {e}. "
                        "Please report it with the model"
                    ) from e
                report.pass_seconds.append((p.name, time.perf_counter() - t0))
    except CompileError as e:
        _prefix_model_file(e, model)
        raise
    report.module = module
    return module


def _prefix_model_file(error: CompileError, model) -> None:
    """Start the message with the model file (``model.onnx: ...``), as import errors do,
    so one line names the file and (from the pass) the node."""
    if not isinstance(model, str | os.PathLike):
        return
    path = os.fspath(model)
    if not error.message.startswith(f"{path}: "):
        error.message = f"{path}: {error.message}"
        error.args = (error.message, *error.args[1:])


def compile(model, *, report: CompileReport | None = None, **kwargs) -> Neff:
    """Compile a model (a model file or a framework object) to a NEFF.

    Keyword options are the fields of ``CompileOptions`` (``auto_cast``,
    ``auto_cast_type``, ``target``, ``input_shapes``, ``extra_passes``,
    ``extra_passes_stage``, ``pass_plugins``, ``name``, ``framework``,
    ``example_inputs``).
    """
    from kaena.codegen import emit_neff

    try:
        options = CompileOptions(**kwargs)
    except TypeError as e:
        raise KaenaError(f"kaena.compile: {e}") from None
    report = report if report is not None else CompileReport()
    module = lower(model, options, report)
    name = options.name or _model_name(model, module)
    t0 = time.perf_counter()
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
            },
            "passes": [n for n, _ in report.pass_seconds if n != "import"],
        },
    )
    report.pass_seconds.append(("encode-neff", time.perf_counter() - t0))
    return neff


def _model_name(model, module: ModuleOp) -> str:
    from xdsl.dialects.builtin import StringAttr

    attr = module.attributes.get(MODEL_NAME_ATTR)
    if isinstance(attr, StringAttr) and attr.data:
        return attr.data
    if isinstance(model, str | os.PathLike):
        return os.path.splitext(os.path.basename(os.fspath(model)))[0]
    return "model"
