"""Binary arithmetic with numpy broadcasting, Max/Min of any arity, Identity, Dropout."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import (
    Importer,
    Unsupported,
    f32,
    unary,
)


def _binary(cls: type[fw._BinaryOp]) -> Callable[[Importer, onnx.NodeProto], None]:
    def conv(imp: Importer, node: onnx.NodeProto) -> None:
        a, b = imp.operand(node.input[0]), imp.operand(node.input[1])
        imp.define(node, imp.emit(cls(a, b, a.type)))
    return conv


def _variadic(cls: type[fw._BinaryOp]) -> Callable[[Importer, onnx.NodeProto], None]:
    """ONNX Max/Min of any number of inputs as a chain of binary ops."""

    def conv(imp: Importer, node: onnx.NodeProto) -> None:
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
    "Identity": (set(), unary(fw.IdentityOp)),
    "Dropout": ({"seed", "ratio"}, _dropout),
}
NOTES = {
    "Dropout": "inference (identity)",
    "Max": "float32; any number of inputs, broadcasting",
    "Min": "float32; any number of inputs, broadcasting",
}
