"""ONNX -> ``fw`` dialect.

The importer is deliberately thin: one small converter per ONNX op that maps
attributes onto an ``fw`` op, with result types from ONNX shape inference
(falling back to the fw op's own shape rule). Initializers go into a
``WeightStore`` and appear as ``fw.weight`` by name; integer constants that
feed shapes (Reshape's shape) are consumed at import time. Every unsupported
node is collected first so the user sees all of them in one error.
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
from kaena.errors import ModelImportError, UnsupportedOperatorError
from kaena.weights import WeightStore, attach

MODEL_NAME_ATTR = "kaena.model_name"
NAME_ATTR = "kaena.name"
CONTROL_FLOW = ("If", "Loop", "Scan")
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
        input_types = self._input_types()
        self._infer_shapes(input_types)
        for t in self.graph.initializer:
            self.consts[t.name] = numpy_helper.to_array(t)

        self.block = Block(arg_types=input_types)
        for arg, inp in zip(self.block.args, self._model_inputs()):
            arg.name_hint = _sanitize(inp.name)
            self.values[inp.name] = arg

        poisoned: set[str] = set()
        for index, node in enumerate(self.graph.node):
            name = node.name or f"{node.op_type}_{index}"
            conv = self._converter(node)
            if isinstance(conv, str):
                self.unsupported.append((name, node.op_type, conv))
                poisoned.update(node.output)
                continue
            if any(i in poisoned for i in node.input):
                poisoned.update(node.output)
                continue
            try:
                conv(self, node)
            except _Unsupported as e:
                self.unsupported.append((name, node.op_type, str(e)))
                poisoned.update(node.output)
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

    def _converter(self, node: onnx.NodeProto) -> Callable[[_Importer, onnx.NodeProto], None] | str:
        """The converter for ``node``, or the reason it is unsupported."""
        if node.domain not in ("", "ai.onnx"):
            return f"operator domain '{node.domain}' is not supported"
        if node.op_type in CONTROL_FLOW:
            return CONTROL_FLOW_REASON
        entry = _CONVERTERS.get(node.op_type)
        if entry is None:
            return "operator is not supported"
        known, conv = entry
        for attr in node.attribute:
            if attr.name not in known:
                return f"attribute '{attr.name}' is not supported"
        return conv


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


def _spatial_pads(at: dict, in_hw: tuple[int, ...], kernel: list[int], strides: list[int],
                  dilations: list[int]) -> list[int]:
    """ONNX pads [top, left, bottom, right], resolving auto_pad."""
    auto = at.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = list(at.get("pads", [0, 0, 0, 0]))
        if len(pads) != 4:
            raise _Unsupported(f"pads {pads} must have 4 entries for a 2-D window")
        return pads
    if auto == "VALID":
        return [0, 0, 0, 0]
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(in_hw, kernel, strides, dilations):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, large = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else large)
            end.append(large if auto == "SAME_UPPER" else small)
        return begin + end
    raise _Unsupported(f"auto_pad '{auto}' is not supported")


def _conv(imp: _Importer, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    x, w = imp.operand(node.input[0]), imp.operand(node.input[1])
    bias = imp.operand(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    xs, ws = fw.shape_of(x), fw.shape_of(w)
    if len(xs) != 4:
        raise _Unsupported(f"only 2-D convolution (4-D NCHW input) is supported, got rank {len(xs)}")
    kernel = list(at.get("kernel_shape", ws[2:]))
    if tuple(kernel) != tuple(ws[2:]):
        raise _Unsupported(f"kernel_shape {kernel} does not match the weight {ws}")
    strides = list(at.get("strides", [1, 1]))
    dilations = list(at.get("dilations", [1, 1]))
    pads = _spatial_pads(at, xs[2:], kernel, strides, dilations)
    op = fw.ConvOp(x, w, bias, x.type, strides=strides, pads=pads, dilations=dilations,
                   group=int(at.get("group", 1)))
    imp.define(node, imp.emit(op))


def _pool(avg: bool) -> Callable[[_Importer, onnx.NodeProto], None]:
    def conv(imp: _Importer, node: onnx.NodeProto) -> None:
        at = _attrs(node)
        if len(node.output) > 1 and node.output[1]:
            raise _Unsupported("the Indices output of MaxPool is not supported")
        if any(d != 1 for d in at.get("dilations", [1, 1])):
            raise _Unsupported(f"pooling dilations {at['dilations']} are not supported")
        if at.get("storage_order", 0) != 0:
            raise _Unsupported("storage_order=1 is not supported")
        x = imp.operand(node.input[0])
        xs = fw.shape_of(x)
        if len(xs) != 4:
            raise _Unsupported(f"only 2-D pooling (4-D NCHW input) is supported, got rank {len(xs)}")
        kernel = list(at["kernel_shape"]) if "kernel_shape" in at else None
        if kernel is None or len(kernel) != 2:
            raise _Unsupported("kernel_shape must list 2 sizes")
        strides = list(at.get("strides", [1, 1]))
        pads = _spatial_pads(at, xs[2:], kernel, strides, [1, 1])
        ceil = bool(at.get("ceil_mode", 0))
        if avg:
            op = fw.AveragePoolOp(x, x.type, kernel, strides, pads, ceil,
                                  bool(at.get("count_include_pad", 0)))
        else:
            op = fw.MaxPoolOp(x, x.type, kernel, strides, pads, ceil)
        imp.define(node, imp.emit(op))
    return conv


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
    "Identity": (set(), _unary(fw.IdentityOp)),
    "Dropout": ({"seed", "ratio"}, _dropout),
    "Conv": ({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, _conv),
    "MaxPool": (_POOL_ATTRS | {"dilations", "storage_order"}, _pool(avg=False)),
    "AveragePool": (_POOL_ATTRS | {"count_include_pad", "dilations"}, _pool(avg=True)),
    "GlobalAveragePool": (set(), _unary(fw.GlobalAveragePoolOp)),
    "Flatten": ({"axis"}, _flatten),
    "Reshape": ({"allowzero"}, _reshape),
    "Transpose": ({"perm"}, _transpose),
    "Softmax": ({"axis"}, _softmax),
    "Constant": ({"value", "value_float", "value_floats", "value_int", "value_ints"}, _constant),
}

SUPPORTED_OPERATORS = tuple(sorted(_CONVERTERS))


def import_onnx(model: str | os.PathLike | onnx.ModelProto, *,
                input_shapes: dict[str, list[int]] | None = None) -> ModuleOp:
    """Import an ONNX model (path or ModelProto) as a ``builtin.module`` holding
    ``func.func @main`` in the ``fw`` dialect, its weights attached in memory.

    ``input_shapes`` fixes the shape of inputs with dynamic dims (e.g. batch).
    Raises ``ModelImportError``/``UnsupportedOperatorError`` for models Kaena cannot take.
    """
    source, proto = _load(model)
    return _Importer(proto, source, input_shapes).run()
