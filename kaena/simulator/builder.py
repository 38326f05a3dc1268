"""Hand-assembled programs: a small builder over ``kaena.isa`` records.

The code generator emits records in bulk with numpy; this builder is for tests,
micro-benchmarks and documentation examples, where readability wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kaena.isa import DType, Engine, Mem, Opcode, empty_records
from kaena.neff import Neff, Subgraph, TensorSpec, Variable


@dataclass(frozen=True)
class AP:
    """An access pattern; ``dims`` are (count, element stride) pairs, outermost first."""

    mem: Mem
    parts: int = 1
    dims: tuple[tuple[int, int], ...] = ()
    dtype: DType = DType.FP32
    start_partition: int = 0
    offset: int = 0  # bytes
    var: int = 0
    partition_stride: int = 0  # DRAM: elements between rows


def sbuf(offset: int, parts: int, *dims: tuple[int, int], dtype: DType = DType.FP32, start: int = 0) -> AP:
    return AP(Mem.SBUF, parts, tuple(dims), dtype, start, offset)


def psum(offset: int, parts: int, *dims: tuple[int, int], dtype: DType = DType.FP32, start: int = 0) -> AP:
    return AP(Mem.PSUM, parts, tuple(dims), dtype, start, offset)


def dram(var: int, rows: int, row_stride: int, *dims: tuple[int, int], dtype: DType = DType.FP32, offset: int = 0) -> AP:
    return AP(Mem.DRAM, rows, tuple(dims), dtype, 0, offset, var, row_stride)


def row(n: int) -> tuple[int, int]:
    """A contiguous free dimension of n elements."""
    return (n, 1)


@dataclass
class Program:
    """Records per engine for one subgraph, plus its variables."""

    variables: list[Variable] = field(default_factory=list)
    ops: dict[Engine, list[dict]] = field(default_factory=lambda: {e: [] for e in Engine})

    def var(self, name: str, kind: str, shape: tuple[int, ...], dtype: str = "float32", data=None) -> int:
        self.variables.append(Variable(name, kind, tuple(shape), dtype, data))
        return len(self.variables) - 1

    def add(self, engine: Engine, opcode: Opcode, **fields) -> int:
        self.ops[engine].append(dict(opcode=opcode, **fields))
        return len(self.ops[engine]) - 1

    def signal(self, engine: Engine, sem: int) -> int:
        return self.add(engine, Opcode.SEM_SIGNAL, sem=sem)

    def wait(self, engine: Engine, sem: int, value: int = 1) -> int:
        return self.add(engine, Opcode.SEM_WAIT, sem=sem, sem_value=value)

    def records(self, engine: Engine) -> np.ndarray:
        ops = self.ops[engine]
        rec = empty_records(len(ops))
        for i, op in enumerate(ops):
            for key, val in op.items():
                if key in ("out", "in0", "in1"):
                    _set_ap(rec[key], i, val)
                else:
                    rec[key][i] = val
        return rec

    def subgraph(self, core: int = 0) -> Subgraph:
        streams = {e: self.records(e) for e in Engine if self.ops[e]}
        return Subgraph(core, list(self.variables), streams)

    def neff(self, name: str = "prog") -> Neff:
        """A one-core Neff whose inputs/outputs are the input/output variables."""
        specs = {k: [TensorSpec(v.name, v.shape, v.dtype) for v in self.variables if v.kind == k] for k in ("input", "output")}
        return Neff(name, specs["input"], specs["output"], [self.subgraph()], "kaena-test")


def _set_ap(arr: np.ndarray, i: int, ap: AP) -> None:
    arr["mem"][i] = ap.mem
    arr["dtype"][i] = ap.dtype
    arr["ndims"][i] = len(ap.dims)
    arr["var"][i] = ap.var
    arr["start_partition"][i] = ap.start_partition
    arr["num_partitions"][i] = ap.parts
    arr["offset"][i] = ap.offset
    arr["partition_stride"][i] = ap.partition_stride
    for k, (count, stride) in enumerate(ap.dims):
        arr["counts"][i, k] = count
        arr["strides"][i, k] = stride
