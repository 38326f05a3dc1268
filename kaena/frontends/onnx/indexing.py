"""Gather, GatherND, Slice and Split.

``Gather`` by run-time integer indices along axis 0 is ``fw.gather``
(embedding lookups; the table is usually a weight); along another axis the
table is transposed so that axis leads, and the result back. ``Gather`` by constant
indices of a run-time tensor is a slice (BERT's pooler takes token 0:
``Gather(x, 0, axis=1)``), of a constant table a constant (folded in ``core``).
``Slice`` and ``Split`` of run-time tensors with constant bounds are
``fw.slice`` ops, one per output."""

from __future__ import annotations

import numpy as np
import onnx
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue

from kaena.dialects import framework as fw
from kaena.frontends.onnx.core import Importer, InvalidNode, Unsupported, attrs
from kaena.frontends.onnx.utils import define_or_reshape, reshape_to


def _slice_value(imp: Importer, x: SSAValue, axis: int, start: int, size: int, step: int = 1) -> SSAValue:
    xs = fw.shape_of(x)
    if start == 0 and size == xs[axis] and step == 1:
        return x
    starts, sizes, steps = [0] * len(xs), list(xs), [1] * len(xs)
    starts[axis], sizes[axis], steps[axis] = start, size, step
    return imp.emit(fw.SliceOp(x, starts, sizes, steps, TensorType(x.type.element_type, sizes))).results[0]


def _gather(imp: Importer, node: onnx.NodeProto) -> None:
    x_name, i_name = node.input[0], node.input[1]
    axis = int(attrs(node).get("axis", 0))
    if i_name not in imp.consts:
        table = imp.operand(x_name)
        idx = imp.operand(i_name)
        rank = len(fw.shape_of(table))
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis < rank:
            raise Unsupported(f"axis {axis} out of range for rank {rank}")
        imp.define(node, imp.emit(_gather_rows(imp, table, idx, axis)))
        return
    x = imp.operand(x_name)
    xs = fw.shape_of(x)
    axis = axis + len(xs) if axis < 0 else axis
    if not 0 <= axis < len(xs):
        raise Unsupported(f"axis {axis} out of range for rank {len(xs)}")
    idx = np.asarray(imp.consts[i_name]).astype(np.int64)
    flat = [int(i) % xs[axis] if -xs[axis] <= i < xs[axis] else None for i in idx.ravel()]
    if None in flat:
        raise Unsupported(f"indices {idx.ravel().tolist()} out of range for a dim of {xs[axis]}")
    if not flat:
        raise Unsupported("empty indices")
    step = flat[1] - flat[0] if len(flat) > 1 else 1
    if step >= 1 and flat == list(range(flat[0], flat[0] + step * len(flat), step)):
        value = _slice_value(imp, x, axis, flat[0], len(flat), step)
    else:  # arbitrary constant indices: one slice each, concatenated
        parts = [_slice_value(imp, x, axis, i, 1) for i in flat]
        shape = list(xs)
        shape[axis] = len(flat)
        value = imp.emit(fw.ConcatOp(parts, axis, TensorType(x.type.element_type, shape))).results[0]
    out = (*xs[:axis], *idx.shape, *xs[axis + 1:])
    define_or_reshape(imp, node, reshape_to(imp, value, out))


def _gather_rows(imp: Importer, table: SSAValue, idx: SSAValue, axis: int) -> Operation:
    """Gather by run-time ids: rows of ``table`` (a DMA gather). Along another axis the
    gathered axis is transposed to the front and the result's index dims back into place."""
    ts, ks = fw.shape_of(table), fw.shape_of(idx)
    et = table.type.element_type
    if axis == 0:
        return fw.GatherOp(table, idx, 0, TensorType(et, [*ks, *ts[1:]]))
    front = [axis, *range(axis), *range(axis + 1, len(ts))]
    moved = [ts[i] for i in front]
    table = imp.emit(fw.TransposeOp(table, front, TensorType(et, moved))).results[0]
    rows = [*ks, *moved[1:]]
    gathered = imp.emit(fw.GatherOp(table, idx, 0, TensorType(et, rows))).results[0]
    q = len(ks)
    back = [*range(q, q + axis), *range(q), *range(q + axis, len(rows))]
    return fw.TransposeOp(gathered, back, TensorType(et, [rows[i] for i in back]))


