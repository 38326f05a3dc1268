"""Indexing: embedding and index_select by run-time integers; index/gather/take by indices
known at export."""

from __future__ import annotations

import math

import torch
import torch.utils._pytree as pytree
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Const, Importer, f32, Unsupported, norm_dim, reshape, shape


def _embedding(imp: Importer, node, args, kwargs):
    """``embedding(weight, indices, ...)``: rows of the table (padding_idx only matters for training)."""
    table, indices = imp.value(args[0]), imp.value(args[1])
    return imp.emit(fw.GatherOp(table, indices, 0, imp.result_type(node)))


def _index_select(imp: Importer, node, args, kwargs):
    x, index = imp.value(args[0]), imp.value(args[2])
    if len(shape(index)) != 1:
        raise Unsupported("index must be 1-D")
    return imp.emit(fw.GatherOp(x, index, norm_dim(args[1], len(shape(x))), imp.result_type(node)))


def _constant_index(imp: Importer, node, args, kwargs):
    """A data movement whose indices are known at export (``x[batch_idx, kv_idx]`` building an
    attention mask, ``gather`` by constant indices): the same op applied to the element
    numbers of ``x`` gives which element each output takes, one fw.gather of the flat ``x``."""
    x = imp.value(args[0])
    numbers = torch.arange(math.prod(shape(x)), dtype=torch.int64).reshape(shape(x))
    rest = pytree.tree_map(lambda a: a.tensor if isinstance(a, Const) else a, (args[1:], kwargs))
    if any(isinstance(a, SSAValue) for a in pytree.tree_leaves(rest)):
        raise Unsupported("indices computed at run time are not supported (only embedding/index_select)")
    with torch.no_grad():
        taken = node.target(numbers, *rest[0], **rest[1])
    out = imp.result_type(node)
    flat = reshape(imp, x, (math.prod(shape(x)),))
    if flat.type.element_type != f32:  # gather tables live in DRAM as float32: bool masks go through it
        flat = imp.emit(fw.CastOp(flat, TensorType(f32, shape(flat))))
    index = imp.value(Const(f"{node.name}.indices", taken.to(torch.int64)))
    taken_type = TensorType(f32, out.get_shape())
    y = imp.emit(fw.GatherOp(flat, index, 0, taken_type if out.element_type != f32 else out))
    return y if out.element_type == f32 else imp.emit(fw.CastOp(y, out))


CONVERTERS = {
    "aten.embedding": _embedding,
    "aten.index_select": _index_select,
    "aten.index": _constant_index,
    "aten.gather": _constant_index,
    "aten.take": _constant_index,
}
NOTES = {
    "aten.embedding": "int32/int64 indices in range (token ids); as fw.gather",
    "aten.index_select": "a 1-D index",
    "aten.index": "indices known at export (e.g. mask building); as one fw.gather of the flat input",
    "aten.gather": "indices known at export; as one fw.gather of the flat input",
}
