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

    def model(self, name: str, input_shape: Sequence[int], output: str,
              output_shape: Sequence[int]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, list(input_shape))],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, list(output_shape))],
            initializer=self.initializers,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="kaena.modelzoo"
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
