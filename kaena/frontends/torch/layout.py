"""Layout: view/reshape, permute/transpose, expand, (un)squeeze, flatten, cat, slice,
select, split, and padding."""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Importer, Unsupported, norm_dim, reshape, shape


def _to_result_shape(imp: Importer, node, args, kwargs):
    """view, reshape, unsqueeze, squeeze, flatten: a row-major reshape to torch's result shape."""
    x = imp.value(args[0])
    return reshape(imp, x, imp.result_type(node).get_shape())


def _permute(imp: Importer, node, args, kwargs):
    x = imp.value(args[0])
    rank = len(shape(x))
    perm = [norm_dim(d, rank) for d in args[1]]
    if perm == list(range(rank)):
        return x
    return imp.emit(fw.TransposeOp(x, perm, imp.result_type(node)))


def _transpose(imp: Importer, node, args, kwargs):
    x = imp.value(args[0])
    rank = len(shape(x))
    perm = list(range(rank))
    if rank >= 2 or len(args) > 1:
        a, b = (norm_dim(d, rank) for d in (args[1:3] if len(args) > 1 else (0, 1)))
        perm[a], perm[b] = perm[b], perm[a]
    if perm == list(range(rank)):
        return x
    return imp.emit(fw.TransposeOp(x, perm, imp.result_type(node)))


def _expand(imp: Importer, node, args, kwargs):
    x = imp.value(args[0])
    out = imp.result_type(node)
    if out.get_shape() == tuple(shape(x)):
        return x
    return imp.emit(fw.ExpandOp(x, out.get_shape(), out))


def _cat(imp: Importer, node, args, kwargs):
    out = imp.result_type(node)
    tensors = [imp.value(t) for t in args[0]]
    tensors = [t for t in tensors if shape(t) != (0,)]  # torch.cat skips empty 1-D tensors
    dim = norm_dim(args[1] if len(args) > 1 else kwargs.get("dim", 0), len(out.get_shape()))
    if len(tensors) == 1:
        return tensors[0]
    return imp.emit(fw.ConcatOp(tensors, dim, out))


def slice_of(imp: Importer, x, dim: int, start: int, size: int, step: int):
    s = list(shape(x))
    if start == 0 and size == s[dim] and step == 1:
        return x
    starts, sizes, steps = [0] * len(s), list(s), [1] * len(s)
    starts[dim], sizes[dim], steps[dim] = start, size, step
    return imp.emit(fw.SliceOp(x, starts, sizes, steps, TensorType(x.type.element_type, sizes)))


def _slice(imp: Importer, node, args, kwargs):
    x = imp.value(args[0])
    s = shape(x)
    dim = norm_dim(args[1] if len(args) > 1 else 0, len(s))
    start = args[2] if len(args) > 2 and args[2] is not None else 0
    end = args[3] if len(args) > 3 and args[3] is not None else s[dim]
    step = args[4] if len(args) > 4 else 1
    start, end, _ = slice(start, end, step).indices(s[dim])
    size = len(range(start, end, step))
    if size == 0:
        raise Unsupported("an empty slice is not supported")
    return slice_of(imp, x, dim, start, size, step)


def _select(imp: Importer, node, args, kwargs):
    x = imp.value(args[0])
    s = shape(x)
    dim = norm_dim(args[1], len(s))
    index = args[2] % s[dim]
    return reshape(imp, slice_of(imp, x, dim, index, 1, 1), imp.result_type(node).get_shape())


def _split(imp: Importer, node, args, kwargs):
    """split / split_with_sizes / unbind: a tuple of slices."""
    x = imp.value(args[0])
    s = shape(x)
    vals = node.meta["val"]
    dim = norm_dim(args[2] if len(args) > 2 else kwargs.get("dim", 0), len(s))
    outs, start = [], 0
    for i, val in enumerate(vals):
        size = int(val.shape[dim])
        outs.append(slice_of(imp, x, dim, start, size, 1))
        start += size
    return tuple(outs)


def _unbind(imp: Importer, node, args, kwargs):
    x = imp.value(args[0])
    s = shape(x)
    dim = norm_dim(args[1] if len(args) > 1 else 0, len(s))
    return tuple(reshape(imp, slice_of(imp, x, dim, i, 1, 1), imp.result_type(node, i).get_shape())
                 for i in range(s[dim]))


def torch_pads(pad, rank: int) -> list[int]:
    """torch's (left, right) pairs from the last dim backwards -> fw [begin_0.., end_0..]."""
    if len(pad) % 2 or len(pad) // 2 > rank:
        raise Unsupported(f"pad {list(pad)} does not fit a rank-{rank} tensor")
    begin, end = [0] * rank, [0] * rank
    for i in range(len(pad) // 2):
        begin[rank - 1 - i], end[rank - 1 - i] = int(pad[2 * i]), int(pad[2 * i + 1])
    if min(begin + end, default=0) < 0:
        raise Unsupported(f"negative padding {list(pad)} is not supported")
    return begin + end


def _pad(mode: str):
    def conv(imp: Importer, node, args, kwargs):
        x = imp.value(args[0])
        pads = torch_pads(args[1], len(shape(x)))
        value = float(args[2]) if mode == "constant" and len(args) > 2 and args[2] is not None else 0.0
        if not any(pads):
            return x
        return imp.emit(fw.PadOp(x, pads, mode, value, imp.result_type(node)))
    return conv


def _pad_any(imp: Importer, node, args, kwargs):
    """``pad(x, pad, mode='constant', value=None)`` (the export's own IR)."""
    mode = args[2] if len(args) > 2 else kwargs.get("mode", "constant")
    value = args[3] if len(args) > 3 else kwargs.get("value")
    modes = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}
    if mode not in modes:
        raise Unsupported(f"pad mode '{mode}' is not supported")
    return _pad(modes[mode])(imp, node, (args[0], args[1], value), {})


CONVERTERS = {
    "aten.view": _to_result_shape,
    "aten._unsafe_view": _to_result_shape,
    "aten.reshape": _to_result_shape,
    "aten.unsqueeze": _to_result_shape,
    "aten.squeeze": _to_result_shape,
    "aten.flatten": _to_result_shape,
    "aten.permute": _permute,
    "aten.transpose": _transpose,
    "aten.t": _transpose,
    "aten.expand": _expand,
    "aten.cat": _cat,
    "aten.slice": _slice,
    "aten.select": _select,
    "aten.split": _split,
    "aten.split_with_sizes": _split,
    "aten.unbind": _unbind,
    "aten.constant_pad_nd": _pad("constant"),
    "aten.pad": _pad_any,
    "aten.reflection_pad2d": _pad("reflect"),
    "aten.replication_pad2d": _pad("edge"),
}
NOTES = {
    "aten.view": "static shapes",
    "aten.slice": "any start/end/step > 0 (not empty)",
    "aten.select": "as a slice and a reshape",
    "aten.split": "static sizes",
    "aten.constant_pad_nd": "non-negative padding, any value",
    "aten.reflection_pad2d": "pads smaller than the dims",
}
