"""Model fuzzing: every bad ONNX model must end in one clean ``KaenaError`` (never a
traceback, an internal error or a hang), and every model Kaena compiles must
compute what onnxruntime computes.

Two generators (``model_mutations``), one case each per ``(seed, index)``:

- ``mutated_case``: a small valid model (a random graph of ``model_graphs`` or
  a LeNet/MLP of the model zoo) with one to three ``MUTATIONS`` (field edits,
  dims, dtypes, dangling names, attribute values, opset and IR versions,
  initializers, stale value_info, damaged bytes), compiled with auto-cast none;
- ``graph_case``: a random graph (``model_graphs.random_graph``), compiled with
  auto-cast none and matmult.

``run_case`` compiles the model from a file (the way ``kaena-compile`` reads it)
and, when it compiles and onnxruntime runs it, simulates it and compares:
FP32 within 1e-5 of the largest output magnitude; BF16 within twice the error of
a faithful BF16 emulation (``modelzoo.bf16_emulation``; at least the FP32 bar).
Used by tests/test_fuzz_models.py (a short run) and benchmarks/fuzz_models.py.
"""

from __future__ import annotations

import os
import re
import tempfile
import traceback
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto

from kaena.errors import CompileError, KaenaError, ModelImportError, UnsupportedOperatorError
from kaena.testing.model_mutations import Case, graph_case, mutated_case
from kaena.testing.fuzz_harness import CaseTimeout, deadline

FP32_BAR = 1e-5
FP32_COS_BAR = 1e-9
# An ill-conditioned graph's FP32 bar: this many times how far its reference moves for
# inputs a couple of ulps away (``_sensitivity``).
CONDITIONING_FACTOR = 4.0
# An FP32 difference from onnxruntime within twice the bar, where Kaena is the closer of the
# two to a float64 evaluation: a match, noted.
CLOSER_TO_FLOAT64 = "within twice the bar of onnxruntime, and closer than it to a float64 evaluation"
FAILURES = ("mismatch", "traceback", "internal", "timeout", "crash")


@dataclass
class Outcome:
    # matched | rejected | accepted (compiled, no reference: onnxruntime refuses the model or crashes)
    # | skipped (the generated graph is one onnxruntime refuses) | mismatch | traceback | internal | timeout
    kind: str
    category: str = ""  # of a rejection: invalid, unsupported, unreadable, input, shape-inference, compile, import
    detail: str = ""
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- running a case


def category(error: KaenaError) -> str:
    """A clean rejection's category, from what its message says."""
    message = str(error)
    if "internal error" in message:
        return "internal"
    if "is invalid" in message:
        return "invalid"
    if isinstance(error, UnsupportedOperatorError):
        return "unsupported"
    if "not a readable ONNX model" in message or "not an ONNX model" in message:
        return "unreadable"
    if isinstance(error, CompileError):
        return "compile"
    if isinstance(error, ModelImportError):
        return "import" if "input" not in message else "input"
    return "other"


def signature(kind: str, detail: str) -> str:
    """Failures grouped by what went wrong, not by the names and numbers of one case."""
    first = detail.strip().splitlines()[0] if detail.strip() else kind
    where = ""
    frames = re.findall(r'File "([^"]+)", line \d+, in (\w+)', detail)
    if frames:
        path, fn = frames[-1]
        where = f" at {os.path.basename(path)}:{fn}"
    text = re.sub(r"'[^']*'", "'_'", first)
    text = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", text)
    return f"{kind}: {text[:160]}{where}"


# Called before onnxruntime runs a model Kaena compiled: the campaign's worker announces it,
# so a worker that onnxruntime crashes (a segfault on a mutant) is not blamed on Kaena.
on_reference = None


def _reference(model: onnx.ModelProto, inputs, onnx_reference: bool = False):
    """onnxruntime's outputs (or, with ``onnx_reference``, ONNX's ReferenceEvaluator's), or None."""
    from kaena.testing.reference import run_onnxruntime

    if on_reference is not None:
        on_reference()
    try:
        if onnx_reference:
            from onnx.reference import ReferenceEvaluator

            names = [o.name for o in model.graph.output]
            return dict(zip(names, ReferenceEvaluator(model).run(names, inputs)))
        return run_onnxruntime(model, inputs)
    except Exception:  # onnxruntime refuses the model or fails running it: no reference
        return None


def _finite_parts(out: dict, ref: dict) -> tuple[dict | None, dict]:
    """The outputs where the reference is finite, if the non-finite values agree exactly."""
    kept_out, kept_ref = {}, {}
    for k, r in ref.items():
        a, r = np.asarray(out[k], np.float64), np.asarray(r, np.float64)
        finite = np.isfinite(r)
        if not np.array_equal(a[~finite], r[~finite], equal_nan=True) or not np.isfinite(a[finite]).all():
            return None, {}
        if finite.any():
            kept_out[k], kept_ref[k] = a[finite], r[finite]
    return kept_out, kept_ref


