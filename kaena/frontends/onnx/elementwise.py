"""Binary arithmetic with numpy broadcasting, Max/Min of any arity, Identity, Dropout."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from xdsl.dialects.builtin import TensorType, i32
from xdsl.ir import SSAValue

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import Importer, InvalidNode, Unsupported, f32
from kaena.frontends.onnx.utils import scalar_operand, unary


def _operands(imp: Importer, node: onnx.NodeProto, integers: bool) -> list[SSAValue]:
    """The run-time operands of an arithmetic node: float32, or (``integers``: Max/Min,
    a compare and a select) all int32."""
    values = [imp.operand(i) for i in node.input if i]
    types = {v.type.element_type for v in values}
    if types != {f32} and not (integers and types == {i32}):
        what = "float32 or int32" if integers else "float32"
        raise Unsupported(f"operands are {', '.join(sorted(map(str, types)))}: {node.op_type} takes {what} "
                          "(the engines compute in float32 and write integers only by moving them)")
    return values


def _binary(cls: type[fw.BinaryOp]) -> Callable[[Importer, onnx.NodeProto], None]:
    def conv(imp: Importer, node: onnx.NodeProto) -> None:
        a, b = _operands(imp, node, False)
        imp.define(node, imp.emit(cls(a, b, a.type)))
    return conv


def _broadcast(a, b) -> tuple[int, ...]:
    """The numpy broadcast of two operands' shapes (an op built only to ask its shape rule
    would stay a user of both, and rewrites would find it)."""
    try:
        return tuple(np.broadcast_shapes(fw.shape_of(a), fw.shape_of(b)))
    except ValueError:
        raise InvalidNode(f"shapes {list(fw.shape_of(a))} and {list(fw.shape_of(b))} do not broadcast") from None


def _variadic(cls: type[fw.BinaryOp], integers: bool = True) -> Callable[[Importer, onnx.NodeProto], None]:
    """ONNX Max/Min/Sum of any number of inputs as a chain of binary ops."""

    def conv(imp: Importer, node: onnx.NodeProto) -> None:
        values = _operands(imp, node, integers)
        acc = values[0]
        for i, v in enumerate(values[1:]):
            if i == len(values) - 2:
                imp.define(node, imp.emit(cls(acc, v, acc.type)))
                return
            op = imp.emit(cls(acc, v, TensorType(acc.type.element_type, _broadcast(acc, v))))
            acc = op.results[0]
        imp.define(node, imp.emit(fw.IdentityOp(acc)))

    return conv


def _mean(imp: Importer, node: onnx.NodeProto) -> None:
    """ONNX Mean: the Sum chain divided by the number of inputs."""
    values = _operands(imp, node, False)
    acc = values[0]
    for v in values[1:]:
        acc = imp.emit(fw.AddOp(acc, v, TensorType(f32, _broadcast(acc, v)))).results[0]
    n = scalar_operand(imp, node, "count", float(len(values)))
    imp.define(node, imp.emit(fw.DivOp(acc, n, acc.type)))


def _dropout(imp: Importer, node: onnx.NodeProto) -> None:
    if len(node.output) > 1 and node.output[1]:
        raise Unsupported("the mask output of Dropout is not supported")
    if len(node.input) > 2 and node.input[2]:
        training = imp.const(node.input[2], "Dropout's training_mode")
        if bool(np.asarray(training).item()):
            raise Unsupported("Dropout in training mode is not supported")
    imp.define(node, imp.emit(fw.IdentityOp(imp.operand(node.input[0]))))


CONVERTERS = {
    "Add": (set(), _binary(fw.AddOp)),
    "Sub": (set(), _binary(fw.SubOp)),
    "Mul": (set(), _binary(fw.MulOp)),
    "Div": (set(), _binary(fw.DivOp)),
    "Max": (set(), _variadic(fw.MaxOp)),
    "Min": (set(), _variadic(fw.MinOp)),
    "Sum": (set(), _variadic(fw.AddOp, integers=False)),
    "Mean": (set(), _mean),
    "Identity": (set(), unary(fw.IdentityOp)),
    "Dropout": ({"seed", "ratio"}, _dropout),
}
NOTES = {
    "Dropout": "inference (identity)",
    "Max": "float32, or integers within 2**24 (a compare and a select); any number of inputs, broadcasting",
    "Min": "float32, or integers within 2**24 (a compare and a select); any number of inputs, broadcasting",
    "Sum": "float32; any number of inputs, broadcasting",
    "Mean": "float32; any number of inputs, broadcasting",
    "Add": "float32 (integer arithmetic is refused: the engines write integers only by moving them)",
    "Sub": "float32",
    "Mul": "float32",
    "Div": "float32",
}
