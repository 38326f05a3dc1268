"""The ONNX importer's core: shape inference, the module builder and
the error collection.

The importer is deliberately thin: one small converter per ONNX op (in the
family modules beside this one) that maps attributes onto an ``fw`` op, with
result types from ONNX shape inference (falling back to the fw op's own shape
rule). Initializers go into a ``WeightStore`` and appear as ``fw.weight`` by
name; integer constants that feed shapes (Reshape's shape) are consumed at
import time. Every unsupported node is collected first so the user sees all
of them in one error.

Each ``fw`` op made from a node records the node's name in ``kaena.source``
(``node_name``: an unnamed node is ``<OpType>_<index in graph.node>``), so
later passes and messages can say which node an op implements.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, Float32Type, ModuleOp, StringAttr, TensorType, i1, i32
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import VerifyException

from kaena.dialects import framework as fw
from kaena.dialects.attributes import MODEL_NAME_ATTR, NAME_ATTR
from kaena.errors import ModelImportError, UnsupportedOperatorError
from kaena.frontends.families import mark_sources
from kaena.frontends.onnx.loading import ir3_problem, shape_only_copy
from kaena.frontends.onnx.validity import (
    definition_problems,
    drop_detached_uses,
    garbled_names,
    schema_problem,
    strict_inference_problem,
)
from kaena.weights import MappedArray, WeightStore, attach

CONTROL_FLOW = frozenset(("If", "Loop", "Scan"))


_NO_FOLD = frozenset(("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                      "Multinomial", "Bernoulli", "Dropout"))


FOLD_ONLY = ("Ceil", "ConstantOfShape", "Equal", "Expand", "Floor", "Gather", "Greater", "Less",
             "Range", "ReduceProd", "Shape", "Size", "Slice", "Sqrt", "Trilu", "Where")


CONTROL_FLOW_REASON = "control flow is not supported: partition the model so it runs on the host"


f32 = Float32Type()
# ONNX element types Kaena's fw and ktensor functions carry: integers are i32
# (token ids and masks are far below 2**31), booleans i1.
# Narrower integers widen to i32 exactly; uint32/uint64 values must fit int32 (the
# runtime checks every value on the host, as for int64).
_WIDENED = (TensorProto.INT8, TensorProto.INT16, TensorProto.UINT8, TensorProto.UINT16,
            TensorProto.UINT32, TensorProto.UINT64)
ELEMENT_TYPES = {TensorProto.FLOAT: f32, TensorProto.INT64: i32, TensorProto.INT32: i32,
                 TensorProto.BOOL: i1, **{t: i32 for t in _WIDENED}}
# The model inputs Kaena takes: integers become i32 in the function and the NEFF,
# bool i1 (stored as float32 0.0/1.0 in the NEFF); the host converts.
INPUT_TYPES = (TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL, *_WIDENED)
# Argument attribute naming the model's own dtype where the function's differs.
INPUT_DTYPE_ATTR = "kaena.input_dtype"
INPUT_DTYPE_NAMES = {TensorProto.INT64: "int64", TensorProto.BOOL: "bool",
                     **{t: TensorProto.DataType.Name(t).lower() for t in _WIDENED}}


def element_type_of(dtype: np.dtype):
    """The fw element type for a numpy dtype (constants), or None."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return f32
    if dtype == np.bool_:
        return i1
    if np.issubdtype(dtype, np.integer):
        return i32
    return None


class Unsupported(Exception):
    """A node cannot be imported; the message is the reason shown to the user."""


class InvalidNode(Unsupported):
    """A node contradicts itself or its operands (e.g. a Conv whose weight does not match
    its input's channels): the model is invalid, which no operator support would fix."""


def elem_name(elem_type: int) -> str:
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"type {elem_type}"


def node_name(node: onnx.NodeProto, index: int) -> str:
    """How Kaena names a graph node (``kaena.source``, messages): its ``name``, or
    for an unnamed node ``<OpType>_<index in graph.node>``, stable for a given file."""
    return node.name or f"{node.op_type}_{index}"


