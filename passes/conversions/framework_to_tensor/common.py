"""What the fw -> ktensor lowerings share: the op collector that folds weight
rewrites into the store, and weight helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from xdsl.dialects.builtin import Float32Type, ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import RewritePattern

from kaena.weights import WeightStore

Shape = tuple[int, ...]


def weight_name(value: SSAValue) -> str | None:
    """The store name behind ``value`` if it is a weight (fw or ktensor level)."""
    owner = value.owner
    if isinstance(owner, fw.WeightOp | kt.WeightOp):
        return owner.weight_name.data
    return None


def tensor(shape: Shape, like: SSAValue) -> TensorType:
    return TensorType(like.type.element_type, shape)


class Lowering:
    """Collects the ops one fw op lowers to, folding weight rewrites into the store."""

    def __init__(self, store: WeightStore):
        self.store = store
        self.ops: list[Operation] = []

    def add(self, op: Operation) -> SSAValue:
        self.ops.append(op)
        return op.results[0]

    def weight(self, base: str, array: np.ndarray) -> SSAValue:
        array = np.ascontiguousarray(array, dtype=np.float32)
        name = self.store.add_derived(base, array)
        value = self.add(kt.WeightOp(name, TensorType(Float32Type(), array.shape)))
        if SSAValue.is_valid_name(base):
            value.name_hint = base
        return value

    def scalar(self, base: str, value: float) -> SSAValue:
        return self.weight(base, np.array([value], np.float32))

    def transpose(self, value: SSAValue) -> SSAValue:
        """2-D transpose: folded into a derived weight when ``value`` is one."""
        if (name := weight_name(value)) is not None:
            return self.weight(name, self.store[name].T)
        shape = fw.shape_of(value)
        return self.add(kt.TransposeOp(value, (1, 0), tensor((shape[1], shape[0]), value)))

    def reshape(self, value: SSAValue, shape: Shape) -> SSAValue:
        if fw.shape_of(value) == tuple(shape):
            return value
        if (name := weight_name(value)) is not None:
            return self.weight(name, self.store[name].reshape(shape))
        return self.add(kt.ReshapeOp(value, tensor(shape, value)))

    def broadcast(self, value: SSAValue, shape: Shape) -> SSAValue:
        """``value`` broadcast to ``shape`` (same rank): a derived weight for a weight."""
        if fw.shape_of(value) == tuple(shape):
            return value
        if (name := weight_name(value)) is not None:
            return self.weight(name, np.broadcast_to(self.store[name], shape))
        return self.add(kt.BroadcastOp(value, tensor(tuple(shape), value)))

    def elementwise(self, kind: str, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        shape = tuple(np.broadcast_shapes(fw.shape_of(lhs), fw.shape_of(rhs)))
        return self.add(kt.ElementwiseOp(kind, lhs, rhs, tensor(shape, lhs)))


@dataclass
class StorePattern(RewritePattern):
    store: WeightStore


def erase_dead_weights(module: ModuleOp) -> None:
    """Merge repeated derived ktensor weights, then drop the weights (fw or
    ktensor) whose uses were all rewritten."""
    kt.erase_dead_weights(module)
    for op in list(module.walk(reverse=True)):
        if isinstance(op, fw.WeightOp) and not op.result.uses:
            op.detach()
            op.erase()