def _masked_metrics(actual: dict, ref: dict):
    """``error_metrics`` where the reference is finite (None if the inf/nan differ)."""
    from kaena.testing.reference import ErrorMetrics, error_metrics

    a, r = _finite_parts(actual, ref)
    if a is None:
        return None
    return error_metrics(a, r) if r else ErrorMetrics(0.0, 0.0)


def _sensitivity(model, inputs, ref, onnx_reference: bool = False) -> float:
    """How far the reference's outputs move (max rel) when every float input moves by a
    couple of FP32 ulps: what two correct FP32 implementations may differ by on an
    ill-conditioned graph (a LayerNorm of nearly equal values, a division by a small sum)."""

    rng = np.random.default_rng(1)
    nudged = {k: (v * (1 + rng.choice([-1, 1], v.shape) * 2.0**-22)).astype(v.dtype)
              if v.dtype == np.float32 else v for k, v in inputs.items()}
    moved = _reference(model, nudged, onnx_reference)
    err = _masked_metrics(moved, ref) if moved is not None else None
    return err.max_rel if err is not None else 0.0


def fold_batchnorms(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with every inference BatchNormalization of a 2-D Conv's sole result folded
    into the Conv's weights and bias, as fw-fold-batchnorm compiles it: the BF16 emulation
    then rounds the folded weights, as the compiled NEFF does."""
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    inits = {t.name: t for t in g.initializer}
    uses = Counter(i for n in g.node for i in n.input) + Counter(o.name for o in g.output)
    producer = {o: n for n in g.node for o in n.output}
    for bn in list(g.node):
        conv = producer.get(bn.input[0]) if bn.op_type == "BatchNormalization" and bn.input else None
        if conv is None or conv.op_type != "Conv" or uses[bn.input[0]] != 1 or len(bn.output) != 1 \
                or any(a.name == "training_mode" and a.i for a in bn.attribute) \
                or not all(n in inits for n in (*bn.input[1:5], *conv.input[1:])):
            continue
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        if w.ndim != 4:
            continue
        scale, beta, mean, var = (numpy_helper.to_array(inits[n]).astype(np.float64) for n in bn.input[1:5])
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        mul = scale / np.sqrt(var + np.float64(np.float32(eps)))
        b = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64) if len(conv.input) > 2 and conv.input[2] \
            else np.zeros(w.shape[0])
        folded_w, folded_b = f"{conv.output[0]}.folded_w", f"{conv.output[0]}.folded_b"
        g.initializer.extend([numpy_helper.from_array((w * mul[:, None, None, None]).astype(np.float32), folded_w),
                              numpy_helper.from_array((b * mul + beta - mean * mul).astype(np.float32), folded_b)])
        del conv.input[1:]
        conv.input.extend([folded_w, folded_b])
        conv.output[0] = bn.output[0]
        g.node.remove(bn)
    return out


def _references_disagree(model: onnx.ModelProto) -> bool:
    """Resize with align_corners or pytorch_half_pixel: onnxruntime reads the integer output
    length, ONNX's reference and its node tests the fractional one (scale x input length),
    which Kaena follows; Kaena may match either on these graphs."""
    return any(n.op_type == "Resize" and any(a.name == "coordinate_transformation_mode" and a.s in _FRACTIONAL
                                              for a in n.attribute) for n in model.graph.node)


# The transforms whose formula reads the output length: onnxruntime takes the integer one.
_FRACTIONAL = (b"align_corners", b"pytorch_half_pixel")


def float64_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model computing in float64 (float32 inputs, outputs, weights, constants and casts
    made double): the truth two FP32 implementations are judged against."""
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph

    def widen(t: onnx.TensorProto) -> None:
        if t.data_type == TensorProto.FLOAT:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float64), t.name))

    for vi in (*g.input, *g.output, *g.value_info):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = TensorProto.DOUBLE
    for t in g.initializer:
        widen(t)
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                widen(a.t)
            elif n.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.DOUBLE
    return out


def _closer_to_float64(model, out: dict, ref: dict, inputs) -> bool:
    """Whether Kaena's FP32 outputs are at least as close to a float64 evaluation of the
    model (ONNX's reference evaluator) as onnxruntime's are: then a difference between the
    two is onnxruntime's rounding as much as Kaena's."""
    from onnx.reference import ReferenceEvaluator

    try:
        names = [o.name for o in model.graph.output]
        wide = {k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in inputs.items()}
        truth = dict(zip(names, ReferenceEvaluator(float64_model(model)).run(names, wide)))
    except Exception:
        return False
    ours, theirs = _masked_metrics(out, truth), _masked_metrics(ref, truth)
    return ours is not None and theirs is not None and ours.max_rel <= theirs.max_rel


