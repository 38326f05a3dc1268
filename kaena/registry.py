"""Where dialects and passes are registered: one place for the tools, the
Python API and user plugins."""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from collections.abc import Callable

from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.dialects.func import Func
from xdsl.ir import Dialect
from xdsl.passes import ModulePass

from kaena.errors import KaenaError


def _linear_string_lexer() -> None:
    """xDSL 0.74's string-literal regex nests quantifiers (``(?:[^"...]+|escape)*"``): on a
    line with an opening quote and no closing one it backtracks exponentially, so a stray
    quote in an IR file hung kaena-opt and kaena-translate. The same language without the
    inner ``+`` matches in linear time."""
    import re

    from xdsl.utils.mlir_lexer import MLIRLexer

    MLIRLexer._unescaped_characters_regex = re.compile(r'"(?:[^"\\\n\v\f]|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*"')


_linear_string_lexer()

def kaena_dialects() -> dict[str, Callable[[], Dialect]]:
    """Kaena's own dialects by name (imported lazily)."""

    def fw() -> Dialect:
        from kaena.dialects.framework import Framework

        return Framework

    def ktensor() -> Dialect:
        from kaena.dialects.ktensor import KTensor

        return KTensor

    def inf() -> Dialect:
        from kaena.dialects.inferentia import Inferentia

        return Inferentia

    return {"fw": fw, "ktensor": ktensor, "inf": inf}


def make_context() -> Context:
    """A context with builtin, func and Kaena's dialects."""
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Func)
    for name, factory in kaena_dialects().items():
        ctx.register_dialect(name, factory)
    return ctx


def all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Kaena's passes plus any registered by plugins in this process."""
    from kaena.passes import ALL_PASSES

    return {**ALL_PASSES, **_PLUGIN_PASSES}


_PLUGIN_PASSES: dict[str, Callable[[], type[ModulePass]]] = {}

LEVELS = ("fw", "ktensor", "inf")
"""Kaena's dialects in pipeline order; the conversion out of each is ``LOWERING[level]``."""
LOWERING = {"fw": "convert-framework-to-tensor", "ktensor": "convert-tensor-to-inferentia"}

PASS_LEVELS: dict[str, str | None] = {
    "fw-constant-fold": "fw",
    "fw-fold-batchnorm": "fw",
    "fw-fuse-conv": "fw",
    "fw-fuse-gelu": "fw",
    "fw-fuse-layer-norm": "fw",
    "fw-simplify-where": "fw",
    "fw-dce": "fw",
    "convert-framework-to-tensor": "fw",
    "ktensor-fuse-bias-activation": "ktensor",
    "ktensor-auto-cast": "ktensor",
    "ktensor-split-batch": "ktensor",
    "auto-cast": "ktensor",
    "ktensor-partition-pipeline": "ktensor",
    "ktensor-plan-column-split": "ktensor",
    "ktensor-split-columns": "ktensor",
    "ktensor-extract-stage": "ktensor",
    "ktensor-plan-engines": "ktensor",
    "ktensor-plan-fused-casts": "ktensor",
    "ktensor-plan-epilogues": "ktensor",
    "ktensor-plan-fused-inputs": "ktensor",
    "ktensor-plan-bias-table": "ktensor",
    "ktensor-plan-residual-adds": "ktensor",
    "ktensor-plan-residency": "ktensor",
    "ktensor-plan-conv-bands": "ktensor",
    "ktensor-plan-weight-prefetch": "ktensor",
    "ktensor-plan-attention": "ktensor",
    "ktensor-plan-matmul-streams": "ktensor",
    "convert-tensor-to-inferentia": "ktensor",
    "inf-set-target": None,  # records the target on the module at any level
    "inf-allocate-sram": "inf",
    "inf-insert-semaphores": "inf",
    "inf-connect-pipeline": "inf",
}
"""The dialect whose ops each of Kaena's passes works on (None: any level). A pass run on
a module with none of them is a mistake (``check_pass_level``); plugins are not checked."""


def module_levels(module: ModuleOp) -> set[str]:
    """Which of Kaena's dialects the module holds ops of."""
    found: set[str] = set()
    for op in module.walk():
        dialect = op.name.split(".", 1)[0]
        if dialect in LEVELS:
            found.add(dialect)
    return found


def check_pass_level(pass_name: str, module: ModuleOp) -> None:
    """Refuse to run a pass on a module that holds none of the ops it works on: it would
    silently do nothing. Only the level mismatch is an error; a pass that finds nothing
    to rewrite in a module of its level is fine (fw-fuse-gelu on a CNN)."""
    level = PASS_LEVELS.get(pass_name)
    if level is None:
        return
    found = module_levels(module)
    if level in found:
        return
    if not found:
        where = "it holds no fw, ktensor or inf op; inf IR comes from convert-tensor-to-inferentia"
        if level != "inf":  # a function of func ops only is at the fw and ktensor levels alike
            return
    else:
        at = max(found, key=LEVELS.index)
        if LEVELS.index(at) > LEVELS.index(level) and pass_name == LOWERING[level]:
            where = f"it is at the {at} level, already converted"
        elif LEVELS.index(at) > LEVELS.index(level):
            where = f"it is at the {at} level; {pass_name} runs before {LOWERING[level]}"
        else:
            steps = " then ".join(LOWERING[lv] for lv in LEVELS[LEVELS.index(at):LEVELS.index(level)])
            where = f"it is at the {at} level; run {steps} first"
    raise KaenaError(f"{pass_name}: nothing to do: it works on {level} ops and this module has none ({where})")


def register_pass(pass_class: type[ModulePass]) -> type[ModulePass]:
    """Make a ModulePass available by its ``name`` to ``kaena-opt`` and
    ``kaena.compile``; usable as a class decorator."""
    name = getattr(pass_class, "name", None)
    if not isinstance(name, str) or not name:
        raise KaenaError(f"{pass_class.__name__}: a pass needs a class attribute 'name'")
    _PLUGIN_PASSES[name] = lambda: pass_class
    return pass_class


def load_pass_plugin(path: str) -> list[str]:
    """Import a Python file and register every ModulePass subclass it defines.

    Returns the registered pass names. Errors name the file."""
    if not os.path.isfile(path):
        raise KaenaError(f"{path}: pass plugin not found")
    mod_name = "kaena_plugin_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise KaenaError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # a plugin is user code: report, don't crash
        raise KaenaError(f"{path}: the pass plugin failed to import: {type(e).__name__}: {e}") from None
    names = []
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if (
            issubclass(obj, ModulePass)
            and obj is not ModulePass
            and obj.__module__ == mod_name
            and isinstance(getattr(obj, "name", None), str)
        ):
            register_pass(obj)
            names.append(obj.name)
    if not names:
        raise KaenaError(f"{path}: defines no ModulePass subclass with a 'name'")
    return sorted(names)


def pipeline_error(spec: str, error: BaseException) -> KaenaError:
    """One line for a pass pipeline xDSL cannot parse (its ``ArgSpecParseError`` is a
    multi-line caret diagram, and a ``BaseException`` that ``except Exception`` misses)."""
    import re

    text = str(error).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    where = re.search(r"pass-pipeline:\d+:(\d+)", text)
    reason = lines[-1] if lines else "malformed"
    reason = reason[0].lower() + reason[1:] if reason else reason
    at = f" at column {where.group(1)}" if where else ""
    return KaenaError(f"pass pipeline '{spec}': {reason}{at}; the syntax is 'pass-a,pass-b{{option=value}}'")
