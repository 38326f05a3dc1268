"""Small deterministic ONNX models for tests, examples and benchmarks.

Weights come from a seeded generator with He-style scaling so activations
stay O(1) through the network: numerical comparisons against onnxruntime are
then meaningful at BF16 precision. ``bf16_emulation`` gives the accuracy bar
for auto-cast: the same graph with every contraction operand rounded to BF16.
"""

from __future__ import annotations

from collections.abc import Sequence

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
INPUT = "input"
OUTPUT = "output"


class _GraphBuilder:
    """Accumulates nodes and initializers with readable, unique names."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def weight(self, name: str, shape: Sequence[int], fan_in: int) -> str:
        w = self.rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        self.initializers.append(numpy_helper.from_array(w.astype(np.float32), name))
        return name

    def bias(self, name: str, size: int) -> str:
        b = self.rng.standard_normal(size) * 0.05
        self.initializers.append(numpy_helper.from_array(b.astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str | None = None, **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=name or output, **attrs))
        return output

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def conv_bn(self, x: str, name: str, c_in: int, c_out: int, k: int, stride: int = 1,
                group: int = 1, act: str | None = "Relu", gamma: float = 1.0) -> str:
        """Conv (He-normal, no bias) + BatchNormalization with realistic running
        statistics (so BN folding has real work) + optional Relu/Relu6."""
        w = self.weight(f"{name}.weight", (c_out, c_in // group, k, k), (c_in // group) * k * k)
        x = self.node("Conv", [x, w], f"{name}.conv", kernel_shape=[k, k], strides=[stride, stride],
                      pads=[k // 2] * 4, group=group)
        r = self.rng
        bn = [self.const(f"{name}.bn.{p}", v.astype(np.float32)) for p, v in (
            ("scale", gamma * r.uniform(0.8, 1.2, c_out)),
            ("bias", r.normal(0.0, 0.1, c_out)),
            ("mean", r.normal(0.0, 0.1, c_out)),
            ("var", r.uniform(0.8, 1.25, c_out)),
        )]
        x = self.node("BatchNormalization", [x, *bn], f"{name}.bn", epsilon=1e-5)
        if act == "Relu":
            x = self.node("Relu", [x], f"{name}.relu")
        elif act == "Relu6":
            lo = self.const("relu6.min", np.array(0.0, np.float32)) if not any(
                t.name == "relu6.min" for t in self.initializers) else "relu6.min"
            hi = self.const("relu6.max", np.array(6.0, np.float32)) if not any(
                t.name == "relu6.max" for t in self.initializers) else "relu6.max"
            x = self.node("Clip", [x, lo, hi], f"{name}.relu6")
        return x

    def model(self, name: str, input_shape: Sequence[int], output: str | Sequence[str],
              output_shape: Sequence[int] | Sequence[Sequence[int]]) -> onnx.ModelProto:
        outputs = [output] if isinstance(output, str) else list(output)
        shapes = [output_shape] if isinstance(output, str) else list(output_shape)
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, list(input_shape))],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, list(sh))
             for o, sh in zip(outputs, shapes)],
            initializer=self.initializers,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="kaena.testing.modelzoo"
        )
        model.ir_version = 8  # widely readable by onnxruntime
        onnx.checker.check_model(model)
        return model


def mlp(batch: int = 4, sizes: Sequence[int] = (784, 256, 128, 10), seed: int = 0) -> onnx.ModelProto:
    """Gemm (+Relu) per layer, PyTorch-style weights [out, in] with transB=1, Softmax last."""
    g = _GraphBuilder(seed)
    x = INPUT
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = g.weight(f"fc{i + 1}.weight", (n_out, n_in), n_in)
        b = g.bias(f"fc{i + 1}.bias", n_out)
        x = g.node("Gemm", [x, w, b], f"fc{i + 1}", transB=1)
        if i < len(sizes) - 2:
            x = g.node("Relu", [x], f"relu{i + 1}")
    out = g.node("Softmax", [x], OUTPUT, name="softmax", axis=-1)
    return g.model("mlp", (batch, sizes[0]), out, (batch, sizes[-1]))


def lenet(batch: int = 1, seed: int = 0) -> onnx.ModelProto:
    """LeNet-5 on 1x28x28 inputs: two Conv/Relu/MaxPool stages and three Gemms."""
    g = _GraphBuilder(seed)
    x = g.node("Conv", [INPUT, g.weight("conv1.weight", (6, 1, 5, 5), 25), g.bias("conv1.bias", 6)],
               "conv1", kernel_shape=[5, 5], pads=[2, 2, 2, 2])
    x = g.node("Relu", [x], "relu1")
    x = g.node("MaxPool", [x], "pool1", kernel_shape=[2, 2], strides=[2, 2])
    x = g.node("Conv", [x, g.weight("conv2.weight", (16, 6, 5, 5), 150), g.bias("conv2.bias", 16)],
               "conv2", kernel_shape=[5, 5])
    x = g.node("Relu", [x], "relu2")
    x = g.node("MaxPool", [x], "pool2", kernel_shape=[2, 2], strides=[2, 2])
    x = g.node("Flatten", [x], "flatten", axis=1)
    for i, (n_in, n_out) in enumerate(((400, 120), (120, 84), (84, 10))):
        w = g.weight(f"fc{i + 1}.weight", (n_out, n_in), n_in)
        x = g.node("Gemm", [x, w, g.bias(f"fc{i + 1}.bias", n_out)], f"fc{i + 1}", transB=1)
        if i < 2:
            x = g.node("Relu", [x], f"relu{i + 3}")
    out = g.node("Softmax", [x], OUTPUT, name="softmax", axis=-1)
    return g.model("lenet", (batch, 1, 28, 28), out, (batch, 10))


def resnet50(batch: int = 1, image: int = 224, num_classes: int = 1000,
             seed: int = 0) -> onnx.ModelProto:
    """ResNet-50 v1.5 (torchvision layout): Conv+BN+Relu stem, MaxPool, 3-4-6-3
    bottlenecks (stride on the 3x3), GlobalAveragePool, Flatten, Gemm. The last BN
    of each residual branch has a small gamma so activations stay O(1) over 16 adds."""
    g = _GraphBuilder(seed)
    x = g.conv_bn(INPUT, "conv1", 3, 64, 7, stride=2)
    x = g.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c_in = 64
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3))):
        for b in range(blocks):
            n = f"layer{stage + 1}.{b}"
            stride = 2 if b == 0 and stage > 0 else 1
            y = g.conv_bn(x, f"{n}.conv1", c_in, width, 1)
            y = g.conv_bn(y, f"{n}.conv2", width, width, 3, stride=stride)
            y = g.conv_bn(y, f"{n}.conv3", width, width * 4, 1, act=None, gamma=0.3)
            if b == 0:
                x = g.conv_bn(x, f"{n}.downsample", c_in, width * 4, 1, stride=stride, act=None)
            x = g.node("Add", [x, y], f"{n}.add")
            x = g.node("Relu", [x], f"{n}.relu")
            c_in = width * 4
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    w = g.weight("fc.weight", (num_classes, 2048), 2048)
    out = g.node("Gemm", [x, w, g.bias("fc.bias", num_classes)], OUTPUT, name="fc", transB=1)
    return g.model("resnet50", (batch, 3, image, image), out, (batch, num_classes))


MOBILENET_V2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                         (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def mobilenet_v2(batch: int = 1, image: int = 224, num_classes: int = 1000,
                 seed: int = 0) -> onnx.ModelProto:
    """MobileNetV2 (width 1.0): inverted residuals with depthwise 3x3 convs and
    Relu6 (Clip 0..6), linear bottlenecks, 1280-wide head, GlobalAveragePool, Gemm."""
    g = _GraphBuilder(seed)
    x = g.conv_bn(INPUT, "features.0", 3, 32, 3, stride=2, act="Relu6")
    c_in, idx = 32, 1
    for t, c, n, s in MOBILENET_V2_SETTINGS:
        for i in range(n):
            name = f"features.{idx}"
            stride = s if i == 0 else 1
            hidden = c_in * t
            y = x
            if t != 1:
                y = g.conv_bn(y, f"{name}.expand", c_in, hidden, 1, act="Relu6")
            y = g.conv_bn(y, f"{name}.dw", hidden, hidden, 3, stride=stride, group=hidden, act="Relu6")
            y = g.conv_bn(y, f"{name}.project", hidden, c, 1, act=None,
                          gamma=0.5 if stride == 1 and c_in == c else 1.0)
            x = g.node("Add", [x, y], f"{name}.add") if stride == 1 and c_in == c else y
            c_in, idx = c, idx + 1
    x = g.conv_bn(x, f"features.{idx}", c_in, 1280, 1, act="Relu6")
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    w = g.weight("classifier.weight", (num_classes, 1280), 1280)
    out = g.node("Gemm", [x, w, g.bias("classifier.bias", num_classes)], OUTPUT,
                 name="classifier", transB=1)
    return g.model("mobilenet_v2", (batch, 3, image, image), out, (batch, num_classes))


def ssd_detector(batch: int = 1, image: int = 256, num_classes: int = 21, anchors: int = 4,
                 seed: int = 0) -> onnx.ModelProto:
    """An SSD-style multi-scale detector: a Conv+BN+Relu backbone with MaxPool
    downsampling, an FPN-style top-down path (nearest Resize x2 + Concat), and per
    scale 3x3 class and box heads whose NHWC outputs are reshaped and concatenated
    across scales. Outputs: ``scores`` [N, boxes, classes] (Softmax) and ``boxes`` [N, boxes, 4]."""
    g = _GraphBuilder(seed)
    x = g.conv_bn(INPUT, "stem", 3, 32, 3, stride=2)
    x = g.node("MaxPool", [x], "stem.pool", kernel_shape=[2, 2], strides=[2, 2])
    feats, c_in, size = [], 32, image // 4
    for i, c in enumerate((64, 128, 256, 256)):
        x = g.conv_bn(x, f"block{i}.a", c_in, c, 3, stride=2 if i else 1)
        x = g.conv_bn(x, f"block{i}.b", c, c, 3)
        size = size // 2 if i else size
        feats.append((x, c, size))
        c_in = c
    # top-down: upsample the coarsest map and merge it into the next finer one
    (coarse, cc, _), (fine, cf, sf) = feats[-1], feats[-2]
    up = g.node("Resize", [coarse, "", g.const("up.scales", np.array([1, 1, 2, 2], np.float32))],
                "topdown.up", mode="nearest")
    merged = g.node("Concat", [fine, up], "topdown.concat", axis=1)
    feats[-2] = (g.conv_bn(merged, "topdown.smooth", cf + cc, cf, 1), cf, sf)
    scores, boxes, total = [], [], 0
    for i, (f, c, sz) in enumerate(feats):
        for kind, per in (("cls", num_classes), ("box", 4)):
            w = g.weight(f"head{i}.{kind}.weight", (anchors * per, c, 3, 3), c * 9)
            h = g.node("Conv", [f, w, g.bias(f"head{i}.{kind}.bias", anchors * per)],
                       f"head{i}.{kind}", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
            h = g.node("Transpose", [h], f"head{i}.{kind}.nhwc", perm=[0, 2, 3, 1])
            shape = g.const(f"head{i}.{kind}.shape", np.array([batch, -1, per], np.int64))
            h = g.node("Reshape", [h, shape], f"head{i}.{kind}.flat")
            (scores if kind == "cls" else boxes).append(h)
        total += sz * sz * anchors
    s = g.node("Concat", scores, "scores.concat", axis=1)
    s = g.node("Softmax", [s], "scores", axis=-1)
    b = g.node("Concat", boxes, "boxes", axis=1)
    return g.model("ssd_detector", (batch, 3, image, image), [s, b],
                   [(batch, total, num_classes), (batch, total, 4)])


_CONTRACTIONS = ("Conv", "Gemm", "MatMul")


def round_to_bf16(array: np.ndarray) -> np.ndarray:
    """Round-to-nearest-even to BF16, returned as float32."""
    return np.asarray(array, np.float32).astype(ml_dtypes.bfloat16).astype(np.float32)


def bf16_emulation(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same graph with the two multiplied operands of every Conv/Gemm/MatMul
    rounded to BF16 (weights rounded offline, activations through a
    Cast(bfloat16)->Cast(float) pair, which onnxruntime rounds to nearest even).
    Biases and everything else stay FP32, as on the hardware (PSUM accumulates FP32)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    inits = {t.name: t for t in graph.initializer}
    rounded: dict[str, str] = {}  # original tensor name -> rounded tensor name
    new_nodes: list[onnx.NodeProto] = []
    new_inits: list[onnx.TensorProto] = []
    for node in graph.node:
        if node.op_type in _CONTRACTIONS:
            for i in range(min(2, len(node.input))):
                src = node.input[i]
                if not src:
                    continue
                if src not in rounded:
                    dst = f"{src}.bf16"
                    if src in inits:
                        arr = numpy_helper.to_array(inits[src])
                        new_inits.append(numpy_helper.from_array(round_to_bf16(arr), dst))
                    else:
                        mid = f"{src}.bf16_raw"
                        new_nodes.append(helper.make_node(
                            "Cast", [src], [mid], name=f"{src}.to_bf16", to=TensorProto.BFLOAT16))
                        new_nodes.append(helper.make_node(
                            "Cast", [mid], [dst], name=f"{src}.from_bf16", to=TensorProto.FLOAT))
                    rounded[src] = dst
                node.input[i] = rounded[src]
        new_nodes.append(node)
    used = {i for n in new_nodes for i in n.input} | {o.name for o in graph.output}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + new_inits)
    return out
