"""``--batch-size`` / ``kaena.compile(..., batch_size=B)``: a model exported at batch 1
re-batched before import; checked against onnxruntime run one sample at a time."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import kaena
from kaena.errors import KaenaError
from kaena.testing import modelzoo


def _per_sample(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """onnxruntime on each sample of the batch, the outputs stacked: what batch B must equal."""
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    batch = next(iter(feeds.values())).shape[0]
    runs = [sess.run(None, {k: v[i:i + 1] for k, v in feeds.items()}) for i in range(batch)]
    return [np.concatenate([r[j] for r in runs]) for j in range(len(runs[0]))]


def _check(model: onnx.ModelProto, feeds: dict[str, np.ndarray], batch: int, tol: float = 1e-5) -> kaena.Neff:
    neff = kaena.compile(model, batch_size=batch, auto_cast="none")
    assert neff.metadata["batch"] == batch
    got = kaena.load(neff).run(feeds)
    for ref, out in zip(_per_sample(model, feeds), got.values()):
        assert out.shape == ref.shape
        np.testing.assert_allclose(out, ref, atol=tol * max(1.0, float(np.abs(ref).max())), rtol=0)
    return neff


@pytest.mark.parametrize("batch", [2, 5])
def test_lenet_exported_at_batch_one_runs_at_batch_b(batch):
    # lenet's classifier flattens with a Reshape to [1, -1]: the batch is rewritten there
    model = modelzoo.lenet(batch=1)
    x = np.random.default_rng(batch).standard_normal((batch, 1, 28, 28)).astype(np.float32)
    _check(model, {"input": x}, batch)


def test_bert_with_a_mask_rebatches():
    model = modelzoo.bert(layers=1, hidden=64, heads=2, seq=16, vocab=50)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 50, (3, 16)).astype(np.int64)
    mask = np.ones((3, 16), np.int64)
    mask[1, 10:] = 0
    _check(model, {"input_ids": ids, "attention_mask": mask}, 3, tol=1e-4)


def test_the_model_object_is_not_changed():
    model = modelzoo.mlp(batch=1)
    before = model.SerializeToString()
    kaena.compile(model, batch_size=4)
    assert model.SerializeToString() == before


def test_a_dynamic_batch_needs_no_input_shapes():
    model = modelzoo.mlp(batch=1)
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    model.graph.output[0].type.tensor_type.shape.dim[0].dim_param = "N"
    x = np.random.default_rng(0).standard_normal((6, 784)).astype(np.float32)
    _check(model, {"input": x}, 6)


def _concat_with_batch_one_constant() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    c = numpy_helper.from_array(np.ones((1, 4), np.float32), "c")
    node = helper.make_node("Concat", ["x", "c"], ["y"], axis=1, name="join_token")
    return helper.make_model(helper.make_graph([node], "g", [x], [y], [c]),
                             opset_imports=[helper.make_opsetid("", 17)])


def test_a_graph_that_pins_the_batch_is_refused_naming_the_node():
    with pytest.raises(KaenaError) as e:
        kaena.compile(_concat_with_batch_one_constant(), batch_size=2)
    msg = str(e.value)
    assert "--batch-size 2" in msg and "node 'join_token' (Concat)" in msg and "dynamic batch" in msg
    assert "\n" not in msg


def test_a_graph_that_mixes_samples_is_refused_naming_the_output():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])
    node = helper.make_node("ReduceSum", ["x"], ["y"], keepdims=1, name="sum_all")
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]), opset_imports=[helper.make_opsetid("", 11)])
    with pytest.raises(KaenaError, match="output 'y' leads with 1, not the batch"):
        kaena.compile(model, batch_size=3)


def test_inputs_with_different_leading_dims_are_refused():
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 4])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    model = helper.make_model(helper.make_graph([node], "g", [a, b], [y]), opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(KaenaError, match=r"leading dimensions differ \('a' 1, 'b' 4\)"):
        kaena.compile(model, batch_size=2)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_a_bad_batch_size_is_refused(bad):
    with pytest.raises(KaenaError, match="must be a positive number"):
        kaena.compile(modelzoo.mlp(batch=1), batch_size=bad)


def test_a_framework_without_rebatching_says_what_to_do(tmp_path):
    from kaena.frontends import import_model

    symbol = tmp_path / "net-symbol.json"
    symbol.write_text("{}")
    with pytest.raises(KaenaError, match="mxnet frontend cannot re-batch.*--input-shapes"):
        import_model(str(symbol), batch_size=2)


def test_cli_batch_size(tmp_path):
    path = tmp_path / "lenet.onnx"
    onnx.save(modelzoo.lenet(batch=1), str(path))
    out = tmp_path / "lenet.neff"
    r = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_compile_main", str(path), "--batch-size", "4",
                        "-o", str(out), "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert kaena.Neff.load(str(out)).inputs[0].shape == (4, 1, 28, 28)
    bad = tmp_path / "join.onnx"
    onnx.save(_concat_with_batch_one_constant(), str(bad))
    r = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_compile_main", str(bad), "--batch-size", "4"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "join_token" in r.stderr
    assert not (tmp_path / "join.neff").exists()


def test_a_torch_module_exports_at_the_batch():
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(8, 3)

        def forward(self, x):
            return torch.relu(self.fc(x.flatten(1)))

    torch.manual_seed(0)
    net = Net()
    neff = kaena.compile(net, example_inputs=(torch.zeros(1, 2, 4),), batch_size=5, auto_cast="none")
    assert neff.inputs[0].shape == (5, 2, 4) and neff.metadata["batch"] == 5
    x = torch.randn(5, 2, 4)
    got = next(iter(kaena.load(neff).run({neff.inputs[0].name: x.numpy()}).values()))
    np.testing.assert_allclose(got, net(x).detach().numpy(), atol=1e-5)
    exported = torch.export.export(net, (torch.zeros(1, 2, 4),))
    with pytest.raises(KaenaError, match="re-export it with example inputs at batch 5"):
        kaena.compile(exported, batch_size=5)


@pytest.mark.parametrize("as_constant_node", [False, True])
def test_a_reshape_that_bakes_batch_one_is_rewritten(as_constant_node):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 4])
    target = numpy_helper.from_array(np.array([1, 6, 4], np.int64), "target")
    nodes = [helper.make_node("Reshape", ["x", "target"], ["r"], name="fold"),
             helper.make_node("Relu", ["r"], ["y"])]
    inits = [target]
    if as_constant_node:
        nodes.insert(0, helper.make_node("Constant", [], ["target"], value=target))
        inits = []
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    feeds = {"x": np.random.default_rng(2).standard_normal((3, 2, 3, 4)).astype(np.float32)}
    _check(model, feeds, 3)
