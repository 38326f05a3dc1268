"""A short model fuzzing run (kaena/testing/model_fuzz.py; the long one is
benchmarks/fuzz_models.py): mutated ONNX models end in one clean error or compile
and match onnxruntime, random graphs of supported operators compile and match it
(FP32 and BF16 bars), and none ends in a traceback, an internal error or a hang."""

from __future__ import annotations

from collections import Counter

import onnx
import pytest
from onnx import TensorProto, helper

from kaena.testing import model_fuzz
from kaena.testing.model_fuzz import FAILURES, Case, make_case, run_case

CASES = 60  # of each generator
SEED = 0
DEADLINE_S = 120.0

_OUTCOMES: dict[str, Counter] = {"mutation": Counter(), "graph": Counter()}


@pytest.mark.parametrize("generator", ["mutation", "graph"])
def test_short_campaign_has_no_failures(generator):
    failures = []
    for i in range(CASES):
        case = make_case(generator, SEED, i)
        out = run_case(case, SEED, DEADLINE_S)
        _OUTCOMES[generator][out.kind] += 1
        if out.kind in FAILURES:
            failures.append(f"{generator}:{i} ({case.kind}): {out.kind}: {out.detail.splitlines()[0]}")
    assert not failures, "\n".join(failures)
    seen = _OUTCOMES[generator]
    if generator == "graph":  # the generator makes graphs Kaena compiles and runs, not refusals
        assert seen["matched"] >= CASES * 0.9, seen
    else:  # mutants reach both ends: clean refusals and models that still compile and match
        assert seen["rejected"] >= CASES // 3 and seen["matched"] >= CASES // 10, seen


def test_cases_are_reproducible():
    for generator in ("mutation", "graph"):
        assert make_case(generator, 3, 7).data == make_case(generator, 3, 7).data
        assert make_case(generator, 3, 7).data != make_case(generator, 3, 8).data


def _case(model: onnx.ModelProto) -> Case:
    return Case("mutation", "hand-made", model, model.SerializeToString(), ("none",))


def _conv_model(weight_channels: int, dangling: bool = False) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, weight_channels, 3, 3], [0.1] * (36 * weight_channels))
    inputs = ["x", "nowhere" if dangling else "w"]
    node = helper.make_node("Conv", inputs, ["y"], name="conv", kernel_shape=[3, 3])
    graph = helper.make_graph([node], "g", [x], [y], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.mark.parametrize("model, why", [
    (_conv_model(5), "'conv' (Conv)"),
    (_conv_model(3, dangling=True), "'conv' (Conv): its input 'nowhere' is produced by no node"),
])
def test_invalid_models_are_invalid_not_unsupported(model, why):
    """Issue 13: a Conv whose channels do not match its weights, or a dangling input, is
    reported as an invalid model naming the node, never as unsupported operators."""
    out = run_case(_case(model))
    assert out.kind == "rejected" and out.category == "invalid", out
    assert "the model is invalid" in out.detail and why in out.detail
    assert "Replace these operators" not in out.detail


def test_mutants_that_break_the_schema_are_invalid():
    """An attribute ONNX's operator does not have (or of another type), a wrong number of
    inputs: invalid models, in one line naming the node."""
    model = make_case("graph", SEED, 0).model
    node = model.graph.node[0]
    node.attribute.append(helper.make_attribute("not_an_attribute", 1))
    out = run_case(_case(model))
    assert out.category == "invalid" and f"'{node.name}' ({node.op_type})" in out.detail, out
    assert "has no attribute 'not_an_attribute'" in out.detail and len(out.detail.splitlines()) == 1


def test_a_crashing_reference_is_announced(monkeypatch):
    """The campaign's worker hears when onnxruntime is about to run a model Kaena compiled,
    so a reference that segfaults on a mutant is not counted as Kaena's crash."""
    calls = []
    monkeypatch.setattr(model_fuzz, "on_reference", lambda: calls.append(1))
    assert run_case(make_case("graph", SEED, 1)).kind == "matched"
    assert calls


def test_an_initializer_of_an_undefined_data_type_is_invalid():
    """Found by the campaign (mutation:345): an initializer whose data_type ONNX does not
    define raised KeyError in onnx.numpy_helper; it is an invalid model naming it."""
    model = _conv_model(3)
    model.graph.initializer[0].data_type = 99
    out = run_case(_case(model))
    assert out.kind == "rejected" and out.category == "invalid", out
    assert "initializer 'w' has data type 99, which ONNX does not define" in out.detail


def test_an_fp32_difference_where_kaena_is_closer_to_float64_is_a_noted_match():
    """Found by the campaign (seed 1, graph:734): a LayerNorm over two nearly equal values;
    Kaena is 6.1e-6 from a float64 evaluation, onnxruntime 9.2e-6, so the two differ by
    1.5e-5, over the FP32 bar. Within twice the bar and the closer to float64: a match."""
    out = run_case(make_case("graph", 1, 734), 1)
    assert out.kind == "matched", out
    assert model_fuzz.CLOSER_TO_FLOAT64 in out.notes


def test_an_initializer_outside_the_inputs_of_an_ir_3_model_is_invalid():
    """Found by the campaign (mutation:823): at IR version 3 every initializer is also a
    graph input, and shape inference leaves one that is not unknown; the Conv reading it
    was reported as unsupported: the model is invalid (one that imports still compiles,
    as onnxruntime runs it)."""
    out = run_case(make_case("mutation", 0, 823), 0)
    assert out.kind == "rejected" and out.category == "invalid", out
    assert "declares IR version 3, where every initializer must also be a graph input, and initializer 'w1'" \
        in out.detail
    model = _conv_model(3)
    model.ir_version = 3
    assert run_case(_case(model)).kind == "matched"
