"""ResNet-50 and MobileNetV2 (at 32x32 so pytest stays fast: every layer, channel
count and weight of the real networks) compiled for a NeuronCore Pipeline: each
simulates with hazard checks on and matches the single-core compile and onnxruntime.
``benchmarks``-size runs (224x224, 16 and 64 cores): docs/pipeline-parallel.md."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import kaena
from kaena.testing import modelzoo
from kaena.testing.reference import random_inputs, run_onnxruntime

CASES = {"resnet50": 4, "mobilenet_v2": 16}  # one chip; four chips (cuts over NeuronLink)


@pytest.fixture(scope="module", params=sorted(CASES))
def model_case(request, tmp_path_factory):
    name = request.param
    model = getattr(modelzoo, name)(image=32)
    path = str(tmp_path_factory.mktemp("cnn") / f"{name}.onnx")
    onnx.save(model, path)
    x = random_inputs(model, seed=0)
    single = kaena.load(kaena.compile(path, auto_cast="none")).run(x)
    return name, path, x, single, run_onnxruntime(model, x)


def test_cnn_pipeline_matches_single_core_and_onnxruntime(model_case):
    name, path, x, single, ref = model_case
    cores = CASES[name]
    neff = kaena.compile(path, auto_cast="none", pipeline_cores=cores)
    assert neff.num_cores == cores
    result = kaena.load(neff).simulate(x)  # hazard checks on, across cores
    (key,) = single
    scale = float(np.abs(ref[key]).max())
    np.testing.assert_allclose(result.outputs[key], single[key], rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(result.outputs[key], ref[key], rtol=0, atol=1e-5 * scale)


# BERT (the HF-style graph the transformer tests use: int64 token ids gathered on the first
# stage, a padded attention mask every layer's scores add, sent to the stages that add it):
# 4 layers so 64 stages have ops to place (86 units); the cuts fall inside the layers.
BERT_CORES = [2, 4, 16, 64]


@pytest.fixture(scope="module")
def bert_case(tmp_path_factory):
    model = modelzoo.bert(layers=4, hidden=128, heads=2, seq=64, vocab=1000)
    path = str(tmp_path_factory.mktemp("bert") / "bert.onnx")
    onnx.save(model, path)
    x = random_inputs(model, seed=0)
    assert (x["attention_mask"] == 0).any()  # padded: the mask matters
    single = kaena.load(kaena.compile(path, auto_cast="none")).run(x)
    return path, x, single, run_onnxruntime(model, x)


@pytest.mark.parametrize("cores", BERT_CORES)
def test_bert_pipeline_matches_single_core_and_onnxruntime(bert_case, cores):
    path, x, single, ref = bert_case
    neff = kaena.compile(path, auto_cast="none", pipeline_cores=cores)
    assert neff.num_cores == cores
    result = kaena.load(neff).simulate(x)  # hazard checks on, across cores
    for key in ("last_hidden_state", "pooler_output"):
        scale = float(np.abs(ref[key]).max())
        # FP32 rounding: a cut changes what the lowering fuses (four layers: up to ~1e-6)
        np.testing.assert_allclose(result.outputs[key], single[key], rtol=0, atol=3e-6 * scale)
        np.testing.assert_allclose(result.outputs[key], ref[key], rtol=0, atol=1e-5 * scale)
