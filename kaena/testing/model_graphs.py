"""Random small ONNX graphs from the operators Kaena supports, for the model fuzz
campaign (``kaena.testing.model_fuzz``).

``random_graph(rng)`` builds 1 to 6 nodes with ``onnx.helper`` on one or two
float32 inputs of small random shapes: each step picks an operator, random
attributes and operands (a live tensor, another one it broadcasts with, or a
constant), and keeps the node only if ONNX's strict shape inference accepts it,
so every graph is one onnxruntime runs. Domain-restricted operators (Log, Sqrt,
Reciprocal, a divisor, fractional powers) get a positive operand (``Sigmoid + 0.5``)
and Exp a bounded one (``Tanh``), so references stay finite.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

Shape = tuple[int, ...]


class Skip(Exception):
    """This operator does not fit the chosen operand; try another."""


class GraphBuilder:
    def __init__(self, rng: random.Random, opset: int):
        self.rng, self.opset = rng, opset
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.shapes: dict[str, Shape] = {}
        self.kinds: dict[str, str] = {}  # "f" float32, "b" bool
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, array: np.ndarray, prefix: str = "c") -> str:
        name = self.fresh(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, shape: Shape, low: float = -1.0, high: float = 1.0) -> str:
        data = np.array([self.rng.uniform(low, high) for _ in range(math.prod(shape))], np.float32)
        return self.const(data.reshape(shape), "w")

    def add_input(self, shape: Shape) -> str:
        name = f"in{len(self.inputs)}"
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        self.shapes[name], self.kinds[name] = shape, "f"
        return name

    def node(self, op: str, inputs: list[str], outputs: int = 1, **attributes) -> list[str]:
        """Add a node if shape inference accepts it (raises Skip otherwise); its outputs."""
        names = [self.fresh(op.lower()) for _ in range(outputs)]
        node = helper.make_node(op, inputs, names, name=self.fresh(op + "_"), **attributes)
        self.nodes.append(node)
        try:
            inferred = onnx.shape_inference.infer_shapes(self.model(names), strict_mode=True)
        except Exception as e:
            self.nodes.pop()
            raise Skip(str(e)) from None
        found = {vi.name: vi for vi in (*inferred.graph.value_info, *inferred.graph.output)}
        for n in names:
            tt = found[n].type.tensor_type if n in found else None
            dims = [d.dim_value if d.HasField("dim_value") else 0 for d in tt.shape.dim] if tt else [0]
            if tt is None or not tt.HasField("shape") or min(dims, default=1) < 1 or math.prod(dims) > 4096 \
                    or tt.elem_type not in (TensorProto.FLOAT, TensorProto.BOOL):
                self.nodes.pop()
                raise Skip(f"{op}: output {n} has no usable static shape")
            self.shapes[n] = tuple(dims)
            self.kinds[n] = "f" if tt.elem_type == TensorProto.FLOAT else "b"
        return names

    def model(self, outputs: list[str]) -> onnx.ModelProto:
        outs = [helper.make_empty_tensor_value_info(o) for o in outputs]
        graph = helper.make_graph(self.nodes, "fuzz", self.inputs, outs, self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                 producer_name="kaena-fuzz", ir_version=8)

    # --- operand helpers -------------------------------------------------------------
    def live(self, kind: str = "f") -> list[str]:
        return [n for n, k in self.kinds.items() if k == kind]

    def positive(self, x: str) -> str:
        s = self.node("Sigmoid", [x])[0]
        return self.node("Add", [s, self.const(np.array(0.5, np.float32))])[0]

    def broadcast_partner(self, x: str) -> str:
        """A second operand ``x`` broadcasts with: a live tensor of a compatible shape or a constant."""
        shape = self.shapes[x]
        rng = self.rng
        same = [n for n in self.live() if n != x and _broadcasts(self.shapes[n], shape)]
        if same and rng.random() < 0.4:
            return rng.choice(same)
        if rng.random() < 0.15:
            return self.const(np.array(rng.uniform(-2, 2), np.float32))
        keep = rng.randint(0, len(shape))
        dims = tuple(d if rng.random() < 0.6 else 1 for d in shape[len(shape) - keep:])
        return self.weight(dims)


def _broadcasts(a: Shape, b: Shape) -> bool:
    return all(x == y or x == 1 or y == 1 for x, y in zip(reversed(a), reversed(b)))


# --- operators: each takes the builder and a live float tensor -----------------------------

UNARY = ("Relu", "Sigmoid", "Tanh", "Neg", "Erf", "Identity", "HardSwish", "Dropout")


def op_unary(g: GraphBuilder, x: str) -> str:
    op = g.rng.choice(UNARY + ("Exp", "Log", "Sqrt", "Reciprocal"))
    if op == "Exp":
        x = g.node("Tanh", [x])[0]
    elif op in ("Log", "Sqrt", "Reciprocal"):
        x = g.positive(x)
    return g.node(op, [x])[0]


def op_param_unary(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    op = rng.choice(("LeakyRelu", "HardSigmoid", "Clip", "Pow", "Softmax", "LogSoftmax", "Cast"))
    rank = len(g.shapes[x])
    if op == "LeakyRelu":
        return g.node(op, [x], alpha=rng.choice([0.01, 0.2, 1.5, -0.5]))[0]
    if op == "HardSigmoid":
        return g.node(op, [x], alpha=rng.uniform(0.05, 1.0), beta=rng.uniform(-0.5, 1.0))[0]
    if op == "Clip":
        lo = rng.choice([None, -0.5, -1.0])
        hi = rng.choice([None, 0.5, 1.0])
        ins = [x, g.const(np.array(lo, np.float32)) if lo is not None else ""]
        if hi is not None:
            ins.append(g.const(np.array(hi, np.float32)))
        return g.node(op, ins)[0]
    if op == "Pow":
        e = rng.choice([1.0, 2.0, 3.0, 0.5, -0.5, -1.0, 1.7])
        base = g.positive(x) if e != int(e) or e < 0 else x
        return g.node(op, [base, g.const(np.array(e, np.float32))])[0]
    if op in ("Softmax", "LogSoftmax"):
        return g.node(op, [x], axis=rng.randint(-rank, rank - 1))[0]
    as_int = g.node("Cast", [g.node("Mul", [x, g.const(np.array(3.0, np.float32))])[0]], to=TensorProto.INT32)[0]
    g.kinds[as_int] = "i"
    return g.node("Cast", [as_int], to=TensorProto.FLOAT)[0]


def op_binary(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    op = rng.choice(("Add", "Sub", "Mul", "Div", "Max", "Min", "Mean", "Sum"))
    y = g.broadcast_partner(x)
    if op == "Div":
        y = g.positive(y)
    ins = [x, y] if rng.random() < 0.7 or op == "Div" else [y, x]  # a divisor stays positive
    if op in ("Max", "Min", "Mean", "Sum") and rng.random() < 0.3:
        ins.append(g.broadcast_partner(x))
    return g.node(op, ins)[0]


def op_compare(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    op = rng.choice(("Greater", "Less", "Equal", "GreaterOrEqual", "LessOrEqual"))
    y = g.broadcast_partner(x)
    if op == "Equal":  # equality of computed floats only on a rounded grid
        x = g.node("Cast", [g.node("Cast", [x], to=TensorProto.INT32)[0]], to=TensorProto.FLOAT)[0]
        y = g.const(np.array(0.0, np.float32))
    cond = g.node(op, [x, y])[0]
    bools = [b for b in g.live("b") if b != cond and _broadcasts(g.shapes[b], g.shapes[cond])]
    if bools and rng.random() < 0.4:
        cond = g.node(rng.choice(("And", "Or", "Xor")), [cond, rng.choice(bools)])[0]
    if rng.random() < 0.3:
        cond = g.node("Not", [cond])[0]
    if rng.random() < 0.5:
        return g.node("Where", [cond, x, g.broadcast_partner(x)])[0]
    return g.node("Cast", [cond], to=TensorProto.FLOAT)[0]


def op_matmul(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    shape = g.shapes[x]
    if len(shape) == 1:
        return g.node("MatMul", [x, g.weight((shape[0], rng.randint(1, 12)))])[0]
    if rng.random() < 0.35 and len(shape) >= 2:
        perm = list(range(len(shape)))
        perm[-1], perm[-2] = perm[-2], perm[-1]
        xt = g.node("Transpose", [x], perm=perm)[0]
        return g.node("MatMul", [x, xt] if rng.random() < 0.5 else [xt, x])[0]
    if len(shape) == 2 and rng.random() < 0.5:
        trans_a, trans_b = rng.random() < 0.3, rng.random() < 0.5
        m, k = (shape[1], shape[0]) if trans_a else shape
        n = rng.randint(1, 12)
        ins = [x, g.weight((n, k) if trans_b else (k, n))]
        if rng.random() < 0.7:
            ins.append(g.weight(rng.choice([(n,), (1, n), (m, n), (1,)])))
        return g.node("Gemm", ins, transA=int(trans_a), transB=int(trans_b),
                      alpha=rng.choice([1.0, 0.5, 2.0]), beta=rng.choice([1.0, 0.5, -1.0]))[0]
    return g.node("MatMul", [x, g.weight((shape[-1], rng.randint(1, 12)))])[0]


def op_conv(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    shape = g.shapes[x]
    if len(shape) not in (3, 4):
        raise Skip("conv needs rank 3 or 4")
    c = shape[1]
    spatial = len(shape) - 2
    groups = rng.choice([g_ for g_ in (1, 1, 2, 3, c) if c % g_ == 0])
    m = groups * rng.randint(1, 4) if groups > 1 else rng.randint(1, 8)
    kernel = [rng.randint(1, 3) for _ in range(spatial)]
    at = {"kernel_shape": kernel, "group": groups}
    if rng.random() < 0.5:
        at["strides"] = [rng.randint(1, 2) for _ in range(spatial)]
    if rng.random() < 0.3:
        at["dilations"] = [rng.randint(1, 2) for _ in range(spatial)]
    if rng.random() < 0.2:
        at["auto_pad"] = rng.choice(["SAME_UPPER", "SAME_LOWER", "VALID"])
        at.pop("dilations", None)  # onnxruntime takes no dilations with SAME padding
    elif rng.random() < 0.6:
        at["pads"] = [rng.randint(0, 2) for _ in range(2 * spatial)]
    if not _window_fits(shape[2:], kernel, at):
        raise Skip("the kernel does not fit the padded input")
    ins = [x, g.weight((m, c // groups, *kernel))]
    if rng.random() < 0.6:
        ins.append(g.weight((m,)))
    y = g.node("Conv", ins, **at)[0]
    if rng.random() < 0.3:
        stats = [g.weight((m,), 0.5, 1.5), g.weight((m,)), g.weight((m,)), g.weight((m,), 0.5, 2.0)]
        y = g.node("BatchNormalization", [y, *stats], epsilon=rng.choice([1e-5, 1e-3]))[0]
    return y


def _window_fits(sizes: Shape, kernel: list[int], at: dict) -> bool:
    """The (dilated) window fits the padded input on every axis (ONNX's shape inference
    truncates a negative size to one output, which onnxruntime then computes)."""
    if at.get("auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER"):
        return True
    pads = at.get("pads", [0] * 2 * len(sizes))
    dilations = at.get("dilations", [1] * len(sizes))
    return all(n + pads[i] + pads[i + len(sizes)] >= (k - 1) * d + 1
               for i, (n, k, d) in enumerate(zip(sizes, kernel, dilations)))


def op_pool(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    shape = g.shapes[x]
    if len(shape) not in (3, 4):
        raise Skip("pooling needs rank 3 or 4")
    op = rng.choice(("MaxPool", "AveragePool", "GlobalAveragePool"))
    if op == "GlobalAveragePool":
        return g.node(op, [x])[0]
    spatial = len(shape) - 2
    kernel = [rng.randint(1, 3) for _ in range(spatial)]
    at = {"kernel_shape": kernel}
    if rng.random() < 0.6:
        at["strides"] = [rng.randint(1, 2) for _ in range(spatial)]
    if rng.random() < 0.5:
        at["pads"] = [rng.randint(0, k - 1) for k in kernel * 2]
    if rng.random() < 0.2:
        at["ceil_mode"] = 1
    if not _window_fits(shape[2:], kernel, at):
        raise Skip("the window does not fit the padded input")
    if op == "AveragePool" and rng.random() < 0.4:
        at["count_include_pad"] = 1
    return g.node(op, [x], **at)[0]


def op_norm(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    shape = g.shapes[x]
    if rng.random() < 0.7 or len(shape) < 2:
        axis = rng.randint(-len(shape), len(shape) - 1)
        norm = shape[axis % len(shape):]
        ins = [x, g.weight(norm, 0.5, 1.5)]
        if rng.random() < 0.6:
            ins.append(g.weight(norm))
        return g.node("LayerNormalization", ins, axis=axis, epsilon=rng.choice([1e-5, 1e-3]))[0]
    c = shape[1]
    stats = [g.weight((c,), 0.5, 1.5), g.weight((c,)), g.weight((c,)), g.weight((c,), 0.5, 2.0)]
    return g.node("BatchNormalization", [x, *stats])[0]


def op_reduce(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    rank = len(g.shapes[x])
    op = rng.choice(("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"))
    axes = sorted(rng.sample(range(rank), rng.randint(1, rank)))
    axes = [a - rank if rng.random() < 0.3 else a for a in axes]
    keep = rng.randint(0, 1)
    if g.opset >= 18 or op == "ReduceSum":
        return g.node(op, [x, g.const(np.array(axes, np.int64))], keepdims=keep)[0]
    return g.node(op, [x], axes=axes, keepdims=keep)[0]


def op_layout(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    shape = g.shapes[x]
    rank = len(shape)
    op = rng.choice(("Transpose", "Reshape", "Flatten", "Unsqueeze", "Squeeze", "Concat", "Slice", "Pad",
                     "Expand", "Gather", "Split"))
    if op == "Transpose":
        perm = list(range(rank))
        rng.shuffle(perm)
        return g.node(op, [x], perm=perm)[0]
    if op == "Reshape":
        total = math.prod(shape)
        dims, left = [], total
        for _ in range(rng.randint(0, 3)):
            divisors = [d for d in range(1, left + 1) if left % d == 0]
            d = rng.choice(divisors)
            dims.append(d)
            left //= d
        dims.append(left)
        if rng.random() < 0.3:
            dims[rng.randrange(len(dims))] = -1
        return g.node(op, [x, g.const(np.array(dims, np.int64))])[0]
    if op == "Flatten":
        return g.node(op, [x], axis=rng.randint(-rank, rank))[0]
    if op == "Unsqueeze":
        axis = rng.randint(-rank - 1, rank)
        return g.node(op, [x, g.const(np.array([axis], np.int64))])[0]
    if op == "Squeeze":
        ones = [i for i, d in enumerate(shape) if d == 1]
        if not ones or rank == 1:
            raise Skip("no unit dim")
        return g.node(op, [x, g.const(np.array(ones[:1], np.int64))])[0]
    if op == "Concat":
        axis = rng.randrange(rank)
        others = [n for n in g.live() if len(g.shapes[n]) == rank and all(
            a == b for i, (a, b) in enumerate(zip(g.shapes[n], shape)) if i != axis)]
        return g.node(op, [x, rng.choice(others)], axis=axis - rank * rng.randint(0, 1))[0]
    if op == "Slice":
        axis = rng.randrange(rank)
        d = shape[axis]
        step = rng.choice([1, 1, 2, -1])
        start, end = sorted((rng.randint(0, d - 1), rng.randint(0, d)))
        if step < 0:
            start, end = d - 1 - start, -d - 1 if rng.random() < 0.5 else max(0, d - 1 - end - 1) - d
        if start == end:
            end = start + 1 if step > 0 else start - 1
        ins = [x] + [g.const(np.array([v], np.int64)) for v in (start, end, axis, step)]
        return g.node(op, ins)[0]
    if op == "Pad":
        mode = rng.choice(["constant", "edge", "reflect"])
        pads = [rng.randint(0, min(2, d - 1) if mode == "reflect" else 2) for d in shape * 2]
        ins = [x, g.const(np.array(pads, np.int64))]
        if mode == "constant" and rng.random() < 0.5:
            ins.append(g.const(np.array(rng.uniform(-1, 1), np.float32)))
        return g.node(op, ins, mode=mode)[0]
    if op == "Expand":
        ones = [i for i, d in enumerate(shape) if d == 1]
        target = list(shape)
        for i in ones:
            target[i] = rng.randint(1, 4)
        if rng.random() < 0.3:
            target = [2] + target
        return g.node(op, [x, g.const(np.array(target, np.int64))])[0]
    if op == "Gather":
        axis = rng.randrange(rank)
        idx = np.array([rng.randrange(-shape[axis], shape[axis]) for _ in range(rng.randint(1, 4))], np.int64)
        if rng.random() < 0.3:
            idx = idx[:1].reshape(())
        return g.node(op, [x, g.const(idx)], axis=axis)[0]
    axis = rng.randrange(rank)
    if shape[axis] < 2:
        raise Skip("split of a unit dim")
    first = rng.randint(1, shape[axis] - 1)
    a, b = g.node("Split", [x, g.const(np.array([first, shape[axis] - first], np.int64))], 2, axis=axis)
    return rng.choice([a, b])


def op_resize(g: GraphBuilder, x: str) -> str:
    rng = g.rng
    shape = g.shapes[x]
    if len(shape) != 4:
        raise Skip("resize on rank 4")
    mode = rng.choice(["nearest", "linear"])
    scales = np.array([1, 1, rng.choice([1.0, 2.0, 0.5]), rng.choice([1.0, 2.0, 1.5])], np.float32)
    ctm = rng.choice(["asymmetric", "half_pixel", "align_corners", "pytorch_half_pixel"])
    at = {"mode": mode, "coordinate_transformation_mode": ctm}
    if mode == "nearest":
        at["nearest_mode"] = rng.choice(["floor", "round_prefer_floor", "round_prefer_ceil", "ceil"])
    return g.node("Resize", [x, "", g.const(scales)], **at)[0]


OPERATORS: dict[str, Callable[[GraphBuilder, str], str]] = {
    "unary": op_unary, "param-unary": op_param_unary, "binary": op_binary, "compare": op_compare,
    "matmul": op_matmul, "conv": op_conv, "pool": op_pool, "norm": op_norm, "reduce": op_reduce,
    "layout": op_layout, "resize": op_resize,
}
WEIGHTS = {"unary": 3, "param-unary": 3, "binary": 3, "compare": 2, "matmul": 3, "conv": 3, "pool": 2,
           "norm": 2, "reduce": 2, "layout": 5, "resize": 1}


def random_graph(rng: random.Random) -> onnx.ModelProto:
    """A small valid graph: float32 inputs, 1-6 supported operators, one or two float32 outputs."""
    g = GraphBuilder(rng, rng.choice([17, 17, 18, 13]))
    rank = rng.choice([1, 2, 2, 3, 4, 4, 4])
    shape = tuple(rng.choice([1, 2, 3, 4, 5, 8]) for _ in range(rank))
    if rank == 4:
        shape = (rng.randint(1, 2), rng.randint(1, 6), rng.randint(2, 9), rng.randint(2, 9))
    x = g.add_input(shape)
    if rng.random() < 0.3:
        g.add_input(shape if rng.random() < 0.6 else tuple(d if rng.random() < 0.5 else 1 for d in shape))
    names, weights = zip(*WEIGHTS.items())
    target = rng.randint(1, 6)
    made, tries = 0, 0
    while made < target and tries < 40:
        tries += 1
        kind = rng.choices(names, weights)[0]
        before = (len(g.nodes), len(g.inits), dict(g.shapes), dict(g.kinds))
        try:
            x = OPERATORS[kind](g, rng.choice(g.live()) if rng.random() < 0.3 else x)
            made += 1
        except (Skip, IndexError, ValueError):  # the operator does not fit this operand (e.g. rank 0)
            n_nodes, n_inits, shapes, kinds = before
            del g.nodes[n_nodes:]
            del g.inits[n_inits:]
            g.shapes, g.kinds = shapes, kinds
    if g.kinds.get(x) != "f":
        x = g.node("Cast", [x], to=TensorProto.FLOAT)[0]
    outputs = [x]
    extra = [n for n in g.live() if n not in outputs and n not in {i.name for i in g.inputs}]
    if extra and rng.random() < 0.25:
        outputs.append(rng.choice(extra))
    return _with_typed_outputs(g.model(outputs))


def _with_typed_outputs(model: onnx.ModelProto) -> onnx.ModelProto:
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    found = {vi.name: vi for vi in (*inferred.graph.value_info, *inferred.graph.output)}
    outs = [found[o.name] for o in model.graph.output]
    del model.graph.output[:]
    model.graph.output.extend(outs)
    return model
