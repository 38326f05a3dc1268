"""ONNX's own node tests through Kaena (compile FP32 + simulate with hazard checks).

``onnx.backend.test.BackendTest`` generates one unittest per node test; we
include the tests of the operators Kaena supports (``kaena-compile
--list-operators``) and list every exclusion below with its reason (see
docs/onnx-backend.md for the pass rate per operator). Excluded tests must
still be refused with a clean ``KaenaError``: that is checked too.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import onnx.backend.test
import pytest
from onnx import TensorProto

from kaena.backend import KaenaBackend, parameter_inputs
from kaena.errors import KaenaError
from kaena.frontends.onnx import SUPPORTED_OPERATORS
from kaena.frontends.onnx.core import FOLD_ONLY

# Operators the importer takes whose ktensor ops have no Inferentia lowering yet
# (none today): their node tests join the suite with the lowering.
AWAITING_LOWERING: set[str] = set()
LOWERED = set(SUPPORTED_OPERATORS) - AWAITING_LOWERING
# Cast/CastLike node tests all convert between other types (int, bf16, fp8, strings);
# Kaena takes them only float32 -> float32 or on constants.
SUITE_OPERATORS = sorted(LOWERED - {"Cast", "CastLike"})
# supported operators none of whose node tests Kaena takes (none today)
WITHOUT_NODE_TESTS: set[str] = set()
# node test name prefixes that do not spell the operator
ALIASES = {"basic_conv": "Conv", "batchnorm": "BatchNormalization", "constant_pad": "Pad",
           "edge_pad": "Pad", "reflect_pad": "Pad", "wrap_pad": "Pad",
           "reduce_mean": "ReduceMean", "reduce_sum": "ReduceSum", "reduce_max": "ReduceMax",
           "reduce_min": "ReduceMin", "layer_normalization": "LayerNormalization",
           "greater_equal": "GreaterOrEqual", "less_equal": "LessOrEqual",
           **{f"{op.lower()}{r}d": op for op in ("And", "Or", "Xor") for r in (2, 3, 4)}}

# pattern -> why the test is excluded (it must still be refused cleanly)
EXCLUDED: dict[str, str] = {
    r"^test_identity_(opt|sequence)$": "optional and sequence types",
    r"^test_gather_negative_indices$": "negative run-time ids: the DMA gather faults outside [0, rows) "
                                       "and the device has no int32 arithmetic for ids + rows; the "
                                       "runtime refuses them",
}


def _snake(op: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", op).lower()


# Every ONNX operator's test-name prefix (GatherElements -> gather_elements, ReduceSumSquare
# -> reduce_sum_square): a test of an operator Kaena does not take must not count under a
# supported one whose name is a prefix of it.
ALL_ONNX_PREFIXES = {p: op for s in onnx.defs.get_all_schemas() for op in [s.name]
                     for p in {op.lower(), _snake(op)}}


def operator_of(name: str) -> str | None:
    """The supported operator a node test exercises, from its name."""
    base = name[len("test_"):]
    keys = {op.lower(): op for op in SUITE_OPERATORS} | ALIASES
    every = ALL_ONNX_PREFIXES | keys
    best = max((k for k in every if base == k or base.startswith(k + "_")), key=len, default=None)
    if best is None or best not in keys or (keys[best] == "Constant" and base != "constant"):
        return None
    return keys[best]


def _ids_input(model, v) -> bool:
    """Whether graph input ``v`` is int32/int64 token ids: read only as a Gather's indices."""
    if v.type.tensor_type.elem_type not in (TensorProto.INT64, TensorProto.INT32):
        return False
    readers = [(n, i) for n in model.graph.node for i, x in enumerate(n.input) if x == v.name]
    return bool(readers) and all(n.op_type == "Gather" and i == 1 for n, i in readers)


def is_integer_typed(model) -> bool:
    """Whether a data input or an output is not a float32 tensor (integer variants;
    integer parameter inputs such as Reshape's shape and the token ids of a Gather do not count)."""
    g = model.graph
    skip = {t.name for t in g.initializer} | set(parameter_inputs(model))
    for v in (*g.input, *g.output):
        if v.name in skip or (any(v is i for i in g.input) and _ids_input(model, v)):
            continue
        if not v.type.HasField("tensor_type") or v.type.tensor_type.elem_type != TensorProto.FLOAT:
            return True
    return False


def _node_cases():
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [c for c in load_model_tests(kind="node") if operator_of(c.name)]


CASES = _node_cases()


# expansions whose other operators already lower (Exp, Log: ktensor.activation)
LOWERED_EXPANSIONS = {r"^test_softmax_.*_expanded(_ver\d+)?$": {"Exp"}}


