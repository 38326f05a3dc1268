"""The model fuzzing campaign's generators: ``mutated_case`` (a small valid model with
one to three ``MUTATIONS``: field edits, dims, dtypes, dangling names, attribute values,
opset and IR versions, initializers, stale value_info, damaged bytes) and ``graph_case``
(a random graph of ``model_graphs``). Case ``i`` of a seed is always the same model."""

from __future__ import annotations

import random
from dataclasses import dataclass

import onnx
from onnx import TensorProto, helper

from kaena.testing.model_graphs import random_graph


@dataclass
class Case:
    generator: str  # "mutation" or "graph"
    kind: str  # the mutations applied, or "graph"
    model: onnx.ModelProto | None
    data: bytes  # what is written to the file kaena compiles
    auto_casts: tuple[str, ...]


def case_rng(seed: int, generator: str, i: int) -> random.Random:
    return random.Random(f"kaena-model-fuzz-{generator}-{seed}-{i}")


_INTS = [0, 1, 2, 3, -1, -2, 7, 64, 1000, 2**20, 2**31 - 1, 2**31, -(2**31), 2**40, 2**62]
_FLOATS = [0.0, -0.0, 1e-30, -1.0, 1e30, float("inf"), float("-inf"), float("nan"), 0.5, 3.5]
_DTYPES = [TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL,
           TensorProto.STRING, TensorProto.UINT8, TensorProto.BFLOAT16, TensorProto.COMPLEX64,
           TensorProto.FLOAT8E4M3FN, 0, 99]
_OPS = ["Relu", "Add", "MatMul", "Conv", "Softmax", "Reshape", "Transpose", "Gemm", "Concat", "MaxPool",
        "LayerNormalization", "Cast", "Where", "Slice", "Gather", "Loop", "NonZero", "TopK", "Foo", "", "relu"]
_ATTR_NAMES = ["axis", "axes", "perm", "pads", "strides", "kernel_shape", "group", "dilations", "epsilon",
               "alpha", "beta", "transA", "transB", "keepdims", "to", "mode", "auto_pad", "ceil_mode", "foo"]


def _node(model, rng):
    if not model.graph.node:
        raise _NoTarget
    return rng.choice(model.graph.node)


class _NoTarget(Exception):
    """The mutation has nothing to act on in this model."""


def _tensor_names(model) -> list[str]:
    g = model.graph
    return [i.name for i in g.input] + [t.name for t in g.initializer] + [o for n in g.node for o in n.output]


def m_opset(model, rng):
    v = rng.choice([0, 1, 6, 7, 9, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 28, 29, 99, -1, 2**31])
    action = rng.random()
    if not model.opset_import:
        model.opset_import.append(helper.make_opsetid("", v))
    elif action < 0.7:
        model.opset_import[0].version = v
    elif action < 0.8:
        del model.opset_import[:]
    elif action < 0.9:
        model.opset_import.append(helper.make_opsetid(rng.choice(["", "com.microsoft", "ai.onnx.ml"]), v))
    else:
        model.opset_import[0].domain = rng.choice(["ai.onnx", "x", "ai.onnx.ml"])


def m_ir_version(model, rng):
    model.ir_version = rng.choice([0, 1, 2, 3, 4, 7, 9, 10, 11, 100, 2**40])


def m_op_type(model, rng):
    _node(model, rng).op_type = rng.choice(_OPS)


def m_domain(model, rng):
    _node(model, rng).domain = rng.choice(["com.microsoft", "ai.onnx.ml", "x", "ai.onnx"])


def m_input_name(model, rng):
    node = _node(model, rng)
    names = _tensor_names(model)
    choice = rng.choice(["dangling", "other", "empty", "drop", "extra", "self"])
    if choice == "drop":
        if not node.input:
            raise _NoTarget
        del node.input[rng.randrange(len(node.input))]
    elif choice == "extra":
        node.input.append(rng.choice(names + ["nowhere"]))
    elif not node.input:
        raise _NoTarget
    else:
        i = rng.randrange(len(node.input))
        node.input[i] = {"dangling": "nowhere", "other": rng.choice(names), "empty": "",
                         "self": node.output[0] if node.output else "x"}[choice]


def m_output_name(model, rng):
    node = _node(model, rng)
    if not node.output:
        raise _NoTarget
    choice = rng.random()
    i = rng.randrange(len(node.output))
    if choice < 0.4:
        node.output[i] = node.output[i] + "_renamed"
    elif choice < 0.7:
        node.output[i] = rng.choice(_tensor_names(model))
    elif choice < 0.85:
        node.output[i] = ""
    else:
        node.output.append("extra_out")


