"""Slicing: slice_axis, slice (begin/end/step with None), SliceChannel/split
(several outputs, squeeze_axis)."""

from __future__ import annotations

import ast

from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from kaena.dialects import framework as fw
from kaena.frontends.mxnet.core import (
    ATTR_LIMIT,
    Importer,
    Unsupported,
    accepts,
    bool_attr,
    f32,
    int_attr,
    positive_int_attr,
    reshape_to,
)
from kaena.frontends.mxnet.symbol import Node


def _slice(imp: Importer, x: SSAValue, starts: list[int], sizes: list[int], steps: list[int]) -> SSAValue:
    if list(fw.shape_of(x)) == sizes:
        return x
    return imp.make(fw.SliceOp(x, starts, sizes, steps, TensorType(f32, sizes)))


def _range(dim: int, begin: int | None, end: int | None, step: int) -> tuple[int, int]:
    """(start, size) of Python's ``range(dim)[begin:end:step]`` for a positive step."""
    indices = range(dim)[slice(begin, end, step)]
    if not indices:
        raise Unsupported(f"slice [{begin}:{end}:{step}] of a dim of {dim} is empty")
    return indices.start, len(indices)


def _slice_axis(imp: Importer, node: Node) -> None:
    x = imp.input(node, 0)
    xs = list(fw.shape_of(x))
    axis = int_attr(node, "axis", 0)
    if not -len(xs) <= axis < len(xs):
        raise Unsupported(f"axis={axis} is out of range for rank {len(xs)}")
    axis %= len(xs)
    start, size = _range(xs[axis], int_attr(node, "begin", 0), int_attr(node, "end"), 1)
    starts, sizes = [0] * len(xs), list(xs)
    starts[axis], sizes[axis] = start, size
    imp.define(node, _slice(imp, x, starts, sizes, [1] * len(xs)))


def _optional_ints(node: Node, key: str) -> list[int | None]:
    """A tuple attribute whose entries may be None (slice's begin, end, step)."""
    text = node.attrs.get(key, "()")
    try:
        value = ast.literal_eval(text) if text.strip() not in ("", "None") else ()
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = "bad"
    value = value if isinstance(value, tuple | list) else (value,)
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool) and abs(v) < ATTR_LIMIT)
               for v in value):
        raise Unsupported(f"attribute {key}='{text}' is not a tuple of integers or None")
    return list(value)


def _slice_op(imp: Importer, node: Node) -> None:
    x = imp.input(node, 0)
    xs = list(fw.shape_of(x))
    begin, end, step = (_optional_ints(node, k) for k in ("begin", "end", "step"))
    if len(begin) != len(end) or len(begin) > len(xs) or len(step) not in (0, len(begin)):
        raise Unsupported(f"begin {begin}, end {end} and step {step} must have one entry per sliced "
                          f"axis (at most {len(xs)})")
    starts, sizes, steps = [0] * len(xs), list(xs), [1] * len(xs)
    for axis, (b, e) in enumerate(zip(begin, end)):
        s = step[axis] if step and step[axis] is not None else 1
        if s < 1:
            raise Unsupported(f"step {s} is not supported (positive steps are)")
        starts[axis], sizes[axis] = _range(xs[axis], b, e, s)
        steps[axis] = s
    imp.define(node, _slice(imp, x, starts, sizes, steps))


def _slice_channel(imp: Importer, node: Node) -> None:
    x = imp.input(node, 0)
    xs = list(fw.shape_of(x))
    parts = positive_int_attr(node, "num_outputs")
    axis = int_attr(node, "axis", 1)
    if not -len(xs) <= axis < len(xs):
        raise Unsupported(f"axis={axis} is out of range for rank {len(xs)}")
    axis %= len(xs)
    if xs[axis] % parts:
        raise Unsupported(f"num_outputs={parts} does not divide axis {axis} of {xs}")
    size = xs[axis] // parts
    squeeze = bool_attr(node, "squeeze_axis", False)
    if squeeze and size != 1:
        raise Unsupported(f"squeeze_axis needs parts of size 1, got {size}")
    for index in range(parts):
        starts, sizes = [0] * len(xs), list(xs)
        starts[axis], sizes[axis] = index * size, size
        part = _slice(imp, x, starts, sizes, [1] * len(xs))
        if squeeze:
            part = reshape_to(imp, part, sizes[:axis] + sizes[axis + 1:])
        imp.define(node, part, index)


_SPLIT = accepts("num_outputs", "axis", "squeeze_axis")
CONVERTERS = {
    "slice_axis": (accepts("axis", "begin", "end"), _slice_axis),
    "slice": (accepts("begin", "end", "step"), _slice_op),
    "SliceChannel": (_SPLIT, _slice_channel),
    "split": (_SPLIT, _slice_channel),
}
NOTES = {
    "slice": "positive steps; None entries",
    "SliceChannel": "equal parts, any axis, squeeze_axis",
    "split": "equal parts, any axis, squeeze_axis",
}
