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


# --- transformers ----------------------------------------------------------------------------
#
# Graphs written node for node as ``torch.onnx.export`` writes Hugging Face
# models (opset 17, eval mode: no Dropout): int64 token ids and masks, Gather
# embeddings, Q/K/V MatMul + Add with the bias first, Reshape/Transpose into
# heads (consecutive transposes fused, as the exporter's peephole does),
# the extended mask ``(1 - mask) * -10000``, the erf GELU as Div/Erf/Add/Mul/Mul.


class _TransformerBuilder(_GraphBuilder):
    def __init__(self, seed: int, hidden: int, heads: int, decomposed_layernorm: bool = False):
        super().__init__(seed)
        self.hidden, self.heads = hidden, heads
        self.decomposed = decomposed_layernorm
        self._scalars: dict[tuple[str, float], str] = {}

    def scalar(self, value: float, dtype=np.float32) -> str:
        key = (np.dtype(dtype).name, float(value))
        if key not in self._scalars:
            self._scalars[key] = self.const(f"const_{len(self._scalars)}", np.array(value, dtype))
        return self._scalars[key]

    def ints(self, name: str, values: Sequence[int]) -> str:
        return self.const(name, np.array(values, np.int64))

    def table(self, name: str, shape: Sequence[int], std: float = 0.5) -> str:
        w = self.rng.standard_normal(shape) * std
        self.initializers.append(numpy_helper.from_array(w.astype(np.float32), name))
        return name

    def linear(self, x: str, name: str, n_in: int, n_out: int) -> str:
        """nn.Linear on a 3-D input: MatMul by the transposed weight, then Add(bias, .)."""
        w = self.weight(f"{name}.weight", (n_in, n_out), n_in)
        b = self.bias(f"{name}.bias", n_out)
        mm = self.node("MatMul", [x, w], f"{name}/MatMul")
        return self.node("Add", [b, mm], f"{name}/Add")

    def layer_norm(self, x: str, name: str, eps: float = 1e-12) -> str:
        h = self.hidden
        gamma = self.const(f"{name}.weight", (1.0 + 0.1 * self.rng.standard_normal(h)).astype(np.float32))
        beta = self.const(f"{name}.bias", (0.05 * self.rng.standard_normal(h)).astype(np.float32))
        if not self.decomposed:
            return self.node("LayerNormalization", [x, gamma, beta], f"{name}/LayerNorm", axis=-1,
                             epsilon=eps)
        # what torch.onnx.export writes for nn.LayerNorm below opset 17
        m = self.node("ReduceMean", [x], f"{name}/ReduceMean", axes=[-1])
        d = self.node("Sub", [x, m], f"{name}/Sub")
        p = self.node("Pow", [d, self.scalar(2.0)], f"{name}/Pow")
        v = self.node("ReduceMean", [p], f"{name}/ReduceMean_1", axes=[-1])
        a = self.node("Add", [v, self.scalar(eps)], f"{name}/Add")
        s = self.node("Sqrt", [a], f"{name}/Sqrt")
        n = self.node("Div", [d, s], f"{name}/Div")
        y = self.node("Mul", [n, gamma], f"{name}/Mul")
        return self.node("Add", [y, beta], f"{name}/Add_1")

    def gelu(self, x: str, name: str) -> str:
        """``x * 0.5 * (1 + erf(x / sqrt(2)))`` as torch writes it (Hugging Face's gelu)."""
        d = self.node("Div", [x, self.scalar(1.4142135381698608)], f"{name}/Div")
        e = self.node("Erf", [d], f"{name}/Erf")
        a = self.node("Add", [e, self.scalar(1.0)], f"{name}/Add")
        m = self.node("Mul", [x, a], f"{name}/Mul")
        return self.node("Mul", [m, self.scalar(0.5)], f"{name}/Mul_1")

    def heads_of(self, x: str, name: str, batch: int, seq: int, perm: Sequence[int]) -> str:
        d = self.hidden // self.heads
        r = self.node("Reshape", [x, self.ints(f"{name}.shape", [batch, seq, self.heads, d])], f"{name}/Reshape")
        return self.node("Transpose", [r], f"{name}/Transpose", perm=list(perm))

    def attention(self, q_in: str, kv_in: str, name: str, batch: int, sq: int, skv: int,
                  mask: str | None) -> str:
        """Multi-head attention with the output projection (no residual)."""
        h, d = self.hidden, self.hidden // self.heads
        q = self.heads_of(self.linear(q_in, f"{name}.query", h, h), f"{name}/q", batch, sq, (0, 2, 1, 3))
        k = self.heads_of(self.linear(kv_in, f"{name}.key", h, h), f"{name}/k", batch, skv, (0, 2, 3, 1))
        v = self.heads_of(self.linear(kv_in, f"{name}.value", h, h), f"{name}/v", batch, skv, (0, 2, 1, 3))
        s = self.node("MatMul", [q, k], f"{name}/MatMul")
        s = self.node("Div", [s, self.scalar(float(np.sqrt(d)))], f"{name}/Div")
        if mask is not None:
            s = self.node("Add", [s, mask], f"{name}/Add")
        p = self.node("Softmax", [s], f"{name}/Softmax", axis=-1)
        c = self.node("MatMul", [p, v], f"{name}/MatMul_1")
        c = self.node("Transpose", [c], f"{name}/Transpose", perm=[0, 2, 1, 3])
        c = self.node("Reshape", [c, self.ints(f"{name}.ctx_shape", [batch, sq, h])], f"{name}/Reshape")
        return self.linear(c, f"{name}.output.dense", h, h)

    def ffn(self, x: str, name: str, act: str = "gelu") -> str:
        h = self.hidden
        i = self.linear(x, f"{name}.intermediate.dense", h, 4 * h)
        i = self.gelu(i, f"{name}.intermediate.gelu") if act == "gelu" else \
            self.node("Relu", [i], f"{name}.intermediate.relu")
        return self.linear(i, f"{name}.output.dense", 4 * h, h)

    def extended_mask(self, mask: str, name: str) -> str:
        """HF's get_extended_attention_mask: [B, S] int -> [B, 1, 1, S] float, 0 or -10000."""
        m = self.node("Unsqueeze", [mask, self.ints(f"{name}.axes1", [1])], f"{name}/Unsqueeze")
        m = self.node("Unsqueeze", [m, self.ints(f"{name}.axes2", [2])], f"{name}/Unsqueeze_1")
        m = self.node("Cast", [m], f"{name}/Cast", to=TensorProto.FLOAT)
        m = self.node("Sub", [self.scalar(1.0), m], f"{name}/Sub")
        return self.node("Mul", [m, self.scalar(-10000.0)], f"{name}/Mul")

    def embeddings(self, ids: str, name: str, vocab: int, seq: int, max_pos: int = 512,
                   token_types: bool = True) -> str:
        h = self.hidden
        x = self.node("Gather", [self.table(f"{name}.word_embeddings.weight", (vocab, h)), ids],
                      f"{name}/word_embeddings/Gather")
        if token_types:  # the registered zeros buffer, sliced and expanded: constants
            tt = self.const(f"{name}.token_type_ids", np.zeros((1, max_pos), np.int64))
            tt = self.node("Slice", [tt, self.ints(f"{name}.tt.starts", [0]), self.ints(f"{name}.tt.ends", [seq]),
                                     self.ints(f"{name}.tt.axes", [1])], f"{name}/Slice")
            t = self.node("Gather", [self.table(f"{name}.token_type_embeddings.weight", (2, h)), tt],
                          f"{name}/token_type_embeddings/Gather")
            x = self.node("Add", [x, t], f"{name}/Add")
        pos = self.const(f"{name}.position_ids", np.arange(max_pos, dtype=np.int64)[None])
        pos = self.node("Slice", [pos, self.ints(f"{name}.pos.starts", [0]), self.ints(f"{name}.pos.ends", [seq]),
                                  self.ints(f"{name}.pos.axes", [1])], f"{name}/Slice_1")
        p = self.node("Gather", [self.table(f"{name}.position_embeddings.weight", (max_pos, h)), pos],
                      f"{name}/position_embeddings/Gather")
        return self.node("Add", [x, p], f"{name}/Add_1")

    def transformer_model(self, name: str, inputs: list[onnx.ValueInfoProto],
                          outputs: list[tuple[str, Sequence[int]]]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, name, inputs,
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, list(sh)) for o, sh in outputs],
            initializer=self.initializers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="kaena.testing.modelzoo")
        model.ir_version = 8
        onnx.checker.check_model(model, full_check=True)
        return model