def sanitize(name: str) -> str | None:
    """An SSA name hint from an ONNX tensor name (readability only)."""
    hint = re.sub(r"[^\w$.-]", "_", name)
    if not hint:
        return None
    if hint[0].isdigit():
        hint = "v" + hint
    return hint


# What a family module registers per ONNX op type: (attributes the converter
# understands, converter). An attribute outside the set makes the node unsupported.
Converter = tuple[set[str], "Callable[[Importer, onnx.NodeProto], None]"]


class Importer:
    def __init__(self, proto: onnx.ModelProto, source: str,
                 input_shapes: dict[str, list[int]] | None, converters: dict[str, Converter],
                 mapped: dict[int, MappedArray] | None = None):
        self.converters = converters
        # initializers left in the model file, by index (their tensors hold no data)
        self.mapped_initializers = dict(mapped or {})
        self.mapped: dict[str, tuple[MappedArray, np.ndarray]] = {}  # ... by name: (entry, its view in consts)
        self.source = source
        self.proto = proto
        self.graph = proto.graph
        self.opset = next(
            (o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0
        )
        self.input_shapes = dict(input_shapes or {})
        self.store = WeightStore()
        self.consts: dict[str, np.ndarray] = {}
        self.values: dict[str, SSAValue] = {}
        self.weights: dict[str, SSAValue] = {}
        self.types: dict[str, TensorType] = {}
        self.block: Block | None = None
        self.unsupported: list[tuple[str, str, str]] = []
        self.invalid: list[tuple[str, str, str]] = []

    # --- inputs and shapes ------------------------------------------------------
    def _model_inputs(self) -> list[onnx.ValueInfoProto]:
        inits = {t.name for t in self.graph.initializer}
        return [i for i in self.graph.input if i.name not in inits]

    def _input_types(self) -> list[TensorType]:
        inputs = self._model_inputs()
        names = [i.name for i in inputs]
        extra = sorted(set(self.input_shapes) - set(names))
        if extra:
            raise ModelImportError(
                f"{self.source}: input_shapes names unknown input(s) {', '.join(extra)}; "
                f"the model's inputs are {', '.join(names)}"
            )
        types = []
        for inp in inputs:
            tt = inp.type.tensor_type
            if not inp.type.HasField("tensor_type"):
                raise ModelImportError(f"{self.source}: input '{inp.name}' is not a tensor")
            if tt.elem_type not in INPUT_TYPES:
                raise ModelImportError(
                    f"{self.source}: input '{inp.name}' is {elem_name(tt.elem_type)}; Kaena models "
                    "take float32, integer (held as int32) and bool inputs: convert the input "
                    "outside the model or re-export it"
                )
            if inp.name in self.input_shapes:
                shape = [int(d) for d in self.input_shapes[inp.name]]
                known_rank = len(tt.shape.dim) if tt.HasField("shape") else len(shape)
                if len(shape) != known_rank or any(d < 1 for d in shape):
                    raise ModelImportError(
                        f"{self.source}: input_shapes['{inp.name}'] = {shape} must be {known_rank} "
                        "positive dims"
                    )
                fixed = [(i, d.dim_value) for i, d in enumerate(tt.shape.dim)
                         if d.HasField("dim_value") and d.dim_value > 0 and d.dim_value != shape[i]]
                if fixed:
                    i, size = fixed[0]
                    raise ModelImportError(
                        f"{self.source}: input_shapes['{inp.name}'] = {shape} contradicts the model: its "
                        f"dimension {i} is fixed at {size}; only dynamic dimensions can be given a size "
                        "(re-export the model with a dynamic dimension to change it)"
                    )
            else:
                if not tt.HasField("shape"):
                    raise ModelImportError(
                        f"{self.source}: input '{inp.name}' has no shape; give a static shape with "
                        f"input_shapes={{'{inp.name}': [...]}} (kaena-compile --input-shapes {inp.name}:D0xD1...)"
                    )
                shape = []
                for i, d in enumerate(tt.shape.dim):
                    if d.HasField("dim_value") and d.dim_value == 0:
                        raise ModelImportError(
                            f"{self.source}: input '{inp.name}' dimension {i} has size 0; "
                            "Kaena compiles non-empty tensors only"
                        )
                    if not d.HasField("dim_value") or d.dim_value < 1:
                        what = f"'{d.dim_param}'" if d.dim_param else "unknown"
                        example = [x.dim_value if x.dim_value > 0 else 1 for x in tt.shape.dim]
                        raise ModelImportError(
                            f"{self.source}: input '{inp.name}' dimension {i} is dynamic ({what}); "
                            f"give a static shape, e.g. input_shapes={{'{inp.name}': {example}}} "
                            f"(kaena-compile --input-shapes {inp.name}:{'x'.join(map(str, example))})"
                        )
                    shape.append(d.dim_value)
            types.append(TensorType(ELEMENT_TYPES[tt.elem_type], shape))
        return types

    def _infer_shapes(self, input_types: list[TensorType]) -> None:
        model = shape_only_copy(self.proto)
        g = model.graph
        by_name = {i.name: t for i, t in zip(self._model_inputs(), input_types)}
        for inp in g.input:
            if inp.name in by_name:
                shape = inp.type.tensor_type.shape
                del shape.dim[:]
                for d in by_name[inp.name].get_shape():
                    shape.dim.add().dim_value = d
        # Stale annotations from an export with other shapes would conflict.
        del g.value_info[:]
        if self.input_shapes:
            for out in g.output:
                out.type.tensor_type.ClearField("shape")
        try:
            model = onnx.shape_inference.infer_shapes(model, data_prop=True)
        except Exception as e:
            raise ModelImportError(
                f"{self.source}: the model is invalid: ONNX shape inference fails on it "
                f"({str(e).splitlines()[0]}); fix the model or its exporter "
                "(onnx.checker.check_model(model, full_check=True) checks it)"
            ) from None
        for vi in (*model.graph.value_info, *model.graph.output):
            tt = vi.type.tensor_type
            if vi.type.HasField("tensor_type") and tt.HasField("shape"):
                dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
                if all(d >= 0 for d in dims) and tt.elem_type in ELEMENT_TYPES:
                    self.types[vi.name] = TensorType(ELEMENT_TYPES[tt.elem_type], dims)

    # --- values ----------------------------------------------------------------------
    def emit(self, op: Operation) -> Operation:
        assert self.block is not None
        self.block.add_op(op)
        return op

    def operand(self, name: str) -> SSAValue:
        if name in self.values:
            return self.values[name]
        if name in self.weights:
            return self.weights[name]
        if name in self.consts:
            arr = self.consts[name]
            etype = element_type_of(arr.dtype)
            if etype is None:
                raise Unsupported(f"constant '{name}' is {arr.dtype}, only float32, integer and bool "
                                  "tensors are supported")
            if etype != f32 and np.abs(arr.astype(np.int64)).max(initial=0) > 2**24:
                raise Unsupported(f"integer constant '{name}' exceeds 2**24 (its float32 weight would round)")
            # The weight store holds float32: an integer or bool constant is a
            # float32 weight (exact below 2**24) cast to i32 / i1. A float32 weight
            # still in the model file stays there (read when a pass needs it).
            mapped = self.mapped.get(name)
            if mapped is not None and arr is mapped[1] and arr.dtype == np.float32:
                self.store.add_mapped(name, mapped[0])
            else:
                self.store.add(name, np.asarray(arr, np.float32))
            op = self.emit(fw.WeightOp(name, TensorType(f32, arr.shape)))
            op.results[0].name_hint = sanitize(name)
            value = op.results[0]
            if etype != f32:
                value = self.emit(fw.CastOp(value, TensorType(etype, arr.shape))).results[0]
            self.weights[name] = value
            return value
        raise Unsupported(f"input '{name}' is not produced by any supported node")

    def const(self, name: str, what: str) -> np.ndarray:
        if name not in self.consts:
            raise Unsupported(f"{what} must be a constant (initializer or Constant node)")
        return self.consts[name]

    def result_type(self, name: str) -> TensorType | None:
        return self.types.get(name)

    def define(self, node: onnx.NodeProto, op: Operation, index: int = 0) -> None:
        """Give ``op`` the inferred type of the node's output and record it."""
        name = node.output[index]
        result = op.results[0]
        inferred = self.result_type(name)
        if inferred is not None and inferred != result.type:
            result = Rewriter.replace_value_with_new_type(result, inferred)
        try:
            if inferred is None and isinstance(op, fw.FwOp):
                # No static type from ONNX: use the op's own shape rule.
                shape = op.infer_shape([fw.shape_of(o) for o in op.operands])
                result = Rewriter.replace_value_with_new_type(
                    result, TensorType(result.type.element_type, shape))
            result.name_hint = sanitize(name)
            op.verify()
        except VerifyException as e:
            raise InvalidNode(str(e).removeprefix("'fw.").split("' ", 1)[-1]) from None
        self.values[name] = result

    # --- validity -------------------------------------------------------------------------
    def _check_valid(self) -> None:
        """What makes a model invalid rather than unsupported: no outputs, names that are not
        text, an opset newer than ONNX itself, values read before or defined more than once
        (``validity``)."""
        if not self.graph.output:
            raise ModelImportError(f"{self.source}: the model has no outputs: there is nothing to compile")
        problems = garbled_names(self.graph)
        if problems:  # protobuf hands out names that are not valid UTF-8 as bytes
            raise self._invalid_model(problems)
        newest = onnx.defs.onnx_opset_version()
        for imp in self.proto.opset_import:
            if imp.domain in ("", "ai.onnx") and not 1 <= imp.version <= newest:
                raise ModelImportError(
                    f"{self.source}: the model imports ONNX opset {imp.version}, but opsets go from 1 to "
                    f"{newest} (ONNX {onnx.__version__}); re-export it with a released opset"
                )
        problems = definition_problems(self.graph)
        if problems:
            raise self._invalid_model(problems)

    def _invalid_model(self, problems: list[tuple[str, str, str]]) -> ModelImportError:
        listed = "; ".join(f"'{name}' ({op}): {why}" for name, op, why in problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        return ModelImportError(
            f"{self.source}: the model is invalid: {listed}{more}. Fix the model or its exporter "
            "(onnx.checker.check_model(model, full_check=True) checks it)"
        )

    # --- driver ---------------------------------------------------------------------------
    def run(self) -> ModuleOp:
        try:
            input_types = self._input_types()
        except ModelImportError as e:
            # Report unsupported operators in the same message, so one run tells the whole story.
            nodes = [(node_name(node, i), node.op_type, conv)
                     for i, node in enumerate(self.graph.node)
                     if isinstance(conv := self._converter(node), str)]
            if not nodes:
                raise
            listed = UnsupportedOperatorError(self.source, nodes).message
            raise ModelImportError(f"{e.message}; also {listed.split(': ', 1)[1]}") from None
        self._check_valid()
        self._infer_shapes(input_types)
        for index, t in enumerate(self.graph.initializer):
            self.mapped.pop(t.name, None)
            if index in self.mapped_initializers:
                # a view of the file: its pages are read only if the importer folds it
                entry = self.mapped_initializers[index]
                self.consts[t.name] = entry.load()
                self.mapped[t.name] = (entry, self.consts[t.name])
                continue
            if t.data_type not in TensorProto.DataType.values() or t.data_type == TensorProto.UNDEFINED:
                raise ModelImportError(
                    f"{self.source}: the model is invalid: initializer '{t.name}' has data type "
                    f"{t.data_type}, which ONNX does not define; re-export the model"
                )
            try:
                self.consts[t.name] = numpy_helper.to_array(t)
            except (ValueError, TypeError) as e:
                raise ModelImportError(
                    f"{self.source}: the model is invalid: initializer '{t.name}' does not hold the "
                    f"{math.prod(t.dims)} values its dims {list(t.dims)} need ({e}); re-export the model"
                ) from None

        self.block = Block(arg_types=input_types)
        for arg, inp in zip(self.block.args, self._model_inputs()):
            arg.name_hint = sanitize(inp.name)
            self.values[inp.name] = arg

        poisoned: set[str] = set()
        for index, node in enumerate(self.graph.node):
            # The node's name, or for an unnamed node "<OpType>_<index in graph.node>"
            # (stable for a given file): messages and kaena.source use it.
            name = node_name(node, index)
            invalid = schema_problem(node, self.opset)
            if invalid is not None:
                self.invalid.append((name, node.op_type, invalid))
                poisoned.update(node.output)
                continue
            if not any(i in poisoned for i in node.input) and self._fold(node):
                continue
            conv = self._converter(node)
            if isinstance(conv, str):
                self.unsupported.append((name, node.op_type, conv))
                poisoned.update(node.output)
                continue
            if any(i in poisoned for i in node.input):
                poisoned.update(node.output)
                continue
            last = self.block.last_op
            try:
                conv(self, node)
            except InvalidNode as e:
                self.invalid.append((name, node.op_type, str(e)))
                poisoned.update(node.output)
                continue
            except Unsupported as e:
                self.unsupported.append((name, node.op_type, str(e)))
                poisoned.update(node.output)
                continue
            except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError):
                # A converter takes its node to be valid: if ONNX's strict inference says the
                # model is not, that is the answer; otherwise it is Kaena's bug.
                problem = strict_inference_problem(shape_only_copy(self.proto))
                if problem is None:
                    raise
                self.invalid.append((name, node.op_type, problem))
                poisoned.update(node.output)
                continue
            mark_sources(self.block, last, name)
        if self.invalid:
            raise self._invalid_model(self.invalid)
        if self.unsupported:
            unsupported = UnsupportedOperatorError(self.source, self.unsupported)
            problem = ir3_problem(self.proto) or strict_inference_problem(shape_only_copy(self.proto))
            if problem is not None:
                # Advice to replace operators is wrong for a model that is broken anyway.
                raise ModelImportError(
                    f"{self.source}: the model is invalid: {problem}. Fix the model or its exporter "
                    f"(onnx.checker.check_model(model, full_check=True) checks it); "
                    f"also {unsupported.message.split(': ', 1)[1].split('. Replace', 1)[0]}"
                )
            raise unsupported

        results = []
        for out in self.graph.output:
            try:
                results.append(self.operand(out.name))
            except Unsupported as e:
                raise ModelImportError(f"{self.source}: output '{out.name}': {e}") from None
        wrong = [("(graph output)", out.name, f"declared {elem_name(out.type.tensor_type.elem_type)}, but the "
                  f"graph computes {r.type.element_type}")
                 for out, r in zip(self.graph.output, results) if out.type.tensor_type.elem_type
                 and ELEMENT_TYPES.get(out.type.tensor_type.elem_type) != r.type.element_type]
        if wrong:
            raise self._invalid_model(wrong)
        self.emit(func.ReturnOp(*results))
        drop_detached_uses(self.block)

        def names(ns: list[str], dtypes: list[int | None] | None = None) -> ArrayAttr:
            dicts = []
            for n, dt in zip(ns, dtypes or [None] * len(ns)):
                entry = {NAME_ATTR: StringAttr(n)}
                if dt is not None and dt in INPUT_DTYPE_NAMES:
                    # the model's int64 input is i32 here (and in the NEFF):
                    # the runtime converts on the host
                    entry[INPUT_DTYPE_ATTR] = StringAttr(INPUT_DTYPE_NAMES[dt])
                dicts.append(DictionaryAttr(entry))
            return ArrayAttr(dicts)

        inputs = self._model_inputs()
        main = func.FuncOp(
            "main",
            (input_types, [r.type for r in results]),
            Region(self.block),
            arg_attrs=names([i.name for i in inputs], [i.type.tensor_type.elem_type for i in inputs]),
            res_attrs=names([o.name for o in self.graph.output]),
        )
        module = ModuleOp([main])
        module.attributes[MODEL_NAME_ATTR] = StringAttr(self.graph.name or "model")
        attach(module, self.store)
        return module

    def _fold(self, node: onnx.NodeProto) -> bool:
        """Evaluate ``node`` at import time when its inputs are all constants
        (shape arithmetic: Shape, Gather, Concat, Cast, Unsqueeze...), or when it
        is Shape/Size of a statically shaped value. Returns whether it folded."""
        if node.domain not in ("", "ai.onnx") or node.op_type in CONTROL_FLOW | _NO_FOLD:
            return False
        inputs = [i for i in node.input if i]
        if node.op_type in ("Shape", "Size") and inputs and inputs[0] not in self.consts:
            if inputs[0] not in self.values:
                return False
            shape = np.array(fw.shape_of(self.values[inputs[0]]), np.int64)
            if node.op_type == "Size":
                self.consts[node.output[0]] = np.array(int(np.prod(shape)), np.int64)
                return True
            at = attrs(node)
            start, end = at.get("start", 0), at.get("end", len(shape))
            self.consts[node.output[0]] = shape[slice(start, end)]
            return True
        if not all(i in self.consts for i in inputs):
            return False
        if node.op_type == "Constant":
            return False  # handled by its converter (keeps the attribute checks)
        try:
            outputs = evaluate_node(node, [self.consts[i] if i else None for i in node.input],
                                     self.opset)
        except Exception:
            return False
        for name, value in zip(node.output, outputs):
            if name:
                self.consts[name] = np.asarray(value)
        return True

    def _converter(self, node: onnx.NodeProto) -> Callable[[Importer, onnx.NodeProto], None] | str:
        """The converter for ``node``, or the reason it is unsupported."""
        if node.domain not in ("", "ai.onnx"):
            return f"operator domain '{node.domain}' is not supported"
        if node.op_type in CONTROL_FLOW:
            return CONTROL_FLOW_REASON
        entry = self.converters.get(node.op_type)
        if entry is None and node.op_type in FOLD_ONLY:
            return ("supported only when it folds to a constant (shape arithmetic); here an input "
                    "is computed at run time: make the shape static")
        if entry is None:
            return "operator is not supported"
        known, conv = entry
        for attr in node.attribute:
            if attr.name not in known:
                return f"attribute '{attr.name}' is not supported"
        return conv


def evaluate_node(node: onnx.NodeProto, inputs: list[np.ndarray | None], opset: int) -> list:
    """Run one node on constant inputs with ONNX's reference evaluator."""
    from onnx.reference import ReferenceEvaluator

    names = [f"in{i}" if v is not None else "" for i, v in enumerate(inputs)]
    n = onnx.NodeProto()
    n.CopyFrom(node)
    del n.input[:]
    n.input.extend(names)
    del n.output[:]
    n.output.extend(f"out{i}" for i in range(len(node.output)))
    graph = helper.make_graph(
        [n], "fold",
        [helper.make_tensor_value_info(nm, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for nm, v in zip(names, inputs) if v is not None],
        [helper.make_empty_tensor_value_info(f"out{i}") for i in range(len(node.output))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", max(opset, 1))])
    feeds = {nm: v for nm, v in zip(names, inputs) if v is not None}
    return ReferenceEvaluator(model).run(None, feeds)


def attrs(node: onnx.NodeProto) -> dict:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


