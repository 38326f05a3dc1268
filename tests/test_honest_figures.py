"""The figures Kaena prints count what the model needs, not what the compiler did:
``macs`` against an independent count from the ONNX graph (depthwise convs included),
``pe_macs`` the PE array's padded work, and the roofline's bytes the model's inputs,
outputs and weights once (never the compiler's spills)."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest

import kaena
from kaena.reports.profile import must_move, run_stats
from kaena.testing import modelzoo
from kaena.testing.reference import random_inputs

MODELS = {
    "mlp": lambda: modelzoo.mlp(batch=2),
    "lenet": lambda: modelzoo.lenet(batch=1),
    "mobilenet_v2_small": lambda: modelzoo.mobilenet_v2(image=32, num_classes=10),
    "ssd_small": lambda: modelzoo.ssd_detector(image=64),
    "bert_tiny": lambda: modelzoo.bert(layers=1, hidden=64, heads=2, seq=16, vocab=100),
}


def onnx_macs(model: onnx.ModelProto) -> int:
    """MACs of Conv, Gemm and MatMul nodes, from ONNX's own shape inference."""
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in (*g.input, *g.value_info, *g.output)}
    shapes.update({t.name: list(t.dims) for t in g.initializer})
    total = 0
    for node in g.node:
        if node.op_type == "Conv":
            total += math.prod(shapes[node.output[0]]) * math.prod(shapes[node.input[1]][1:])
        elif node.op_type == "Gemm":
            a = shapes[node.input[0]]
            trans_a = any(at.name == "transA" and at.i for at in node.attribute)
            total += math.prod(shapes[node.output[0]]) * (a[0] if trans_a else a[1])
        elif node.op_type == "MatMul":
            total += math.prod(shapes[node.output[0]]) * shapes[node.input[0]][-1]
    return total


_COMPILED: dict[str, tuple] = {}


def compiled(name: str):
    """(model, NEFF, simulation) of ``MODELS[name]`` in BF16, once per test session."""
    if name not in _COMPILED:
        model = MODELS[name]()
        neff = kaena.compile(model, auto_cast="matmult")
        _COMPILED[name] = model, neff, kaena.load(neff).simulate(random_inputs(model, seed=0))
    return _COMPILED[name]


@pytest.fixture(params=sorted(MODELS))
def case(request):
    return compiled(request.param)


def test_macs_are_the_graphs_and_pe_macs_the_arrays(case):
    model, neff, result = case
    stats = run_stats(neff, result)
    expected = onnx_macs(model)
    assert expected > 0
    assert neff.metadata["model"]["macs"] == stats["macs"] == expected
    assert stats["pe_macs"] == result.macs >= expected
    assert neff.metadata["model"]["fp32_macs"] == 0  # matmult: every contraction in BF16


def test_depthwise_padding_is_reported_apart():
    model, neff, result = compiled("mobilenet_v2_small")
    assert any(n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
               for n in model.graph.node)
    stats = run_stats(neff, result)
    # diagonal stationaries do many times a depthwise conv's MACs: they must not count as the model's
    assert stats["pe_macs"] > 1.5 * stats["macs"]


def test_roofline_bytes_are_inputs_outputs_and_weights_once(case):
    model, neff, result = case
    expected = 0
    for sg in neff.subgraphs:
        gathered = {int(v) for v in sg.stream(kaena.isa.Engine.DMA)["in0"]["var"][
            sg.stream(kaena.isa.Engine.DMA)["opcode"] == kaena.isa.Opcode.DMA_GATHER]}
        for i, v in enumerate(sg.variables):
            if v.kind in ("input", "output") or (v.kind == "file" and i not in gathered):
                expected += v.nbytes
    nbytes, _ = must_move(neff)
    if any(v.kind == "file" and i in gathered for sg in neff.subgraphs for i, v in enumerate(sg.variables)):
        assert nbytes < expected + sum(v.nbytes for sg in neff.subgraphs for v in sg.variables if v.kind == "file")
    else:
        assert nbytes <= expected  # DRAM-to-DRAM copies of model tensors count once
        assert nbytes >= expected - sum(v.nbytes for sg in neff.subgraphs for v in sg.variables
                                        if v.kind == "output")


def test_spills_do_not_count_towards_the_floor():
    neff = kaena.compile(modelzoo.ssd_detector(image=64), auto_cast="none")
    spills = sum(v.nbytes for sg in neff.subgraphs for v in sg.variables if v.kind == "tmp-buf")
    assert spills > 0, "the test needs a model that spills"
    model_bytes = sum(v.nbytes for sg in neff.subgraphs for v in sg.variables if v.kind in ("input", "output", "file"))
    assert must_move(neff)[0] <= model_bytes


def test_embedding_rows_not_the_table():
    model = modelzoo.bert(layers=1, hidden=64, heads=2, seq=16, vocab=5000)
    neff = kaena.compile(model, auto_cast="matmult")
    (sg,) = neff.subgraphs
    dma = sg.stream(kaena.isa.Engine.DMA)
    tables = {int(v) for v in dma["in0"]["var"][dma["opcode"] == kaena.isa.Opcode.DMA_GATHER]}
    assert tables
    table_bytes = sum(sg.variables[i].nbytes for i in tables)
    everything = sum(v.nbytes for v in sg.variables if v.kind in ("input", "output", "file"))
    nbytes, _ = must_move(neff)
    assert nbytes < everything - table_bytes // 2
    assert np.isfinite(nbytes)