def _affine_grid(flat_shape: tuple[int, ...], idx: np.ndarray) -> tuple[list[int], list[int]] | None:
    """(base, stride per output dim) when ``idx[o]`` (a row number of ``flat_shape``)
    is ``base + sum(o_d * stride_d)`` for every output position ``o``; else None."""
    base = int(idx.flat[0])
    strides = []
    for d, n in enumerate(idx.shape):
        one = [0] * idx.ndim
        one[d] = 1 if n > 1 else 0
        strides.append(int(idx[tuple(one)]) - base if n > 1 else 0)
    grid = base + sum(np.arange(n).reshape([-1 if i == d else 1 for i in range(idx.ndim)]) * st
                      for d, (n, st) in enumerate(zip(idx.shape, strides)))
    return (base, strides) if np.array_equal(np.broadcast_to(grid, idx.shape), idx) else None


def _gather_nd(imp: Importer, node: onnx.NodeProto) -> None:
    """GatherND by constant indices (the dynamo exporter's vmapped mask functions pick
    ``attention_mask[b, kv]`` over a [B, 1, 1, KV] grid). The index tuples are row
    numbers of the data with its indexed dims flattened; rows that run through the
    data contiguously, or with one stride, and repeat along the other dims are a
    slice, a reshape and an expand; any other rows a gather by the constant numbers."""
    batch_dims = int(attrs(node).get("batch_dims", 0))
    if batch_dims:
        raise Unsupported(f"batch_dims={batch_dims}; only 0 is supported")
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    idx = np.asarray(imp.const(node.input[1], "GatherND's indices")).astype(np.int64)
    if idx.ndim < 1 or idx.size == 0 or not 1 <= idx.shape[-1] <= len(xs):
        raise Unsupported(f"indices of shape {list(idx.shape)} do not index a tensor of shape {list(xs)}")
    k = idx.shape[-1]
    dims = np.array(xs[:k])
    if ((idx < -dims) | (idx >= dims)).any():
        raise Unsupported(f"indices out of range for the leading dims {list(xs[:k])}")
    rows = np.ravel_multi_index(tuple(np.moveaxis(idx % dims, -1, 0)), tuple(xs[:k]))
    rows = np.asarray(rows, np.int64).reshape(idx.shape[:-1])
    inner = tuple(xs[k:])
    table = reshape_to(imp, x, (int(np.prod(xs[:k])), *inner))
    out = (*rows.shape, *inner)
    value = _rows_as_slice(imp, table, rows)
    if value is None:
        ids = imp.operand(_row_numbers(imp, node, rows))
        value = imp.emit(fw.GatherOp(table, ids, 0, TensorType(x.type.element_type, out))).results[0]
    elif fw.shape_of(value) != out:
        value = imp.emit(fw.ExpandOp(value, out, TensorType(x.type.element_type, out))).results[0]
    define_or_reshape(imp, node, value)


def _row_strides(rows: np.ndarray) -> tuple[int, list[int]] | None:
    """(base, stride per dim) when ``rows[o] == base + sum(o_d * stride_d)`` everywhere."""
    base = int(rows.flat[0])
    strides = [int(rows[tuple(1 if i == d else 0 for i in range(rows.ndim))]) - base if n > 1 else 0
               for d, n in enumerate(rows.shape)]
    grid = np.full(rows.shape, base, np.int64)
    for d, (n, st) in enumerate(zip(rows.shape, strides)):
        grid = grid + (np.arange(n) * st).reshape([n if i == d else 1 for i in range(rows.ndim)])
    return (base, strides) if np.array_equal(grid, rows) else None