def _compare(model, neff, inputs, ref, auto_cast, onnx_reference: bool = False) -> tuple[bool, str]:
    from kaena import load
    from kaena.testing.modelzoo import bf16_emulation

    out = load(neff).run(inputs)
    if sorted(out) != sorted(ref):
        return False, f"outputs {sorted(out)} differ from onnxruntime's {sorted(ref)}"
    for name in ref:
        if np.shape(out[name]) != np.shape(ref[name]):
            return False, f"output '{name}' has shape {np.shape(out[name])}, onnxruntime's {np.shape(ref[name])}"
    # inf and nan where onnxruntime has them (a BatchNorm of a negative variance), the rest within the bar
    err = _masked_metrics(out, ref)
    if err is None:
        return False, "Kaena's inf/nan outputs are not where onnxruntime's are"
    if err.max_rel == 0:
        return True, ""
    bar, cos_bar = max(FP32_BAR, CONDITIONING_FACTOR * _sensitivity(model, inputs, ref, onnx_reference)), FP32_COS_BAR
    if auto_cast != "none":
        emulated = _reference(bf16_emulation(fold_batchnorms(model)), inputs, onnx_reference)
        if emulated is not None:
            e = _masked_metrics(emulated, ref) or err
            bar = max(bar, 2 * e.max_rel)
            cos_bar = max(cos_bar, 2 * e.one_minus_cosine)
    ok = err.max_rel <= bar and err.one_minus_cosine <= cos_bar
    if not ok and err.max_rel <= 2 * bar and _closer_to_float64(model, out, ref, inputs):
        return True, CLOSER_TO_FLOAT64
    return ok, "" if ok else f"auto-cast {auto_cast}: {err} (bar max rel {bar:.2e}, 1-cos {cos_bar:.2e})"


def _compile_and_check(case: Case, path: str, seed: int) -> Outcome:
    import kaena
    from kaena.testing.reference import random_inputs

    notes: list[str] = []
    for auto_cast in case.auto_casts:
        try:
            neff = kaena.compile(path, auto_cast=auto_cast)
        except KaenaError as e:
            cat = category(e)
            if cat == "internal":
                return Outcome("internal", detail=f"auto-cast {auto_cast}: {e}")
            if case.generator == "graph":  # a valid graph of supported operators must compile
                return Outcome("rejected", cat, f"auto-cast {auto_cast}: {e}")
            if cat == "unsupported" and case.model is not None and not _checker_accepts(case.model):
                notes.append("unsupported, but the ONNX checker finds the model invalid")
            return Outcome("rejected", cat, str(e), notes)
        try:
            model = case.model if case.model is not None else onnx.load(path)
            inputs = random_inputs(model, seed)
        except Exception:
            return Outcome("accepted", detail="inputs for the model cannot be generated")
        ref = _reference(model, inputs)
        if ref is None:
            return Outcome("skipped" if case.generator == "graph" else "accepted",
                           detail="onnxruntime refuses the model")
        try:
            ok, why = _compare(model, neff, inputs, ref, auto_cast)
            if ok and why:
                notes.append(why)
            if not ok and _references_disagree(model):  # the second opinion: ONNX's own reference
                onnx_ref = _reference(model, inputs, onnx_reference=True)
                if onnx_ref is not None and _compare(model, neff, inputs, onnx_ref, auto_cast, True)[0]:
                    ok = True
                    notes.append("matches ONNX's reference (onnxruntime differs: Resize length rule)")
        except KaenaError as e:
            return Outcome("internal" if "internal error" in str(e) else "mismatch",
                           detail=f"auto-cast {auto_cast}: running the NEFF: {e}")
        if not ok:
            return Outcome("mismatch", detail=why)
    return Outcome("matched", notes=notes)


def _checker_accepts(model: onnx.ModelProto) -> bool:
    try:
        onnx.checker.check_model(model, full_check=True)
        return True
    except Exception:
        return False


def run_case(case: Case, seed: int = 0, seconds: float = 60.0) -> Outcome:
    """Compile (and run) one case from a temporary file; never raises."""
    with tempfile.TemporaryDirectory(prefix="kaena-model-fuzz-") as tmp:
        path = os.path.join(tmp, "case.onnx")
        with open(path, "wb") as f:
            f.write(case.data)
        try:
            with deadline(seconds):
                return _compile_and_check(case, path, seed)
        except CaseTimeout as e:
            return Outcome("timeout", detail=str(e))
        except Exception as e:  # noqa: BLE001 - classifying crashes is the point
            return Outcome("traceback", detail=f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=-6)}")


def make_case(generator: str, seed: int, i: int) -> Case:
    return mutated_case(seed, i) if generator == "mutation" else graph_case(seed, i)
