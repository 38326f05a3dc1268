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
# supported operators none of whose node tests Kaena takes (tests/test_lowering_attention.py
# covers LayerNormalization with its single output)
WITHOUT_NODE_TESTS = {"LayerNormalization"}
# node test name prefixes that do not spell the operator
ALIASES = {"basic_conv": "Conv", "batchnorm": "BatchNormalization", "constant_pad": "Pad",
           "edge_pad": "Pad", "reflect_pad": "Pad", "wrap_pad": "Pad",
           "reduce_mean": "ReduceMean", "reduce_sum": "ReduceSum", "reduce_max": "ReduceMax",
           "reduce_min": "ReduceMin", "layer_normalization": "LayerNormalization"}

# pattern -> why the test is excluded (it must still be refused cleanly)
EXCLUDED: dict[str, str] = {
    r"^test_(maxpool|averagepool)_.*dilations": "dilated pooling is not supported",
    r"^test_batchnorm_.*training_mode$": "training mode (statistics outputs)",
    r"^test_maxpool_with_argmax": "MaxPool's Indices output",
    r"^test_dropout_default_mask": "Dropout's mask output",
    r"^test_resize_.*(cubic|linear)": "Resize modes other than nearest",
    r"^test_resize_(downsample|tf_crop)": "Resize other than integer upsampling",
    r"^test_resize_upsample_sizes_nearest(_axes_2_3|_axes_3_2|_not_larger|_ceil_half_pixel|"
    r"_floor_align_corners|_round_prefer_ceil_asymmetric)?$":
        "non-integer scale or an index map other than i // scale",
    r"^test_wrap_pad$": "Pad mode wrap",
    r"^test_identity_(opt|sequence)$": "optional and sequence types",
    r"^test_reshape_allowzero_reordered$": "empty (size 0) tensor",
    r"^test_gather_(1|2d_indices)$": "Gather by run-time indices along an axis other than 0",
    r"^test_gather_negative_indices$": "negative ids: the runtime refuses ids outside [0, rows)",
    r"^test_pow(_bcast_array|_example|_types_.*)?$": "Pow with a non-scalar exponent",
    r"^test_slice_neg_steps$": "Slice with a negative step",
    r"^test_slice_start_out_of_bounds$": "empty (size 0) tensor",
    r"^test_split_zero_size_splits": "empty (size 0) tensor",
    r"^test_reduce_.*empty_set": "empty (size 0) tensor",
    # the function-body expansions compute Mean and InvStdDev with ordinary ops, and run
    r"^test_layer_normalization_((?!expanded).)*$":
        "the Mean and InvStdDev outputs (every LayerNormalization node test has them)",
}


def operator_of(name: str) -> str | None:
    """The supported operator a node test exercises, from its name."""
    base = name[len("test_"):]
    keys = {op.lower(): op for op in SUITE_OPERATORS} | ALIASES
    best = max((k for k in keys if base == k or base.startswith(k + "_")), key=len, default=None)
    if best is None or (keys[best] == "Constant" and base != "constant"):
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


# integer-typed tests Kaena runs exactly: int32 data moved by DMAs only
INTEGER_RUN = {"test_edge_pad", "test_reflect_pad"}
INTEGER = {c.name for c in CASES if is_integer_typed(c.model) and not exclusion(c)} - INTEGER_RUN
# operators whose node tests all have bool inputs or outputs (model I/O Kaena does not
# take): tests/test_lowering_indexing.py runs them inside float models instead
BOOL_IO = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "Where",
           "And", "IsNaN"}  # these two: tests/test_exporter_mask_ops.py
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
    assert covered >= set(SUITE_OPERATORS) - {"Cast", "CastLike"} - BOOL_IO - WITHOUT_NODE_TESTS, \
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