def m_nodes(model, rng):
    nodes = model.graph.node
    if not nodes:
        raise _NoTarget
    choice = rng.random()
    i = rng.randrange(len(nodes))
    if choice < 0.35:
        del nodes[i]
    elif choice < 0.6:
        copy = onnx.NodeProto()
        copy.CopyFrom(nodes[i])
        nodes.insert(rng.randrange(len(nodes) + 1), copy)
    else:
        j = rng.randrange(len(nodes))
        a, b = onnx.NodeProto(), onnx.NodeProto()
        a.CopyFrom(nodes[i])
        b.CopyFrom(nodes[j])
        nodes[i].CopyFrom(b)
        nodes[j].CopyFrom(a)


def _random_attribute(name: str, rng) -> onnx.AttributeProto:
    kind = rng.choice(["int", "float", "ints", "floats", "string", "tensor", "empty-ints"])
    if kind == "int":
        return helper.make_attribute(name, rng.choice(_INTS))
    if kind == "float":
        return helper.make_attribute(name, rng.choice(_FLOATS))
    if kind == "ints":
        return helper.make_attribute(name, [rng.choice(_INTS[:8]) for _ in range(rng.randint(1, 9))])
    if kind == "floats":
        return helper.make_attribute(name, [rng.choice(_FLOATS) for _ in range(rng.randint(1, 4))])
    if kind == "string":
        return helper.make_attribute(name, rng.choice(["", "NOTSET", "SAME_UPPER", "VALID", "nearest", "linear",
                                                       "cubic", "reflect", "edge", "wrap", "x" * 40, "\u00e9"]))
    if kind == "tensor":
        return helper.make_attribute(name, helper.make_tensor(name, TensorProto.FLOAT, [2], [1.0, 2.0]))
    return helper.make_attribute(name, [], attr_type=onnx.AttributeProto.INTS)


def m_attribute(model, rng):
    node = _node(model, rng)
    attributes = node.attribute
    choice = rng.random()
    if attributes and choice < 0.5:
        i = rng.randrange(len(attributes))
        old = attributes[i]
        if old.type == onnx.AttributeProto.INT and rng.random() < 0.6:
            old.i = rng.choice(_INTS + [old.i + 1, old.i - 1])
        elif old.type == onnx.AttributeProto.INTS and old.ints and rng.random() < 0.6:
            j = rng.randrange(len(old.ints))
            old.ints[j] = rng.choice(_INTS[:9] + [old.ints[j] + 1])
            if rng.random() < 0.3:
                old.ints.append(rng.choice(_INTS[:5]))
        elif old.type == onnx.AttributeProto.FLOAT and rng.random() < 0.6:
            old.f = rng.choice(_FLOATS)
        else:
            attributes[i].CopyFrom(_random_attribute(old.name, rng))
    elif attributes and choice < 0.65:
        del attributes[rng.randrange(len(attributes))]
    else:
        name = rng.choice(_ATTR_NAMES)
        for a in list(attributes):
            if a.name == name:
                attributes.remove(a)
        attributes.append(_random_attribute(name, rng))


def _dims_of(model, rng) -> onnx.TensorShapeProto:
    vis = [v for v in (*model.graph.input, *model.graph.output) if v.type.tensor_type.HasField("shape")]
    if not vis:
        raise _NoTarget
    return rng.choice(vis).type.tensor_type.shape


def m_io_dims(model, rng):
    shape = _dims_of(model, rng)
    choice = rng.random()
    if choice < 0.55 and shape.dim:
        d = rng.choice(shape.dim)
        if rng.random() < 0.25:
            d.dim_param = rng.choice(["batch", "N", ""])
        else:
            d.dim_value = rng.choice([0, -1, 1, 2, 3, 7, 100, 2**20, 2**31, 2**40] + [d.dim_value + 1])
    elif choice < 0.7:
        shape.dim.add().dim_value = rng.choice([1, 2, 3])
    elif choice < 0.85 and shape.dim:
        del shape.dim[rng.randrange(len(shape.dim))]
    else:
        del shape.dim[:]


def m_io_dtype(model, rng):
    vis = [*model.graph.input, *model.graph.output]
    rng.choice(vis).type.tensor_type.elem_type = rng.choice(_DTYPES)


def m_initializer(model, rng):
    inits = model.graph.initializer
    if not inits:
        raise _NoTarget
    t = rng.choice(inits)
    choice = rng.random()
    if choice < 0.25 and t.dims:
        t.dims[rng.randrange(len(t.dims))] = rng.choice([0, 1, 2, 3, -1, 2**31, t.dims[0] + 1])
    elif choice < 0.35:
        t.dims.append(rng.choice([1, 2]))
    elif choice < 0.45 and t.dims:
        del t.dims[rng.randrange(len(t.dims))]
    elif choice < 0.6:
        t.data_type = rng.choice(_DTYPES)
    elif choice < 0.7:
        if t.raw_data:
            t.raw_data = t.raw_data[: rng.randrange(len(t.raw_data))]
        elif t.float_data:
            del t.float_data[rng.randrange(len(t.float_data)):]
        else:
            raise _NoTarget
    elif choice < 0.8:
        inits.remove(t)
    elif choice < 0.9:
        t.name = rng.choice(_tensor_names(model))
    else:
        copy = onnx.TensorProto()
        copy.CopyFrom(t)
        inits.append(copy)


