"""Helpers shared by the framework-level (``fw``) rewrites: weights by value."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import Float32Type, TensorType
from xdsl.ir import Operation, SSAValue

from kaena.dialects import framework as fw
from kaena.weights import WeightStore


def fw_weight(value: SSAValue) -> str | None:
    """The store name behind ``value`` if an ``fw.weight`` produces it."""
    owner = value.owner
    return owner.weight_name.data if isinstance(owner, fw.WeightOp) else None


def new_weight(store: WeightStore, base: str, array: np.ndarray) -> fw.WeightOp:
    """An ``fw.weight`` op for a derived (content-named) float32 weight."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    name = store.add_derived(base, array)
    op = fw.WeightOp(name, TensorType(Float32Type(), array.shape))
    if SSAValue.is_valid_name(base):
        op.result.name_hint = base
    return op


def sole_use_producer(value: SSAValue, cls: type[Operation]) -> Operation | None:
    """``value``'s producer if it is a ``cls`` and ``value`` has no other use."""
    owner = value.owner
    return owner if isinstance(owner, cls) and value.has_one_use() else None
