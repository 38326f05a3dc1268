"""ONNX -> ``fw`` dialect.

The importer is deliberately thin: one small converter per ONNX op that maps
attributes onto an ``fw`` op, with result types from ONNX shape inference
(falling back to the fw op's own shape rule). Initializers go into a
``WeightStore`` and appear as ``fw.weight`` by name; integer constants that
feed shapes (Reshape's shape) are consumed at import time. Every unsupported
node is collected first so the user sees all of them in one error.

Each ``fw`` op made from a node records the node's name in ``kaena.source``
(``node_name``: an unnamed node is ``<OpType>_<index in graph.node>``), so
later passes and messages can say which node an op implements.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    Float32Type,
    ModuleOp,
    StringAttr,
    TensorType,
)
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import VerifyException

from kaena.dialects import framework as fw
from kaena.dialects.attributes import MODEL_NAME_ATTR, NAME_ATTR, set_sources
from kaena.errors import ModelImportError, UnsupportedOperatorError
from kaena.weights import WeightStore, attach

CONTROL_FLOW = frozenset(("If", "Loop", "Scan"))
# Never evaluated at import time (random, training-only or too costly to fold).
_NO_FOLD = frozenset(("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                      "Multinomial", "Bernoulli", "Dropout"))
# Operators Kaena only takes when they fold to constants (shape arithmetic).
FOLD_ONLY = ("Ceil", "ConstantOfShape", "Equal", "Expand", "Floor", "Gather", "Greater", "Less",
             "Range", "ReduceProd", "Shape", "Size", "Slice", "Sqrt", "Where")
CONTROL_FLOW_REASON = "control flow is not supported: partition the model so it runs on the host"

f32 = Float32Type()


class _Unsupported(Exception):
    """A node cannot be imported; the message is the reason shown to the user."""


def _elem_name(elem_type: int) -> str:
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"type {elem_type}"


def _load(model: str | os.PathLike | onnx.ModelProto) -> tuple[str, onnx.ModelProto]:
    if isinstance(model, onnx.ModelProto):
        return (model.graph.name or "<onnx model>"), model
    path = os.fspath(model)
    if not os.path.isfile(path):
        raise ModelImportError(f"{path}: file not found; give the path of an .onnx model")
    try:
        proto = onnx.load(path)
    except Exception as e:  # protobuf DecodeError, external data errors, ...
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ModelImportError(
            f"{path}: not a readable ONNX model ({reason}); re-export it or check the file is complete"
        ) from None
    if not proto.HasField("graph") or proto.ir_version <= 0 or not proto.opset_import:
        raise ModelImportError(
            f"{path}: not an ONNX model (no graph, IR version or opset); "
            "re-export it or check the file is complete"
        )
    return path, proto


def node_name(node: onnx.NodeProto, index: int) -> str:
    """How Kaena names a graph node (``kaena.source``, messages): its ``name``, or
    for an unnamed node ``<OpType>_<index in graph.node>``, stable for a given file."""
    return node.name or f"{node.op_type}_{index}"


def _sanitize(name: str) -> str | None:
    """An SSA name hint from an ONNX tensor name (readability only)."""
    hint = re.sub(r"[^\w$.-]", "_", name)
    if not hint:
        return None
    if hint[0].isdigit():
        hint = "v" + hint
    return hint


class _Importer:
    def __init__(self, proto: onnx.ModelProto, source: str,
                 input_shapes: dict[str, list[int]] | None):
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
            if tt.elem_type != TensorProto.FLOAT:
                raise ModelImportError(
                    f"{self.source}: input '{inp.name}' is {_elem_name(tt.elem_type)}; Kaena models "
                    "take float32 inputs: convert the input outside the model or re-export with float32"
                )
            if inp.name in self.input_shapes:
                shape = [int(d) for d in self.input_shapes[inp.name]]
                known_rank = len(tt.shape.dim) if tt.HasField("shape") else len(shape)
                if len(shape) != known_rank or any(d < 1 for d in shape):
                    raise ModelImportError(
                        f"{self.source}: input_shapes['{inp.name}'] = {shape} must be {known_rank} "
                        "positive dims"
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
            types.append(TensorType(f32, shape))
        return types

    def _infer_shapes(self, input_types: list[TensorType]) -> None:
        model = onnx.ModelProto()
        model.CopyFrom(self.proto)
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
                f"{self.source}: ONNX shape inference failed ({str(e).splitlines()[0]}); "
                "check the model with onnx.checker"
            ) from None
        for vi in (*model.graph.value_info, *model.graph.output):
            tt = vi.type.tensor_type
            if vi.type.HasField("tensor_type") and tt.HasField("shape"):
                dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
                if all(d >= 0 for d in dims) and tt.elem_type == TensorProto.FLOAT:
                    self.types[vi.name] = TensorType(f32, dims)

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
            if arr.dtype != np.float32:
                raise _Unsupported(
                    f"constant '{name}' is {arr.dtype}, only float32 tensors are supported"
                )
            self.store.add(name, arr)
            op = self.emit(fw.WeightOp(name, TensorType(f32, arr.shape)))
            op.results[0].name_hint = _sanitize(name)
            self.weights[name] = op.results[0]
            return op.results[0]
        raise _Unsupported(f"input '{name}' is not produced by any supported node")

    def const(self, name: str, what: str) -> np.ndarray:
        if name not in self.consts:
            raise _Unsupported(f"{what} must be a constant (initializer or Constant node)")
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
        if inferred is None and isinstance(op, fw._FwOp):
            # No static type from ONNX: use the op's own shape rule.
            shape = op.infer_shape([fw.shape_of(o) for o in op.operands])
            result = Rewriter.replace_value_with_new_type(result, TensorType(f32, shape))
        result.name_hint = _sanitize(name)
        try:
            op.verify()
        except VerifyException as e:
            raise _Unsupported(f"invalid node: {e}") from None
        self.values[name] = result

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
        self._infer_shapes(input_types)
        for t in self.graph.initializer:
            self.consts[t.name] = numpy_helper.to_array(t)

        self.block = Block(arg_types=input_types)
        for arg, inp in zip(self.block.args, self._model_inputs()):
            arg.name_hint = _sanitize(inp.name)
            self.values[inp.name] = arg

        poisoned: set[str] = set()
        for index, node in enumerate(self.graph.node):
            # The node's name, or for an unnamed node "<OpType>_<index in graph.node>"
            # (stable for a given file): messages and kaena.source use it.
            name = node_name(node, index)
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
            except _Unsupported as e:
                self.unsupported.append((name, node.op_type, str(e)))
                poisoned.update(node.output)
                continue
            self._mark_sources(last, name)
        if self.unsupported:
            raise UnsupportedOperatorError(self.source, self.unsupported)

        results = []
        for out in self.graph.output:
            try:
                results.append(self.operand(out.name))
            except _Unsupported as e:
                raise ModelImportError(f"{self.source}: output '{out.name}': {e}") from None
        self.emit(func.ReturnOp(*results))

        def names(ns: list[str]) -> ArrayAttr:
            return ArrayAttr([DictionaryAttr({NAME_ATTR: StringAttr(n)}) for n in ns])

        main = func.FuncOp(
            "main",
            (input_types, [r.type for r in results]),
            Region(self.block),
            arg_attrs=names([i.name for i in self._model_inputs()]),
            res_attrs=names([o.name for o in self.graph.output]),
        )
        module = ModuleOp([main])
        module.attributes[MODEL_NAME_ATTR] = StringAttr(self.graph.name or "model")
        attach(module, self.store)
        return module

    def _mark_sources(self, last: Operation | None, name: str) -> None:
        """Every op a node's converter emitted (those after ``last``) implements
        that node: record its name (``kaena.source``). Weights are data, not the node."""
        assert self.block is not None
        op = self.block.first_op if last is None else last.next_op
        while op is not None:
            if not isinstance(op, fw.WeightOp):
                set_sources(op, [name])
            op = op.next_op

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
            at = _attrs(node)
            start, end = at.get("start", 0), at.get("end", len(shape))
            self.consts[node.output[0]] = shape[slice(start, end)]
            return True
        if not all(i in self.consts for i in inputs):
            return False
        if node.op_type == "Constant":
            return False  # handled by its converter (keeps the attribute checks)
        try:
            outputs = _evaluate_node(node, [self.consts[i] if i else None for i in node.input],
                                     self.opset)
        except Exception:
            return False
        for name, value in zip(node.output, outputs):
            if name:
                self.consts[name] = np.asarray(value)
        return True

    def _converter(self, node: onnx.NodeProto) -> Callable[[_Importer, onnx.NodeProto], None] | str:
        """The converter for ``node``, or the reason it is unsupported."""
        if node.domain not in ("", "ai.onnx"):
            return f"operator domain '{node.domain}' is not supported"
        if node.op_type in CONTROL_FLOW:
            return CONTROL_FLOW_REASON
        entry = _CONVERTERS.get(node.op_type)
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


def _evaluate_node(node: onnx.NodeProto, inputs: list[np.ndarray | None], opset: int) -> list:
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


# --- converters ---------------------------------------------------------------------------

def _attrs(node: onnx.NodeProto) -> dict:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _rank(imp: _Importer, name: str) -> int:
    return len(fw.shape_of(imp.operand(name)))


def _unary(cls: type[fw._UnaryOp]) -> Callable[[_Importer, onnx.NodeProto], None]:
    def conv(imp: _Importer, node: onnx.NodeProto) -> None:
        x = imp.operand(node.input[0])
        imp.define(node, imp.emit(cls(x)))
    return conv


def _binary(cls: type[fw._BinaryOp]) -> Callable[[_Importer, onnx.NodeProto], None]:
    def conv(imp: _Importer, node: onnx.NodeProto) -> None:
        a, b = imp.operand(node.input[0]), imp.operand(node.input[1])
        imp.define(node, imp.emit(cls(a, b, a.type)))
    return conv


def _dropout(imp: _Importer, node: onnx.NodeProto) -> None:
    if len(node.output) > 1 and node.output[1]:
        raise _Unsupported("the mask output of Dropout is not supported")
    if len(node.input) > 2 and node.input[2]:
        training = imp.const(node.input[2], "Dropout's training_mode")
        if bool(np.asarray(training).item()):
            raise _Unsupported("Dropout in training mode is not supported")
    imp.define(node, imp.emit(fw.IdentityOp(imp.operand(node.input[0]))))


def _gemm(imp: _Importer, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    a, b = imp.operand(node.input[0]), imp.operand(node.input[1])
    c = imp.operand(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    op = fw.GemmOp(a, b, c, a.type, alpha=at.get("alpha", 1.0), beta=at.get("beta", 1.0),
                   trans_a=bool(at.get("transA", 0)), trans_b=bool(at.get("transB", 0)))
    imp.define(node, imp.emit(op))


def _matmul(imp: _Importer, node: onnx.NodeProto) -> None:
    a, b = imp.operand(node.input[0]), imp.operand(node.input[1])
    imp.define(node, imp.emit(fw.MatmulOp(a, b, a.type)))


def _spatial_pads(at: dict, in_sizes: tuple[int, ...], kernel: list[int], strides: list[int],
                  dilations: list[int]) -> list[int]:
    """ONNX pads [begin_0.., end_0..] for an N-D window, resolving auto_pad."""
    n = len(in_sizes)
    auto = at.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = list(at.get("pads", [0] * 2 * n))
        if len(pads) != 2 * n:
            raise _Unsupported(f"pads {pads} must have {2 * n} entries for a {n}-D window")
        if min(pads, default=0) < 0:
            raise _Unsupported(f"negative pads {pads} are not supported")
        return pads
    if auto == "VALID":
        return [0] * 2 * n
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, large = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else large)
            end.append(large if auto == "SAME_UPPER" else small)
        return begin + end
    raise _Unsupported(f"auto_pad '{auto}' is not supported")


def _reshape_to(imp: _Importer, value: SSAValue, shape: list[int] | tuple[int, ...]) -> SSAValue:
    if fw.shape_of(value) == tuple(shape):
        return value
    return imp.emit(fw.ReshapeOp(value, shape, TensorType(f32, list(shape)))).results[0]


def _define_reshaped(imp: _Importer, node: onnx.NodeProto, value: SSAValue) -> None:
    """Define the node's output as ``value`` reshaped to the output's inferred shape."""
    want = imp.result_type(node.output[0])
    if want is None:
        raise _Unsupported("the output shape cannot be inferred statically: make the shape static")
    imp.define(node, imp.emit(fw.ReshapeOp(value, want.get_shape(), want)))


def _conv(imp: _Importer, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    x, w = imp.operand(node.input[0]), imp.operand(node.input[1])
    bias = imp.operand(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    xs, ws = fw.shape_of(x), fw.shape_of(w)
    if len(xs) not in (3, 4) or len(ws) != len(xs):
        raise _Unsupported(f"only 1-D and 2-D convolution are supported, got input rank {len(xs)}")
    nd = len(xs) - 2
    kernel = list(at.get("kernel_shape", ws[2:]))
    if tuple(kernel) != tuple(ws[2:]):
        raise _Unsupported(f"kernel_shape {kernel} does not match the weight {ws}")
    strides = list(at.get("strides", [1] * nd))
    dilations = list(at.get("dilations", [1] * nd))
    pads = _spatial_pads(at, xs[2:], kernel, strides, dilations)
    group = int(at.get("group", 1))
    if nd == 1:  # 1-D as 2-D with a unit height
        x = _reshape_to(imp, x, (xs[0], xs[1], 1, xs[2]))
        w = _reshape_to(imp, w, (ws[0], ws[1], 1, ws[2]))
        strides, dilations, pads = [1, *strides], [1, *dilations], [0, pads[0], 0, pads[1]]
        ow = fw.pool_output_dim(xs[2], ws[2], strides[1], pads[1], pads[3], dilations[1])
        op = imp.emit(fw.ConvOp(x, w, bias, TensorType(f32, [xs[0], ws[0], 1, ow]), strides=strides,
                                pads=pads, dilations=dilations, group=group))
        _define_reshaped(imp, node, op.results[0])
        return
    op = fw.ConvOp(x, w, bias, x.type, strides=strides, pads=pads, dilations=dilations, group=group)
    imp.define(node, imp.emit(op))


def _pool2d(imp: _Importer, x: SSAValue, avg: bool, kernel: list[int], strides: list[int],
            pads: list[int], ceil: bool, count_include_pad: bool) -> SSAValue:
    xs = fw.shape_of(x)
    out = [fw.pool_output_dim(xs[2 + i], kernel[i], strides[i], pads[i], pads[i + 2],
                              ceil_mode=ceil) for i in range(2)]
    t = TensorType(f32, [xs[0], xs[1], *out])
    if avg:
        op = fw.AveragePoolOp(x, t, kernel, strides, pads, ceil, count_include_pad)
    else:
        op = fw.MaxPoolOp(x, t, kernel, strides, pads, ceil)
    imp.emit(op)
    try:
        op.verify()
    except VerifyException as e:
        raise _Unsupported(f"invalid node: {e}") from None
    return op.results[0]


def _pool(avg: bool) -> Callable[[_Importer, onnx.NodeProto], None]:
    """MaxPool/AveragePool: 2-D directly, 1-D as 2-D with a unit height, 3-D as two
    2-D pools (H,W then D): max and box averages are separable, and so is the
    count of in-bounds elements count_include_pad=0 divides by."""

    def conv(imp: _Importer, node: onnx.NodeProto) -> None:
        at = _attrs(node)
        if len(node.output) > 1 and node.output[1]:
            raise _Unsupported("the Indices output of MaxPool is not supported")
        if any(d != 1 for d in at.get("dilations", [])):
            raise _Unsupported(f"pooling dilations {at['dilations']} are not supported; "
                               "use dilations of 1")
        if at.get("storage_order", 0) != 0:
            raise _Unsupported("storage_order=1 is not supported")
        x = imp.operand(node.input[0])
        xs = fw.shape_of(x)
        nd = len(xs) - 2
        if nd not in (1, 2, 3):
            raise _Unsupported(f"only 1-D to 3-D pooling is supported, got input rank {len(xs)}")
        kernel = list(at["kernel_shape"]) if "kernel_shape" in at else None
        if kernel is None or len(kernel) != nd:
            raise _Unsupported(f"kernel_shape must list {nd} sizes")
        strides = list(at.get("strides", [1] * nd))
        pads = _spatial_pads(at, xs[2:], kernel, strides, [1] * nd)
        ceil = bool(at.get("ceil_mode", 0))
        cip = bool(at.get("count_include_pad", 0))
        if nd == 2:
            _define_or_reshape(imp, node, _pool2d(imp, x, avg, kernel, strides, pads, ceil, cip))
            return
        if nd == 1:
            y = _pool2d(imp, _reshape_to(imp, x, (xs[0], xs[1], 1, xs[2])), avg, [1, kernel[0]],
                        [1, strides[0]], [0, pads[0], 0, pads[1]], ceil, cip)
            _define_reshaped(imp, node, y)
            return
        n, c, d, h, w = xs
        y = _pool2d(imp, _reshape_to(imp, x, (n, c * d, h, w)), avg, kernel[1:], strides[1:],
                    [pads[1], pads[2], pads[4], pads[5]], ceil, cip)
        _, _, oh, ow = fw.shape_of(y)
        y = _pool2d(imp, _reshape_to(imp, y, (n, c, d, oh * ow)), avg, [kernel[0], 1],
                    [strides[0], 1], [pads[0], 0, pads[3], 0], ceil, cip)
        _define_reshaped(imp, node, y)

    return conv


def _define_or_reshape(imp: _Importer, node: onnx.NodeProto, value: SSAValue) -> None:
    """Record ``value`` (already emitted) as the node's output, checking its type."""
    want = imp.result_type(node.output[0])
    if want is not None and want != value.type:
        raise _Unsupported(f"computed shape {fw.shape_of(value)} differs from ONNX's "
                           f"{tuple(want.get_shape())}")
    value.name_hint = _sanitize(node.output[0])
    imp.values[node.output[0]] = value


