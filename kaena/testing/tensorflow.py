"""TensorFlow's side of the numeric oracle: run the frozen graph Kaena imports
in TensorFlow, and a faithful BF16 emulation of it built with TensorFlow.

The emulation is the same GraphDef with both multiplied operands of every
Conv2D, DepthwiseConv2dNative, MatMul, BatchMatMul and Einsum sent through a
Cast(bfloat16) -> Cast(float32) pair (TensorFlow rounds float32 to bfloat16 to
nearest even, as ``ml_dtypes`` does); weights and activations alike, everything
else FP32, as on Inferentia (PSUM accumulates FP32).
"""

from __future__ import annotations

import numpy as np

from kaena.frontends.tensorflow.load import FrozenGraph, load, quiet_stderr, tensor_name

CONTRACTIONS = ("Conv2D", "DepthwiseConv2dNative", "MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3",
                "Einsum")


def frozen_graph(model, input_shapes: dict[str, list[int]] | None = None) -> FrozenGraph:
    """The GraphDef Kaena's importer sees for ``model`` (path or tf.keras.Model)."""
    return load(model, input_shapes)


def run_graph(frozen: FrozenGraph, inputs: dict[str, np.ndarray], graph_def=None) -> dict[str, np.ndarray]:
    """Run ``graph_def`` (default: the frozen graph) in a TensorFlow session, without
    Grappler's rewrites; outputs by the names Kaena gives them."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def if graph_def is not None else frozen.graph_def, name="")
    config = tf.compat.v1.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    feeds = {t: inputs[n] for t, n in zip(frozen.input_tensors, frozen.input_names)}
    with quiet_stderr(), tf.compat.v1.Session(graph=graph, config=config) as sess:
        values = sess.run(frozen.output_tensors, feed_dict=feeds)
    return dict(zip(frozen.output_names, values))


def bf16_emulation(frozen: FrozenGraph):
    """The frozen GraphDef with every contraction's two operands rounded to BF16."""
    import tensorflow as tf

    out = tf.compat.v1.GraphDef()
    out.CopyFrom(frozen.graph_def)
    nodes = list(out.node)
    del out.node[:]
    rounded: dict[str, str] = {}
    for node in nodes:
        if node.op in CONTRACTIONS:
            data = [i for i, name in enumerate(node.input) if not name.startswith("^")]
            for i in data[:2]:
                src = tensor_name(node.input[i])
                if src not in rounded:
                    base = src.replace(":", "_") + "/kaena_bf16"
                    to = out.node.add(name=base, op="Cast", input=[src])
                    to.attr["SrcT"].type, to.attr["DstT"].type = tf.float32.as_datatype_enum, \
                        tf.bfloat16.as_datatype_enum
                    back = out.node.add(name=base + "_f32", op="Cast", input=[base])
                    back.attr["SrcT"].type, back.attr["DstT"].type = tf.bfloat16.as_datatype_enum, \
                        tf.float32.as_datatype_enum
                    rounded[src] = back.name + ":0"
                node.input[i] = rounded[src]
        out.node.add().CopyFrom(node)
    return out
