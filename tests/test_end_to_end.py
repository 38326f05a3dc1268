"""Model in, NEFF out, simulated, compared with onnxruntime: the foundation's bar.

FP32 (``auto_cast="none"``) must match onnxruntime to about 1e-5 relative;
the default BF16 auto-cast may have at most twice the error of a faithful BF16
emulation of the same graph run in onnxruntime.
"""

from __future__ import annotations

import numpy as np
import pytest

import kaena
from kaena.testing import modelzoo
from kaena.testing.reference import error_metrics, random_inputs, run_onnxruntime

MODELS = {
    "mlp": lambda: modelzoo.mlp(batch=4),
    "lenet": lambda: modelzoo.lenet(batch=2),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def model_case(request):
    model = MODELS[request.param]()
    inputs = random_inputs(model, seed=1)
    return request.param, model, inputs, run_onnxruntime(model, inputs)


def test_fp32_matches_onnxruntime(model_case):
    _, model, inputs, ref = model_case
    neff = kaena.compile(model, auto_cast="none")
    out = kaena.load(neff).run(inputs)
    assert sorted(out) == sorted(ref)
    for name in ref:
        assert out[name].shape == ref[name].shape and out[name].dtype == np.float32
    err = error_metrics(out, ref)
    assert err.max_rel <= 1e-5, err


def test_bf16_within_twice_the_emulation_error(model_case):
    _, model, inputs, ref = model_case
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    assert emulated.max_rel > 0  # the emulation really rounds
    neff = kaena.compile(model)  # default: --auto-cast matmult, bf16
    err = error_metrics(kaena.load(neff).run(inputs), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
    assert err.one_minus_cosine <= 2 * emulated.one_minus_cosine, (err, emulated)


def test_neff_round_trips_through_bytes(model_case, tmp_path):
    _, model, inputs, _ = model_case
    neff = kaena.compile(model, auto_cast="none")
    path = tmp_path / "m.neff"
    neff.save(str(path))
    direct = kaena.load(neff).run(inputs)
    loaded = kaena.load(str(path)).run(inputs)
    for name in direct:
        np.testing.assert_array_equal(direct[name], loaded[name])


def test_compile_is_deterministic():
    model = modelzoo.lenet(batch=1)
    assert kaena.compile(model).to_bytes() == kaena.compile(model).to_bytes()


def test_all_three_dialects_are_visited():
    report = kaena.CompileReport()
    kaena.compile(modelzoo.mlp(batch=2), report=report)
    names = [n for n, _ in report.pass_seconds]
    for expected in ("import", "inf-set-target", "convert-framework-to-tensor", "ktensor-auto-cast",
                     "convert-tensor-to-inferentia", "inf-allocate-sram",
                     "inf-insert-semaphores", "encode-neff"):
        assert expected in names


def test_fp16_matmult_is_at_least_as_accurate_as_bf16(model_case):
    """FP16 keeps 10 mantissa bits to BF16's 7: its error stays within the BF16 bar."""
    _, model, inputs, ref = model_case
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    err = error_metrics(kaena.load(kaena.compile(model, auto_cast_type="fp16")).run(inputs), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)


def test_auto_cast_all_keeps_fp32_io_and_stays_close(model_case):
    """--auto-cast all computes everything in BF16 (more rounding than the matmul-only
    emulation, so a looser bar), while inputs and outputs stay FP32."""
    _, model, inputs, ref = model_case
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    neff = kaena.compile(model, auto_cast="all")
    assert all(spec.dtype == "float32" for spec in (*neff.inputs, *neff.outputs))
    out = kaena.load(neff).run(inputs)
    err = error_metrics(out, ref)
    assert err.max_rel <= 10 * emulated.max_rel, (err, emulated)
    assert err.one_minus_cosine <= 1e-4, err


def test_every_neff_variable_is_used():
    """Nothing the program never touches (e.g. biases gathered into a bias table)
    is shipped in the NEFF."""
    from kaena.isa import Mem

    for model in (modelzoo.lenet(batch=1), modelzoo.ssd_detector()):
        sg = kaena.compile(model).subgraphs[0]
        used = set()
        for records in sg.streams.values():
            for slot in ("out", "in0", "in1"):
                ap = records[slot]
                used |= set(ap["var"][ap["mem"] == Mem.DRAM].tolist())
        assert [v.name for i, v in enumerate(sg.variables) if i not in used] == []