def bert(layers: int = 2, hidden: int = 128, heads: int = 2, seq: int = 64, vocab: int = 1000,
         batch: int = 1, decomposed_layernorm: bool = False, seed: int = 0) -> onnx.ModelProto:
    """Hugging Face ``BertModel`` as ``torch.onnx.export`` writes it: inputs
    ``input_ids`` and ``attention_mask`` (int64 [batch, seq]), outputs
    ``last_hidden_state`` [batch, seq, hidden] and ``pooler_output`` [batch, hidden].
    ``decomposed_layernorm`` writes each LayerNorm as the older exporters' nine nodes."""
    g = _TransformerBuilder(seed, hidden, heads, decomposed_layernorm)
    x = g.layer_norm(g.embeddings("input_ids", "embeddings", vocab, seq), "embeddings.LayerNorm")
    mask = g.extended_mask("attention_mask", "extended_mask")
    for i in range(layers):
        p = f"encoder.layer.{i}"
        a = g.attention(x, x, f"{p}.attention.self", batch, seq, seq, mask)
        x = g.layer_norm(g.node("Add", [a, x], f"{p}.attention.output/Add"), f"{p}.attention.output.LayerNorm")
        f = g.ffn(x, p)
        x = g.layer_norm(g.node("Add", [f, x], f"{p}.output/Add"), f"{p}.output.LayerNorm")
    x = g.node("Identity", [x], "last_hidden_state")
    first = g.node("Gather", [x, g.const("pooler.index", np.array(0, np.int64))], "pooler/Gather", axis=1)
    wp = g.weight("pooler.dense.weight", (hidden, hidden), hidden)
    pooled = g.node("Gemm", [first, wp, g.bias("pooler.dense.bias", hidden)], "pooler/Gemm", transB=1)
    g.node("Tanh", [pooled], "pooler_output")
    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, [batch, seq])
            for n in ("input_ids", "attention_mask")]
    return g.transformer_model("bert", ints, [("last_hidden_state", (batch, seq, hidden)),
                                              ("pooler_output", (batch, hidden))])