def _rows_as_slice(imp: Importer, table: SSAValue, rows: np.ndarray) -> SSAValue | None:
    """Rows of ``table`` as a slice reshaped so that it broadcasts to the rows' grid
    (size 1 along the dims where the rows repeat), or None if they are no such view."""
    affine = _row_strides(rows) if rows.ndim else (int(rows), [])
    if affine is None:
        return None
    base, strides = affine
    moving = [d for d, st in enumerate(strides) if st != 0]
    sizes = [rows.shape[d] for d in moving]
    contiguous = [int(np.prod(sizes[i + 1:])) for i in range(len(sizes))]
    if [strides[d] for d in moving] == contiguous:
        step = 1
    elif len(moving) == 1 and strides[moving[0]] > 0:
        step = strides[moving[0]]
    else:
        return None
    value = _slice_value(imp, table, 0, base, int(np.prod(sizes)), step)
    kept = [n if d in moving else 1 for d, n in enumerate(rows.shape)]
    return reshape_to(imp, value, (*kept, *fw.shape_of(table)[1:]))


def _row_numbers(imp: Importer, node: onnx.NodeProto, rows: np.ndarray) -> str:
    name = f"{node.output[0]}.rows"
    imp.consts[name] = rows
    return name


def _slice(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    at = attrs(node)
    if imp.opset < 10:
        starts, ends = list(at["starts"]), list(at["ends"])
        axes = list(at.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        def const(i: int, what: str, default):
            if len(node.input) > i and node.input[i]:
                return [int(v) for v in np.asarray(imp.const(node.input[i], f"Slice's {what}")).ravel()]
            return default
        starts, ends = const(1, "starts", None), const(2, "ends", None)
        axes = const(3, "axes", list(range(len(starts))))
        steps = const(4, "steps", [1] * len(starts))
    value = x
    for s, e, a, st in zip(starts, ends, axes, steps):
        a = a + len(xs) if a < 0 else a
        if not 0 <= a < len(xs):
            raise Unsupported(f"axis {a} out of range for rank {len(xs)}")
        if st == 0:
            raise Unsupported("step 0 is invalid")
        r = range(*slice(s, e, st).indices(xs[a]))
        if len(r) == 0:
            raise Unsupported("the slice is empty")
        value = _slice_value(imp, value, a, r.start, len(r), st)
    if value is x:
        value = imp.emit(fw.IdentityOp(x)).results[0]
    define_or_reshape(imp, node, value)


def _split(imp: Importer, node: onnx.NodeProto) -> None:
    x = imp.operand(node.input[0])
    xs = fw.shape_of(x)
    at = attrs(node)
    axis = int(at.get("axis", 0))
    axis = axis + len(xs) if axis < 0 else axis
    if not 0 <= axis < len(xs):
        raise InvalidNode(f"axis {at.get('axis', 0)} is out of range for rank {len(xs)}")
    if "split" in at:
        sizes = [int(v) for v in at["split"]]
    elif len(node.input) > 1 and node.input[1]:
        sizes = [int(v) for v in np.asarray(imp.const(node.input[1], "Split's split")).ravel()]
    else:
        n = int(at.get("num_outputs", len(node.output)))
        chunk = -(-xs[axis] // n)
        sizes = [min(chunk, xs[axis] - i * chunk) for i in range(n)]
    if sum(sizes) != xs[axis] or min(sizes) < 1 or len(sizes) != len(node.output):
        raise Unsupported(f"split sizes {sizes} do not cover the dim of {xs[axis]} in {len(node.output)} parts")
    start = 0
    for i, size in enumerate(sizes):
        value = _slice_value(imp, x, axis, start, size)
        if value is x:
            value = imp.emit(fw.IdentityOp(x)).results[0]
        start += size
        if node.output[i]:
            define_or_reshape(imp, node, value, i)


CONVERTERS = {
    "Gather": ({"axis"}, _gather),
    "Slice": ({"starts", "ends", "axes"}, _slice),
    "Split": ({"axis", "split", "num_outputs"}, _split),
    "GatherND": ({"batch_dims"}, _gather_nd),
}
NOTES = {
    "Gather": "run-time integer indices in [0, rows) along any axis (axis 0: a DMA gather, others "
              "transpose around it; negative run-time ids are refused: the device has no int32 "
              "arithmetic); constant indices of any tensor (a slice, or folded)",
    "Slice": "constant starts/ends/axes/steps (negative steps too: a DMA walking backwards)",
    "Split": "constant split sizes",
    "GatherND": "constant indices, batch_dims 0 (a slice and broadcast, or a gather of rows)",
}
