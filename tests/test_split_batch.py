"""Batching end to end: ``ktensor-split-batch`` runs a batched CNN's activation-heavy
front one sample at a time, its middle on groups of samples and its weight-heavy rest on
the whole batch; the numbers match onnxruntime and a run serves more images per
simulated cycle as the batch grows."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import kaena
from kaena import driver
from kaena.dialects import ktensor as kt
from kaena.simulator import simulate
from kaena.testing import modelzoo
from kaena.passes.transforms.ktensor.ktensor_split_batch import PLAN_ATTR
from kaena.testing.reference import error_metrics, random_inputs, run_onnxruntime


def _tensor_level(model) -> list:
    """The model's ktensor ops after the tensor stage (where the split happens)."""
    from kaena.registry import make_context

    options = driver.CompileOptions()
    module = driver.import_model(model, options)
    specs = driver.pipeline_specs(options)
    ctx = make_context()
    for p in driver._build_passes(specs["framework"] + specs["tensor"]):
        p.apply(ctx, module)
    return [op for op in module.walk() if op.name.startswith("ktensor.")]


def _plan(ops) -> list[int]:
    """The group sizes ``ktensor-split-batch`` recorded on the function."""
    return list(ops[0].parent_op().attributes[PLAN_ATTR].get_values())


def _conv_sizes(ops) -> dict[str, set[int]]:
    """Per conv of the model (its name before the split's ``.s<samples>``), the group sizes it runs on."""
    sizes: dict[str, set[int]] = {}
    for op in ops:
        if isinstance(op, kt.Conv2dOp):
            sizes.setdefault(op.result.name_hint.split(".s")[0], set()).add(op.result.type.get_shape()[0])
    return sizes


def test_resnet50_at_batch_5_runs_from_layer3_on_the_whole_batch():
    """At 224 x 224 and batch 5 the front runs per sample and layer3 on (its residual adds
    done on the conv drains, so a block stores two values of its output's size, not three)
    on the whole batch: layer3's and layer4's weights stream once per run."""
    ops = _tensor_level(modelzoo.resnet50(batch=5))
    assert _plan(ops) == [1, 5]
    sizes = _conv_sizes(ops)
    assert sizes["conv1.relu"] == {1} and sizes["layer2.3.conv3.bn"] == {1}
    assert sizes["layer3.0.conv1.relu"] == {5} and sizes["layer4.2.conv3.bn"] == {5}


def test_resnet50_at_batch_7_nests_samples_groups_and_the_batch():
    """At batch 7 layer3 (whose live activations fit four samples) runs in a group of four and
    one of three, and layer4 (fitting all seven beside its weight tiles) on the whole batch:
    the plan adding the fewest DMA cycles per sample."""
    ops = _tensor_level(modelzoo.resnet50(batch=7))
    assert _plan(ops) == [1, 4, 7]
    sizes = _conv_sizes(ops)
    assert sizes["conv1.relu"] == {1} and sizes["layer2.3.conv3.bn"] == {1}
    assert sizes["layer3.0.conv1.relu"] == {3, 4} and sizes["layer3.5.conv3.bn"] == {3, 4}
    assert sizes["layer4.0.conv1.relu"] == {7} and sizes["layer4.2.conv3.bn"] == {7}
    slices = [op for op in ops if isinstance(op, kt.SliceOp)]
    assert len(slices) == 7


def test_a_batch_that_fits_is_not_split():
    ops = _tensor_level(modelzoo.lenet(batch=4))
    assert not any(isinstance(op, kt.SliceOp) for op in ops)


def _wide_front(batch: int) -> onnx.ModelProto:
    """A CNN whose 96x96 front holds far more than SBUF at batch 4 and whose tail is small."""

    rng = np.random.default_rng(0)

    def weight(name, *shape):
        return numpy_helper.from_array((rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32),
                                       name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[4, 4], strides=[4, 4], name="pool1"),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], transB=1, name="fc"),
    ]
    inits = [weight("w1", 16, 3, 3, 3), weight("b1", 16), weight("w2", 32, 16, 3, 3), weight("b2", 32),
             weight("w3", 10, 32), weight("b3", 10)]
    graph = helper.make_graph(nodes, "wide_front",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 96, 96])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_split_batch_matches_onnxruntime():
    model = _wide_front(4)
    assert sum(isinstance(op, kt.SliceOp) for op in _tensor_level(model)) == 4
    inputs = random_inputs(model, seed=3)
    ref = run_onnxruntime(model, inputs)
    err = error_metrics(kaena.load(kaena.compile(model, auto_cast="none")).run(inputs), ref)
    assert err.max_rel <= 1e-5, err
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    err = error_metrics(kaena.load(kaena.compile(model)).run(inputs), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)


