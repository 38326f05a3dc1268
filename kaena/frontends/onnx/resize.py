"""Resize and Upsample.

Nearest upsampling by integer factors (the ``i // scale`` index map) is a DMA
copy (``fw.resize_nearest``, exact for any dtype). Every other form -- linear,
cubic, antialiased, non-integer or downsampling scales, sizes with
keep_aspect_ratio_policy, every coordinate_transformation_mode, crops -- is
separable: along each resized axis the output is a constant [out, in]
interpolation matrix applied to the input. Those matrices are computed here with
ONNX's reference semantics (``onnx/reference/ops/op_resize.py``) and the node
becomes ``fw.resample`` (contractions on the PE array, exact in FP32), plus a
constant addend where tf_crop_and_resize extrapolates a non-zero value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import onnx
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import Importer, Unsupported, attrs, f32

_MODES = ("nearest", "linear", "cubic")
_TRANSFORMS = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
               "asymmetric", "tf_crop_and_resize")
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


@dataclass(frozen=True)
class Interpolation:
    """The attributes that shape every axis's interpolation matrix."""

    mode: str = "nearest"
    transform: str = "half_pixel"
    nearest_mode: str = "round_prefer_floor"
    cubic_a: float = -0.75
    exclude_outside: bool = False
    antialias: bool = False

    def coefficients(self) -> Callable[[float, float], np.ndarray]:
        """(ratio in (0, 1], scale) -> the weights of the neighbours around the source point."""
        if self.mode == "nearest":
            return lambda r, s: _nearest_coeffs(r, self.nearest_mode)
        if self.mode == "linear":
            return _linear_antialias if self.antialias else (lambda r, s: np.array([1 - r, r]))
        if self.antialias:
            return lambda r, s: _cubic_antialias(r, s, self.cubic_a)
        return lambda r, s: _cubic_coeffs(r, self.cubic_a)


def _nearest_coeffs(ratio: float, mode: str) -> np.ndarray:
    if float(ratio).is_integer():
        return np.array([0.0, 1.0])
    pick_right = {"round_prefer_floor": ratio > 0.5, "round_prefer_ceil": ratio >= 0.5,
                  "floor": False, "ceil": True}[mode]
    return np.array([0.0, 1.0]) if pick_right else np.array([1.0, 0.0])


def _cubic_coeffs(r: float, a: float) -> np.ndarray:
    def near(x: float) -> float:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: float) -> float:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.array([far(r + 1), near(r), near(1 - r), far(2 - r)])


def _cubic_antialias(r: float, scale: float, a: float) -> np.ndarray:
    scale = min(scale, 1.0)

    def kernel(x: float) -> float:
        x = abs(x)
        if x <= 1:
            return (a + 2) * x**3 - (a + 3) * x**2 + 1
        if x < 2:
            return a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
        return 0.0

    start = int(np.floor(-2 / scale) + 1)
    c = np.array([kernel(scale * (i - r)) for i in range(start, 2 - start)])
    return c / c.sum()


def _linear_antialias(r: float, scale: float) -> np.ndarray:
    scale = min(scale, 1.0)
    start = int(np.floor(-1 / scale) + 1)
    c = np.clip(1 - np.abs((np.arange(start, 2 - start) - r) * scale), 0, 1)
    return c / c.sum()


def _source_coordinates(transform: str, in_w: int, out_w: int, scale: float,
                        roi: tuple[float, float]) -> tuple[np.ndarray, np.ndarray | None]:
    """Source coordinate of every output index, and which ones extrapolate (crops only)."""
    y = np.arange(out_w, dtype=np.float64)
    width = scale * in_w
    if transform == "align_corners":
        return (np.zeros(out_w) if width == 1 else y * (in_w - 1) / (width - 1)), None
    if transform == "asymmetric":
        return y / scale, None
    if transform == "pytorch_half_pixel":
        return (np.full(out_w, -0.5) if width == 1 else (y + 0.5) / scale - 0.5), None
    if transform == "half_pixel":
        return (y + 0.5) / scale - 0.5, None
    if transform == "half_pixel_symmetric":
        offset = in_w / 2 * (1 - out_w / width)
        return offset + (y + 0.5) / scale - 0.5, None
    lo, hi = roi  # tf_crop_and_resize
    x = (np.full(out_w, (hi - lo) * (in_w - 1) / 2) if width == 1
         else y * (hi - lo) * (in_w - 1) / (width - 1)) + lo * (in_w - 1)
    return x, (x < 0) | (x > in_w - 1)


