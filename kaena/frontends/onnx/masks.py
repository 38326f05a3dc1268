"""Casts, comparisons and selection: attention masks.

Integer tensors are i32 and booleans i1 at the fw level (see ``core.ELEMENT_TYPES``):
``Cast`` between float32, integers and bool at run time is ``fw.cast``;
``Equal``/``Less``/``Greater``/... give i1 (``fw.compare``), ``Not`` is
``fw.not``, ``And`` is ``fw.where(a, b, false)``, ``IsNaN`` is ``not (x == x)``,
``Where`` is ``fw.where``, ``Expand`` of a run-time tensor
``fw.expand``. All of them fold at import when their inputs are constants
(``Trilu``, ``Range``, ``ConstantOfShape`` only do: causal masks are constants)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto
from xdsl.dialects.builtin import TensorType, i1

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import ELEMENT_TYPES, Importer, Unsupported, attrs, element_type_of, f32


def _cast(imp: Importer, node: onnx.NodeProto) -> None:
    """Cast between float32, integers (i32) and bool (i1); a cast that keeps the
    element type is an identity, a cast of a constant folds."""
    if node.op_type == "CastLike":
        like = node.input[1]
        if like in imp.consts:
            target = element_type_of(imp.consts[like].dtype)
        else:
            target = imp.operand(like).type.element_type
        to_np = None
    else:
        to = attrs(node).get("to")
        target = ELEMENT_TYPES.get(to)
        to_np = helper_np_dtype(to)
    if target is None:
        raise Unsupported("only casts to float32, int32, int64 and bool are supported on run-time values")
    if node.input[0] in imp.consts:
        arr = imp.consts[node.input[0]]
        if to_np is None:
            to_np = imp.consts[node.input[1]].dtype if node.input[1] in imp.consts else np.float32
        imp.consts[node.output[0]] = np.asarray(arr).astype(to_np)
        return
    x = imp.operand(node.input[0])
    if x.type.element_type == target:
        imp.define(node, imp.emit(fw.IdentityOp(x)))
        return
    imp.define(node, imp.emit(fw.CastOp(x, TensorType(target, x.type.get_shape()))))


def helper_np_dtype(to: int | None):
    try:
        return onnx.helper.tensor_dtype_to_np_dtype(to)
    except Exception:
        return None


def _compare(kind: str):
    def conv(imp: Importer, node: onnx.NodeProto) -> None:
        a, b = imp.operand(node.input[0]), imp.operand(node.input[1])
        if a.type.element_type != b.type.element_type:
            raise Unsupported(f"operands are {a.type.element_type} and {b.type.element_type}")
        shape = np.broadcast_shapes(fw.shape_of(a), fw.shape_of(b))
        imp.define(node, imp.emit(fw.CompareOp(kind, a, b, TensorType(i1, shape))))
    return conv


def _not(imp: Importer, node: onnx.NodeProto) -> None:
    imp.define(node, imp.emit(fw.NotOp(imp.operand(node.input[0]))))


def _logical(kind: str):
    def conv(imp: Importer, node: onnx.NodeProto) -> None:
        a, b = imp.operand(node.input[0]), imp.operand(node.input[1])
        if not a.type.element_type == b.type.element_type == i1:
            raise Unsupported(f"operands are {a.type.element_type} and {b.type.element_type}; bool expected")
        shape = np.broadcast_shapes(fw.shape_of(a), fw.shape_of(b))
        imp.define(node, imp.emit(fw.LogicalOp(kind, a, b, TensorType(i1, shape))))
    return conv


def _where(imp: Importer, node: onnx.NodeProto) -> None:
    c, a, b = (imp.operand(i) for i in node.input[:3])
    shape = np.broadcast_shapes(*(fw.shape_of(v) for v in (c, a, b)))
    imp.define(node, imp.emit(fw.WhereOp(c, a, b, TensorType(a.type.element_type, shape))))


def _is_nan(imp: Importer, node: onnx.NodeProto) -> None:
    """IsNaN as ``not (x == x)``: NaN is the only value unequal to itself (IEEE
    comparison on the vector engine). The exporters guard softmax with it."""
    x = imp.operand(node.input[0])
    if x.type.element_type != f32:
        raise Unsupported(f"input is {x.type.element_type}; only float32 is supported")
    same = imp.emit(fw.CompareOp("equal", x, x, TensorType(i1, fw.shape_of(x)))).results[0]
    imp.define(node, imp.emit(fw.NotOp(same)))


def _expand(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    shape = [int(d) for d in np.asarray(imp.const(node.input[1], "Expand's shape")).ravel()]
    try:
        out = tuple(np.broadcast_shapes(fw.shape_of(x), shape))
    except ValueError:
        raise Unsupported(f"{list(fw.shape_of(x))} does not broadcast to {shape}") from None
    if out == fw.shape_of(x):
        imp.define(node, imp.emit(fw.IdentityOp(x)))
        return
    imp.define(node, imp.emit(fw.ExpandOp(x, out, TensorType(x.type.element_type, out))))


CONVERTERS = {
    "Cast": ({"to", "saturate"}, _cast),
    "CastLike": ({"saturate"}, _cast),
    "Equal": (set(), _compare("equal")),
    "Less": (set(), _compare("less")),
    "Greater": (set(), _compare("greater")),
    "LessOrEqual": (set(), _compare("less_equal")),
    "GreaterOrEqual": (set(), _compare("greater_equal")),
    "Not": (set(), _not),
    "And": (set(), _logical("and")),
    "Or": (set(), _logical("or")),
    "Xor": (set(), _logical("xor")),
    "Where": (set(), _where),
    "Expand": (set(), _expand),
    "IsNaN": (set(), _is_nan),
}
NOTES = {
    "Cast": "between float32, int32/int64 (as i32) and bool at run time; any cast of constants",
    "CastLike": "between float32, int32/int64 (as i32) and bool",
    "Equal": "float32 or integer operands, broadcasting; result bool (i1)",
    "Less": "float32 or integer operands, broadcasting; result bool (i1)",
    "Greater": "float32 or integer operands, broadcasting; result bool (i1)",
    "LessOrEqual": "float32 or integer operands, broadcasting; result bool (i1)",
    "GreaterOrEqual": "float32 or integer operands, broadcasting; result bool (i1)",
    "Not": "bool",
    "And": "bool, broadcasting",
    "Or": "bool, broadcasting",
    "Xor": "bool, broadcasting",
    "Where": "bool condition, broadcasting; float32 or integer values (SELECT moves them unconverted)",
    "Expand": "constant shape",
    "IsNaN": "float32",
}
_ = TensorProto
