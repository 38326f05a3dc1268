"""Layout: Concat, Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Pad, Resize."""

from __future__ import annotations

import math

import numpy as np
import onnx
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import (
    Importer,
    Unsupported,
    attrs,
    const_scalar,
    f32,
    norm_axes,
    raw_axes,
)


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
        raise Unsupported(f"mode '{mode}' is not supported (constant, edge, reflect are)")
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
    if min(pads) < 0:
        raise Unsupported(f"negative pads {pads} (cropping) are not supported")
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
            raise Unsupported(f"coordinate_transformation_mode '{ctm}' is not supported")
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


def _resize(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    mode = at.get("mode", "nearest")
    if mode != "nearest":
        raise Unsupported(f"mode '{mode}' is not supported: only nearest integer upsampling is")
    want = imp.result_type(node.output[0])
    if want is None:
        raise Unsupported("the output shape cannot be inferred statically: make the scales constant")
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
        raise Unsupported(
            f"only nearest upsampling of NCHW by integer factors is supported, here {list(xs)} -> "
            f"{list(out)} ({ctm}, {nearest}); resize on the host or change the scales"
        )
    imp.define(node, imp.emit(fw.ResizeNearestOp(x, ratios[2:], want)))


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


_RESIZE_ATTRS = {"mode", "coordinate_transformation_mode", "nearest_mode", "axes",
                 "cubic_coeff_a", "exclude_outside", "extrapolation_value", "antialias",
                 "keep_aspect_ratio_policy", "scales"}

CONVERTERS = {
    "Concat": ({"axis"}, _concat),
    "Flatten": ({"axis"}, _flatten),
    "Reshape": ({"allowzero"}, _reshape),
    "Squeeze": ({"axes"}, _squeeze),
    "Unsqueeze": ({"axes"}, _unsqueeze),
    "Transpose": ({"perm"}, _transpose),
    "Pad": ({"mode", "pads", "value"}, _pad),
    "Resize": (_RESIZE_ATTRS, _resize),
    "Upsample": ({"mode", "scales"}, _resize),
}
NOTES = {
    "Concat": "",
    "Pad": "constant, edge, reflect; non-negative constant pads",
    "Resize": "nearest, integer upsampling of H and W",
    "Upsample": "nearest, integer upsampling of H and W",
    "Reshape": "constant shape (or folded shape arithmetic)",
    "Squeeze": "constant axes",
    "Unsqueeze": "constant axes",
}
