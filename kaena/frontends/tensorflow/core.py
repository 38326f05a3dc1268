"""The TensorFlow importer's core: the graph walk, import-time folding, the
layout of every value and the collection of every unsupported node.

Layout: TensorFlow's convolutions are NHWC, Kaena's ``fw`` ops NCHW. Each
imported value carries ``perm``, the permutation with ``fw value =
transpose(tf value, perm)``: a Conv2D's result is NCHW (``perm = (0, 3, 1, 2)``)
and stays so through the elementwise ops, batch norms, pads, concats and
reductions after it (their axes and constants are permuted at import, never
the activations). Only where an op needs TensorFlow's own order (a Reshape, a
MatMul, a model output) is a value put back, and a permutation that moves only
unit dims is a free reshape. What remains is at most one ``fw.transpose`` per
NHWC model input and 4-D output, which the lowering does as one strided
DRAM-to-DRAM DMA (no engine instruction).

Folding: every node computable from constants (Const, Identity, shape
arithmetic, Shape/Size/Rank of a statically shaped value) is evaluated by
TensorFlow itself, in one session run, before the walk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, Float32Type, ModuleOp, StringAttr, TensorType
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.utils.exceptions import VerifyException

from kaena.dialects import framework as fw
from kaena.dialects.attributes import MODEL_NAME_ATTR, NAME_ATTR, set_sources, sources_of
from kaena.errors import ModelImportError, UnsupportedOperatorError
from kaena.frontends.tensorflow.load import FrozenGraph, quiet_stderr, tensor_name
from kaena.weights import WeightStore, attach

f32 = Float32Type()
NCHW = (0, 3, 1, 2)

CONTROL_FLOW = frozenset((
    "While", "StatelessWhile", "If", "StatelessIf", "Case", "StatelessCase", "Enter", "Exit", "Merge",
    "Switch", "NextIteration", "LoopCond", "PartitionedCall", "StatefulPartitionedCall",
))
CONTROL_FLOW_REASON = (
    "control flow (tf.while_loop / tf.cond) is not supported: Kaena compiles straight-line graphs; "
    "unroll the loop with a static trip count (a Python loop in the tf.function), or run the loop on "
    "the host and compile its body"
)
# Never evaluated at import: inputs, randomness, state and control flow.
_NO_FOLD = CONTROL_FLOW | {
    "Placeholder", "PlaceholderWithDefault", "NoOp", "RandomUniform", "RandomStandardNormal",
    "StatelessRandomUniformV2", "StatelessRandomNormalV2", "TruncatedNormal", "VarHandleOp",
    "ReadVariableOp", "Assert", "Print", "PrintV2",
}
_SHAPE_OPS = frozenset(("Shape", "Size", "Rank", "ShapeN"))
# Nodes that forward their input unchanged at inference.
PASS_THROUGH = frozenset(("Identity", "StopGradient", "PreventGradient", "Snapshot", "EnsureShape",
                          "CheckNumerics"))
DT_FLOAT = 1


class Unsupported(Exception):
    """A node cannot be imported; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Value:
    """An imported tensor: the fw value and its layout (``fw = transpose(tf, perm)``)."""

    ssa: SSAValue
    perm: tuple[int, ...]

    @property
    def tf_shape(self) -> tuple[int, ...]:
        shape = fw.shape_of(self.ssa)
        out = [0] * len(shape)
        for i, p in enumerate(self.perm):
            out[p] = shape[i]
        return tuple(out)


def identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def sanitize(name: str) -> str | None:
    hint = re.sub(r"[^\w$.-]", "_", name.split(":")[0].split("/")[-1])
    if not hint:
        return None
    return "v" + hint if hint[0].isdigit() else hint


def attr(node, key: str, default=None):
    """A NodeDef attribute as a Python value (bytes decoded, lists as lists)."""
    if key not in node.attr:
        return default
    a = node.attr[key]
    kind = a.WhichOneof("value")
    if kind == "list":
        lst = a.list
        for field in ("i", "f", "s", "type", "b"):
            vals = list(getattr(lst, field))
            if vals:
                return [v.decode() if isinstance(v, bytes) else v for v in vals]
        return []
    value = getattr(a, kind) if kind else default
    return value.decode() if isinstance(value, bytes) else value


def data_inputs(node) -> list[str]:
    return [tensor_name(i) for i in node.input if not i.startswith("^")]


