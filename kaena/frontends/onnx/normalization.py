"""Normalization and reductions: BatchNormalization (inference, training mode), LayerNormalization
(opset 17), ReduceSum/Mean/Max/Min."""

from __future__ import annotations

import numpy as np
import onnx
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import Importer, Unsupported, attrs, f32
from kaena.frontends.onnx.utils import define_or_reshape, float_input, norm_axes, raw_axes, scalar_operand


def _batch_norm_training(imp: Importer, node: onnx.NodeProto, at: dict) -> None:
    """training_mode=1: normalise by the batch statistics (reductions over every axis
    but the channels) and return the running statistics
    ``input * momentum + batch * (1 - momentum)`` (population variance, as ONNX)."""
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    axes = [i for i in range(len(xs)) if i != 1]
    stat = TensorType(f32, [1 if i in axes else d for i, d in enumerate(xs)])
    channels = TensorType(f32, [xs[1]])

    def emit(op) -> SSAValue:
        return imp.emit(op).results[0]

    def const(suffix: str, value: np.ndarray) -> SSAValue:
        name = f"{node.output[0]}.{suffix}"
        imp.consts[name] = np.asarray(value, np.float32)
        return imp.operand(name)

    def per_channel(i: int, what: str) -> np.ndarray:
        return np.asarray(imp.const(node.input[i], f"BatchNormalization's {what}"), np.float64).reshape(-1)

    momentum = float(at.get("momentum", 0.9))
    eps = float(at.get("epsilon", 1e-5))
    scale, bias = per_channel(1, "scale"), per_channel(2, "bias")
    mean = emit(fw.ReduceOp("mean", x, axes, True, stat))
    centred = emit(fw.SubOp(x, mean, x.type))
    var = emit(fw.ReduceOp("mean", emit(fw.MulOp(centred, centred, x.type)), axes, True, stat))
    inv_std = emit(fw.ReciprocalOp(emit(fw.SqrtOp(emit(fw.AddOp(var, const("eps", [eps]), stat))))))
    gain = emit(fw.MulOp(inv_std, const("scale", scale.reshape(stat.get_shape())), stat))
    y = emit(fw.MulOp(centred, gain, x.type))
    imp.define(node, imp.emit(fw.AddOp(y, const("bias", bias.reshape(stat.get_shape())), x.type)))
    for index, (batch, what) in enumerate(((mean, "mean"), (var, "var")), start=1):
        if len(node.output) <= index or not node.output[index]:
            continue
        flat = emit(fw.ReshapeOp(batch, [xs[1]], channels))
        part = emit(fw.MulOp(flat, const(f"{what}_decay", [1 - momentum]), channels))
        running = const(f"{what}_kept", per_channel(2 + index, what) * momentum)
        imp.define(node, imp.emit(fw.AddOp(part, running, channels)), index)


def _batch_norm(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    if not at.get("spatial", 1):
        raise Unsupported("spatial=0 is not supported")
    if at.get("training_mode", 0):
        _batch_norm_training(imp, node, at)
        return
    if any(o for o in node.output[1:]):
        raise Unsupported("the running statistics outputs exist only in training mode (training_mode=1)")
    x, scale, bias, mean, var = (imp.operand(i) for i in node.input[:5])
    imp.define(node, imp.emit(fw.BatchNormOp(x, scale, bias, mean, var,
                                             float(at.get("epsilon", 1e-5)))))


CONVERTERS = {
    "BatchNormalization": ({"epsilon", "momentum", "training_mode", "spatial"}, _batch_norm),
}
NOTES = {"BatchNormalization": "inference mode (folded into a preceding Conv); training_mode=1 with "
                                "constant scale, bias and statistics: batch statistics by reductions, "
                                "the running mean and var outputs"}


def _layer_norm(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    x, scale = float_input(imp, node), imp.operand(node.input[1])
    bias = imp.operand(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    axis, eps = int(at.get("axis", -1)), float(at.get("epsilon", 1e-5))
    imp.define(node, imp.emit(fw.LayerNormOp(x, scale, bias, axis, eps)))
    if any(o for o in node.output[1:]):
        _layer_norm_statistics(imp, node, x, axis, eps)


def _layer_norm_statistics(imp: Importer, node: onnx.NodeProto, x: SSAValue, axis: int, eps: float) -> None:
    """LayerNormalization's Mean and InvStdDev outputs, only when the graph reads them:
    the mean and ``rsqrt(mean((x - mean)^2) + eps)`` over the normalized axes (kept as 1s)."""
    xs = fw.shape_of(x)
    axis = axis + len(xs) if axis < 0 else axis
    if not 0 <= axis < len(xs):
        raise Unsupported(f"axis {axis} out of range for rank {len(xs)}")
    axes = list(range(axis, len(xs)))
    stat = TensorType(f32, [*xs[:axis], *[1] * len(axes)])
    mean = imp.emit(fw.ReduceOp("mean", x, axes, True, stat)).results[0]
    centred = imp.emit(fw.SubOp(x, mean, x.type)).results[0]
    square = imp.emit(fw.MulOp(centred, centred, x.type)).results[0]
    var = imp.emit(fw.ReduceOp("mean", square, axes, True, stat)).results[0]
    shifted = imp.emit(fw.AddOp(var, scalar_operand(imp, node, "epsilon", eps), stat)).results[0]
    inv_std = imp.emit(fw.PowOp(shifted, -0.5)).results[0]
    for index, value in ((1, mean), (2, inv_std)):
        if len(node.output) > index and node.output[index]:
            define_or_reshape(imp, node, value, index)


def _reduce(kind: str):
    """ReduceSum/Mean/Max/Min: axes as an attribute (before opset 18; ReduceSum
    before 13) or a constant input; absent or empty axes reduce everything
    unless noop_with_empty_axes."""

    def conv(imp: Importer, node: onnx.NodeProto) -> None:
        at = attrs(node)
        x = imp.operand(node.input[0])
        rank = len(fw.shape_of(x))
        axes = raw_axes(imp, node)
        if not axes:
            if at.get("noop_with_empty_axes", 0):
                imp.define(node, imp.emit(fw.IdentityOp(x)))
                return
            axes = list(range(rank))
        axes = norm_axes(axes, rank)
        keep = bool(at.get("keepdims", 1))
        shape = [1 if i in axes else d for i, d in enumerate(fw.shape_of(x))] if keep else \
            [d for i, d in enumerate(fw.shape_of(x)) if i not in axes]
        imp.define(node, imp.emit(fw.ReduceOp(kind, x, axes, keep, TensorType(f32, shape))))

    return conv


_REDUCE_ATTRS = {"axes", "keepdims", "noop_with_empty_axes"}
CONVERTERS.update({
    "LayerNormalization": ({"axis", "epsilon", "stash_type"}, _layer_norm),
    "ReduceMean": (_REDUCE_ATTRS, _reduce("mean")),
    "ReduceSum": (_REDUCE_ATTRS, _reduce("sum")),
    "ReduceMax": (_REDUCE_ATTRS, _reduce("max")),
    "ReduceMin": (_REDUCE_ATTRS, _reduce("min")),
})
_AXES = "constant axes (attribute or input), keepdims, noop_with_empty_axes"
NOTES.update({
    "LayerNormalization": "any axis, epsilon, optional bias; Mean/InvStdDev outputs (computed only when "
                          "read: two reductions and rsqrt); the decomposed "
                          "ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add form fuses into it",
    "ReduceMean": _AXES,
    "ReduceSum": _AXES,
    "ReduceMax": _AXES,
    "ReduceMin": _AXES,
})
