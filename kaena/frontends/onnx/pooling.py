"""MaxPool, AveragePool, GlobalAveragePool."""

from __future__ import annotations

import math
from collections.abc import Callable

import onnx
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue
from xdsl.utils.exceptions import VerifyException

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import Importer, Unsupported, attrs, f32
from kaena.frontends.onnx.utils import define_or_reshape, define_reshaped, reshape_to, spatial_pads


def _pool2d(imp: Importer, x: SSAValue, avg: bool, kernel: list[int], strides: list[int],
            pads: list[int], ceil: bool, count_include_pad: bool, dilations: list[int]) -> SSAValue:
    xs = fw.shape_of(x)
    out = [fw.pool_output_dim(xs[2 + i], kernel[i], strides[i], pads[i], pads[i + 2],
                              dilations[i], ceil_mode=ceil) for i in range(2)]
    t = TensorType(f32, [xs[0], xs[1], *out])
    if avg:
        op = fw.AveragePoolOp(x, t, kernel, strides, pads, ceil, count_include_pad, dilations)
    else:
        op = fw.MaxPoolOp(x, t, kernel, strides, pads, ceil, dilations)
    imp.emit(op)
    try:
        op.verify()
    except VerifyException as e:
        raise Unsupported(f"invalid node: {e}") from None
    return op.results[0]


def _pool(avg: bool) -> Callable[[Importer, onnx.NodeProto], None]:
    """MaxPool/AveragePool: 2-D directly, 1-D as 2-D with a unit height, 3-D as two
    2-D pools (H,W then D): max and box averages are separable, and so is the
    count of in-bounds elements count_include_pad=0 divides by."""

    def conv(imp: Importer, node: onnx.NodeProto) -> None:
        at = attrs(node)
        if len(node.output) > 1 and node.output[1]:
            raise Unsupported("the Indices output of MaxPool is not supported")
        if at.get("storage_order", 0) != 0:
            raise Unsupported("storage_order=1 is not supported")
        x = imp.operand(node.input[0])
        xs = fw.shape_of(x)
        nd = len(xs) - 2
        if nd not in (1, 2, 3):
            raise Unsupported(f"only 1-D to 3-D pooling is supported, got input rank {len(xs)}")
        kernel = list(at["kernel_shape"]) if "kernel_shape" in at else None
        if kernel is None or len(kernel) != nd:
            raise Unsupported(f"kernel_shape must list {nd} sizes")
        strides = list(at.get("strides", [1] * nd))
        dil = list(at.get("dilations", [1] * nd))
        if len(dil) != nd:
            raise Unsupported(f"dilations must list {nd} values")
        pads = spatial_pads(at, xs[2:], kernel, strides, dil)
        ceil = bool(at.get("ceil_mode", 0))
        cip = bool(at.get("count_include_pad", 0))
        if ceil:
            own = (*xs[:2], *(fw.pool_output_dim(xs[2 + i], kernel[i], strides[i], pads[i], pads[i + nd], dil[i],
                                                 ceil_mode=True) for i in range(nd)))
            _trust_own_shape(imp, node, own)
        if nd == 2:
            define_or_reshape(imp, node, _pool2d(imp, x, avg, kernel, strides, pads, ceil, cip, dil))
            return
        if nd == 1:
            y = _pool2d(imp, reshape_to(imp, x, (xs[0], xs[1], 1, xs[2])), avg, [1, kernel[0]],
                        [1, strides[0]], [0, pads[0], 0, pads[1]], ceil, cip, [1, dil[0]])
            define_reshaped(imp, node, y)
            return
        n, c, d, h, w = xs
        y = _pool2d(imp, reshape_to(imp, x, (n, c * d, h, w)), avg, kernel[1:], strides[1:],
                    [pads[1], pads[2], pads[4], pads[5]], ceil, cip, dil[1:])
        _, _, oh, ow = fw.shape_of(y)
        y = _pool2d(imp, reshape_to(imp, y, (n, c, d, oh * ow)), avg, [kernel[0], 1],
                    [strides[0], 1], [pads[0], 0, pads[3], 0], ceil, cip, [dil[0], 1])
        define_reshaped(imp, node, y)

    return conv


def _trust_own_shape(imp: Importer, node: onnx.NodeProto, shape: tuple[int, ...]) -> None:
    """With ceil_mode, ONNX's shape inference keeps a last window that starts past the input
    (and its begin padding), which onnxruntime and ONNX's reference drop, as Kaena does: use
    Kaena's size, and forget what inference derived from the other one downstream."""
    name = node.output[0]
    inferred = imp.result_type(name)
    if inferred is None or inferred.get_shape() == shape:
        return
    imp.types[name] = TensorType(inferred.element_type, list(shape))
    stale = {name}
    for later in imp.graph.node:
        if any(i in stale for i in later.input):
            stale.update(o for o in later.output if o)
            for o in later.output:
                imp.types.pop(o, None)


def _global_average_pool(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    if len(xs) < 3:
        raise Unsupported(f"expects rank >= 3, got {len(xs)}")
    if len(xs) == 4:
        imp.define(node, imp.emit(fw.GlobalAveragePoolOp(x)))
        return
    flat = reshape_to(imp, x, (xs[0], xs[1], 1, math.prod(xs[2:])))
    y = imp.emit(fw.GlobalAveragePoolOp(flat, TensorType(f32, [xs[0], xs[1], 1, 1])))
    define_reshaped(imp, node, y.results[0])


_POOL_ATTRS = {"auto_pad", "ceil_mode", "kernel_shape", "pads", "strides"}

CONVERTERS = {
    "MaxPool": (_POOL_ATTRS | {"dilations", "storage_order"}, _pool(avg=False)),
    "AveragePool": (_POOL_ATTRS | {"count_include_pad", "dilations"}, _pool(avg=True)),
    "GlobalAveragePool": (set(), _global_average_pool),
}
NOTES = {
    "AveragePool": "1-D to 3-D; pads, auto_pad, ceil_mode, count_include_pad, dilations",
    "MaxPool": "1-D to 3-D; pads, auto_pad, ceil_mode, dilations; no Indices output",
}