def m_graph_io(model, rng):
    g = model.graph
    choice = rng.random()
    if choice < 0.25 and g.output:
        del g.output[rng.randrange(len(g.output))]
    elif choice < 0.45:
        g.output.append(helper.make_tensor_value_info(rng.choice(_tensor_names(model) + ["ghost"]),
                                                      TensorProto.FLOAT, None))
    elif choice < 0.65 and g.input:
        del g.input[rng.randrange(len(g.input))]
    elif choice < 0.8 and g.input:
        copy = onnx.ValueInfoProto()
        copy.CopyFrom(rng.choice(g.input))
        g.input.append(copy)
    elif g.input:
        rng.choice(g.input).name = rng.choice(_tensor_names(model) + ["renamed"])
    else:
        raise _NoTarget


def m_value_info(model, rng):
    names = [o for n in model.graph.node for o in n.output]
    if not names:
        raise _NoTarget
    dims = [rng.choice([1, 2, 3, 5, 0, -1]) for _ in range(rng.randint(0, 4))]
    model.graph.value_info.append(helper.make_tensor_value_info(
        rng.choice(names), rng.choice([TensorProto.FLOAT, TensorProto.FLOAT, *_DTYPES]), dims))


def m_cast_to(model, rng):
    casts = [n for n in model.graph.node if n.op_type in ("Cast", "CastLike")]
    if not casts:
        node = _node(model, rng)
        if not node.output:
            raise _NoTarget
        cast = helper.make_node("Cast", [node.output[0]], [node.output[0] + "_cast"], to=TensorProto.FLOAT)
        model.graph.node.append(cast)
        model.graph.output.append(helper.make_empty_tensor_value_info(cast.output[0]))
        casts = [cast]
    node = rng.choice(casts)
    del node.attribute[:]
    node.attribute.append(helper.make_attribute("to", rng.choice(_DTYPES)))


MUTATIONS = {
    "opset": m_opset, "ir-version": m_ir_version, "op-type": m_op_type, "domain": m_domain,
    "input-name": m_input_name, "output-name": m_output_name, "nodes": m_nodes, "attribute": m_attribute,
    "io-dims": m_io_dims, "io-dtype": m_io_dtype, "initializer": m_initializer, "graph-io": m_graph_io,
    "value-info": m_value_info, "cast-to": m_cast_to,
}
BYTE_MUTATIONS = ("truncate", "bitflip", "junk")
WEIGHTS = {**{k: 2 for k in MUTATIONS}, "attribute": 6, "input-name": 3, "io-dims": 3, "initializer": 3,
           "truncate": 1, "bitflip": 2, "junk": 1}


def _damage(data: bytes, kind: str, rng) -> bytes:
    if kind == "truncate":
        return data[: rng.randrange(len(data))]
    if kind == "junk":
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))) if rng.random() < 0.5 \
            else data[: rng.randrange(len(data))] + bytes(rng.randrange(256) for _ in range(64))
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        out[i] = rng.choice([out[i] ^ (1 << rng.randrange(8)), 0, 0xFF, rng.randrange(256)])
    return bytes(out)


def _seed_model(rng) -> onnx.ModelProto:
    if rng.random() < 0.1:
        from kaena.testing import modelzoo

        return modelzoo.lenet(batch=1) if rng.random() < 0.5 else modelzoo.mlp(batch=2, sizes=(16, 8, 4))
    return random_graph(rng)


def mutated_case(seed: int, i: int) -> Case:
    rng = case_rng(seed, "mutation", i)
    model = _seed_model(rng)
    names, weights = zip(*WEIGHTS.items())
    applied: list[str] = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        kind = rng.choices(names, weights)[0]
        if kind in BYTE_MUTATIONS:
            if applied:
                continue
            return Case("mutation", kind, None, _damage(model.SerializeToString(), kind, rng), ("none",))
        try:
            MUTATIONS[kind](model, rng)
            applied.append(kind)
        except _NoTarget:
            continue
    return Case("mutation", "+".join(applied) or "none", model, model.SerializeToString(), ("none",))


def graph_case(seed: int, i: int) -> Case:
    model = random_graph(case_rng(seed, "graph", i))
    return Case("graph", "graph", model, model.SerializeToString(), ("none", "matmult"))
