"""The PyTorch frontend end to end: Hugging Face models built from their configs
(random weights, no download) through torch.export and kaena.trace, compiled,
simulated and compared with PyTorch's own forward; the imported IR; the refusals."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import kaena  # noqa: E402
from kaena.errors import ModelImportError, UnsupportedOperatorError  # noqa: E402
from kaena.frontends.torch import import_torch, list_operators  # noqa: E402
from kaena.testing.reference import error_metrics  # noqa: E402
from kaena.testing.torch_reference import run_torch  # noqa: E402


def _hf_models():
    t = transformers
    return {
        "ResNetModel": (lambda: t.ResNetModel(t.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1],
                                                               layer_type="basic")),
                        lambda: (torch.randn(1, 3, 32, 32),)),
        "MobileNetV2Model": (lambda: t.MobileNetV2Model(t.MobileNetV2Config(image_size=32, depth_multiplier=0.25)),
                             lambda: (torch.randn(1, 3, 32, 32),)),
        "BertModel": (lambda: t.BertModel(t.BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                                       num_attention_heads=2, intermediate_size=64,
                                                       max_position_embeddings=64)),
                      lambda: (torch.randint(0, 100, (1, 8)),)),
        "ViTModel": (lambda: t.ViTModel(t.ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
                                                    num_attention_heads=2, intermediate_size=64)),
                     lambda: (torch.randn(1, 3, 32, 32),)),
    }


HF_MODELS = tuple(_hf_models())


@pytest.fixture(scope="module", params=HF_MODELS)
def hf_model(request):
    """(name, module in eval mode, example inputs, FP32 outputs, BF16-emulation outputs)."""
    torch.manual_seed(0)
    build, inputs = _hf_models()[request.param]
    module = build().eval()
    example = inputs()
    return request.param, module, example, run_torch(module, example), run_torch(module, example, bf16=True)


_EXPORTED = {}


def _exported(module, example):
    """One torch.export per model for both precisions (the module itself is kept with its
    program: keyed by id() alone, a later model allocated at a freed one's address got the
    freed one's program)."""
    cached = _EXPORTED.get("last")
    if cached is None or cached[0] is not module:
        _EXPORTED["last"] = (module, torch.export.export(module, example))
    return _EXPORTED["last"][1]


def _errors(outputs: list[np.ndarray], reference: list[np.ndarray]):
    assert [o.shape for o in outputs] == [r.shape for r in reference]
    return error_metrics({str(i): o for i, o in enumerate(outputs)}, {str(i): r for i, r in enumerate(reference)})


def _check(name, auto_cast, outputs, fp32, bf16):
    err = _errors(outputs, fp32)
    if auto_cast == "none":
        assert err.max_rel <= 1e-4, f"{name} FP32: {err}"
    else:
        emulated = _errors(bf16, fp32)
        assert err.max_rel <= 2 * emulated.max_rel, f"{name} BF16: {err}; emulation {emulated}"
        assert err.max_rel > 0  # the BF16 compile did round


@pytest.mark.parametrize("auto_cast", ["none", "matmult"])
def test_hf_model_via_torch_export(hf_model, auto_cast):
    name, module, example, fp32, bf16 = hf_model
    program = _exported(module, example)
    neff = kaena.compile(program, auto_cast=auto_cast)
    out = kaena.load(neff).run({i.name: x.numpy() for i, x in zip(neff.inputs, example)})
    assert [o.name for o in neff.outputs] == ["last_hidden_state", "pooler_output"]
    _check(name, auto_cast, [out[o.name] for o in neff.outputs], fp32, bf16)


@pytest.mark.parametrize("auto_cast", ["none", "matmult"])
def test_hf_model_via_kaena_trace(hf_model, auto_cast):
    name, module, example, fp32, bf16 = hf_model
    traced = kaena.trace(module, example, auto_cast=auto_cast)
    assert isinstance(traced, torch.nn.Module)
    out = traced(*example)
    assert type(out) is type(module(*example))  # the model's own output structure (a ModelOutput)
    _check(name, auto_cast, [t.numpy() for t in (out.last_hidden_state, out.pooler_output)], fp32, bf16)


@pytest.mark.parametrize("name", ["ResNetModel", "ViTModel"])
def test_core_aten_path(name, monkeypatch):
    """The export's IR converts whole for these models; forced through the core-ATen
    decomposition (what other models get) they match too (convolution, native batch/layer
    norm, max_pool2d_with_indices, addmm, bmm, _softmax, getitem)."""
    import kaena.frontends.torch.importer as importer

    torch.manual_seed(0)
    build, inputs = _hf_models()[name]
    module, example = build().eval(), inputs()
    monkeypatch.setattr(importer, "needs_decomposition", lambda *a: True)
    ir = str(import_torch(module, example_inputs=example))
    assert "native_layer_norm" in ir or "_native_batch_norm_legit_no_training" in ir
    neff = kaena.compile(module, example_inputs=example, auto_cast="none")
    out = kaena.load(neff).run({i.name: x.numpy() for i, x in zip(neff.inputs, example)})
    err = _errors([out[o.name] for o in neff.outputs], run_torch(module, example))
    assert err.max_rel <= 1e-4, err


def test_bert_with_an_attention_mask_traced_by_keyword():
    """Keyword example inputs, an int64 padding mask at run time (HF builds the 4-D mask by
    indexing it with constant indices: aten.index, __and__), padded rows."""
    torch.manual_seed(0)
    module = transformers.BertModel(transformers.BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64)).eval()
    ids = torch.randint(0, 100, (2, 8))
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3])
    traced = kaena.trace(module, {"input_ids": ids, "attention_mask": mask}, auto_cast="none")
    other = torch.tensor([[1] * 3 + [0] * 5, [1] * 8])  # another mask: it is an input, not a constant
    for m in (mask, other):
        out = traced(attention_mask=m, input_ids=ids)
        with torch.no_grad():
            ref = module(input_ids=ids, attention_mask=m)
        err = _errors([out.last_hidden_state.numpy(), out.pooler_output.numpy()],
                      [ref.last_hidden_state.numpy(), ref.pooler_output.numpy()])
        assert err.max_rel <= 1e-4, err


class SmallConvNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        return self.fc(y.mean(dim=(2, 3)))


def test_traced_module_saves_and_loads_without_recompiling(tmp_path, monkeypatch):
    torch.manual_seed(0)
    module = SmallConvNet().eval()
    x = torch.randn(1, 3, 8, 8)
    traced = kaena.trace(module, (x,), auto_cast="none")
    expected = traced(x)
    path = tmp_path / "traced.pt"
    torch.save(traced, path)

    def no_compile(*args, **kwargs):
        raise AssertionError("loading a traced module must not compile")

    monkeypatch.setattr("kaena.driver.compile", no_compile)
    monkeypatch.setattr("kaena.driver.lower", no_compile)
    monkeypatch.setattr("kaena.torch_trace.kaena_compile", no_compile)
    loaded = torch.load(path, weights_only=False)
    got = loaded(x)
    assert torch.equal(got, expected)
    np.testing.assert_allclose(got.numpy(), module(x).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert set(loaded.state_dict()) == {"neff"}  # the NEFF travels in the state dict too


def test_same_module_same_neff():
    torch.manual_seed(0)
    module = SmallConvNet().eval()
    x = torch.randn(1, 3, 8, 8)
    first = kaena.compile(module, example_inputs=(x,)).to_bytes()
    assert kaena.compile(torch.export.export(module, (x,))).to_bytes() == first


def test_traced_module_refuses_another_shape():
    module = SmallConvNet().eval()
    traced = kaena.trace(module, torch.randn(1, 3, 8, 8), auto_cast="none")
    with pytest.raises(kaena.KaenaError, match=r"input 'x' has shape \[1, 3, 16, 16\].*trace again"):
        traced(torch.randn(1, 3, 16, 16))


def test_pt2_file_through_kaena_compile(tmp_path):
    torch.manual_seed(0)
    module = SmallConvNet().eval()
    x = torch.randn(1, 3, 8, 8)
    path = tmp_path / "net.pt2"
    torch.export.save(torch.export.export(module, (x,)), str(path))
    neff_path = tmp_path / "net.neff"
    proc = subprocess.run(["kaena-compile", str(path), "-o", str(neff_path), "--auto-cast", "none"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    model = kaena.load(neff_path)
    assert model.neff.name == "SmallConvNet"
    out = model.run({"x": x.numpy()})
    np.testing.assert_allclose(out["output"], module(x).detach().numpy(), rtol=1e-5, atol=1e-5)
    bad = tmp_path / "bad.pt2"
    bad.write_bytes(b"PK\0\0 truncated")
    proc = subprocess.run(["kaena-compile", str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "bad.pt2: not a readable torch.export program" in proc.stderr


def test_framework_is_told_by_the_object():
    from kaena.frontends import detect_framework

    module = SmallConvNet().eval()
    assert detect_framework(module) == "torch"
    assert detect_framework(torch.export.export(module, (torch.randn(1, 3, 8, 8),))) == "torch"


def test_list_operators_cli():
    proc = subprocess.run(["kaena-compile", "--list-operators", "--framework", "torch"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("# torch operators supported by kaena-compile")
    assert any(line.startswith("aten.convolution ") and "not transposed" in line for line in lines)
    assert any(line.startswith("torch.cond") and "refused" in line for line in lines)
    assert len(lines) == 1 + len(list_operators())


class InPlace(torch.nn.Module):
    """In-place ops: ``relu_`` and ``add_`` of values nothing reads afterwards (imported as
    relu and add), and an ``add_`` to a value a view reads afterwards (the program is
    decomposed, which functionalizes it)."""

    def __init__(self, safe_only: bool):
        super().__init__()
        self.safe_only = safe_only
        self.conv = torch.nn.Conv2d(3, 4, 3, padding="same")
        self.relu = torch.nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.relu(self.conv(x))
        if self.safe_only:
            z = y * 2
            y.add_(1)
            return y + z
        v = y.view(-1)
        y.add_(1)
        return v * 2


@pytest.mark.parametrize("safe_only", [True, False])
def test_in_place_ops(safe_only):
    from kaena.frontends.torch.program import needs_decomposition
    from kaena.frontends.torch.importer import CONVERTERS

    torch.manual_seed(0)
    module = InPlace(safe_only).eval()
    x = torch.randn(1, 3, 6, 6)
    program = torch.export.export(module, (x,))
    assert needs_decomposition(program, CONVERTERS) is not safe_only
    neff = kaena.compile(program, auto_cast="none")
    out = kaena.load(neff).run({"x": x.numpy()})["output"]
    with torch.no_grad():
        np.testing.assert_allclose(out, module(x).numpy(), rtol=1e-5, atol=1e-5)


class Unsupported(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 4)

    def forward(self, x):
        y = torch.cumsum(self.proj(x), dim=-1)
        z = torch.sort(x, dim=-1).values
        return torch.relu(y) + z


def test_every_unsupported_op_is_named_with_its_node():
    with pytest.raises(UnsupportedOperatorError) as info:
        import_torch(Unsupported(), example_inputs=(torch.randn(2, 4),))
    nodes = info.value.nodes
    assert [(name, op) for name, op, _ in nodes] == [("cumsum", "aten.cumsum.default"), ("sort", "aten.sort.default")]
    message = str(info.value)
    assert message.startswith("Unsupported: 2 unsupported node(s): 'cumsum' (aten.cumsum.default): operator is not "
                              "supported at test_frontend_torch.py:")
    assert "\n" not in message and "--list-operators" in message


class Branchy(torch.nn.Module):
    def forward(self, x):
        return torch.cond(x.sum() > 0, lambda t: torch.relu(t), lambda t: torch.tanh(t), (x,))


def test_control_flow_is_refused_with_what_to_do():
    with pytest.raises(UnsupportedOperatorError) as info:
        import_torch(Branchy(), example_inputs=(torch.randn(2, 4),))
    (name, op, why), = [n for n in info.value.nodes if n[1] == "torch.cond"]
    assert name == "cond" and "control flow is not supported" in why and "one model per branch" in why


def test_submodule_path_names_the_node():
    torch.manual_seed(0)
    module = transformers.BertModel(transformers.BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=16)).eval()
    ids = torch.randint(0, 50, (1, 4))
    ir = str(import_torch(module, example_inputs=(ids,)))
    # token ids stay int64 for the user and are i32 in the NEFF, as the ONNX importer does
    assert '%input_ids: tensor<1x4xi32> {kaena.name = "input_ids", kaena.input_dtype = "int64"}' in ir
    assert 'kaena.source = ["encoder.layer.0.attention.self/scaled_dot_product_attention"]' in ir
    assert "fw.gather" in ir and "fw.softmax" in ir and "fw.layer_norm" in ir


def test_a_model_that_writes_a_buffer_is_refused():
    class Counter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("count", torch.zeros(1))

        def forward(self, x):
            self.count.add_(1)
            return x * 2

    with pytest.raises(ModelImportError, match=r"updates state in forward \(count"):
        import_torch(Counter(), example_inputs=(torch.randn(2),))


def test_missing_example_inputs_and_bad_files(tmp_path):
    with pytest.raises(ModelImportError, match="SmallConvNet: a torch.nn.Module needs example inputs"):
        kaena.compile(SmallConvNet())
    bad = tmp_path / "bad.pt2"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelImportError, match=r"bad\.pt2: not a readable torch\.export program"):
        import_torch(bad)


def test_import_kaena_does_not_import_torch():
    from kaena.torch_trace import trace

    assert kaena.trace is trace
    code = "import sys, kaena; assert 'torch' not in sys.modules and 'trace' in kaena.__all__"
    subprocess.run([__import__("sys").executable, "-c", code], check=True)


FILECHECK_CASES = {
    "conv_bn_linear": (SmallConvNet, (1, 3, 8, 8), """
// CHECK: func.func @main(%x: tensor<1x3x8x8xf32> {kaena.name = "x"}) -> (tensor<1x2xf32> {kaena.name = "output"})
// CHECK: %[[W:.*]] = fw.weight "conv.weight" : tensor<4x3x3x3xf32>
// CHECK: %[[B:.*]] = fw.weight "conv.bias" : tensor<4xf32>
// CHECK: %[[C:.*]] = fw.conv %x, %[[W]], %[[B]] {kaena.source = ["conv/conv2d"]{{.*}}pads = array<i64: 1, 1, 1, 1>
// CHECK: fw.batch_norm %[[C]], {{.*}}kaena.source = ["bn/batch_norm"]
// CHECK: %[[R:.*]] = fw.relu
// CHECK: %[[M:.*]] = fw.reduce "mean" %[[R]] {{.*}}axes = array<i64: 2, 3>, keepdims = false
// CHECK: %[[FW:.*]] = fw.weight "fc.weight" : tensor<2x4xf32>
// CHECK: %[[FB:.*]] = fw.weight "fc.bias" : tensor<2xf32>
// CHECK: %[[Y:.*]] = fw.gemm %[[M]], %[[FW]], %[[FB]] {kaena.source = ["fc/linear"]{{.*}}trans_b = true
// CHECK: func.return %[[Y]] : tensor<1x2xf32>
"""),
}


@pytest.mark.parametrize("case", sorted(FILECHECK_CASES))
def test_imported_ir_filecheck(case, tmp_path):
    build, shape, checks = FILECHECK_CASES[case]
    torch.manual_seed(0)
    ir = str(import_torch(build().eval(), example_inputs=(torch.randn(*shape),)))
    check_file = tmp_path / f"{case}.checks"
    check_file.write_text(checks)
    proc = subprocess.run(["filecheck", str(check_file)], input=ir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + "\n" + ir


def test_export_then_reimport_buffer():
    buf = io.BytesIO()
    torch.manual_seed(0)
    module = SmallConvNet().eval()
    torch.export.save(torch.export.export(module, (torch.randn(1, 3, 8, 8),)), buf)
    buf.seek(0)
    program = torch.export.load(buf)
    assert "fw.conv" in str(import_torch(program))
