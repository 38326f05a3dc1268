"""Layout: Flatten, Reshape (MXNet's special codes 0, -1, -2, -3, -4 and reverse),
Concat, transpose, expand_dims, Pad, nearest UpSampling."""

from __future__ import annotations

import math

from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.mxnet.core import (
    Importer,
    Unsupported,
    accepts,
    bool_attr,
    f32,
    float_attr,
    int_attr,
    positive_int_attr,
    reshape_to,
    tuple_attr,
)
from kaena.frontends.mxnet.symbol import Node


def mxnet_reshape(shape: tuple[int, ...], spec: tuple[int, ...], reverse: bool = False) -> tuple[int, ...]:
    """The output shape of MXNet's Reshape: 0 copies an input dim, -1 infers one,
    -2 copies the rest, -3 merges two input dims, -4 splits one into the next two
    codes (one may be -1); ``reverse`` matches the codes right to left.
    Raises ValueError when the spec does not fit ``shape``."""
    if reverse:
        return tuple(reversed(mxnet_reshape(tuple(reversed(shape)), _reverse_spec(spec))))
    out: list[int] = []
    infer = -1
    i = j = 0
    while j < len(spec):
        code = spec[j]
        if code > 0:
            out.append(code)
            i += 1
        elif code == 0:
            _need(shape, i, 1, spec)
            out.append(shape[i])
            i += 1
        elif code == -1:
            if infer >= 0:
                raise ValueError("more than one -1")
            infer = len(out)
            out.append(1)
            i += 1
        elif code == -2:
            out.extend(shape[i:])
            i = len(shape)
        elif code == -3:
            _need(shape, i, 2, spec)
            out.append(shape[i] * shape[i + 1])
            i += 2
        elif code == -4:
            _need(shape, i, 1, spec)
            if j + 2 >= len(spec):
                raise ValueError("-4 needs two following codes")
            d, a, b = shape[i], spec[j + 1], spec[j + 2]
            if a == -1 and b > 0 and d % b == 0:
                a = d // b
            elif b == -1 and a > 0 and d % a == 0:
                b = d // a
            if a < 1 or b < 1 or a * b != d:
                raise ValueError(f"-4 cannot split {d} into {spec[j + 1]} x {spec[j + 2]}")
            out.extend((a, b))
            i += 1
            j += 2
        else:
            raise ValueError(f"unknown code {code}")
        j += 1
    total = math.prod(shape)
    if infer >= 0:
        known = math.prod(d for k, d in enumerate(out) if k != infer)
        if known == 0 or total % known:
            raise ValueError("cannot infer the -1 dimension")
        out[infer] = total // known
    if math.prod(out) != total:
        raise ValueError(f"{list(out)} holds {math.prod(out)} elements, the input {total}")
    return tuple(out)


def _reverse_spec(spec: tuple[int, ...]) -> tuple[int, ...]:
    """The spec read right to left, keeping each -4 before its two split sizes."""
    groups: list[tuple[int, ...]] = []
    j = 0
    while j < len(spec):
        if spec[j] == -4:
            groups.append((-4, spec[j + 2], spec[j + 1]) if j + 2 < len(spec) else spec[j:])
            j += 3
        else:
            groups.append((spec[j],))
            j += 1
    return tuple(c for g in reversed(groups) for c in g)


def _need(shape: tuple[int, ...], i: int, n: int, spec: tuple[int, ...]) -> None:
    if i + n > len(shape):
        raise ValueError(f"the codes {list(spec)} use more dims than the input's {len(shape)}")


def _reshape(imp: Importer, node: Node) -> None:
    x = imp.input(node, 0)
    spec = tuple_attr(node, "shape")
    if spec is None:
        raise Unsupported("needs a shape (target_shape is deprecated and not supported)")
    xs = fw.shape_of(x)
    try:
        shape = mxnet_reshape(xs, spec, bool_attr(node, "reverse", False))
    except ValueError as e:
        raise Unsupported(f"shape={list(spec)} does not fit the input {list(xs)}: {e}") from None
    imp.define(node, imp.make(fw.ReshapeOp(x, shape, TensorType(f32, list(shape)))))


def _flatten(imp: Importer, node: Node) -> None:
    x = imp.input(node, 0)
    xs = fw.shape_of(x)
    if not xs:
        raise Unsupported("cannot flatten a scalar")
    imp.define(node, reshape_to(imp, x, (xs[0], math.prod(xs[1:]))))