def interpolation_matrix(interp: Interpolation, in_w: int, out_w: int, scale: float,
                         roi: tuple[float, float] = (0.0, 1.0)) -> tuple[np.ndarray, np.ndarray | None]:
    """The [out_w, in_w] matrix of ONNX Resize along one axis (float64) and the mask of the
    output indices that take the extrapolation value instead (their rows are zero)."""
    x, extrapolated = _source_coordinates(interp.transform, in_w, out_w, scale, roi)
    floor = np.floor(x)
    ratios = np.where(x == floor, 1.0, x - floor)
    coeff = interp.coefficients()
    coeffs = np.stack([coeff(float(r), scale) for r in ratios])
    n = coeffs.shape[1]
    # the n neighbours nearest x (ties to the smaller index) in edge-padded coordinates
    pad = math.ceil(n / 2)
    xp = x + pad
    p = np.floor(xp).astype(np.int64)
    frac = xp - p
    if n % 2 == 0:
        offset = np.where(frac == 0, -(n // 2), -(n // 2) + 1)
    else:
        offset = np.where(frac <= 0.5, -((n - 1) // 2), -((n - 1) // 2) + 1)
    idx = (p + offset)[:, None] + np.arange(n)[None, :] - pad
    if interp.exclude_outside:
        coeffs = np.where((idx < 0) | (idx >= in_w), 0.0, coeffs)
        total = coeffs.sum(axis=1, keepdims=True)
        coeffs = coeffs / np.where(total == 0, 1.0, total)
    matrix = np.zeros((out_w, in_w))
    np.add.at(matrix, (np.repeat(np.arange(out_w), n), np.clip(idx, 0, in_w - 1).ravel()),
              coeffs.ravel())
    if extrapolated is not None:
        matrix[extrapolated] = 0.0
    return matrix, extrapolated


def _interpolation(imp: Importer, node: onnx.NodeProto, at: dict) -> Interpolation:
    mode = at.get("mode", "nearest")
    if mode not in _MODES:
        raise Unsupported(f"mode '{mode}' is not one of {', '.join(_MODES)}")
    if node.op_type == "Upsample" or imp.opset < 11:
        return Interpolation(mode, "asymmetric", "floor")
    interp = Interpolation(mode, at.get("coordinate_transformation_mode", "half_pixel"),
                           at.get("nearest_mode", "round_prefer_floor"),
                           float(at.get("cubic_coeff_a", -0.75)), bool(at.get("exclude_outside", 0)),
                           bool(at.get("antialias", 0)) and mode != "nearest")
    if interp.transform not in _TRANSFORMS:
        raise Unsupported(f"coordinate_transformation_mode '{interp.transform}' is not supported")
    if interp.nearest_mode not in _NEAREST_MODES:
        raise Unsupported(f"nearest_mode '{interp.nearest_mode}' is not supported")
    return interp


def _optional_const(imp: Importer, node: onnx.NodeProto, index: int, what: str) -> np.ndarray | None:
    if len(node.input) <= index or not node.input[index]:
        return None
    arr = np.asarray(imp.const(node.input[index], what)).ravel()
    return arr if arr.size else None


def _geometry(imp: Importer, node: onnx.NodeProto, at: dict, xs: tuple[int, ...]):
    """Full-rank (output sizes, scales, roi pairs) as ONNX's reference derives them."""
    r = len(xs)
    old = node.op_type == "Upsample" or imp.opset < 11
    axes = [int(a) % r for a in at.get("axes", range(r))]
    scales = np.asarray(at["scales"], np.float64) if "scales" in at else \
        _optional_const(imp, node, 1 if old else 2, "Resize's scales")
    sizes = None if old else _optional_const(imp, node, 3, "Resize's sizes")
    roi = None if old else _optional_const(imp, node, 1, "Resize's roi")
    full_roi = [(0.0, 1.0)] * r
    if roi is not None:
        k = len(roi) // 2
        for i, a in enumerate(axes if k == len(axes) else range(r)):
            full_roi[a] = (float(roi[i]), float(roi[k + i]))
    if sizes is not None:
        if len(sizes) != len(axes):
            raise Unsupported(f"sizes {list(sizes)} must give one size per axis {axes}")
        out = list(xs)
        for a, s in zip(axes, sizes):
            out[a] = int(s)
        factors = [o / i for o, i in zip(out, xs)]
        policy = at.get("keep_aspect_ratio_policy", "stretch")
        if policy != "stretch":
            pick = {"not_larger": min, "not_smaller": max}.get(policy)
            if pick is None:
                raise Unsupported(f"keep_aspect_ratio_policy '{policy}' is not supported")
            s = pick(factors[a] for a in axes)
            factors = [s if i in axes else 1.0 for i in range(r)]
            out = [int(s * xs[i] + 0.5) if i in axes else xs[i] for i in range(r)]
        return out, factors, full_roi
    if scales is None or len(scales) != len(axes):
        raise Unsupported("Resize needs constant scales or sizes, one per resized axis")
    factors = [1.0] * r
    for a, s in zip(axes, scales):
        factors[a] = float(s)
    out = [int(f * d) for f, d in zip(factors, xs)]
    return out, factors, full_roi


def _resize(imp: Importer, node: onnx.NodeProto) -> None:
    at = attrs(node)
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    interp = _interpolation(imp, node, at)
    out, factors, roi = _geometry(imp, node, at, xs)
    want = imp.result_type(node.output[0])
    if want is not None and tuple(want.get_shape()) != tuple(out):
        raise Unsupported(f"the inferred output shape {list(want.get_shape())} differs from "
                          f"ONNX's rule {out}")
    if min(out) < 1:
        raise Unsupported(f"the output shape {out} is empty")
    matrices: dict[int, np.ndarray] = {}
    masks: dict[int, np.ndarray] = {}
    for a in range(len(xs)):
        identity_roi = math.isclose(roi[a][0], 0.0) and math.isclose(roi[a][1], 1.0)
        if math.isclose(factors[a], 1.0) and out[a] == xs[a] and \
                (interp.transform != "tf_crop_and_resize" or identity_roi):
            continue
        axis_interp = interp
        if (node.op_type == "Upsample" or imp.opset < 11) and factors[a] < 1:
            # before opset 11 the rounding is unspecified: onnxruntime's takes the ceiling
            # when downsampling (the floor when upsampling)
            axis_interp = replace(interp, nearest_mode="ceil")
        matrices[a], mask = interpolation_matrix(axis_interp, xs[a], out[a], factors[a], roi[a])
        if mask is not None and mask.any():
            masks[a] = mask
    if not matrices:
        imp.define(node, imp.emit(fw.IdentityOp(x)))
        return
    ratios = {a: out[a] // xs[a] for a in matrices}
    if interp.mode == "nearest" and len(xs) == 4 and set(matrices) <= {2, 3} and all(
            out[a] == xs[a] * ratios[a] and np.array_equal(
                matrices[a], np.repeat(np.eye(xs[a]), ratios[a], axis=0)) for a in matrices):
        # integer nearest upsampling: a DMA copy (exact for integer data too)
        scales = [ratios.get(2, 1), ratios.get(3, 1)]
        imp.define(node, imp.emit(fw.ResizeNearestOp(x, scales, TensorType(x.type.element_type, out))))
        return
    if x.type.element_type != f32:
        raise Unsupported(f"{x.type.element_type} data: only float32 is interpolated "
                          "(integer data only by nearest upsampling with integer scales)")
    weights = []
    for a, m in matrices.items():
        name = f"{node.output[0]}.resize_axis{a}"
        imp.consts[name] = m.astype(np.float32)
        weights.append(imp.operand(name))
    y = imp.emit(fw.ResampleOp(x, weights, list(matrices), TensorType(f32, out))).results[0]
    value = float(at.get("extrapolation_value", 0.0))
    if masks and value != 0.0:
        # extrapolated where any resized axis's source point lies outside the input
        inside = np.ones([out[a] if a in masks else 1 for a in range(len(xs))])
        for a, mask in masks.items():
            inside = inside * (~mask).reshape([-1 if i == a else 1 for i in range(len(xs))])
        name = f"{node.output[0]}.extrapolated"
        imp.consts[name] = (value * (1.0 - inside)).astype(np.float32)
        imp.define(node, imp.emit(fw.AddOp(y, imp.operand(name), TensorType(f32, out))))
        return
    imp.define(node, y.owner)


_RESIZE_ATTRS = {"mode", "coordinate_transformation_mode", "nearest_mode", "axes",
                 "cubic_coeff_a", "exclude_outside", "extrapolation_value", "antialias",
                 "keep_aspect_ratio_policy", "scales"}

CONVERTERS = {
    "Resize": (_RESIZE_ATTRS, _resize),
    "Upsample": ({"mode", "scales"}, _resize),
}
_NOTE = ("nearest, linear, cubic (cubic_coeff_a, exclude_outside, antialias) with any scales or sizes, "
         "axes, keep_aspect_ratio_policy and coordinate_transformation_mode, tf_crop_and_resize "
         "with extrapolation_value: separable interpolation matrices on the PE array; nearest "
         "integer upsampling of H and W is a DMA copy (also for integer data)")
NOTES = {"Resize": _NOTE, "Upsample": "nearest, linear (asymmetric) as Resize"}
