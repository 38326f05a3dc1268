"""Pooling: max_pool2d (dilation 1), avg_pool2d, adaptive_avg_pool2d (global or evenly dividing)."""

from __future__ import annotations

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Importer, Missing, Unsupported, shape


def _pair(v, default=None) -> list[int]:
    if v is None or (isinstance(v, list | tuple) and len(v) == 0):
        return list(default) if default is not None else []
    if isinstance(v, int):
        return [v, v]
    return [int(v[0]), int(v[-1])] if len(v) in (1, 2) else list(v)


def _max_pool(with_indices: bool):
    def conv(imp: Importer, node, args, kwargs):
        x = imp.value(args[0])
        kernel = _pair(args[1])
        stride = _pair(args[2] if len(args) > 2 else None, kernel)
        ph, pw = _pair(args[3] if len(args) > 3 else 0)
        dilation = _pair(args[4] if len(args) > 4 else 1)
        ceil = bool(args[5]) if len(args) > 5 else False
        if dilation != [1, 1]:
            raise Unsupported(f"dilation {dilation} is not supported")
        if len(shape(x)) != 4:
            raise Unsupported("only 4-D NCHW max pooling is supported")
        out = imp.result_type(node, 0 if with_indices else None)
        y = imp.emit(fw.MaxPoolOp(x, out, kernel, stride, [ph, pw, ph, pw], ceil))
        return (y, Missing("the indices output of max_pool2d is not supported")) if with_indices else y
    return conv


def _avg_pool(imp: Importer, node, args, kwargs):
    x = imp.value(args[0])
    kernel = _pair(args[1])
    stride = _pair(args[2] if len(args) > 2 else None, kernel)
    ph, pw = _pair(args[3] if len(args) > 3 else 0)
    ceil = bool(args[4]) if len(args) > 4 else False
    include_pad = bool(args[5]) if len(args) > 5 else True
    if len(args) > 6 and args[6] is not None:
        raise Unsupported("divisor_override is not supported")
    return imp.emit(fw.AveragePoolOp(x, imp.result_type(node), kernel, stride, [ph, pw, ph, pw], ceil,
                                     include_pad))


def _adaptive_avg_pool(imp: Importer, node, args, kwargs):
    x = imp.value(args[0])
    xs = shape(x)
    oh, ow = _pair(args[1])
    out = imp.result_type(node)
    if len(xs) != 4:
        raise Unsupported("only 4-D NCHW adaptive pooling is supported")
    if (oh, ow) == (1, 1):
        return imp.emit(fw.GlobalAveragePoolOp(x, out))
    if xs[2] % oh or xs[3] % ow:
        raise Unsupported(f"output size {[oh, ow]} must divide the input {list(xs[2:])}")
    k = [xs[2] // oh, xs[3] // ow]
    return imp.emit(fw.AveragePoolOp(x, out, k, k, [0, 0, 0, 0]))


CONVERTERS = {
    "aten.max_pool2d_with_indices": _max_pool(True),
    "aten.max_pool2d": _max_pool(False),
    "aten.avg_pool2d": _avg_pool,
    "aten._adaptive_avg_pool2d": _adaptive_avg_pool,
    "aten.adaptive_avg_pool2d": _adaptive_avg_pool,
}
NOTES = {
    "aten.max_pool2d_with_indices": "kernel, stride, padding, ceil_mode; dilation 1; the indices output unused",
    "aten.avg_pool2d": "kernel, stride, padding, ceil_mode, count_include_pad; no divisor_override",
    "aten._adaptive_avg_pool2d": "output 1x1 (global), or a size that divides the input",
}