def _global_average_pool(imp: _Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    if len(xs) < 3:
        raise _Unsupported(f"expects rank >= 3, got {len(xs)}")
    if len(xs) == 4:
        imp.define(node, imp.emit(fw.GlobalAveragePoolOp(x)))
        return
    flat = _reshape_to(imp, x, (xs[0], xs[1], 1, math.prod(xs[2:])))
    y = imp.emit(fw.GlobalAveragePoolOp(flat, TensorType(f32, [xs[0], xs[1], 1, 1])))
    _define_reshaped(imp, node, y.results[0])


def _const_scalar(imp: _Importer, node: onnx.NodeProto, index: int, what: str) -> float | None:
    if len(node.input) <= index or not node.input[index]:
        return None
    value = np.asarray(imp.const(node.input[index], what))
    if value.size != 1:
        raise _Unsupported(f"{what} must be a scalar, got shape {list(value.shape)}")
    return float(value.reshape(()))


def _float_input(imp: _Importer, node: onnx.NodeProto, index: int = 0) -> SSAValue:
    return imp.operand(node.input[index])


def _leaky_relu(imp: _Importer, node: onnx.NodeProto) -> None:
    x = _float_input(imp, node)
    imp.define(node, imp.emit(fw.LeakyReluOp(x, float(_attrs(node).get("alpha", 0.01)))))


def _clip(imp: _Importer, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    x = _float_input(imp, node)
    if imp.opset < 11:
        lo, hi = at.get("min"), at.get("max")
    else:
        bounds = []
        for i in (1, 2):
            name = node.input[i] if len(node.input) > i else ""
            if name and name not in imp.consts:  # a run-time bound: elementwise max/min
                bound = imp.operand(name)
                if fw.shape_of(bound) not in ((), (1,)):
                    raise _Unsupported(f"Clip's bound '{name}' must be a scalar")
                cls = fw.MaxOp if i == 1 else fw.MinOp
                x = imp.emit(cls(x, bound, x.type)).results[0]
                bounds.append(None)
            else:
                bounds.append(_const_scalar(imp, node, i, "Clip's bound"))
        lo, hi = bounds
    imp.define(node, imp.emit(fw.ClipOp(x, lo, hi)))


def _hard_sigmoid(imp: _Importer, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    x = _float_input(imp, node)
    imp.define(node, imp.emit(fw.HardSigmoidOp(x, float(at.get("alpha", 0.2)),
                                               float(at.get("beta", 0.5)))))


def _batch_norm(imp: _Importer, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    if at.get("training_mode", 0) or any(o for o in node.output[1:]):
        raise _Unsupported("training mode (running statistics outputs) is not supported; "
                           "export the model in inference mode")
    if not at.get("spatial", 1):
        raise _Unsupported("spatial=0 is not supported")
    x, scale, bias, mean, var = (imp.operand(i) for i in node.input[:5])
    imp.define(node, imp.emit(fw.BatchNormOp(x, scale, bias, mean, var,
                                             float(at.get("epsilon", 1e-5)))))


def _concat(imp: _Importer, node: onnx.NodeProto) -> None:
    inputs = [imp.operand(i) for i in node.input if i]
    inputs = [v for v in inputs if math.prod(fw.shape_of(v)) > 0] or inputs[:1]
    axis = int(_attrs(node)["axis"])
    rank = len(fw.shape_of(inputs[0]))
    if len(inputs) == 1:
        imp.define(node, imp.emit(fw.IdentityOp(inputs[0])))
        return
    imp.define(node, imp.emit(fw.ConcatOp(inputs, axis + rank if axis < 0 else axis,
                                          inputs[0].type)))


def _raw_axes(imp: _Importer, node: onnx.NodeProto) -> list[int] | None:
    at = _attrs(node)
    if "axes" in at:
        return [int(a) for a in at["axes"]]
    if len(node.input) > 1 and node.input[1]:
        return [int(a) for a in np.asarray(imp.const(node.input[1], "axes")).ravel()]
    return None


def _norm_axes(axes: list[int], rank: int) -> list[int]:
    if any(not -rank <= a < rank for a in axes) or len({a % rank for a in axes}) != len(axes):
        raise _Unsupported(f"axes {axes} are invalid for rank {rank}")
    return sorted(a % rank for a in axes)


def _squeeze(imp: _Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    axes = _raw_axes(imp, node)
    axes = [i for i, d in enumerate(xs) if d == 1] if axes is None else _norm_axes(axes, len(xs))
    if any(xs[a] != 1 for a in axes):
        raise _Unsupported(f"cannot squeeze axes {axes} of shape {list(xs)}")
    shape = [d for i, d in enumerate(xs) if i not in axes]
    imp.define(node, imp.emit(fw.ReshapeOp(x, shape, TensorType(f32, shape))))


def _unsqueeze(imp: _Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    axes = _raw_axes(imp, node)
    if axes is None:
        raise _Unsupported("Unsqueeze needs axes")
    shape = list(fw.shape_of(x))
    for a in _norm_axes(axes, len(shape) + len(axes)):
        shape.insert(a, 1)
    imp.define(node, imp.emit(fw.ReshapeOp(x, shape, TensorType(f32, shape))))


def _pad(imp: _Importer, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    x = imp.operand(node.input[0])
    rank = len(fw.shape_of(x))
    mode = at.get("mode", "constant")
    if mode not in fw.PAD_MODES:
        raise _Unsupported(f"mode '{mode}' is not supported (constant, edge, reflect are)")
    if imp.opset < 11:
        pads, value = list(at.get("pads", [])), float(at.get("value", 0.0))
    else:
        pads = [int(p) for p in np.asarray(imp.const(node.input[1], "Pad's pads")).ravel()]
        value = _const_scalar(imp, node, 2, "Pad's constant_value") or 0.0
        if len(node.input) > 3 and node.input[3]:
            axes = [int(a) % rank for a in np.asarray(imp.const(node.input[3], "Pad's axes")).ravel()]
            full = [0] * (2 * rank)
            for i, a in enumerate(axes):
                full[a], full[a + rank] = pads[i], pads[i + len(axes)]
            pads = full
    if len(pads) != 2 * rank:
        raise _Unsupported(f"pads {pads} must have {2 * rank} entries")
    if min(pads) < 0:
        raise _Unsupported(f"negative pads {pads} (cropping) are not supported")
    out = [d + pads[i] + pads[i + rank] for i, d in enumerate(fw.shape_of(x))]
    imp.define(node, imp.emit(fw.PadOp(x, pads, mode, value, TensorType(f32, out))))


def _nearest_source(out_size: int, in_size: int, scale: float, ctm: str, nearest: str) -> list[int]:
    """ONNX Resize's nearest source index for every output index along one axis."""
    idx = []
    for i in range(out_size):
        if ctm == "asymmetric":
            x = i / scale
        elif ctm == "align_corners":
            x = 0.0 if out_size == 1 else i * (in_size - 1) / (out_size - 1)
        elif ctm == "pytorch_half_pixel":
            x = (i + 0.5) / scale - 0.5 if out_size > 1 else 0.0
        elif ctm == "tf_half_pixel_for_nn":
            x = (i + 0.5) / scale
        elif ctm == "half_pixel":
            x = (i + 0.5) / scale - 0.5
        else:
            raise _Unsupported(f"coordinate_transformation_mode '{ctm}' is not supported")
        if nearest == "floor":
            j = math.floor(x)
        elif nearest == "ceil":
            j = math.ceil(x)
        elif nearest == "round_prefer_ceil":
            j = math.floor(x + 0.5)
        else:  # round_prefer_floor
            j = math.ceil(x - 0.5)
        idx.append(min(max(j, 0), in_size - 1))
    return idx


def _resize(imp: _Importer, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    mode = at.get("mode", "nearest")
    if mode != "nearest":
        raise _Unsupported(f"mode '{mode}' is not supported: only nearest integer upsampling is")
    want = imp.result_type(node.output[0])
    if want is None:
        raise _Unsupported("the output shape cannot be inferred statically: make the scales constant")
    out = tuple(want.get_shape())
    # scales as given (for the coordinate transform); else out / in
    scales = None
    scale_input = 1 if node.op_type == "Upsample" or imp.opset < 11 else 2
    if "scales" in at:
        scales = [float(v) for v in at["scales"]]
    elif len(node.input) > scale_input and node.input[scale_input]:
        arr = np.asarray(imp.const(node.input[scale_input], "Resize's scales")).ravel()
        if arr.size:
            scales = [float(v) for v in arr]
    if scales is not None and "axes" in at:
        full = [1.0] * len(xs)
        for a, sc in zip(at["axes"], scales):
            full[a % len(xs)] = sc
        scales = full
    if scales is None or len(scales) != len(xs):
        scales = [o / i for o, i in zip(out, xs)]
    if node.op_type == "Upsample" or imp.opset < 11:
        ctm, nearest = "asymmetric", "floor"
    else:
        ctm = at.get("coordinate_transformation_mode", "half_pixel")
        nearest = at.get("nearest_mode", "round_prefer_floor")
    ratios = [o // i if i and o % i == 0 else 0 for o, i in zip(out, xs)]
    ok = len(xs) == 4 and ratios[0] == 1 and ratios[1] == 1 and min(ratios) >= 1
    if ok:
        for axis in (2, 3):
            src = _nearest_source(out[axis], xs[axis], scales[axis], ctm, nearest)
            ok = ok and src == [i // ratios[axis] for i in range(out[axis])]
    if not ok:
        raise _Unsupported(
            f"only nearest upsampling of NCHW by integer factors is supported, here {list(xs)} -> "
            f"{list(out)} ({ctm}, {nearest}); resize on the host or change the scales"
        )
    imp.define(node, imp.emit(fw.ResizeNearestOp(x, ratios[2:], want)))


def _variadic(cls: type[fw._BinaryOp]) -> Callable[[_Importer, onnx.NodeProto], None]:
    """ONNX Max/Min of any number of inputs as a chain of binary ops."""

    def conv(imp: _Importer, node: onnx.NodeProto) -> None:
        values = [imp.operand(i) for i in node.input if i]
        acc = values[0]
        for i, v in enumerate(values[1:]):
            op = cls(acc, v, acc.type)
            if i == len(values) - 2:
                imp.define(node, imp.emit(op))
                return
            shape = op.infer_shape([fw.shape_of(acc), fw.shape_of(v)])
            op = imp.emit(cls(acc, v, TensorType(f32, shape)))
            acc = op.results[0]
        imp.define(node, imp.emit(fw.IdentityOp(acc)))

    return conv


def _cast(imp: _Importer, node: onnx.NodeProto) -> None:
    """A cast to float32 of a float32 value is an identity; of a constant, it folds.
    Other casts are only taken on constants (folded before converters run)."""
    if node.op_type == "CastLike":
        like = node.input[1]
        to_float = like in imp.values or (like in imp.consts and imp.consts[like].dtype == np.float32)
    else:
        to_float = _attrs(node).get("to") == TensorProto.FLOAT
    if not to_float:
        raise _Unsupported("only casts to float32 are supported on run-time values")
    if node.input[0] in imp.consts:
        imp.consts[node.output[0]] = np.asarray(imp.consts[node.input[0]], np.float32)
        return
    imp.define(node, imp.emit(fw.IdentityOp(imp.operand(node.input[0]))))


def _hard_swish(imp: _Importer, node: onnx.NodeProto) -> None:
    imp.define(node, imp.emit(fw.HardSwishOp(_float_input(imp, node))))


def _flatten(imp: _Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    imp.define(node, imp.emit(fw.FlattenOp(x, int(_attrs(node).get("axis", 1)), x.type)))


def _reshape(imp: _Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    target = [int(d) for d in imp.const(node.input[1], "Reshape's shape input").ravel()]
    allowzero = bool(_attrs(node).get("allowzero", 0))
    xs = fw.shape_of(x)
    shape = [xs[i] if d == 0 and not allowzero else d for i, d in enumerate(target)]
    if shape.count(-1) > 1 or any(d < -1 for d in shape):
        raise _Unsupported(f"invalid target shape {target}")
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        if known == 0 or math.prod(xs) % known:
            raise _Unsupported(f"cannot reshape {list(xs)} to {target}")
        shape[shape.index(-1)] = math.prod(xs) // known
    imp.define(node, imp.emit(fw.ReshapeOp(x, shape, TensorType(f32, shape))))


def _transpose(imp: _Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    rank = len(fw.shape_of(x))
    perm = list(_attrs(node).get("perm", range(rank - 1, -1, -1)))
    shape = [fw.shape_of(x)[p] for p in perm] if sorted(perm) == list(range(rank)) else fw.shape_of(x)
    imp.define(node, imp.emit(fw.TransposeOp(x, perm, TensorType(f32, shape))))


def _softmax(imp: _Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    axis = int(_attrs(node).get("axis", -1 if imp.opset >= 13 else 1))
    norm = axis + len(xs) if axis < 0 else axis
    if imp.opset >= 13 or norm == len(xs) - 1:
        imp.define(node, imp.emit(fw.SoftmaxOp(x, axis)))
        return
    # Before opset 13 Softmax works on the input flattened to 2-D at `axis`.
    if not 0 <= norm < len(xs):
        raise _Unsupported(f"axis {axis} out of range for rank {len(xs)}")
    flat = [math.prod(xs[:norm]), math.prod(xs[norm:])]
    r = imp.emit(fw.ReshapeOp(x, flat, TensorType(f32, flat)))
    s = imp.emit(fw.SoftmaxOp(r.results[0], 1))
    imp.define(node, imp.emit(fw.ReshapeOp(s.results[0], xs, x.type)))


def _constant(imp: _Importer, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    if "value" in at:
        value = numpy_helper.to_array(at["value"])
    elif "value_float" in at:
        value = np.array(at["value_float"], np.float32)
    elif "value_floats" in at:
        value = np.array(at["value_floats"], np.float32)
    elif "value_int" in at:
        value = np.array(at["value_int"], np.int64)
    elif "value_ints" in at:
        value = np.array(at["value_ints"], np.int64)
    else:
        raise _Unsupported(f"Constant with attribute(s) {', '.join(at)} is not supported")
    imp.consts[node.output[0]] = value


_POOL_ATTRS = {"auto_pad", "ceil_mode", "kernel_shape", "pads", "strides"}
_RESIZE_ATTRS = {"mode", "coordinate_transformation_mode", "nearest_mode", "axes",
                 "cubic_coeff_a", "exclude_outside", "extrapolation_value", "antialias",
                 "keep_aspect_ratio_policy", "scales"}

# ONNX op type -> (attributes the converter understands, converter)
_CONVERTERS: dict[str, tuple[set[str], Callable[[_Importer, onnx.NodeProto], None]]] = {
    "Gemm": ({"alpha", "beta", "transA", "transB"}, _gemm),
    "MatMul": (set(), _matmul),
    "Add": (set(), _binary(fw.AddOp)),
    "Sub": (set(), _binary(fw.SubOp)),
    "Mul": (set(), _binary(fw.MulOp)),
    "Div": (set(), _binary(fw.DivOp)),
    "Relu": (set(), _unary(fw.ReluOp)),
    "Sigmoid": (set(), _unary(fw.SigmoidOp)),
    "Tanh": (set(), _unary(fw.TanhOp)),
    "LeakyRelu": ({"alpha"}, _leaky_relu),
    "Clip": ({"min", "max"}, _clip),
    "HardSigmoid": ({"alpha", "beta"}, _hard_sigmoid),
    "HardSwish": (set(), _hard_swish),
    "Identity": (set(), _unary(fw.IdentityOp)),
    "Max": (set(), _variadic(fw.MaxOp)),
    "Min": (set(), _variadic(fw.MinOp)),
    "Cast": ({"to", "saturate"}, _cast),
    "CastLike": ({"saturate"}, _cast),
    "Dropout": ({"seed", "ratio"}, _dropout),
    "BatchNormalization": ({"epsilon", "momentum", "training_mode", "spatial"}, _batch_norm),
    "Conv": ({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, _conv),
    "MaxPool": (_POOL_ATTRS | {"dilations", "storage_order"}, _pool(avg=False)),
    "AveragePool": (_POOL_ATTRS | {"count_include_pad", "dilations"}, _pool(avg=True)),
    "GlobalAveragePool": (set(), _global_average_pool),
    "Concat": ({"axis"}, _concat),
    "Flatten": ({"axis"}, _flatten),
    "Reshape": ({"allowzero"}, _reshape),
    "Squeeze": ({"axes"}, _squeeze),
    "Unsqueeze": ({"axes"}, _unsqueeze),
    "Transpose": ({"perm"}, _transpose),
    "Softmax": ({"axis"}, _softmax),
    "Pad": ({"mode", "pads", "value"}, _pad),
    "Resize": (_RESIZE_ATTRS, _resize),
    "Upsample": ({"mode", "scales"}, _resize),
    "Constant": ({"value", "value_float", "value_floats", "value_int", "value_ints"}, _constant),
}

SUPPORTED_OPERATORS = tuple(sorted(_CONVERTERS))

# What `kaena-compile --list-operators` prints beside each operator.
OPERATOR_NOTES: dict[str, str] = {
    "AveragePool": "1-D to 3-D; pads, auto_pad, ceil_mode, count_include_pad; no dilations",
    "BatchNormalization": "inference mode; folded into a preceding Conv",
    "Clip": "constant or scalar run-time min/max",
    "Concat": "",
    "Conv": "1-D and 2-D; groups, depthwise, strides, pads, auto_pad, dilations",
    "Dropout": "inference (identity)",
    "Gemm": "",
    "MatMul": "right operand 2-D (or batch 1)",
    "MaxPool": "1-D to 3-D; pads, auto_pad, ceil_mode; no dilations or Indices output",
    "Pad": "constant, edge, reflect; non-negative constant pads",
    "Resize": "nearest, integer upsampling of H and W",
    "Upsample": "nearest, integer upsampling of H and W",
    "Cast": "float32 to float32 at run time; any cast of constants (shape arithmetic)",
    "CastLike": "float32 to float32",
    "Max": "float32; any number of inputs, broadcasting",
    "Min": "float32; any number of inputs, broadcasting",
    "Reshape": "constant shape (or folded shape arithmetic)",
    "Squeeze": "constant axes",
    "Unsqueeze": "constant axes",
}


def list_operators() -> list[tuple[str, str]]:
    """(ONNX operator, note) for everything the importer takes, converters and
    import-time-folded shape arithmetic."""
    rows = [(op, OPERATOR_NOTES.get(op, "")) for op in SUPPORTED_OPERATORS]
    rows += [(op, "folded to a constant at import (shape arithmetic only)") for op in FOLD_ONLY
             if op not in _CONVERTERS]
    return sorted(rows)


def import_onnx(model: str | os.PathLike | onnx.ModelProto, *,
                input_shapes: dict[str, list[int]] | None = None) -> ModuleOp:
    """Import an ONNX model (path or ModelProto) as a ``builtin.module`` holding
    ``func.func @main`` in the ``fw`` dialect, its weights attached in memory.

    ``input_shapes`` fixes the shape of inputs with dynamic dims (e.g. batch).
    Raises ``ModelImportError``/``UnsupportedOperatorError`` for models Kaena cannot take.
    """
    source, proto = _load(model)
    return _Importer(proto, source, input_shapes).run()
