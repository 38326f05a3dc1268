"""Source locations (``kaena.source``) from ONNX nodes through the fw and ktensor rewrites.

After the tensor stage every ktensor op that computes something names at least
one node of the ONNX graph it came from; weights are data and name none."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import sources_of
from kaena.driver import CompileOptions, _build_passes, import_model, pipeline_specs
from kaena.frontends.onnx import import_onnx
from kaena.registry import make_context
from kaena.testing import modelzoo


def _tensor_stage(model: onnx.ModelProto, **options):
    opts = CompileOptions(**options)
    module = import_model(model, opts)
    ctx = make_context()
    stages = pipeline_specs(opts)
    for p in _build_passes([*stages["framework"], *stages["tensor"]]):
        p.apply(ctx, module)
        module.verify()
    return module


def _node_names(model: onnx.ModelProto) -> set[str]:
    return {n.name or f"{n.op_type}_{i}" for i, n in enumerate(model.graph.node)}


@pytest.mark.parametrize("builder,auto_cast", [
    ("lenet", "matmult"), ("resnet50", "matmult"), ("resnet50", "all"), ("mobilenet_v2", "none"),
])
def test_every_ktensor_op_names_an_onnx_node(builder, auto_cast):
    kwargs = {} if builder == "lenet" else {"image": 32}
    model = getattr(modelzoo, builder)(**kwargs)
    names = _node_names(model)
    module = _tensor_stage(model, auto_cast=auto_cast)
    ops = [op for op in module.walk() if op.dialect_name() == "ktensor"]
    assert any(isinstance(op, kt.Conv2dOp | kt.MatmulOp) for op in ops)
    for op in ops:
        if isinstance(op, kt.WeightOp):
            continue
        srcs = sources_of(op)
        assert srcs and set(srcs) <= names, f"{op.name} {srcs}"
        assert len(srcs) == len(set(srcs))


def test_resnet_conv_keeps_conv_bn_and_relu_names():
    module = _tensor_stage(modelzoo.resnet50(image=32), auto_cast="none")
    stem = next(op for op in module.walk() if isinstance(op, kt.Conv2dOp))
    assert stem.activation.data == "relu"
    model = modelzoo.resnet50(image=32)
    conv, bn, relu = (n.name for n in model.graph.node[:3])
    assert sources_of(stem) == (conv, bn, relu)  # in graph order, each once


def test_importer_names_every_op_and_synthesizes_unnamed_nodes():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    w = helper.make_tensor("w", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["a"], name="add1"),
         helper.make_node("Relu", ["a"], ["r"]),  # unnamed: Relu_1
         helper.make_node("Max", ["r", "x", "a"], ["y"], name="max3")],  # two fw.max ops + identity
        "g", [x], [y], [w])
    module = import_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    got = [(op.name, sources_of(op)) for op in module.walk() if op.dialect_name() == "fw"]
    assert ("fw.weight", ()) in got
    assert ("fw.add", ("add1",)) in got and ("fw.relu", ("Relu_1",)) in got
    assert [s for n, s in got if n == "fw.max"] == [("max3",), ("max3",)]
    assert all(s for n, s in got if n != "fw.weight")
    assert not any(isinstance(op, fw.WeightOp) and sources_of(op) for op in module.walk())


def test_front_half_error_names_the_node_op_and_file(tmp_path):
    """A batch norm with run-time statistics cannot lower: the message names the
    file, the ONNX node and the fw op."""
    from kaena.errors import CompileError
    import kaena

    c = [4]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, 3])]
    inputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, c) for n in ("s", "b", "m", "v")]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 3, 3])
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="my_bn")
    path = tmp_path / "bn.onnx"
    onnx.save(helper.make_model(helper.make_graph([node], "bn", inputs, [y]),
                                opset_imports=[helper.make_opsetid("", 15)]), str(path))
    with pytest.raises(CompileError) as info:
        kaena.compile(str(path))
    assert str(info.value).startswith(f"{path}: node 'my_bn' (fw.batch_norm '%y'): BatchNormalization")


def test_kaena_run_names_resnet50s_costliest_conv_nodes(tmp_path):
    """The whole way: ONNX node names -> NEFF source table -> the simulator's per-node
    cycles -> kaena-run's top ten and stats.json, for a real ResNet-50 graph."""
    import json
    import subprocess

    import numpy as np

    import kaena
    from kaena.testing.reference import random_inputs

    model = modelzoo.resnet50(image=64)
    path = tmp_path / "resnet50.onnx"
    onnx.save(model, path)
    kaena.compile(str(path)).save(str(tmp_path / "r.neff"))
    np.savez(tmp_path / "in.npz", **random_inputs(model, seed=0))
    proc = subprocess.run(["kaena-run", str(tmp_path / "r.neff"), "--inputs", str(tmp_path / "in.npz"),
                           "--output", str(tmp_path / "out.npz"), "--stats", str(tmp_path / "stats.json")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    conv_names = {n.name for n in model.graph.node if n.op_type == "Conv"}
    graph_names = {n.name for n in model.graph.node}
    table = proc.stdout[proc.stdout.index("source node (top 10"):].splitlines()[1:11]
    assert len(table) == 10
    assert all(line.split()[0] in graph_names for line in table), table
    assert sum(line.split()[0] in conv_names for line in table) >= 8, table
    stats = json.loads((tmp_path / "stats.json").read_text())
    nodes = stats["nodes"]
    assert [n["cycles"] for n in nodes] == sorted((n["cycles"] for n in nodes), reverse=True)
    assert all(set(n["sources"]) <= graph_names for n in nodes)
    # every Conv of the graph is accounted for, and the attributed cycles add up
    assert conv_names <= {s for n in nodes for s in n["sources"]}
    busy = sum(stats["busy_cycles"].values()) if isinstance(stats["busy_cycles"], dict) else stats["busy_cycles"]
    assert sum(n["cycles"] for n in nodes) + stats["unattributed_cycles"] == busy