def test_cycles_per_image_fall_as_the_batch_grows():
    """Each layer's weights load once per run, so a larger batch costs fewer cycles per image
    (ResNet-50 at 224 x 224: ``docs/benchmarks.md``)."""
    per_image = []
    for batch in (1, 2, 4, 8):
        neff = kaena.compile(modelzoo.resnet50(batch=batch, image=32))
        per_image.append(simulate(neff, {}, timing_only=True, check_hazards=False).cycles / batch)
    assert all(b <= a for a, b in zip(per_image, per_image[1:])), per_image
    assert per_image[-1] < per_image[0] / 3, per_image


def test_resnet50_at_batch_3_runs_layer2_on_the_whole_batch_and_matches_onnxruntime():
    """At 224 x 224 and batch 3 the front runs per sample and, from layer2 (joined after
    layer1's last cast, where three samples' activations fit beside the weight tiles once the
    residual adds and fused casts store no extra values), the whole batch: the weights of
    layer2 on stream once per run, and the numbers hold."""
    model = modelzoo.resnet50(batch=3)
    ops = _tensor_level(model)
    assert _plan(ops) == [1, 3]
    sizes = _conv_sizes(ops)
    assert sizes["layer1.2.conv3.bn"] == {1} and sizes["layer2.0.conv1.relu"] == {3}
    inputs = random_inputs(model, seed=5)
    ref = run_onnxruntime(model, inputs)
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    err = error_metrics(kaena.load(kaena.compile(model)).run(inputs), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)


def test_nested_groups_match_onnxruntime_and_cycles_per_image_never_rise():
    """ResNet-50 at 160 x 160, batch 1, 2, 4: at batch 4 the stem runs per sample, layer1 and
    layer2 in pairs and the rest on the whole batch (nested groups); a larger
    batch never costs more simulated cycles per image, and the nested batch's numbers
    match onnxruntime in FP32 and within twice the BF16 emulation's error in BF16. At 224 x 224
    batch 4 costs no more per image than batch 3 (it did, 2,407,712 against 2,259,424 cycles,
    when a conv of several weight blocks reloaded them per sample and layer3's groups had to
    stretch through layer4's first block)."""
    per_image, neffs = [], {}
    for batch in (1, 2, 4):  # (each compile is also round-tripped through the listing: tests/conftest.py)
        neffs[batch] = kaena.compile(modelzoo.resnet50(batch=batch, image=160))
        per_image.append(simulate(neffs[batch], {}, timing_only=True, check_hazards=False).cycles / batch)
    assert all(b <= a for a, b in zip(per_image, per_image[1:])), per_image
    at_224 = [simulate(kaena.compile(modelzoo.resnet50(batch=batch)), {}, timing_only=True,
                       check_hazards=False).cycles / batch for batch in (3, 4)]
    assert at_224[1] <= at_224[0], at_224
    model = modelzoo.resnet50(batch=4, image=160)
    ops = _tensor_level(model)
    assert _plan(ops) == [1, 2, 4]
    sizes = _conv_sizes(ops)
    assert sizes["conv1.relu"] == {1} and sizes["layer1.2.conv2.relu"] == {2} and sizes["layer3.1.conv2.relu"] == {4}
    inputs = random_inputs(model, seed=7)
    ref = run_onnxruntime(model, inputs)
    err = error_metrics(kaena.load(kaena.compile(model, auto_cast="none")).run(inputs), ref)
    assert err.max_rel <= 1e-4, err
    emulated = error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), ref)
    err = error_metrics(kaena.load(neffs[4]).run(inputs), ref)
    assert err.max_rel <= 2 * emulated.max_rel, (err, emulated)
