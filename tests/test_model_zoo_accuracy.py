"""The full-size vision networks against onnxruntime (issue 3's bar):
within 1e-3 of the largest output magnitude in FP32, and under BF16 at most
twice the error of a faithful BF16 emulation of the same graph."""

from __future__ import annotations

import pytest

import kaena
from kaena.testing import modelzoo
from kaena.testing.reference import assert_within_bf16_bar, error_metrics, random_inputs, run_onnxruntime

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
    assert_within_bf16_bar(model, inputs, ref, kaena.load(kaena.compile(model)).run(inputs))
