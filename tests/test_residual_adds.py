"""Residual adds done on a conv's PSUM drain (``ktensor-plan-residual-adds``): the conv adds
its block's skip and the sum takes the skip's place (or, where the add writes a narrower
cast, the cast's own). End to end the numbers match onnxruntime wherever the skip and the
sum live: SBUF, DRAM, a chain of blocks sharing one tile, a split batch."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import kaena
from kaena import driver
from kaena.passes.conversions.tensor_to_inferentia import decisions as d
from kaena.registry import make_context
from kaena.testing import modelzoo
from kaena.testing.reference import error_metrics, random_inputs, run_onnxruntime


def _residual_chain(skip_output: bool) -> onnx.ModelProto:
    """Two bottleneck-like blocks (conv, relu, conv, add skip, relu) on 64 channels; with
    ``skip_output`` the first block's input is also a model output through a Flatten, a
    reader that takes DRAM, so the chain's skip and sums live there."""
    rng = np.random.default_rng(0)

    def weight(name, *shape):
        return numpy_helper.from_array((rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32),
                                       name)

    nodes = [helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], name="stem"),
             helper.make_node("Relu", ["c0"], ["a0"], name="stem_relu")]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])]
    if skip_output:
        nodes.append(helper.make_node("Flatten", ["a0"], ["f"], name="skip_out"))
        outputs.append(helper.make_tensor_value_info("f", TensorProto.FLOAT, [1, 64 * 12 * 12]))
    inits = [weight("w0", 64, 16, 1, 1), weight("b0", 64)]
    prev = "a0"
    for i in range(2):
        nodes += [
            helper.make_node("Conv", [prev, f"w{i}a", f"b{i}a"], [f"c{i}a"], pads=[1, 1, 1, 1], name=f"block{i}.conv1"),
            helper.make_node("Relu", [f"c{i}a"], [f"r{i}a"], name=f"block{i}.relu1"),
            helper.make_node("Conv", [f"r{i}a", f"w{i}b", f"b{i}b"], [f"c{i}b"], name=f"block{i}.conv2"),
            helper.make_node("Add", [prev, f"c{i}b"], [f"s{i}"], name=f"block{i}.add"),
            helper.make_node("Relu", [f"s{i}"], [f"a{i + 1}"], name=f"block{i}.relu"),
        ]
        inits += [weight(f"w{i}a", 64, 64, 3, 3), weight(f"b{i}a", 64), weight(f"w{i}b", 64, 64, 1, 1),
                  weight(f"b{i}b", 64)]
        prev = f"a{i + 1}"
    nodes += [helper.make_node("GlobalAveragePool", [prev], ["g"], name="gap"),
              helper.make_node("Flatten", ["g"], ["gf"], name="flatten"),
              helper.make_node("Gemm", ["gf", "wf", "bf"], ["y"], transB=1, name="fc")]
    inits += [weight("wf", 10, 64), weight("bf", 10)]
    graph = helper.make_graph(nodes, "residual_chain",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 12, 12])], outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _planned(model, auto_cast: str = "none") -> list:
    """The model's ktensor ops after the residency plan."""
    options = driver.CompileOptions(auto_cast=auto_cast)
    module = driver.import_model(model, options)
    specs = driver.pipeline_specs(options)
    passes = specs["framework"] + specs["tensor"] + specs["inferentia"]
    ctx = make_context()
    for p in driver._build_passes(passes[:passes.index("ktensor-plan-residency") + 1]):
        p.apply(ctx, module)
    return [op for op in module.walk() if op.name.startswith("ktensor.")]


def _check(model, auto_cast: str) -> None:
    inputs = random_inputs(model, seed=1)
    ref = run_onnxruntime(model, inputs)
    err = error_metrics(kaena.load(kaena.compile(model, auto_cast=auto_cast)).run(inputs), ref)
    if auto_cast == "none":
        assert err.max_rel <= 1e-5, err
    else:
        emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
        assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)


@pytest.mark.parametrize("skip_output", [False, True], ids=["sbuf", "dram"])
def test_each_block_adds_its_skip_on_the_drain(skip_output):
    ops = _planned(_residual_chain(skip_output))
    fused = [op.results[0].name_hint for op in ops if d.RESIDUAL_ADD_ATTR in op.attributes]
    assert fused == ["c0b", "c1b"]  # (each block's conv2)
    sums = [op for op in ops if op.name == "ktensor.elementwise"]
    # one tile for the skip and both sums (SBUF), or all of them in DRAM
    assert all((d.RESIDENT_PLAN_ATTR in op.attributes) != skip_output for op in sums)


@pytest.mark.parametrize("auto_cast", ["none", "matmult"])
@pytest.mark.parametrize("skip_output", [False, True], ids=["sbuf", "dram"])
def test_residual_adds_match_onnxruntime(skip_output, auto_cast):
    _check(_residual_chain(skip_output), auto_cast)


@pytest.mark.parametrize("auto_cast", ["none", "matmult"])
def test_resnet50_split_batch_with_residual_adds_matches_onnxruntime(auto_cast):
    """At batch 3 and 64 x 64 the front runs per sample: every bottleneck's last conv (or its
    downsample) adds the skip on its drain, in place or into the add's fused BF16 cast."""
    model = modelzoo.resnet50(batch=3, image=64)
    ops = _planned(model, auto_cast)
    assert sum(d.RESIDUAL_ADD_ATTR in op.attributes for op in ops) >= 16
    _check(model, auto_cast)


def test_a_third_drain_stage_is_priced_through_the_psum_rotation():
    """Two PSUM buffers overlap a matmul and one drain stage fully; with a residual add's
    second drain stage a buffer's trip (PE, vector, scalar) outlasts two stages' worth, so
    the rotation sets the pace and a third buffer pays (``CostModel.pipeline``)."""
    from kaena.target.costmodel import CostModel

    cm = CostModel()
    assert cm.pipeline([100, 80], 10, 2) == 180 + 9 * 100
    assert cm.pipeline([100, 80, 60], 10, 2) == 240 + 9 * 120
    assert cm.pipeline([100, 80, 60], 10, 3) == 240 + 9 * 100
    assert cm.buffer_count([100, 80], 10, 3) == 2
    assert cm.buffer_count([100, 80, 60], 10, 3) == 3
