"""``ktensor-split-columns``: split each matmul ``ktensor-plan-column-split`` marked
(``kaena.pipeline.split_columns``) into one matmul per part on its columns of the weight
and bias (new weights in the store), joined by a ``ktensor.concat`` along the columns.
The parts are separate ops, so ``ktensor-partition-pipeline`` can place them on adjacent
stages; each part carries ``kaena.pipeline.column_part = [first column, columns, of]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, ModuleOp, TensorType, i64
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter

from kaena.dialects import ktensor as kt
from kaena.errors import CompileError
from kaena.weights import module_store

from .ktensor_partition_pipeline import main_of
from .ktensor_plan_column_split import SPLIT_ATTR

PART_ATTR = "kaena.pipeline.column_part"


def _sliced(store, w: kt.WeightOp, lo: int, hi: int) -> kt.WeightOp:
    """The columns [lo, hi) of a weight's last dim, as a new weight."""
    shape = list(w.result.type.get_shape())
    name = store.add_derived(w.weight_name.data, store[w.weight_name.data][..., lo:hi])
    return kt.WeightOp(name, TensorType(w.result.type.element_type, shape[:-1] + [hi - lo]))


def split_matmul(store, op: kt.MatmulOp) -> None:
    plan = op.attributes[SPLIT_ATTR]
    parts = [a.value.data for a in plan.data if isinstance(a, IntegerAttr)] if isinstance(plan, ArrayAttr) else []
    m, n = op.result.type.get_shape()
    if not parts or len(parts) != len(plan.data) or sum(parts) != n or min(parts) < 1:
        raise CompileError(f"ktensor-split-columns: {SPLIT_ATTR} {plan} are not positive column counts adding "
                           f"up to the matmul's {n} columns")
    attrs = {k: v for k, v in op.attributes.items() if k != SPLIT_ATTR}
    new, outs, lo = [], [], 0
    for c in parts:
        w = _sliced(store, op.rhs.owner, lo, lo + c)
        b = _sliced(store, op.bias.owner, lo, lo + c) if op.bias is not None else None
        mm = kt.MatmulOp(op.lhs, w.result, b.result if b else None,
                         TensorType(op.result.type.element_type, [m, c]), op.activation.data)
        mm.attributes.update(attrs)
        mm.attributes[PART_ATTR] = ArrayAttr([IntegerAttr(v, i64) for v in (lo, c, n)])
        new += [w] + ([b] if b else []) + [mm]
        outs.append(mm.result)
        lo += c
    cat = kt.ConcatOp(outs, 1, op.result.type)
    cat.attributes.update(attrs)
    old = [v.owner for v in (op.rhs, op.bias) if v is not None]
    Rewriter.replace_op(op, new + [cat], [cat.result])
    for w in old:
        if not w.result.uses:
            Rewriter.erase_op(w)


@dataclass(frozen=True)
class KtensorSplitColumnsPass(ModulePass):
    """Rewrite the matmuls marked with ``kaena.pipeline.split_columns`` into their parts."""

    name: ClassVar[str] = "ktensor-split-columns"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        marked = [o for o in main_of(op).body.block.ops if isinstance(o, kt.MatmulOp) and SPLIT_ATTR in o.attributes]
        if marked:
            store = module_store(op)
            for o in marked:
                split_matmul(store, o)
