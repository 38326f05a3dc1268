"""Layout: Concat, Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Pad."""

from __future__ import annotations

import math

import numpy as np
import onnx
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import Importer, Unsupported, attrs, f32
from kaena.frontends.onnx.utils import const_scalar, norm_axes, raw_axes


def _concat(imp: Importer, node: onnx.NodeProto) -> None:
    inputs = [imp.operand(i) for i in node.input if i]
    inputs = [v for v in inputs if math.prod(fw.shape_of(v)) > 0] or inputs[:1]
    axis = int(attrs(node)["axis"])
    rank = len(fw.shape_of(inputs[0]))
    if len(inputs) == 1:
        imp.define(node, imp.emit(fw.IdentityOp(inputs[0])))
        return
    imp.define(node, imp.emit(fw.ConcatOp(inputs, axis + rank if axis < 0 else axis,
                                          inputs[0].type)))


def _squeeze(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    axes = raw_axes(imp, node)
    axes = [i for i, d in enumerate(xs) if d == 1] if axes is None else norm_axes(axes, len(xs))
    if any(xs[a] != 1 for a in axes):
        raise Unsupported(f"cannot squeeze axes {axes} of shape {list(xs)}")
    shape = [d for i, d in enumerate(xs) if i not in axes]
    imp.define(node, imp.emit(fw.ReshapeOp(x, shape, TensorType(x.type.element_type, shape))))


def _unsqueeze(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    axes = raw_axes(imp, node)
    if axes is None:
        raise Unsupported("Unsqueeze needs axes")
    shape = list(fw.shape_of(x))
    for a in norm_axes(axes, len(shape) + len(axes)):
        shape.insert(a, 1)
    imp.define(node, imp.emit(fw.ReshapeOp(x, shape, TensorType(x.type.element_type, shape))))


def _pad(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    x = imp.operand(node.input[0])
    rank = len(fw.shape_of(x))
    mode = at.get("mode", "constant")
    if mode not in fw.PAD_MODES:
        raise Unsupported(f"mode '{mode}' is not supported ({', '.join(fw.PAD_MODES)} are)")
    if imp.opset < 11:
        pads, value = list(at.get("pads", [])), float(at.get("value", 0.0))
    else:
        pads = [int(p) for p in np.asarray(imp.const(node.input[1], "Pad's pads")).ravel()]
        value = const_scalar(imp, node, 2, "Pad's constant_value") or 0.0
        if len(node.input) > 3 and node.input[3]:
            axes = [int(a) % rank for a in np.asarray(imp.const(node.input[3], "Pad's axes")).ravel()]
            full = [0] * (2 * rank)
            for i, a in enumerate(axes):
                full[a], full[a + rank] = pads[i], pads[i + len(axes)]
            pads = full
    if len(pads) != 2 * rank:
        raise Unsupported(f"pads {pads} must have {2 * rank} entries")
    if min(pads, default=0) < 0:
        raise Unsupported(f"negative pads {pads} (cropping) are not supported")
    out = [d + pads[i] + pads[i + rank] for i, d in enumerate(fw.shape_of(x))]
    imp.define(node, imp.emit(fw.PadOp(x, pads, mode, value, TensorType(f32, out))))


def _flatten(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    imp.define(node, imp.emit(fw.FlattenOp(x, int(attrs(node).get("axis", 1)), x.type)))


def _reshape(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    target = [int(d) for d in imp.const(node.input[1], "Reshape's shape input").ravel()]
    allowzero = bool(attrs(node).get("allowzero", 0))
    xs = fw.shape_of(x)
    shape = [xs[i] if d == 0 and not allowzero else d for i, d in enumerate(target)]
    if shape.count(-1) > 1 or any(d < -1 for d in shape):
        raise Unsupported(f"invalid target shape {target}")
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        if known == 0 or math.prod(xs) % known:
            raise Unsupported(f"cannot reshape {list(xs)} to {target}")
        shape[shape.index(-1)] = math.prod(xs) // known
    imp.define(node, imp.emit(fw.ReshapeOp(x, shape, TensorType(x.type.element_type, shape))))


def _transpose(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    rank = len(fw.shape_of(x))
    perm = list(attrs(node).get("perm", range(rank - 1, -1, -1)))
    shape = [fw.shape_of(x)[p] for p in perm] if sorted(perm) == list(range(rank)) else fw.shape_of(x)
    imp.define(node, imp.emit(fw.TransposeOp(x, perm, TensorType(x.type.element_type, shape))))


CONVERTERS = {
    "Concat": ({"axis"}, _concat),
    "Flatten": ({"axis"}, _flatten),
    "Reshape": ({"allowzero"}, _reshape),
    "Squeeze": ({"axes"}, _squeeze),
    "Unsqueeze": ({"axes"}, _unsqueeze),
    "Transpose": ({"perm"}, _transpose),
    "Pad": ({"mode", "pads", "value"}, _pad),
}
NOTES = {
    "Concat": "",
    "Pad": "constant, edge, reflect, wrap; non-negative constant pads",
    "Reshape": "constant shape (or folded shape arithmetic)",
    "Squeeze": "constant axes",
    "Unsqueeze": "constant axes",
}