def exclusion(case) -> str | None:
    # shape arithmetic (Shape, Size, ConstantOfShape, ...) folds at import where static
    others = {n.op_type for n in case.model.graph.node} - LOWERED - set(FOLD_ONLY)
    for pattern, lowered in LOWERED_EXPANSIONS.items():
        if re.search(pattern, case.name):
            others -= lowered
    if re.search(r"_expanded(_ver\d+)?$", case.name) and others:
        return ("function-body expansion using run-time operators Kaena does not take (or not "
                "lower yet): " + ", ".join(sorted(others)))
    for pattern, reason in EXCLUDED.items():
        if re.search(pattern, case.name):
            return reason
    return None


# integer-typed tests Kaena runs exactly: pattern -> why the result is exact. Integer
# inputs travel as int32 (the host widens int8..uint64, refusing values int32 cannot
# hold), bool ones as float32 0/1 masks; the host narrows outputs back to their dtype.
INTEGER_RUN_PATTERNS = {
    r"^test_(edge|reflect|wrap)_pad$": "int32 data moved by DMAs only",
    r"^test_(equal|greater|less|greater_equal|less_equal)(_u?int(8|16|32|64)|_bcast)?(_expanded)?$":
        "vector comparisons of float32, or int32 within 2**24 (the runtime refuses larger values)",
    r"^test_(not|and|or|xor)(_|\d)": "bool masks: vector comparisons, min and max of 0.0/1.0",
    r"^test_where_": "SELECT moves the chosen values (int32 unconverted)",
    r"^test_isnan$": "float32 data into a bool mask: not(x == x) on the vector engine",
    r"^test_(max|min)_u?int(8|16|32|64)$": "a comparison (int32 within 2**24) and a SELECT",
    r"^test_clip_default_int8_": "int8 data: comparisons (within 2**24) and SELECTs",
}
INTEGER_RUN = {c.name for c in CASES if any(re.search(p, c.name) for p in INTEGER_RUN_PATTERNS)}
INTEGER = {c.name for c in CASES if is_integer_typed(c.model) and not exclusion(c)} - INTEGER_RUN
INCLUDED = sorted(c.name for c in CASES if not exclusion(c) and c.name not in INTEGER)

backend_test = onnx.backend.test.BackendTest(KaenaBackend, __name__)
for name in INCLUDED:
    backend_test.include(rf"^{name}_cpu$")
# The "CPU" device is the simulator: the CUDA variants never run.
globals().update(backend_test.test_cases)


def _refused_cleanly(case) -> None:
    with pytest.raises(KaenaError) as info:
        rep = KaenaBackend.prepare(case.model)
        for inputs, _ in case.data_sets:
            rep.run(inputs)
    message = str(info.value)
    assert "\n" not in message.strip() and "Traceback" not in message


@pytest.mark.parametrize("case", [c for c in CASES if exclusion(c)], ids=lambda c: c.name)
def test_excluded_variants_are_refused_cleanly(case):
    _refused_cleanly(case)


@pytest.mark.parametrize("case", [c for c in CASES if c.name in INTEGER], ids=lambda c: c.name)
def test_integer_variants_are_exact_or_refused_cleanly(case):
    """Integer data the hardware moves exactly (int32 tiles: DMA, pads, layout) must give
    the exact result; the rest must be refused with one clean line."""
    try:
        rep = KaenaBackend.prepare(case.model)
        results = [(rep.run(inputs), outputs) for inputs, outputs in case.data_sets]
    except KaenaError as e:
        assert "\n" not in str(e).strip() and "Traceback" not in str(e)
        return
    for got, want in results:
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and np.array_equal(g, w), case.name


def test_suite_covers_every_supported_operator():
    covered = {operator_of(n) for n in INCLUDED}
    assert covered >= set(SUITE_OPERATORS) - {"Cast", "CastLike"} - WITHOUT_NODE_TESTS, \
        set(SUITE_OPERATORS) - covered
    assert len(INCLUDED) >= 150


def test_parameter_inputs_are_bound_not_data():
    """Reshape's shape input is bound at run time; the data input is not."""
    case = next(c for c in CASES if c.name == "test_reshape_reordered_all_dims")
    rep = KaenaBackend.prepare(case.model)
    assert rep.parameters == [case.model.graph.input[1].name]
    inputs, outputs = case.data_sets[0]
    np.testing.assert_allclose(rep.run(inputs)[0], outputs[0])
    assert len(rep._cache) == 1


def test_empty_tensors_need_no_hardware():
    """A size-0 output is made on the host (its data never matters); when every output is
    empty nothing is compiled. A size-0 input is bound like a parameter."""
    case = next(c for c in CASES if c.name == "test_split_zero_size_splits_opset18")
    rep = KaenaBackend.prepare(case.model)
    assert set(rep.empty_outputs) == {o.name for o in case.model.graph.output}
    assert set(rep.parameters) == {"input", "split"}
    inputs, outputs = case.data_sets[0]
    got = rep.run(inputs)
    assert list(rep._cache.values()) == [None]
    assert [g.shape for g in got] == [w.shape for w in outputs]
    assert all(g.dtype == w.dtype for g, w in zip(got, outputs))
