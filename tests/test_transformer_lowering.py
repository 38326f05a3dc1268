"""The transformer lowering's SBUF decisions end to end: the fused attention blocks
(``ktensor-plan-attention``), the matmul streams (``ktensor-plan-matmul-streams``: weight
blocks, the FFN chained through SBUF, Q/K/V sharing one lhs^T tile) and the token-major
layer norm results (``kaena.plan.token_tile``) -- which ops of the zoo's transformers take
them, and the numbers of models whose heads span both PSUM partition halves and end in
remainder tiles (S = 128 and S = 100, padded masks), in FP32 within 1e-4 of the largest
output and in BF16 within twice a faithful BF16 emulation."""

from __future__ import annotations

import pytest

import kaena
from kaena.driver import CompileOptions, CompileReport, import_model, pipeline_specs, run_passes
from kaena.passes.conversions.tensor_to_inferentia import decisions as d
from kaena.registry import make_context
from kaena.testing import modelzoo
from kaena.testing.reference import error_metrics, random_inputs, run_onnxruntime
from kaena.weights import module_store


def _planned(model, auto_cast: str = "matmult"):
    """The module after every planning pass (the lowering's decisions on the ktensor ops)."""
    opts = CompileOptions(auto_cast=auto_cast)
    stages = pipeline_specs(opts)
    module = import_model(model, opts)
    store = module_store(module)  # noqa: F841 -- held for the passes
    inf = stages["inferentia"]
    specs = stages["framework"] + stages["tensor"] + inf[:inf.index("convert-tensor-to-inferentia")]
    run_passes(make_context(), module, specs, CompileReport())
    return module, store


def _fused(module, attr: str = d.ATTENTION_ATTR) -> int:
    return sum(attr in op.attributes for op in module.walk())


@pytest.mark.parametrize("auto_cast", ["none", "matmult"])
def test_every_bert_layer_fuses_its_attention(auto_cast):
    module, _ = _planned(modelzoo.bert(layers=2, hidden=128, heads=2, seq=64, vocab=100), auto_cast)
    assert _fused(module) == 2


def test_bert_layers_keep_their_activations_in_sbuf():
    module, _ = _planned(modelzoo.bert(layers=2, hidden=128, heads=2, seq=64, vocab=100))
    assert _fused(module, d.CHAIN_ATTR) == 2  # each layer's FFN intermediate
    assert _fused(module, d.SHARED_LHS_ATTR) == 4  # K and V read Q's lhs^T tile
    # every layer norm but the last (its result is the model's output)
    assert _fused(module, d.TOKEN_TILE_ATTR) == 4
    assert _fused(module, d.HEAD_TILE_ATTR) == 6  # Q, K, V into their attention's tiles
    assert _fused(module, d.CONTEXT_CHAIN_ATTR) == 2  # each context into the output dense's lhs^T


def test_vit_fuses_its_unmasked_attention():
    module, _ = _planned(modelzoo.vit(layers=2, hidden=64, heads=2, image=32, patch=8))
    assert _fused(module) == 2


def test_translation_fuses_all_but_the_causal_self_attention():
    # the decoder's causal mask varies along the queries: no per-key drain bias, the
    # softmax reads the add's result, and that block stays op by op
    module, _ = _planned(modelzoo.translation_transformer(layers=1, hidden=64, src_seq=16, tgt_seq=12, vocab=50))
    assert _fused(module) == 2


@pytest.fixture(scope="module", params=[128, 100], ids=lambda s: f"seq{s}")
def bert_case(request):
    model = modelzoo.bert(layers=1, hidden=128, heads=2, seq=request.param, vocab=100)
    inputs = random_inputs(model, seed=5)
    assert (inputs["attention_mask"] == 0).any()  # padded rows: the mask matters
    return model, inputs, run_onnxruntime(model, inputs)


def test_fused_attention_fp32(bert_case):
    model, inputs, ref = bert_case
    got = kaena.load(kaena.compile(model, auto_cast="none")).run(inputs)
    assert error_metrics(got, ref).max_rel <= 1e-4


def test_fused_attention_bf16(bert_case):
    model, inputs, ref = bert_case
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    err = error_metrics(kaena.load(kaena.compile(model)).run(inputs), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
    assert err.one_minus_cosine <= 2 * emulated.one_minus_cosine, (err, emulated)
