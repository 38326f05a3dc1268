"""The PyTorch importer's core: the module builder, the values of nodes (run-time
SSA values, constants known at export, Python scalars) and the collection of
every unsupported node (getting the program is ``program``).

Parameters, buffers and lifted constants come from the program's graph
signature and state dict; they, and every node computed from them alone
(``arange``, masks, a transposed weight), are evaluated with torch at import
time and appear as ``fw.weight`` only where a run-time value uses them. Each
``fw`` op made from a node records the node in ``kaena.source`` as
``<module path>/<FX node name>`` (the ``nn_module_stack``), so messages and
profiles say which submodule an op implements.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.utils._pytree as pytree
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind, OutputKind
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, Float32Type, ModuleOp, StringAttr, TensorType, i1, i32
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.utils.exceptions import VerifyException

from kaena.dialects import framework as fw
from kaena.dialects.attributes import MODEL_NAME_ATTR, NAME_ATTR
from kaena.errors import ModelImportError, UnsupportedOperatorError
from kaena.frontends.families import mark_sources
from kaena.frontends.torch.program import converter_key, node_source, op_name, output_names, sanitize, source_line
from kaena.weights import WeightStore, attach

f32 = Float32Type()
# torch dtypes Kaena's fw functions carry: integers are i32 (token ids, masks), booleans i1.
ELEMENT_TYPES = {torch.float32: f32, torch.int64: i32, torch.int32: i32, torch.bool: i1}
INPUT_DTYPES = (torch.float32, torch.int64, torch.int32)
# Argument attribute naming the model's own dtype where the function's differs (as the ONNX importer).
INPUT_DTYPE_ATTR = "kaena.input_dtype"

CONTROL_FLOW_OPS = ("cond", "while_loop", "map_impl", "scan", "associative_scan")
CONTROL_FLOW_REASON = (
    "control flow is not supported: export one model per branch and choose between them on the host, "
    "or make the condition a Python constant so torch.export keeps a single branch"
)
# Nodes never evaluated at import, even on constant inputs: their value changes per run.
RANDOM_OPS = ("rand", "randn", "randint", "bernoulli", "native_dropout", "normal", "uniform", "multinomial")

class Unsupported(Exception):
    """A node cannot be imported; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Const:
    """A tensor known at import time (a parameter, a buffer, a folded node); ``name``
    is its weight name if a run-time value needs it."""

    name: str
    tensor: torch.Tensor


@dataclass(frozen=True)
class Missing:
    """An output of a multi-output op Kaena does not compute (BatchNorm's saved mean...)."""

    reason: str


# --- the importer -------------------------------------------------------------------------

# A converter: (importer, node, args, kwargs) with the node's arguments resolved
# (SSAValue for run-time tensors, Const, Python values) -> the node's value.
Converter = Callable[["Importer", torch.fx.Node, tuple, dict], object]


def element_type(dtype: torch.dtype, what: str):
    if dtype not in ELEMENT_TYPES:
        raise Unsupported(f"{what} is {str(dtype).removeprefix('torch.')}; Kaena compiles float32 models "
                          "(integer and bool tensors for ids and masks): convert it with model.float()")
    return ELEMENT_TYPES[dtype]


def tensor_type(val, what: str = "the result") -> TensorType:
    """The fw type of a FakeTensor (a node's ``meta['val']``)."""
    shape = list(val.shape)
    if not all(isinstance(d, int) for d in shape):
        raise Unsupported(f"{what} has a dynamic shape {shape}: export with static shapes")
    return TensorType(element_type(val.dtype, what), shape)


