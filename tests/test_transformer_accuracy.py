"""Transformers end to end against onnxruntime (the transformer issue's bar): a
BERT encoder (HF-style graph, padded attention mask, both LayerNorm export
styles), a ViT and an encoder-decoder translation model, in FP32 within 1e-4 of
the largest output magnitude and under BF16 at most twice the error of a
faithful BF16 emulation of the same graph. CI sizes (and one BERT-base-width
layer); the benchmarks run the full ones."""

from __future__ import annotations

import pytest

import kaena
from kaena.testing import modelzoo
from kaena.testing.reference import assert_within_bf16_bar, error_metrics, random_inputs, run_onnxruntime

MODELS = {
    "bert": lambda: modelzoo.bert(layers=2, hidden=128, heads=2, seq=64, vocab=1000),
    # BERT-base width (H=768, 12 heads, S=128): its 4.5 MiB FFN weight tiles, the head tiles and the
    # context chain, one layer
    "bert_base_width": lambda: modelzoo.bert(layers=1, hidden=768, heads=12, seq=128, vocab=1000),
    "bert_decomposed_layernorm": lambda: modelzoo.bert(layers=1, hidden=128, heads=2, seq=64, vocab=1000,
                                                       decomposed_layernorm=True),
    "vit": lambda: modelzoo.vit(layers=2, hidden=64, heads=2, image=32, patch=8),
    "translation": lambda: modelzoo.translation_transformer(layers=1, hidden=64, src_seq=16, tgt_seq=12,
                                                            vocab=200),
}


@pytest.fixture(scope="module", params=list(MODELS))
def case(request):
    model = MODELS[request.param]()
    inputs = random_inputs(model, seed=3)
    return model, inputs, run_onnxruntime(model, inputs)


def test_fp32_within_1e4_of_the_largest_output(case):
    model, inputs, ref = case
    got = kaena.load(kaena.compile(model, auto_cast="none")).run(inputs)
    assert error_metrics(got, ref).max_rel <= 1e-4


def test_bf16_within_twice_the_emulation_error(case):
    model, inputs, ref = case
    assert_within_bf16_bar(model, inputs, ref, kaena.load(kaena.compile(model)).run(inputs))


def test_out_of_vocabulary_token_is_refused_naming_input_position_and_value():
    model = modelzoo.bert(layers=1, hidden=64, heads=2, seq=16, vocab=100)
    inputs = random_inputs(model, seed=0)
    ids = inputs["input_ids"].copy()
    ids.flat[5] = 100
    with pytest.raises(kaena.KaenaError, match=r"token id 100 at position 5 of input 'input_ids' is outside \[0, 100\)"):
        kaena.load(kaena.compile(model, auto_cast="none")).run({**inputs, "input_ids": ids})
