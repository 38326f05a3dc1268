"""What the ONNX converters share (xDSL's ``lowering/utils.py``): reshapes, padding
arithmetic, scalar and axis operands, the unary-op converter."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import onnx
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from kaena.dialects import framework as fw

CONTROL_FLOW = frozenset(("If", "Loop", "Scan"))
from kaena.frontends.onnx.core import Importer, Unsupported, attrs, f32, sanitize


def rank_of(imp: Importer, name: str) -> int:
    return len(fw.shape_of(imp.operand(name)))


def unary(cls: type[fw.UnaryOp]) -> Callable[[Importer, onnx.NodeProto], None]:
    def conv(imp: Importer, node: onnx.NodeProto) -> None:
        x = imp.operand(node.input[0])
        imp.define(node, imp.emit(cls(x)))
    return conv


def spatial_pads(at: dict, in_sizes: tuple[int, ...], kernel: list[int], strides: list[int],
                  dilations: list[int]) -> list[int]:
    """ONNX pads [begin_0.., end_0..] for an N-D window, resolving auto_pad."""
    n = len(in_sizes)
    auto = at.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = list(at.get("pads", [0] * 2 * n))
        if len(pads) != 2 * n:
            raise Unsupported(f"pads {pads} must have {2 * n} entries for a {n}-D window")
        if min(pads, default=0) < 0:
            raise Unsupported(f"negative pads {pads} are not supported")
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
    raise Unsupported(f"auto_pad '{auto}' is not supported")


def reshape_to(imp: Importer, value: SSAValue, shape: list[int] | tuple[int, ...]) -> SSAValue:
    if fw.shape_of(value) == tuple(shape):
        return value
    return imp.emit(fw.ReshapeOp(value, shape, TensorType(value.type.element_type, list(shape)))).results[0]


def define_reshaped(imp: Importer, node: onnx.NodeProto, value: SSAValue) -> None:
    """Define the node's output as ``value`` reshaped to the output's inferred shape."""
    want = imp.result_type(node.output[0])
    if want is None:
        raise Unsupported("the output shape cannot be inferred statically: make the shape static")
    imp.define(node, imp.emit(fw.ReshapeOp(value, want.get_shape(), want)))


def define_or_reshape(imp: Importer, node: onnx.NodeProto, value: SSAValue, index: int = 0) -> None:
    """Record ``value`` (already emitted) as the node's output ``index``, checking its type."""
    want = imp.result_type(node.output[index])
    if want is not None and want != value.type:
        raise Unsupported(f"computed type {value.type} differs from ONNX's {want}")
    value.name_hint = sanitize(node.output[index])
    imp.values[node.output[index]] = value


def const_scalar(imp: Importer, node: onnx.NodeProto, index: int, what: str) -> float | None:
    if len(node.input) <= index or not node.input[index]:
        return None
    value = np.asarray(imp.const(node.input[index], what))
    if value.size != 1:
        raise Unsupported(f"{what} must be a scalar, got shape {list(value.shape)}")
    return float(value.reshape(()))


def float_input(imp: Importer, node: onnx.NodeProto, index: int = 0) -> SSAValue:
    """A run-time float32 operand (the engines' arithmetic is float32)."""
    value = imp.operand(node.input[index])
    if value.type.element_type != f32:
        raise Unsupported(f"input '{node.input[index]}' is {value.type.element_type}: {node.op_type} takes "
                          "float32 (the engines compute in float32 and write integers only by moving them)")
    return value


def scalar_operand(imp: Importer, node: onnx.NodeProto, tag: str, value: float) -> SSAValue:
    """A float32 scalar constant a converter needs (a weight named after the node's output)."""
    name = f"{node.output[0]}.{tag}"
    imp.consts.setdefault(name, np.array(value, np.float32))
    return imp.operand(name)


def raw_axes(imp: Importer, node: onnx.NodeProto) -> list[int] | None:
    at = attrs(node)
    if "axes" in at:
        return [int(a) for a in at["axes"]]
    if len(node.input) > 1 and node.input[1]:
        return [int(a) for a in np.asarray(imp.const(node.input[1], "axes")).ravel()]
    return None


def norm_axes(axes: list[int], rank: int) -> list[int]:
    if any(not -rank <= a < rank for a in axes) or len({a % rank for a in axes}) != len(axes):
        raise Unsupported(f"axes {axes} are invalid for rank {rank}")
    return sorted(a % rank for a in axes)