class Importer:
    def __init__(self, ep: ExportedProgram, source: str, converters: dict[str, Converter]):
        self.ep = ep
        self.source = source
        self.converters = converters
        self.store = WeightStore()
        self.env: dict[str, object] = {}
        self.materialized: dict[str, SSAValue] = {}
        self.block = Block()
        self.unsupported: list[tuple[str, str, str]] = []
        self.order = {n: i for i, n in enumerate(ep.graph.nodes)}

    # --- values ---------------------------------------------------------------------------
    def emit(self, op: Operation) -> SSAValue:
        """Add ``op`` (verified: a converter's shape mistake is a clear reason, not a crash)."""
        try:
            op.verify()
        except VerifyException as e:
            raise Unsupported(f"invalid operands: {e}") from None
        self.block.add_op(op)
        return op.results[0]

    def value(self, x, like: SSAValue | None = None) -> SSAValue:
        """A run-time value for ``x``: an SSA value as is, a Const or a Python scalar as an
        ``fw.weight`` (scalars take ``like``'s element type)."""
        if isinstance(x, SSAValue):
            return x
        if isinstance(x, Missing):
            raise Unsupported(x.reason)
        if isinstance(x, bool | int | float):
            dtype = torch.float32
            if like is not None and like.type.element_type == i32:
                dtype = torch.int64 if isinstance(x, int) and not isinstance(x, bool) else torch.float32
            return self.value(Const(f"scalar_{str(dtype).removeprefix('torch.')}_{x}", torch.tensor(x, dtype=dtype)))
        if isinstance(x, Const):
            return self._materialize(x)
        raise Unsupported(f"an operand is a {type(x).__name__}, not a tensor")

    def _materialize(self, c: Const) -> SSAValue:
        if c.name in self.materialized:
            return self.materialized[c.name]
        t = c.tensor.detach()
        if t.dtype == torch.float64:
            t = t.to(torch.float32)
        etype = element_type(t.dtype, f"constant '{c.name}'")
        arr = t.contiguous().numpy()
        if etype != f32 and np.abs(arr.astype(np.int64)).max(initial=0) > 2**24:
            raise Unsupported(f"integer constant '{c.name}' exceeds 2**24 (its float32 weight would round)")
        # The weight store holds float32: integer and bool constants are cast back (exact below 2**24).
        self.store.add(c.name, np.asarray(arr, np.float32))
        op = fw.WeightOp(c.name, TensorType(f32, list(arr.shape)))
        op.results[0].name_hint = sanitize(c.name)
        self.block.add_op(op)
        value = op.results[0]
        if etype != f32:
            value = self.emit(fw.CastOp(value, TensorType(etype, list(arr.shape))))
        self.materialized[c.name] = value
        return value

    def result_type(self, node: torch.fx.Node, index: int | None = None) -> TensorType:
        val = node.meta.get("val")
        if index is not None:
            val = val[index]
        if not isinstance(val, torch.Tensor):
            raise Unsupported("the result is not a tensor")
        return tensor_type(val)

    # --- inputs -------------------------------------------------------------------------------
    def _inputs(self) -> tuple[list[str], list[TensorType], list[str | None]]:
        names, types, dtypes = [], [], []
        sig = self.ep.graph_signature
        placeholders = {n.name: n for n in self.ep.graph.nodes if n.op == "placeholder"}
        for spec in sig.input_specs:
            node = placeholders[spec.arg.name]
            if spec.kind == InputKind.USER_INPUT:
                val = node.meta.get("val")
                if not isinstance(val, torch.Tensor):
                    self.env[node.name] = val  # a specialized Python constant
                    continue
                if val.dtype not in INPUT_DTYPES:
                    raise ModelImportError(
                        f"{self.source}: input '{node.name}' is {str(val.dtype).removeprefix('torch.')}; "
                        "Kaena models take float32 inputs, or int64/int32 ones (token ids, masks)")
                if not all(isinstance(d, int) for d in val.shape):
                    raise ModelImportError(
                        f"{self.source}: input '{node.name}' has dynamic dims {list(val.shape)}; export with "
                        "static shapes (no dynamic_shapes), or pass the nn.Module with example inputs")
                names.append(node.name)
                types.append(TensorType(ELEMENT_TYPES[val.dtype], list(val.shape)))
                dtypes.append("int64" if val.dtype == torch.int64 else None)
            elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER):
                tensor = self.ep.state_dict.get(spec.target)
                if tensor is None:  # a non-persistent buffer
                    tensor = self.ep.constants[spec.target]
                self.env[node.name] = Const(spec.target, tensor)
            elif spec.kind == InputKind.CONSTANT_TENSOR:
                self.env[node.name] = Const(spec.target, self.ep.constants[spec.target])
            else:
                raise ModelImportError(f"{self.source}: input '{node.name}' is a {spec.kind.name.lower()}, "
                                       "which Kaena does not take; export a model of tensors only")
        return names, types, dtypes

    # --- nodes --------------------------------------------------------------------------------
    def _reason_unsupported(self, node: torch.fx.Node) -> str | None:
        target = node.target
        if isinstance(target, torch._ops.HigherOrderOperator):
            if target.name() in CONTROL_FLOW_OPS:
                return CONTROL_FLOW_REASON
            return f"the higher-order operator torch.{target.name()} is not supported"
        return None

    def _fold(self, node: torch.fx.Node, args: tuple, kwargs: dict) -> bool:
        """Evaluate a node whose inputs are all known at import (weights, shapes, masks)."""
        if isinstance(node.target, torch._ops.HigherOrderOperator):
            return False
        if getattr(node.target, "_opname", "").startswith(RANDOM_OPS):
            return False
        if isinstance(node.target, torch._ops.OpOverload) and node.target._schema.is_mutable:
            return False  # never write a parameter or a buffer
        leaves = pytree.tree_leaves((args, kwargs))
        if any(isinstance(x, SSAValue | Missing) for x in leaves):
            return False
        real_args, real_kwargs = pytree.tree_map(lambda x: x.tensor if isinstance(x, Const) else x, (args, kwargs))
        try:
            with torch.no_grad():
                out = node.target(*real_args, **real_kwargs)
        except Exception:
            return False

        # Named after the parameter it derives from: "fc.weight.permute" for a transposed weight.
        base = next((f"{x.name}.{node.name}" for x in leaves if isinstance(x, Const)), node.name)

        def wrap(x, i=None):
            if isinstance(x, torch.Tensor):
                return Const(base if i is None else f"{base}.{i}", x)
            return x

        self.env[node.name] = (tuple(wrap(x, i) for i, x in enumerate(out)) if isinstance(out, list | tuple)
                               else wrap(out))
        return True

    def _resolve(self, node: torch.fx.Node, poisoned: set[str]):
        """The node's args with each input node replaced by its value; None if an input is poisoned."""
        bad = [n for n in node.all_input_nodes if n.name in poisoned]
        if bad:
            return None
        return torch.fx.node.map_arg((node.args, node.kwargs), lambda n: self.env[n.name])

    def _convert(self, node: torch.fx.Node, poisoned: set[str]) -> None:
        name = node_source(node)
        reason = self._reason_unsupported(node)
        resolved = self._resolve(node, poisoned)
        if reason is None and resolved is None:
            poisoned.add(node.name)
            return
        if reason is None and self._fold(node, *resolved):
            return
        key = converter_key(node, self.order)
        conv = self.converters.get(key) if reason is None and key is not None else None
        if reason is None and key is None:
            reason = "an in-place write to a value read again is not supported: use the out-of-place op"
        elif reason is None and conv is None:
            reason = "operator is not supported"
        if reason is None:
            last = self.block.last_op
            try:
                value = conv(self, node, *resolved)
            except Unsupported as e:
                reason = str(e)
            else:
                if isinstance(value, SSAValue):
                    expected = self.result_type(node)
                    if value.type != expected:
                        reason = f"computed {value.type}, torch says {expected}"
                    elif value.name_hint is None:
                        value.name_hint = sanitize(node.name)
                if reason is None:
                    self.env[node.name] = value
                    mark_sources(self.block, last, name)
                    return
        self.unsupported.append((name, op_name(node), reason + source_line(node)))
        poisoned.add(node.name)

    # --- driver ---------------------------------------------------------------------------------
    def run(self) -> ModuleOp:
        mutated = [s for s in self.ep.graph_signature.output_specs if s.kind != OutputKind.USER_OUTPUT]
        if mutated:
            what = ", ".join(f"{s.target or s.arg.name} ({s.kind.name.lower()})" for s in mutated)
            raise ModelImportError(
                f"{self.source}: the model updates state in forward ({what}); Kaena compiles inference: "
                "call model.eval() before export and do not write buffers in forward")
        names, types, dtypes = self._inputs()
        self.block = Block(arg_types=types)
        placeholders = [n for n in self.ep.graph.nodes if n.op == "placeholder"]
        args = iter(self.block.args)
        for node in placeholders:
            if node.name in names:
                arg = next(args)
                arg.name_hint = sanitize(node.name)
                self.env[node.name] = arg
        poisoned: set[str] = set()
        output_node = None
        for node in self.ep.graph.nodes:
            if node.op == "call_function":
                self._convert(node, poisoned)
            elif node.op == "output":
                output_node = node
            elif node.op == "get_attr":
                attr = getattr(self.ep.graph_module, str(node.target), None)
                self.env[node.name] = Const(str(node.target), attr) if isinstance(attr, torch.Tensor) else attr
        if self.unsupported:
            raise UnsupportedOperatorError(self.source, self.unsupported)
        results = self._results(output_node)
        self.block.add_op(func.ReturnOp(*results))

        def attrs(ns: list[str], extra: list[str | None]) -> ArrayAttr:
            dicts = []
            for n, dt in zip(ns, extra):
                entry = {NAME_ATTR: StringAttr(n)}
                if dt is not None:
                    entry[INPUT_DTYPE_ATTR] = StringAttr(dt)
                dicts.append(DictionaryAttr(entry))
            return ArrayAttr(dicts)

        out_names = output_names(self.ep, len(results))
        main = func.FuncOp("main", (types, [r.type for r in results]), Region(self.block),
                           arg_attrs=attrs(names, dtypes), res_attrs=attrs(out_names, [None] * len(results)))
        module = ModuleOp([main])
        module.attributes[MODEL_NAME_ATTR] = StringAttr(self._model_name())
        attach(module, self.store)
        return module

    def _model_name(self) -> str:
        """The exported module's class (``BertModel``), from the root of ``nn_module_stack``."""
        for node in self.ep.graph.nodes:
            stack = node.meta.get("nn_module_stack")
            if stack:
                _path, cls = next(iter(stack.values()))
                name = cls.rsplit(".", 1)[-1] if isinstance(cls, str) else getattr(cls, "__name__", "")
                if name:
                    return sanitize(name) or "model"
        if os.path.exists(self.source):
            return sanitize(os.path.splitext(os.path.basename(self.source))[0]) or "model"
        return "model"

    def _results(self, output_node: torch.fx.Node) -> list[SSAValue]:
        values = torch.fx.node.map_arg(output_node.args[0], lambda n: self.env[n.name])
        results = []
        for i, v in enumerate(pytree.tree_leaves(values)):
            try:
                if isinstance(v, Const):
                    v = Const(f"output_{i}", v.tensor)
                results.append(self.value(v))
            except Unsupported as e:
                raise ModelImportError(f"{self.source}: output {i}: {e}") from None
        if not results:
            raise ModelImportError(f"{self.source}: the model returns no tensor")
        return results