def _concat(imp: Importer, node: Node) -> None:
    values = imp.inputs(node)
    if not values:
        raise Unsupported("needs at least one input")
    rank = len(fw.shape_of(values[0]))
    axis = int_attr(node, "dim", 1)
    if not -rank <= axis < rank:
        raise Unsupported(f"dim={axis} is out of range for rank {rank}")
    if len(values) == 1:
        imp.define(node, imp.make(fw.IdentityOp(values[0])))
        return
    imp.define(node, imp.make(fw.ConcatOp(values, axis % rank, values[0].type)))


def _transpose(imp: Importer, node: Node) -> None:
    x = imp.input(node, 0)
    rank = len(fw.shape_of(x))
    perm = tuple_attr(node, "axes") or tuple(reversed(range(rank)))
    if sorted(a % rank for a in perm) != list(range(rank)) or any(not -rank <= a < rank for a in perm):
        raise Unsupported(f"axes={list(perm)} is not a permutation of {rank} axes")
    perm = tuple(a % rank for a in perm)
    xs = fw.shape_of(x)
    imp.define(node, imp.make(fw.TransposeOp(x, perm, TensorType(f32, [xs[a] for a in perm]))))


def _expand_dims(imp: Importer, node: Node) -> None:
    x = imp.input(node, 0)
    shape = list(fw.shape_of(x))
    axis = int_attr(node, "axis")
    if axis is None or not -len(shape) - 1 <= axis <= len(shape):
        raise Unsupported(f"axis={axis} is out of range for rank {len(shape)}")
    shape.insert(axis % (len(shape) + 1), 1)
    imp.define(node, imp.make(fw.ReshapeOp(x, shape, TensorType(f32, shape))))


def _pad(imp: Importer, node: Node) -> None:
    """MXNet's pad_width is (before_0, after_0, before_1, after_1, ...); fw's ONNX order
    is all befores, then all afters."""
    x = imp.input(node, 0)
    rank = len(fw.shape_of(x))
    width = tuple_attr(node, "pad_width")
    if width is None or len(width) != 2 * rank or min(width) < 0:
        raise Unsupported(f"pad_width={width} must be {2 * rank} non-negative entries")
    mode = node.attrs.get("mode", "constant")
    value = float_attr(node, "constant_value", 0.0)
    imp.define(node, imp.make(fw.PadOp(x, list(width[0::2]) + list(width[1::2]), mode, value)))


def _upsampling(imp: Importer, node: Node) -> None:
    if int_attr(node, "num_args", 1) != 1 or len(node.inputs) != 1:
        raise Unsupported("nearest UpSampling of one input is supported (num_args=1)")
    scale = positive_int_attr(node, "scale")
    x = imp.input(node, 0)
    xs = fw.shape_of(x)
    if len(xs) != 4:
        raise Unsupported(f"expects an NCHW input, got {list(xs)}")
    out = TensorType(f32, [xs[0], xs[1], xs[2] * scale, xs[3] * scale])
    imp.define(node, imp.make(fw.ResizeNearestOp(x, (scale, scale), out)))


_PAD = accepts("pad_width", "constant_value", mode=("constant", "edge", "reflect"))
CONVERTERS = {
    "Pad": (_PAD, _pad),
    "pad": (_PAD, _pad),
    "UpSampling": (accepts("scale", "num_args", "num_filter", "workspace", sample_type=("nearest",),
                           multi_input_mode=("concat",)), _upsampling),
    "Reshape": (accepts("shape", "reverse"), _reshape),
    "reshape": (accepts("shape", "reverse"), _reshape),
    "Flatten": (accepts(), _flatten),
    "flatten": (accepts(), _flatten),
    "Concat": (accepts("dim", "num_args"), _concat),
    "concat": (accepts("dim", "num_args"), _concat),
    "transpose": (accepts("axes"), _transpose),
    "expand_dims": (accepts("axis"), _expand_dims),
}
NOTES = {
    "Reshape": "codes 0, -1, -2, -3, -4 and reverse",
    "reshape": "codes 0, -1, -2, -3, -4 and reverse",
    "Flatten": "to [batch, rest]",
    "Concat": "any dim",
    "Pad": "constant (constant_value), edge, reflect",
    "UpSampling": "nearest, one input, integer scale",
}
