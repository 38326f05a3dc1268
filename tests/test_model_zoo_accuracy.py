"""The full-size vision networks against onnxruntime (issue 3's bar):
within 1e-3 of the largest output magnitude in FP32, and under BF16 at most
twice the error of a faithful BF16 emulation of the same graph."""

from __future__ import annotations

import pytest

import kaena
from kaena.testing import modelzoo
from kaena.testing.reference import error_metrics, random_inputs, run_onnxruntime

MODELS = ("resnet50", "mobilenet_v2", "ssd_detector")


@pytest.fixture(scope="module", params=MODELS)
def case(request):
    model = getattr(modelzoo, request.param)()
    inputs = random_inputs(model, seed=3)
    return model, inputs, run_onnxruntime(model, inputs)


def test_fp32_within_1e3_of_the_largest_output(case):
    model, inputs, ref = case
    result = kaena.load(kaena.compile(model, auto_cast="none")).simulate(inputs)
    assert error_metrics(result.outputs, ref).max_rel <= 1e-3


def test_bf16_within_twice_the_emulation_error(case):
    model, inputs, ref = case
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    err = error_metrics(kaena.load(kaena.compile(model)).run(inputs), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
    assert err.one_minus_cosine <= 2 * emulated.one_minus_cosine, (err, emulated)
