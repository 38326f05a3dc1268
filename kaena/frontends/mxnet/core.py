"""The MXNet importer's core: the module builder, attribute parsing, input
shapes and the collection of every unsupported node.

MXNet symbols carry no shapes, so each converter (in the family modules beside
this one) builds its ``fw`` ops and the result shapes come from the ops' own
shape rules, starting from the input shapes the user gives (or a ``__shape__``
attribute). Parameters from the ``.params`` file go into a ``WeightStore`` and
appear as ``fw.weight`` by their MXNet name. Every fw op made from a node
records the node's name in ``kaena.source``; every unsupported node is
collected first so the user sees all of them in one error.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, Float32Type, ModuleOp, StringAttr, TensorType
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import VerifyException

from kaena.dialects import framework as fw
from kaena.dialects.attributes import MODEL_NAME_ATTR, NAME_ATTR
from kaena.errors import ModelImportError, UnsupportedOperatorError
from kaena.frontends.families import mark_sources
from kaena.frontends.mxnet.symbol import Node, Symbol
from kaena.weights import WeightStore, attach

f32 = Float32Type()
# Integer attributes must fit an i32 (a fuzzed 10**30 must not reach the IR).
ATTR_LIMIT = 2**31

# Inputs an op reads only in training (the labels of loss layers): never model inputs.
TRAINING_ONLY_INPUTS = {"SoftmaxOutput": (1,), "LinearRegressionOutput": (1,),
                        "LogisticRegressionOutput": (1,), "MAERegressionOutput": (1,)}


class Unsupported(Exception):
    """A node cannot be imported; the message is the reason shown to the user."""


# What a family module registers per MXNet op: (attributes the converter understands,
# each with the values it takes or None for any, converter). An attribute outside the
# table (other than MXNet's "__...__" metadata) or a value outside its choices makes the
# node unsupported before any shape is known, so every such node is listed at once.
Attributes = dict[str, "tuple[str, ...] | None"]
Converter = tuple[Attributes, "Callable[[Importer, Node], None]"]


def accepts(*names: str, **choices: tuple[str, ...]) -> Attributes:
    """The attribute table of a converter: ``names`` take any value, ``choices`` those listed."""
    return {**dict.fromkeys(names), **choices}


def sanitize(name: str) -> str | None:
    """An SSA name hint from an MXNet name (readability only)."""
    hint = re.sub(r"[^\w$.-]", "_", name)
    if not hint:
        return None
    return "v" + hint if hint[0].isdigit() else hint


# --- attributes (MXNet writes every attribute as a string) -------------------------------

def _literal(node: Node, key: str):
    text = node.attrs[key].strip()
    if text in ("None", ""):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise Unsupported(f"attribute {key}='{node.attrs[key]}' is not a number or tuple") from None


def tuple_attr(node: Node, key: str, default: tuple[int, ...] | None = None) -> tuple[int, ...] | None:
    if key not in node.attrs:
        return default
    value = _literal(node, key)
    if value is None:
        return default
    value = value if isinstance(value, tuple | list) else (value,)
    if not all(isinstance(v, int) and not isinstance(v, bool) and abs(v) < ATTR_LIMIT for v in value):
        raise Unsupported(f"attribute {key}='{node.attrs[key]}' is not a tuple of integers below 2**31")
    return tuple(value)


def window_attr(node: Node, key: str, nd: int, default: int, minimum: int = 1) -> tuple[int, ...]:
    """A per-axis attribute (kernel, stride, pad, dilate) of ``nd`` entries >= ``minimum``;
    MXNet writes () for "the default on every axis"."""
    value = tuple_attr(node, key) or (default,) * nd
    if len(value) != nd or min(value) < minimum:
        raise Unsupported(f"{key}={list(value)} must be {nd} entries >= {minimum}")
    return value


def int_attr(node: Node, key: str, default: int | None = None) -> int | None:
    if key not in node.attrs:
        return default
    value = _literal(node, key)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= ATTR_LIMIT:
        raise Unsupported(f"attribute {key}='{node.attrs[key]}' is not an integer below 2**31")
    return value


def positive_int_attr(node: Node, key: str, default: int | None = None) -> int:
    value = int_attr(node, key, default)
    if value is None or value < 1:
        raise Unsupported(f"needs a positive {key}, got {node.attrs.get(key, 'none')}")
    return value


def float_attr(node: Node, key: str, default: float | None = None) -> float | None:
    if key not in node.attrs:
        return default
    text = node.attrs[key].strip()
    if text in ("None", ""):
        return default
    try:
        return float(text)
    except ValueError:
        raise Unsupported(f"attribute {key}='{node.attrs[key]}' is not a number") from None


def bool_attr(node: Node, key: str, default: bool) -> bool:
    if key not in node.attrs:
        return default
    text = node.attrs[key].strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    if text == "none":
        return default
    raise Unsupported(f"attribute {key}='{node.attrs[key]}' is not a boolean")


def str_attr(node: Node, key: str, default: str, choices: tuple[str, ...]) -> str:
    value = node.attrs.get(key, default)
    value = default if value == "None" else value
    if value not in choices:
        raise Unsupported(f"{key}='{value}' is not supported ({', '.join(choices)} are)")
    return value


# --- the importer ----------------------------------------------------------------------------

class Importer:
    def __init__(self, symbol: Symbol, params: dict[str, np.ndarray], source: str,
                 input_shapes: dict[str, list[int]] | None, converters: dict[str, Converter]):
        self.symbol = symbol
        self.params = params
        self.source = source
        self.converters = converters
        self.input_shapes = dict(input_shapes or {})
        self.store = WeightStore()
        self.values: dict[tuple[int, int], SSAValue] = {}
        self.weights: dict[str, SSAValue] = {}
        self.block: Block | None = None
        self.unsupported: list[tuple[str, str, str]] = []

    # --- graph inputs --------------------------------------------------------------------
    def model_inputs(self) -> list[Node]:
        """Variables that are not parameters, except labels only loss layers read."""
        used: set[int] = set()
        for node in self.symbol.nodes:
            skip = TRAINING_ONLY_INPUTS.get(node.op, ())
            used.update(src for i, (src, _) in enumerate(node.inputs) if i not in skip)
        used.update(src for src, _ in self.symbol.heads)
        return [n for n in self.symbol.nodes
                if n.is_variable and n.name not in self.params and n.index in used]

    def _input_types(self, inputs: list[Node]) -> list[TensorType]:
        names = [n.name for n in inputs]
        extra = sorted(set(self.input_shapes) - set(names))
        if extra:
            raise ModelImportError(
                f"{self.source}: input_shapes names unknown input(s) {', '.join(extra)}; "
                f"the model's inputs are {', '.join(names) or '(none)'}")
        shapes, missing = [], []
        for node in inputs:
            if node.attrs.get("__dtype__", "0") != "0":
                raise ModelImportError(
                    f"{self.source}: input '{node.name}' has MXNet dtype {node.attrs['__dtype__']}; "
                    "Kaena's MXNet models take float32 inputs")
            if node.name in self.input_shapes:
                shape = [int(d) for d in self.input_shapes[node.name]]
                if not shape or any(d < 1 for d in shape):
                    raise ModelImportError(
                        f"{self.source}: input_shapes['{node.name}'] = {shape} must be positive dims")
            else:
                try:
                    shape = list(tuple_attr(node, "__shape__") or ())
                except Unsupported:
                    shape = []
                if not shape or any(d < 1 for d in shape):
                    missing.append(node.name)
            shapes.append(shape)
        if missing:
            example = ", ".join(f"'{n}': [1, 3, 224, 224]" for n in missing)
            flags = " ".join(f"--input-shapes {n}:1x3x224x224" for n in missing)
            raise ModelImportError(
                f"{self.source}: MXNet symbols carry no input shapes; give the shape of input(s) "
                f"{', '.join(missing)}, e.g. input_shapes={{{example}}} (kaena-compile {flags}); "
                "if one of them is a parameter, the .params file lacks it")
        return [TensorType(f32, s) for s in shapes]

    # --- values --------------------------------------------------------------------------
    def emit(self, op: Operation) -> Operation:
        assert self.block is not None
        self.block.add_op(op)
        return op

    def make(self, op: Operation) -> SSAValue:
        """Emit ``op`` with the result shape from its own rule, verified."""
        self.emit(op)
        result = op.results[0]
        if isinstance(op, fw.FwOp) and not isinstance(op, fw.WeightOp):
            try:
                shape = tuple(op.infer_shape([fw.shape_of(o) for o in op.operands]))
            except VerifyException as e:
                raise Unsupported(f"invalid node: {e}") from None
            if shape != fw.shape_of(result):
                result = Rewriter.replace_value_with_new_type(
                    result, TensorType(result.type.element_type, shape))
        try:
            op.verify()
        except VerifyException as e:
            raise Unsupported(f"invalid node: {e}") from None
        return result

    def define(self, node: Node, value: SSAValue, index: int = 0) -> None:
        """Record ``value`` as output ``index`` of ``node``."""
        value.name_hint = sanitize(node.name)
        self.values[(node.index, index)] = value

    def param(self, node: Node, i: int) -> np.ndarray | None:
        """The parameter array feeding input ``i`` of ``node`` (None if computed)."""
        if i >= len(node.inputs):
            return None
        src = self.symbol.nodes[node.inputs[i][0]]
        return self.params.get(src.name) if src.is_variable else None

    def input(self, node: Node, i: int) -> SSAValue:
        if i >= len(node.inputs):
            raise Unsupported(f"needs input {i}, has {len(node.inputs)}")
        src_index, out = node.inputs[i]
        src = self.symbol.nodes[src_index]
        if src.is_variable and src.name in self.params:
            return self.weight(src.name, self.params[src.name])
        value = self.values.get((src_index, out))
        if value is None:
            if (src_index, 0) in self.values:
                raise Unsupported(f"input {i} is output {out} of '{src.name}' ({src.op}): Kaena computes "
                                  "only its first output (the others are for training)")
            raise Unsupported(f"input {i} is output {out} of '{src.name}', which it does not have")
        return value

    def inputs(self, node: Node) -> list[SSAValue]:
        return [self.input(node, i) for i in range(len(node.inputs))]

    def weight(self, name: str, array: np.ndarray) -> SSAValue:
        """The ``fw.weight`` holding ``array`` (float32), made once per name."""
        if name in self.weights:
            return self.weights[name]
        array = np.asarray(array)
        if array.size == 0:
            raise Unsupported(f"parameter '{name}' has the empty shape {list(array.shape)}")
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise Unsupported(f"parameter '{name}' is {array.dtype}; only numeric parameters are supported")
        if np.issubdtype(array.dtype, np.integer) and np.abs(array.astype(np.int64)).max(initial=0) > 2**24:
            raise Unsupported(f"integer parameter '{name}' exceeds 2**24 (its float32 weight would round)")
        self.store.add(name, np.ascontiguousarray(array, np.float32))
        op = self.emit(fw.WeightOp(name, TensorType(f32, array.shape)))
        op.results[0].name_hint = sanitize(name)
        self.weights[name] = op.results[0]
        return op.results[0]

    def scalar(self, node: Node, key: str, value: float) -> SSAValue:
        """A one-element weight (broadcasts against any shape) named after the node."""
        return self.weight(f"{node.name}.{key}", np.array([value], np.float32))

    # --- driver --------------------------------------------------------------------------
    def _unsupported_nodes(self) -> list[tuple[str, str, str]]:
        return [(n.name, n.op, c) for n in self.symbol.nodes if not n.is_variable
                and isinstance(c := self._converter(n), str)]

    def run(self) -> ModuleOp:
        inputs = self.model_inputs()
        try:
            input_types = self._input_types(inputs)
        except ModelImportError as e:
            # Report unsupported operators in the same message, so one run tells the whole story.
            nodes = self._unsupported_nodes()
            if not nodes:
                raise
            listed = UnsupportedOperatorError(self.source, nodes).message
            raise ModelImportError(f"{e.message}; also {listed.split(': ', 1)[1]}") from None
        self.block = Block(arg_types=input_types)
        for arg, node in zip(self.block.args, inputs):
            arg.name_hint = sanitize(node.name)
            self.values[(node.index, 0)] = arg

        poisoned: set[int] = set()
        for node in self.symbol.nodes:
            if node.is_variable:
                continue
            conv = self._converter(node)
            if isinstance(conv, str):
                self.unsupported.append((node.name, node.op, conv))
                poisoned.add(node.index)
                continue
            if any(src in poisoned for src, _ in node.inputs):
                poisoned.add(node.index)
                continue
            last = self.block.last_op
            try:
                conv(self, node)
            except Unsupported as e:
                self.unsupported.append((node.name, node.op, str(e)))
                poisoned.add(node.index)
                continue
            mark_sources(self.block, last, node.name)
        if self.unsupported:
            raise UnsupportedOperatorError(self.source, self.unsupported)
        return self._finish(inputs, input_types)

    def _finish(self, inputs: list[Node], input_types: list[TensorType]) -> ModuleOp:
        results, names = [], []
        for src, out in self.symbol.heads:
            node = self.symbol.nodes[src]
            value = self.values.get((src, out))
            if value is None:
                raise ModelImportError(f"{self.source}: output {out} of '{node.name}' is not computed "
                                       "by any supported node")
            results.append(value)
            names.append(f"{node.name}_output" + (str(out) if out else ""))
        self.emit(func.ReturnOp(*results))

        def attrs(ns: list[str]) -> ArrayAttr:
            return ArrayAttr([DictionaryAttr({NAME_ATTR: StringAttr(n)}) for n in ns])

        assert self.block is not None
        main = func.FuncOp("main", (input_types, [r.type for r in results]), Region(self.block),
                           arg_attrs=attrs([n.name for n in inputs]), res_attrs=attrs(names))
        module = ModuleOp([main])
        base = os.path.basename(self.source)
        model_name = base[:-len("-symbol.json")] if base.lower().endswith("-symbol.json") else base
        module.attributes[MODEL_NAME_ATTR] = StringAttr(model_name or "model")
        attach(module, self.store)
        return module

    def _converter(self, node: Node) -> Callable[[Importer, Node], None] | str:
        """The converter for ``node``, or the reason it is unsupported."""
        entry = self.converters.get(node.op)
        if entry is None:
            return "operator is not supported"
        known, conv = entry
        for key in sorted(node.attrs):
            if key.startswith("__") and key.endswith("__"):
                continue
            if key not in known:
                return f"attribute '{key}' is not supported"
            value, choices = node.attrs[key], known[key]
            if choices is not None and value != "None" and value not in choices:
                return f"{key}='{value}' is not supported ({', '.join(choices)} are)"
        return conv


def reshape_to(imp: Importer, value: SSAValue, shape: tuple[int, ...] | list[int]) -> SSAValue:
    if fw.shape_of(value) == tuple(shape):
        return value
    return imp.make(fw.ReshapeOp(value, list(shape), TensorType(f32, list(shape))))


def unary(cls: type[fw.UnaryOp]) -> Callable[[Importer, Node], None]:
    def conv(imp: Importer, node: Node) -> None:
        imp.define(node, imp.make(cls(imp.input(node, 0))))
    return conv


def check_layout(node: Node, rank: int) -> None:
    layout = node.attrs.get("layout", "None")
    want = {3: "NCW", 4: "NCHW", 5: "NCDHW"}.get(rank)
    if layout not in ("None", want):
        raise Unsupported(f"layout '{layout}' is not supported (channels first, {want}, is)")
