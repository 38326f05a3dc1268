"""Indexing by run-time integers: embedding, index_select, gather along a dim of a table."""

from __future__ import annotations

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Importer, Unsupported, norm_dim, shape


def _embedding(imp: Importer, node, args, kwargs):
    """``embedding(weight, indices, ...)``: rows of the table (padding_idx only matters for training)."""
    table, indices = imp.value(args[0]), imp.value(args[1])
    return imp.emit(fw.GatherOp(table, indices, 0, imp.result_type(node)))


def _index_select(imp: Importer, node, args, kwargs):
    x, index = imp.value(args[0]), imp.value(args[2])
    if len(shape(index)) != 1:
        raise Unsupported("index must be 1-D")
    return imp.emit(fw.GatherOp(x, index, norm_dim(args[1], len(shape(x))), imp.result_type(node)))


CONVERTERS = {
    "aten.embedding": _embedding,
    "aten.index_select": _index_select,
}
NOTES = {
    "aten.embedding": "int32/int64 indices in range (token ids); as fw.gather",
    "aten.index_select": "a 1-D index",
}