def vit(layers: int = 2, hidden: int = 64, heads: int = 2, image: int = 32, patch: int = 8,
        num_classes: int = 10, batch: int = 1, seed: int = 0) -> onnx.ModelProto:
    """A small Vision Transformer (Hugging Face ``ViTForImageClassification``
    layout): patch-embedding Conv, CLS token Concat, position Add, pre-LN encoder
    layers, final LayerNorm, classifier on the CLS token. Input ``pixel_values``
    [batch, 3, image, image], output ``logits`` [batch, num_classes]."""
    g = _TransformerBuilder(seed, hidden, heads)
    n = (image // patch) ** 2
    w = g.weight("embeddings.patch_embeddings.projection.weight", (hidden, 3, patch, patch), 3 * patch * patch)
    x = g.node("Conv", ["pixel_values", w, g.bias("embeddings.patch_embeddings.projection.bias", hidden)],
               "embeddings/Conv", kernel_shape=[patch, patch], strides=[patch, patch])
    x = g.node("Reshape", [x, g.ints("embeddings.flat", [batch, hidden, n])], "embeddings/Reshape")
    x = g.node("Transpose", [x], "embeddings/Transpose", perm=[0, 2, 1])
    cls = g.table("embeddings.cls_token", (1, 1, hidden), 0.02)
    cls = g.node("Expand", [cls, g.ints("embeddings.cls_shape", [batch, 1, hidden])], "embeddings/Expand")
    x = g.node("Concat", [cls, x], "embeddings/Concat", axis=1)
    x = g.node("Add", [x, g.table("embeddings.position_embeddings", (1, n + 1, hidden), 0.02)], "embeddings/Add")
    for i in range(layers):
        p = f"encoder.layer.{i}"
        h = g.layer_norm(x, f"{p}.layernorm_before")
        x = g.node("Add", [g.attention(h, h, f"{p}.attention", batch, n + 1, n + 1, None), x], f"{p}/Add")
        h = g.layer_norm(x, f"{p}.layernorm_after")
        x = g.node("Add", [g.ffn(h, p), x], f"{p}/Add_1")
    x = g.layer_norm(x, "layernorm")
    first = g.node("Gather", [x, g.const("classifier.index", np.array(0, np.int64))], "classifier/Gather", axis=1)
    wc = g.weight("classifier.weight", (num_classes, hidden), hidden)
    g.node("Gemm", [first, wc, g.bias("classifier.bias", num_classes)], "logits", transB=1)
    inp = [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [batch, 3, image, image])]
    return g.transformer_model("vit", inp, [("logits", (batch, num_classes))])


