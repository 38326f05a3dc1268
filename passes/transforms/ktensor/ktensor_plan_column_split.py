"""``ktensor-plan-column-split{cores=N}``: plan splitting a contraction whose weights (and bias) alone
exceed a pipeline stage's resident share (1/RESIDENT_SHARE of SBUF) across adjacent
stages by output columns: each part keeps its columns' weights resident on its own core,
and the input is forwarded to the next part's stage instead of one stage streaming the
whole weight every inference. Records ``kaena.pipeline.split_columns = [n_1, ..., n_p]``
on the matmul (the columns of each part); ``ktensor-split-columns`` rewrites it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, ModuleOp, i64
from xdsl.passes import ModulePass

from kaena.dialects import ktensor as kt
from kaena.target import target_of

from kaena.target.tiling import RESIDENT_SHARE

from .ktensor_partition_pipeline import main_of, nbytes

SPLIT_ATTR = "kaena.pipeline.split_columns"


def column_parts(columns: int, column_bytes: int, capacity: int, most: int, align: int) -> list[int]:
    """The fewest parts (at most ``most``: then each part may still exceed it) whose columns'
    bytes each fit ``capacity``; part sizes a multiple of ``align`` (the PE's columns) where
    the columns allow it, the last one the rest. ``[columns]`` when the whole fits."""
    parts = [columns]
    most = min(most, columns)
    for p in range(min(max(2, math.ceil(columns * column_bytes / capacity)), most), most + 1):
        step = align if columns >= align * p else 1
        chunk = math.ceil(math.ceil(columns / p) / step) * step
        parts = [chunk] * (columns // chunk) + ([columns % chunk] if columns % chunk else [])
        if chunk * column_bytes <= capacity:
            break
    return parts


@dataclass(frozen=True)
class KtensorPlanColumnSplitPass(ModulePass):
    """Mark each matmul whose weight alone exceeds a stage's resident share with the
    output columns of its parts (at most ``cores`` parts). ``capacity``: the share in
    bytes (0: the target's SBUF / RESIDENT_SHARE; tests set a small one)."""

    name: ClassVar[str] = "ktensor-plan-column-split"

    cores: int = 1
    capacity: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.cores < 2:
            return
        target = target_of(op)
        capacity = self.capacity or target.sbuf_bytes // RESIDENT_SHARE
        for o in main_of(op).body.block.ops:
            if not isinstance(o, kt.MatmulOp) or not isinstance(o.rhs.owner, kt.WeightOp):
                continue
            if o.bias is not None and not isinstance(o.bias.owner, kt.WeightOp):
                continue
            n = o.rhs.type.get_shape()[-1]
            held = nbytes(o.rhs.type) + (nbytes(o.bias.type) if o.bias is not None else 0)
            if held <= capacity:
                continue
            parts = column_parts(n, held // n, capacity, self.cores, target.pe_columns)
            if len(parts) > 1:
                o.attributes[SPLIT_ATTR] = ArrayAttr([IntegerAttr(c, i64) for c in parts])
