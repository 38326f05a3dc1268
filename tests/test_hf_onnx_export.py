"""Hugging Face ``transformers`` models (BertModel, ViTModel, MarianMTModel) built
from small configs with random weights and exported by PyTorch's own
``torch.onnx.export``, both the default (dynamo) exporter and the legacy
TorchScript one: Kaena compiles the exporter's file and matches onnxruntime on
it, FP32 within 1e-4 of the largest output magnitude, BF16 within twice the
error of a faithful BF16 emulation of the same graph."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import kaena
from kaena.testing import hf_models, modelzoo
from kaena.testing.reference import error_metrics, run_onnxruntime

CASES = [(name, exporter) for name in hf_models.MODELS for exporter in hf_models.EXPORTERS]


_EXPORTS: dict[tuple[str, str], tuple] = {}


def _export(name: str, exporter: str, tmp_path_factory):
    """One export per (model, exporter) for the whole module: (path, inputs, onnxruntime's outputs)."""
    if (name, exporter) not in _EXPORTS:
        path = tmp_path_factory.mktemp(f"{name}-{exporter}") / f"{name}.onnx"
        inputs = hf_models.export(name, path, exporter)
        _EXPORTS[name, exporter] = (path, inputs, run_onnxruntime(str(path), inputs))
    return _EXPORTS[name, exporter]


@pytest.fixture(scope="module", params=CASES, ids=[f"{n}-{e}" for n, e in CASES])
def exported(request, tmp_path_factory):
    return _export(*request.param, tmp_path_factory)


def test_the_file_is_the_exporters_own(exported):
    path, inputs, _ = exported
    model = onnx.load(path, load_external_data=False)
    assert model.producer_name == "pytorch"
    assert [i.name for i in model.graph.input if i.name in inputs] == list(inputs)


def test_fp32_within_1e4_of_the_largest_output(exported):
    path, inputs, ref = exported
    got = kaena.load(kaena.compile(str(path), auto_cast="none")).run(inputs)
    assert sorted(got) == sorted(ref)
    assert error_metrics(got, ref).max_rel <= 1e-4


def test_bf16_within_twice_the_emulation_error(exported):
    path, inputs, ref = exported
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(onnx.load(path)), inputs), ref)
    err = error_metrics(kaena.load(kaena.compile(str(path))).run(inputs), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
    assert err.one_minus_cosine <= 2 * emulated.one_minus_cosine, (err, emulated)


@pytest.mark.parametrize("name", ["bert", "marian"])
def test_the_padding_mask_changes_the_outputs(name, tmp_path_factory):
    """The padded attention_mask of the inputs moves the outputs by far more than
    the FP32 tolerance: matching onnxruntime means Kaena applied it."""
    path, inputs, ref = _export(name, "dynamo", tmp_path_factory)
    unpadded = run_onnxruntime(str(path), {**inputs, "attention_mask": np.ones_like(inputs["attention_mask"])})
    assert error_metrics(unpadded, ref).max_rel > 10 * 1e-4


@pytest.mark.parametrize("name", ["bert", "marian"])
def test_a_fully_padded_row_matches_in_both_precisions(name, tmp_path_factory):
    """A batch row with attention_mask all zeros: every score gets the exporter's
    finfo(float32).min, and the row's softmax is uniform. That constant rounds to
    -inf in BF16, which would make the row NaN and the IsNaN guard zero it: the
    mask arithmetic must stay FP32 under auto_cast too."""
    path, inputs, _ = _export(name, "dynamo", tmp_path_factory)
    mask = inputs["attention_mask"].copy()
    mask[1] = 0
    inputs = {**inputs, "attention_mask": mask}
    ref = run_onnxruntime(str(path), inputs)
    got = kaena.load(kaena.compile(str(path), auto_cast="none")).run(inputs)
    assert error_metrics(got, ref).max_rel <= 1e-4
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(onnx.load(path)), inputs), ref)
    err = error_metrics(kaena.load(kaena.compile(str(path))).run(inputs), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