def translation_transformer(layers: int = 1, hidden: int = 64, heads: int = 2, src_seq: int = 16,
                            tgt_seq: int = 12, vocab: int = 500, batch: int = 1, seed: int = 0) -> onnx.ModelProto:
    """A small encoder-decoder translation transformer (post-LN, ReLU FFN, as
    ``nn.Transformer``): inputs ``src_ids`` [batch, src_seq], ``src_mask``
    (1 = token, 0 = padding) and ``tgt_ids`` [batch, tgt_seq] (int64); the
    decoder's causal mask is built in the graph with Trilu/Equal/Where on
    constants; cross-attention reads the encoder memory; output ``log_probs``
    [batch, tgt_seq, vocab] (LogSoftmax of the tied-free output projection)."""
    g = _TransformerBuilder(seed, hidden, heads)
    src_mask = g.extended_mask("src_mask", "src_mask")
    x = g.embeddings("src_ids", "encoder.embed", vocab, src_seq, max_pos=64, token_types=False)
    for i in range(layers):
        p = f"encoder.layers.{i}"
        a = g.attention(x, x, f"{p}.self_attn", batch, src_seq, src_seq, src_mask)
        x = g.layer_norm(g.node("Add", [x, a], f"{p}/Add"), f"{p}.norm1", eps=1e-5)
        x = g.layer_norm(g.node("Add", [x, g.ffn(x, p, act="relu")], f"{p}/Add_1"), f"{p}.norm2", eps=1e-5)
    memory = x
    # causal mask: ones -> Trilu (lower) -> == 0 -> Where(-inf-ish, 0)
    ones = g.node("ConstantOfShape", [g.ints("causal.shape", [tgt_seq, tgt_seq])], "causal/ConstantOfShape",
                  value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]))
    tril = g.node("Trilu", [ones], "causal/Trilu", upper=0)
    upper = g.node("Equal", [tril, g.scalar(0.0)], "causal/Equal")
    causal = g.node("Where", [upper, g.scalar(-1e9), g.scalar(0.0)], "causal/Where")
    y = g.embeddings("tgt_ids", "decoder.embed", vocab, tgt_seq, max_pos=64, token_types=False)
    for i in range(layers):
        p = f"decoder.layers.{i}"
        a = g.attention(y, y, f"{p}.self_attn", batch, tgt_seq, tgt_seq, causal)
        y = g.layer_norm(g.node("Add", [y, a], f"{p}/Add"), f"{p}.norm1", eps=1e-5)
        c = g.attention(y, memory, f"{p}.cross_attn", batch, tgt_seq, src_seq, src_mask)
        y = g.layer_norm(g.node("Add", [y, c], f"{p}/Add_1"), f"{p}.norm2", eps=1e-5)
        y = g.layer_norm(g.node("Add", [y, g.ffn(y, p, act="relu")], f"{p}/Add_2"), f"{p}.norm3", eps=1e-5)
    logits = g.linear(y, "generator", hidden, vocab)
    g.node("LogSoftmax", [logits], "log_probs", axis=-1)
    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, [batch, s])
            for n, s in (("src_ids", src_seq), ("src_mask", src_seq), ("tgt_ids", tgt_seq))]
    return g.transformer_model("translation_transformer", ints, [("log_probs", (batch, tgt_seq, vocab))])
