"""The packed bias table: the biases of the dense convs planned to read it
(``kaena.plan.bias_table``), one derived weight per dtype loaded by the
program's first DMA into a resident tile."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from xdsl.ir import Operation, SSAValue

from kaena.dialects.inferentia import DramOp
from kaena.isa import DType
from kaena.target.tiling import cdiv

from . import decisions as d
from .views import DramView

if TYPE_CHECKING:
    from .function import FunctionLowering


class BiasTables:
    """Columns of the tables, gathered while the convs are emitted, emitted last (first in the program)."""

    def __init__(self, fl: FunctionLowering):
        self.fl = fl
        # dtype -> (placeholder tile, columns [partitions, k] in order)
        self.tables: dict[str, tuple[SSAValue, list[np.ndarray]]] = {}
        # (dtype, bias, start, count, width) -> first column: ops reading the same
        # biases the same way (a split batch's samples) share their columns
        self.placed: dict[tuple[str, str, int, int, int], int] = {}

    def columns(self, op: Operation, bias: DramView, start: int, count: int, width: int
                ) -> tuple[SSAValue, int] | None:
        """(table tile, first column) of biases [start, start + count) laid out as the op
        reads them (column k holds ``width`` consecutive biases on partitions 0..), or None
        when the op loads its own bias."""
        store = self.fl.plan.store
        owner = bias.var.owner
        if not d.has_flag(op, d.BIAS_TABLE_ATTR) or store is None or not isinstance(owner, DramOp) \
                or owner.kind.data != "file" or owner.var_name.data not in store:
            return None
        key = str(bias.element_type)
        where = (key, owner.var_name.data, start, count, width)
        if where in self.placed:
            return self.tables[key][0], self.placed[where]
        data = np.asarray(store[owner.var_name.data]).reshape(-1)[start:start + count]
        data = data.astype(DType.from_name(key).np, copy=False)  # one dtype per table
        P = self.fl.target.partitions
        if key not in self.tables:
            self.tables[key] = (self.fl.b.placeholder(P, bias.element_type), [])
        tile, columns = self.tables[key]
        col0 = sum(c.shape[1] for c in columns)
        k = cdiv(count, width)
        block = np.zeros((P, k), data.dtype)
        for j in range(k):
            part = data[j * width:(j + 1) * width]
            block[:len(part), j] = part
        columns.append(block)
        self.placed[where] = col0
        return tile, col0

    def emit(self) -> None:
        """Each packed table: a derived weight, its resident tile and its one DMA, first in the program."""
        for placeholder, columns in self.tables.values():
            table = np.concatenate(columns, axis=1)
            name = self.fl.plan.store.add_derived("kaena.bias_table", table)
            var = self.fl.dram("file", name, list(table.shape), placeholder.type.element_type)
            self.fl.b.prepend_resident_load(placeholder, var, "bias_table")