Converter = Callable[["Importer", object], None]


class Importer:
    def __init__(self, frozen: FrozenGraph, input_shapes: dict[str, list[int]] | None,
                 converters: dict[str, Converter]):
        self.frozen = frozen
        self.source = frozen.source
        self.converters = converters
        self.user_shapes = dict(input_shapes or {})
        self.nodes = {n.name: n for n in frozen.graph_def.node}
        self.store = WeightStore()
        self.consts: dict[str, np.ndarray] = {}
        self.values: dict[str, Value] = {}
        self.weights: dict[str, SSAValue] = {}
        self.relaid: dict[tuple[str, tuple[int, ...]], SSAValue] = {}
        self.uses: dict[str, int] = {}
        for n in frozen.graph_def.node:
            for i in data_inputs(n):
                self.uses[i] = self.uses.get(i, 0) + 1
        self.block: Block | None = None
        self.current: str | None = None  # the node being converted

    # --- inputs ------------------------------------------------------------------
    def _input_types(self) -> list[TensorType]:
        names = self.frozen.input_names
        extra = sorted(set(self.user_shapes) - set(names))
        if extra:
            raise ModelImportError(f"{self.source}: input_shapes names unknown input(s) {', '.join(extra)}; "
                                   f"the model's inputs are {', '.join(names)}")
        types = []
        for name, tensor, declared in zip(names, self.frozen.input_tensors, self.frozen.input_shapes):
            node = self.nodes[tensor.split(":")[0]]
            if attr(node, "dtype") != DT_FLOAT:
                raise ModelImportError(f"{self.source}: input '{name}' is not float32; Kaena's TensorFlow "
                                       "frontend takes float32 inputs: cast outside the model")
            shape = self.user_shapes.get(name, declared)
            if shape is None or any(d is None or d < 1 for d in shape):
                example = [1 if d is None or d < 1 else d for d in (shape or [1])]
                raise ModelImportError(
                    f"{self.source}: input '{name}' has a dynamic shape {shape}; give a static one, e.g. "
                    f"input_shapes={{'{name}': {example}}} (kaena-compile --input-shapes "
                    f"{name}:{'x'.join(map(str, example))})")
            if declared is not None and (len(declared) != len(shape) or any(
                    d is not None and d != s for d, s in zip(declared, shape))):
                raise ModelImportError(f"{self.source}: input_shapes['{name}'] = {list(shape)} does not fit "
                                       f"the model's declared shape {declared}")
            types.append(TensorType(f32, [int(d) for d in shape]))
        return types

    # --- folding -----------------------------------------------------------------------
    def _order(self) -> list:
        """The nodes in a topological order (a GraphDef need not be sorted)."""
        order, state = [], {}
        for root in self.frozen.graph_def.node:
            stack = [(root, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    state[node.name] = 2
                    order.append(node)
                    continue
                if state.get(node.name):
                    continue
                state[node.name] = 1
                stack.append((node, True))
                for i in node.input:
                    dep = self.nodes.get(i.lstrip("^").split(":")[0])
                    if dep is not None and not state.get(dep.name):
                        stack.append((dep, False))
        return order

    def _fold(self, order: list, input_types: list[TensorType]) -> set[str]:
        """Evaluate every constant-computable node at import: Const and
        pass-through nodes directly, the rest (shape arithmetic, parameter
        algebra) by TensorFlow itself in one session run of just those nodes;
        returns the folded nodes' names."""
        from kaena.frontends.tensorflow.load import _tf

        tf = _tf()
        folded: set[str] = set()
        computed = []
        for node in order:
            if node.op in _NO_FOLD:
                continue
            ins = data_inputs(node)
            if node.op == "Const":
                self.consts[f"{node.name}:0"] = tf.make_ndarray(node.attr["value"].tensor)
            elif node.op in PASS_THROUGH and ins and ins[0] in self.consts:
                self.consts[f"{node.name}:0"] = self.consts[ins[0]]
            elif node.op in _SHAPE_OPS or (ins and all(i.split(":")[0] in folded for i in ins)):
                computed.append(node)
            else:
                continue
            folded.add(node.name)
        needed = {i for n in order if n.name not in folded for i in data_inputs(n)}
        needed |= set(self.frozen.output_tensors)
        fetch = sorted(t for t in needed if t.split(":")[0] in {n.name for n in computed})
        if not fetch:
            return folded
        graph = tf.Graph()
        with graph.as_default():
            tf.graph_util.import_graph_def(self._subgraph(fetch), name="")
        feeds = {t: np.zeros(ty.get_shape(), np.float32)
                 for t, ty in zip(self.frozen.input_tensors, input_types) if t.split(":")[0] in self.subgraph_nodes}
        off = tf.compat.v1.ConfigProto(graph_options=tf.compat.v1.GraphOptions(
            optimizer_options=tf.compat.v1.OptimizerOptions(opt_level=tf.compat.v1.OptimizerOptions.L0)))
        off.graph_options.rewrite_options.disable_meta_optimizer = True
        try:
            with quiet_stderr(), tf.compat.v1.Session(graph=graph, config=off) as sess:
                values = sess.run(fetch, feed_dict=feeds)
        except Exception as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ModelImportError(f"{self.source}: evaluating the graph's constants failed ({reason})") from None
        for name, value in zip(fetch, values):
            self.consts[name] = np.asarray(value)
        return folded

    def _subgraph(self, fetch: list[str]):
        """The GraphDef of just the nodes ``fetch`` depends on."""
        keep, stack = set(), [t.split(":")[0] for t in fetch]
        while stack:
            name = stack.pop()
            if name in keep or name not in self.nodes:
                continue
            keep.add(name)
            stack.extend(i.lstrip("^").split(":")[0] for i in self.nodes[name].input)
        self.subgraph_nodes = keep
        sub = type(self.frozen.graph_def)()
        sub.versions.CopyFrom(self.frozen.graph_def.versions)
        sub.library.CopyFrom(self.frozen.graph_def.library)
        sub.node.extend(n for n in self.frozen.graph_def.node if n.name in keep)
        return sub

    # --- values --------------------------------------------------------------------------
    def emit(self, op: Operation) -> SSAValue:
        """Append ``op`` (typed by its shape rule when it is an fw op) and return its result."""
        assert self.block is not None
        try:
            if isinstance(op, fw.FwOp) and not isinstance(op, fw.WeightOp):
                typed(op)
            op.verify()
        except VerifyException as e:
            raise Unsupported(f"invalid node: {e}") from None
        if self.current is not None and not isinstance(op, fw.WeightOp):
            # every op a node's converter emits implements that node (kaena.source)
            set_sources(op, [*sources_of(op), self.current])
        self.block.add_op(op)
        return op.results[0]

    def is_const(self, name: str) -> bool:
        return name in self.consts

    def const(self, name: str, what: str) -> np.ndarray:
        if name not in self.consts:
            raise Unsupported(f"{what} must be a constant (computed at run time here)")
        return self.consts[name]

    def weight(self, array: np.ndarray, name: str) -> SSAValue:
        """A float32 weight in the store, emitted once per name."""
        if name not in self.weights:
            array = np.asarray(array)
            if array.dtype != np.float32:
                if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
                    raise Unsupported(f"constant '{name}' is {array.dtype}; only float32 is computed on")
                array = array.astype(np.float32)
            self.store.add(name, array)
            op = fw.WeightOp(name, TensorType(f32, array.shape))
            op.results[0].name_hint = sanitize(name)
            self.weights[name] = self.emit(op)
        return self.weights[name]

    def value(self, name: str) -> Value:
        """The tensor ``name`` in whatever layout it has (constants as plain weights)."""
        if name in self.values:
            return self.values[name]
        if name in self.consts:
            arr = self.consts[name]
            return Value(self.weight(arr, name), identity(arr.ndim))
        raise Unsupported(f"input '{name}' is not produced by any supported node")

    def tf_shape(self, name: str) -> tuple[int, ...]:
        if name in self.consts:
            return tuple(self.consts[name].shape)
        return self.value(name).tf_shape

    def in_layout(self, name: str, perm: Sequence[int]) -> SSAValue:
        """The tensor ``name`` as fw value ``transpose(tf, perm)``: constants are
        permuted at import, values reshaped (unit dims only) or transposed once."""
        perm = tuple(perm)
        if name in self.consts and name not in self.values:
            arr = self.consts[name]
            if perm == identity(arr.ndim):
                return self.weight(arr, name)
            return self.weight(np.transpose(arr, perm), f"{name}/perm{''.join(map(str, perm))}")
        v = self.value(name)
        if v.perm == perm:
            return v.ssa
        key = (name, perm)
        if key not in self.relaid:
            self.relaid[key] = relayout(self, v, perm)
        return self.relaid[key]

    def plain(self, name: str) -> SSAValue:
        """The tensor in TensorFlow's own dim order."""
        return self.in_layout(name, identity(len(self.tf_shape(name))))

    def nchw(self, name: str) -> SSAValue:
        return self.in_layout(name, NCHW)

    def define(self, node, ssa: SSAValue, perm: Sequence[int] | None = None, index: int = 0) -> None:
        """Record ``ssa`` as the node's output ``index`` (in layout ``perm``, default plain)."""
        ssa.name_hint = sanitize(node.name)
        rank = len(fw.shape_of(ssa))
        self.values[f"{node.name}:{index}"] = Value(ssa, tuple(perm) if perm is not None else identity(rank))

    # --- driver ----------------------------------------------------------------------
    def run(self) -> ModuleOp:
        order = self._order()
        try:
            input_types = self._input_types()
        except ModelImportError as e:
            nodes = self._unsupported_kinds(order)
            if not nodes:
                raise
            listed = UnsupportedOperatorError(self.source, nodes).message
            raise ModelImportError(f"{e.message}; also {listed.split(': ', 1)[1]}") from None
        nodes = self._unsupported_kinds(order)
        if any(why == CONTROL_FLOW_REASON for _, _, why in nodes):
            # control flow: nothing is evaluated (its loop may not even terminate on zeros)
            raise UnsupportedOperatorError(self.source, nodes)
        folded = self._fold(order, input_types)

        self.block = Block(arg_types=input_types)
        for arg, tensor, name in zip(self.block.args, self.frozen.input_tensors, self.frozen.input_names):
            arg.name_hint = sanitize(name)
            self.values[tensor] = Value(arg, identity(len(arg.type.get_shape())))
        unsupported, poisoned = self._walk(order, folded)
        if unsupported:
            raise UnsupportedOperatorError(self.source, unsupported)

        results = []
        for tensor, name in zip(self.frozen.output_tensors, self.frozen.output_names):
            try:
                results.append(self.plain(tensor))
            except Unsupported as e:
                raise ModelImportError(f"{self.source}: output '{name}': {e}") from None
        self.block.add_op(func.ReturnOp(*results))

        def names(ns: list[str]) -> ArrayAttr:
            return ArrayAttr([DictionaryAttr({NAME_ATTR: StringAttr(n)}) for n in ns])

        main = func.FuncOp("main", (input_types, [r.type for r in results]), Region(self.block),
                           arg_attrs=names(self.frozen.input_names), res_attrs=names(self.frozen.output_names))
        module = ModuleOp([main])
        module.attributes[MODEL_NAME_ATTR] = StringAttr(self.frozen.model_name or "model")
        attach(module, self.store)
        return module

    def _unsupported_kinds(self, order: list) -> list[tuple[str, str, str]]:
        """Nodes no converter takes (found before anything is evaluated)."""
        out = []
        for node in order:
            reason = self._reason(node)
            if reason is not None:
                out.append((node.name, node.op, reason))
        return out

    def _reason(self, node) -> str | None:
        if node.op in CONTROL_FLOW:
            return CONTROL_FLOW_REASON
        if node.op in ("Const", "Placeholder", "NoOp") or node.op in PASS_THROUGH or node.op in _SHAPE_OPS:
            return None
        if node.op not in self.converters:
            return "operator is not supported"
        return None

    def _walk(self, order: list, folded: set[str]) -> tuple[list, set]:
        unsupported: list[tuple[str, str, str]] = []
        poisoned: set[str] = set()
        for node in order:
            if node.name in folded or node.op in ("Placeholder", "NoOp"):
                continue
            ins = data_inputs(node)
            reason = self._reason(node)
            if reason is not None and node.op not in _SHAPE_OPS:
                unsupported.append((node.name, node.op, reason))
                poisoned.add(node.name)
                continue
            if any(i.split(":")[0] in poisoned for i in ins):
                poisoned.add(node.name)
                continue
            self.current = node.name
            try:
                if node.op in PASS_THROUGH:
                    self.values[f"{node.name}:0"] = self.value(ins[0])
                elif node.op in _SHAPE_OPS:
                    raise Unsupported("the shape is not static")
                else:
                    check_dtype(node)
                    self.converters[node.op](self, node)
            except Unsupported as e:
                unsupported.append((node.name, node.op, str(e)))
                poisoned.add(node.name)
                continue
        self.current = None
        return unsupported, poisoned


def check_dtype(node) -> None:
    t = attr(node, "T")
    if isinstance(t, int) and t != DT_FLOAT:
        from kaena.frontends.tensorflow.load import _tf

        raise Unsupported(f"{_tf().dtypes.as_dtype(t).name} tensors are not supported (float32 only)")


def relayout(imp: Importer, v: Value, perm: tuple[int, ...]) -> SSAValue:
    """``v`` re-laid-out to ``perm``: a reshape when only unit dims move, else one transpose."""
    q = [v.perm.index(p) for p in perm]
    shape = fw.shape_of(v.ssa)
    out = [shape[i] for i in q]
    elt = v.ssa.type.element_type
    if [i for i in q if shape[i] != 1] == [i for i in range(len(shape)) if shape[i] != 1]:
        return imp.emit(fw.ReshapeOp(v.ssa, out, TensorType(elt, out)))
    return imp.emit(fw.TransposeOp(v.ssa, q, TensorType(elt, out)))


def typed(op: Operation) -> Operation:
    """Give an fw op built with a placeholder result type its shape rule's type."""
    from xdsl.rewriter import Rewriter

    result = op.results[0]
    shape = op.infer_shape([fw.shape_of(o) for o in op.operands])
    if tuple(fw.shape_of(result)) != tuple(shape):
        Rewriter.replace_value_with_new_type(result, TensorType(result.type.element_type, list(shape)))
    return op


def permute_axis(axis: int, perm: Sequence[int]) -> int:
    """Where TensorFlow axis ``axis`` sits in an fw value of layout ``perm``."""
    rank = len(perm)
    return list(perm).index(axis % rank)


def result_perm(perm: Sequence[int], kept: Sequence[int]) -> tuple[int, ...]:
    """The layout left when only the TF axes ``kept`` survive (renumbered in order)."""
    rank_of = {a: i for i, a in enumerate(sorted(kept))}
    return tuple(rank_of[p] for p in perm if p in rank_of)


def padding_of(node, in_hw: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
               dilations: Sequence[int], nhwc: bool) -> list[int]:
    """fw pads [top, left, bottom, right] for TensorFlow's SAME / VALID / EXPLICIT."""
    padding = attr(node, "padding", "VALID")
    if padding == "VALID":
        return [0, 0, 0, 0]
    if padding == "SAME":
        begin, end = [], []
        for size, k, s, d in zip(in_hw, kernel, strides, dilations):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            begin.append(total // 2)
            end.append(total - total // 2)
        return [begin[0], begin[1], end[0], end[1]]
    if padding == "EXPLICIT":
        p = [int(x) for x in attr(node, "explicit_paddings", [])]
        h, w = (1, 2) if nhwc else (2, 3)
        if len(p) != 8:
            raise Unsupported(f"explicit_paddings {p} must have 8 entries")
        return [p[2 * h], p[2 * w], p[2 * h + 1], p[2 * w + 1]]
    raise Unsupported(f"padding '{padding}' is not supported")


def spatial(node, key: str, nhwc: bool, default: int = 1) -> list[int]:
    """The H and W entries of a 4-entry NHWC/NCHW attribute (strides, dilations, ksize)."""
    v = attr(node, key, [default] * 4)
    if len(v) != 4:
        raise Unsupported(f"{key} {v} must have 4 entries")
    n, c = (v[0], v[3]) if nhwc else (v[0], v[1])
    if n != 1 or c != 1:
        raise Unsupported(f"{key} {v} must be 1 on the batch and channel dims")
    return [int(v[1]), int(v[2])] if nhwc else [int(v[2]), int(v[3])]


def data_format(node) -> bool:
    """Whether the node is NHWC (True) or NCHW; raises for anything else."""
    fmt = attr(node, "data_format", "NHWC")
    if fmt not in ("NHWC", "NCHW"):
        raise Unsupported(f"data_format '{fmt}' is not supported (NHWC and NCHW are)")
    return fmt == "NHWC"