def getitem(imp: Importer, node: torch.fx.Node, args: tuple, kwargs: dict):
    """An output of a multi-output op (``native_layer_norm(...)[0]``)."""
    value, index = args
    item = value[index]
    if isinstance(item, Missing):
        raise Unsupported(item.reason)
    return item


BUILTIN_CONVERTERS: dict[str, Converter] = {"getitem": getitem}
assert operator.getitem.__name__ == "getitem"


# --- helpers for the family modules -------------------------------------------------------------


def shape(v: SSAValue) -> tuple[int, ...]:
    return fw.shape_of(v)


def reshape(imp: Importer, v: SSAValue, to) -> SSAValue:
    to = [int(d) for d in to]
    if shape(v) == tuple(to):
        return v
    return imp.emit(fw.ReshapeOp(v, to, TensorType(v.type.element_type, to)))


def norm_dim(dim: int, rank: int) -> int:
    if not -max(rank, 1) <= dim < max(rank, 1):
        raise Unsupported(f"dim {dim} is out of range for rank {rank}")
    return dim % max(rank, 1)


def unary(cls: type[fw.UnaryOp]) -> Converter:
    def conv(imp: Importer, node: torch.fx.Node, args: tuple, kwargs: dict) -> SSAValue:
        x = imp.value(args[0])
        return imp.emit(cls(x, imp.result_type(node)))
    return conv


def passthrough(imp: Importer, node: torch.fx.Node, args: tuple, kwargs: dict):
    """clone, alias, contiguous...: the value itself."""
    return imp.value(args[0])
