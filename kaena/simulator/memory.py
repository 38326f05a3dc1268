"""Simulated memories and access patterns.

Every memory is a ``Space``: a 2-D byte array (rows x row bytes). SBUF and
PSUM have one row per partition; a DRAM variable is one row. An access
pattern (AP) becomes a strided numpy view of a Space, so instructions never
loop over elements in Python. ``check_stream`` validates every AP of a stream
up front (vectorised), so execution can trust the bounds.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kaena.errors import SimulationError
from kaena.isa import DTYPE_ITEMSIZE, MAX_FREE_DIMS, DType, Engine, Mem, Opcode, ap_counts, ceil_div
from kaena.neff.model import Subgraph, Variable
from kaena.target import NeuronCoreTarget

ITEMSIZE = DTYPE_ITEMSIZE
SHADOW_UNIT = 2  # bytes per hazard-shadow entry: the smallest itemsize
NO_WRITER = -1  # shadow writer code: never written
PRELOADED = -2  # shadow writer code: written by the load-time program (ordered before everything)
DRAM_WRITABLE = ("output", "tmp-buf")
DRAM_KINDS = ("input", "output", "file", "tmp-buf")
SLOTS = ("out", "in0", "in1")
_DTYPE_NAMES = tuple(d.numpy_name for d in DType)


def np_dtype_of(name: str) -> np.dtype:
    return DType.from_name(name).np


class Space:
    """One memory: bytes plus (optionally) its hazard shadow.

    The shadow has one entry per 2 bytes: ``writer`` holds seq*4+engine of the
    last write (NO_WRITER: none; below it: a load-time record); ``readers[a]`` the seq
    of agent a's last read (-1: none), a plane made on a's first read (a DRAM output
    only the DMA queue writes has no reader plane). Shadow columns grow on demand so
    small programs stay cheap; an on-chip Space's shadow covers only the byte ranges its
    program's records touch (``Columns``: the allocator fills SBUF from the top and puts
    a few tiles at the bottom, so full-width planes would be mostly untouched, and a
    64-core pipeline has hundreds of them).
    """

    def __init__(self, name: str, rows: int, row_bytes: int, with_data: bool, shadowed: bool,
                 agents: tuple[int, ...] = tuple(range(len(Engine)))):
        self.name = name
        # the hazard checker's agents that access this memory (one reader plane each): the
        # engines of its core, and of the receiving core for a variable cores share
        self.agents = agents
        self.rows = rows
        self.row_bytes = row_bytes
        self.data = np.zeros((rows, row_bytes), dtype=np.uint8) if with_data else None
        self.flat = self.data.reshape(-1) if with_data else None
        self.shadowed = shadowed
        self.width = 0
        self.writer = np.full((rows, 0), NO_WRITER, dtype=np.int32)
        self.readers: dict[int, np.ndarray] = {}  # agent -> [rows, width] plane
        self.columns: Columns | None = None  # byte -> shadow column (None: byte // SHADOW_UNIT)

    def column(self, byte: int) -> int:
        return byte // SHADOW_UNIT if self.columns is None else self.columns.column(byte)

    def reader_plane(self, agent: int) -> np.ndarray:
        plane = self.readers.get(agent)
        if plane is None:
            plane = self.readers[agent] = np.full((self.rows, self.width), -1, dtype=np.int32)
        return plane

    def ensure(self, hi_byte: int) -> None:
        """Grow the shadow to cover bytes [0, hi_byte) of every row."""
        if self.columns is not None:  # every column the program touches, at once
            need = full = self.columns.width
        else:
            need, full = ceil_div(hi_byte, SHADOW_UNIT), ceil_div(self.row_bytes, SHADOW_UNIT)
        if need <= self.width:
            return
        # a DRAM variable (one row) at once: growing it by doubling would hold two copies
        new = full if self.rows == 1 else min(max(need, 2 * self.width, 256), full)
        w = np.full((self.rows, new), NO_WRITER, dtype=np.int32)
        w[:, : self.width] = self.writer
        self.writer = w
        for a, old in self.readers.items():
            r = np.full((self.rows, new), -1, dtype=np.int32)
            r[:, : self.width] = old
            self.readers[a] = r
        self.width = new


class Columns:
    """The shadow columns of an on-chip Space: the merged byte ranges its records touch
    (within a partition), packed side by side. Each access lies inside one range, so its
    strided view stays a strided view of the packed plane."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray):
        lo = lo // SHADOW_UNIT
        hi = -(-hi // SHADOW_UNIT)
        order = np.argsort(lo, kind="stable")
        lo, hi = lo[order], np.maximum.accumulate(hi[order]) if len(hi) else hi
        new = np.ones(len(lo), dtype=bool)
        new[1:] = lo[1:] > hi[:-1]
        starts = lo[new]
        ends = hi[np.append(np.flatnonzero(new)[1:] - 1, len(lo) - 1)] if len(lo) else hi
        self.starts = starts.tolist()
        self.base = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64).tolist()
        self.width = int(self.base[-1])  # packed columns in all

    def column(self, byte: int) -> int:
        unit = byte // SHADOW_UNIT
        j = bisect.bisect_right(self.starts, unit) - 1
        return self.base[j] + unit - self.starts[j]

    def check_span(self, lo: int, hi: int) -> None:
        """Bytes [lo, hi) of a partition must lie in one packed range: a view across two
        would stride over another range's columns and shadow the wrong bytes."""
        first = bisect.bisect_right(self.starts, lo // SHADOW_UNIT)
        last = bisect.bisect_right(self.starts, (hi - 1) // SHADOW_UNIT)
        if hi > lo and first != last:
            raise AssertionError(f"shadow access of bytes [{lo}, {hi}) spans two packed ranges")


def touched_columns(streams: list[np.ndarray], mem: Mem) -> Columns:
    """The byte ranges (within a partition) the records of ``streams`` touch in ``mem``."""
    los, his = [], []
    for rec in streams:
        for slot in SLOTS:
            ap = rec[slot]
            ap = ap[ap["mem"] == mem]
            if not len(ap):
                continue
            _, lo, hi = ap_extents(ap)
            size = ITEMSIZE[np.minimum(ap["dtype"].astype(np.int64), len(ITEMSIZE) - 1)]
            off = ap["offset"].astype(np.int64)
            los.append(off + lo * size)
            his.append(off + hi * size + size)
    empty = np.zeros(0, dtype=np.int64)
    return Columns(np.concatenate(los) if los else empty, np.concatenate(his) if his else empty)


@dataclass
class Region:
    """Where one AP lands in a Space: a strided block of elements."""

    space: Space
    row0: int
    col0: int  # byte within the row
    shape: tuple[int, ...]  # (partitions, *free counts)
    part_rows: int  # rows advanced per partition step (1 on SBUF/PSUM, 0 on DRAM)
    part_bytes: int  # bytes advanced per partition step within a row (DRAM)
    free_bytes: tuple[int, ...]  # byte stride of each free dim
    dtype: np.dtype
    hi_byte: int  # exclusive end of the touched bytes within a row

    def view(self) -> np.ndarray:
        sp = self.space
        strides = (self.part_rows * sp.row_bytes + self.part_bytes,) + self.free_bytes
        return np.ndarray(self.shape, self.dtype, buffer=sp.flat, offset=self.row0 * sp.row_bytes + self.col0, strides=strides)

    def _shadow(self, plane: np.ndarray) -> np.ndarray:
        """The shadow entries of this region in one [rows, width] plane: shape + (units per element,)."""
        w = self.space.width
        if self.space.columns is not None:  # only on-chip Spaces pack; a partition step is a row
            assert self.part_bytes == 0, "a packed Space's partition step must be a whole row"
            low = self.col0 + sum(min(0, (n - 1) * b) for n, b in zip(self.shape[1:], self.free_bytes))
            self.space.columns.check_span(low, self.hi_byte)
        k = self.dtype.itemsize // SHADOW_UNIT
        item = plane.itemsize
        flat = plane.reshape(-1)[self.row0 * w + self.space.column(self.col0) :]
        strides = ((self.part_rows * w + self.part_bytes // SHADOW_UNIT) * item,)
        strides += tuple(b // SHADOW_UNIT * item for b in self.free_bytes) + (item,)
        return np.lib.stride_tricks.as_strided(flat, self.shape + (k,), strides)

    def writer_view(self) -> np.ndarray:
        self.space.ensure(self.hi_byte)
        return self._shadow(self.space.writer)

    def reader_view(self, agent: int) -> np.ndarray:
        self.space.ensure(self.hi_byte)
        return self._shadow(self.space.reader_plane(agent))

    def reader_views(self) -> list[tuple[int, np.ndarray]]:
        """(agent, view) of the agents that have read this Space so far."""
        self.space.ensure(self.hi_byte)
        return [(a, self._shadow(plane)) for a, plane in sorted(self.space.readers.items())]

    def describe(self) -> str:
        """The whole range the access touches."""
        spans = [(c - 1) * b for c, b in zip(self.shape[1:], self.free_bytes)]
        if not self.part_rows:
            spans.append((self.shape[0] - 1) * self.part_bytes)
        lo = self.col0 + sum(min(0, x) for x in spans)
        rows = f"partitions [{self.row0}, {self.row0 + self.shape[0]}) " if self.part_rows else ""
        return f"{self.space.name} {rows}bytes [{lo}, {self.hi_byte})"

    def describe_unit(self, index: tuple[int, ...]) -> str:
        """Human location of the shadow entry at ``index`` of the shadow view."""
        p, *free, u = index
        row = self.row0 + p * self.part_rows
        byte = self.col0 + p * self.part_bytes + sum(i * b for i, b in zip(free, self.free_bytes)) + u * SHADOW_UNIT
        if self.part_rows:
            return f"{self.space.name} partition {row} bytes [{byte}, {byte + SHADOW_UNIT})"
        return f"{self.space.name} bytes [{byte}, {byte + SHADOW_UNIT})"


class DecodedAP:
    """One operand slot of a whole stream, as Python lists (fast per-record access)."""

    def __init__(self, ap: np.ndarray):
        self.mem = ap["mem"].tolist()
        self.dtype = ap["dtype"].tolist()
        self.ndims = ap["ndims"].tolist()
        self.var = ap["var"].tolist()
        self.sp = ap["start_partition"].tolist()
        self.np = ap["num_partitions"].tolist()
        self.offset = ap["offset"].tolist()
        self.pstride = ap["partition_stride"].tolist()
        self.strides = ap["strides"].tolist()
        self.counts = ap["counts"].tolist()
        self.hi: list[int] = []

    def region(self, i: int, spaces: "CoreMemory") -> Region:
        mem = self.mem[i]
        dt = DType(self.dtype[i])
        isz = dt.itemsize
        nd = self.ndims[i]
        shape = (self.np[i],) + tuple(self.counts[i][:nd])
        free = tuple(s * isz for s in self.strides[i][:nd])
        if mem == Mem.DRAM:
            return Region(spaces.dram[self.var[i]], 0, self.offset[i], shape, 0, self.pstride[i] * isz, free, dt.np, self.hi[i])
        space = spaces.sbuf if mem == Mem.SBUF else spaces.psum
        return Region(space, self.sp[i], self.offset[i], shape, 1, 0, free, dt.np, self.hi[i])


class CoreMemory:
    """SBUF, PSUM and the DRAM variables of one subgraph."""

    def __init__(self, sg: Subgraph, target: NeuronCoreTarget, with_data: bool, shadowed: bool,
                 agents: tuple[int, ...] = tuple(range(len(Engine))), shared: dict[int, Space] | None = None,
                 prefix: str = ""):
        """``shared``: variable index -> the Space of another core's variable this one is
        (a pipeline's cross-core buffer); ``agents``: the hazard agents of this core's engines."""
        self.sbuf = Space(f"{prefix}SBUF", target.partitions, target.sbuf_bytes_per_partition, with_data, shadowed,
                          agents)
        self.psum = Space(f"{prefix}PSUM", target.partitions, target.psum_bytes_per_partition, with_data, shadowed,
                          agents)
        if shadowed:
            streams = [sg.stream(e) for e in Engine] + [sg.load_stream]
            self.sbuf.columns = touched_columns(streams, Mem.SBUF)
            self.psum.columns = touched_columns(streams, Mem.PSUM)
        self.dram: list[Space] = []
        for i, v in enumerate(sg.variables):
            if shared and i in shared:
                self.dram.append(shared[i])
                continue
            nbytes = v.nbytes if v.kind in DRAM_KINDS else 0
            # inputs and constants are never written, so they need no shadow
            sp = Space(f"{prefix}DRAM '{v.name}'", 1, nbytes, with_data, shadowed and v.kind in DRAM_WRITABLE, agents)
            self.dram.append(sp)


def ap_extents(rec_ap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per record: (elements per partition, lowest, highest element offset) of the free dims."""
    counts = ap_counts(rec_ap)
    strides = rec_ap["strides"].astype(np.int64)
    span = (counts - 1) * strides
    return counts.prod(axis=1), np.minimum(span, 0).sum(axis=1), np.maximum(span, 0).sum(axis=1)


@dataclass
class StreamFacts:
    """Per-record numbers the timing model and the executor need."""

    elems: dict[str, np.ndarray]  # slot -> elements per partition
    parts: dict[str, np.ndarray]  # slot -> partitions
    itemsize: dict[str, np.ndarray]


def check_stream(
    core: int, engine: Engine, rec: np.ndarray, variables: list[Variable], target: NeuronCoreTarget,
    decoded: dict[str, DecodedAP],
) -> StreamFacts:
    """Raise SimulationError for the first record whose operands do not fit the
    memories or the opcode's shape rules; fill ``decoded[slot].hi``."""
    n = len(rec)
    op = rec["opcode"].astype(np.int64)
    checks: list[tuple[np.ndarray, Callable[[int], str]]] = []
    elems: dict[str, np.ndarray] = {}
    parts: dict[str, np.ndarray] = {}
    isz: dict[str, np.ndarray] = {}
    var_bytes = np.array([v.nbytes if v.kind in DRAM_KINDS else 0 for v in variables] + [0], dtype=np.int64)
    var_kind = [v.kind for v in variables]
    var_dtype = np.array([DType.from_name(v.dtype) if v.dtype in _DTYPE_NAMES else 255 for v in variables] + [255])
    kinds = np.array([k in DRAM_KINDS for k in var_kind] + [False])
    writable = np.array([k in DRAM_WRITABLE for k in var_kind] + [False])
    compute = engine != Engine.DMA
    for slot in SLOTS:
        ap = rec[slot]
        mem = ap["mem"].astype(np.int64)
        e, lo, hi = ap_extents(ap)
        size = ITEMSIZE[np.minimum(ap["dtype"].astype(np.int64), len(ITEMSIZE) - 1)]
        npart = ap["num_partitions"].astype(np.int64)
        sp = ap["start_partition"].astype(np.int64)
        off = ap["offset"].astype(np.int64)
        elems[slot], parts[slot], isz[slot] = np.where(mem != Mem.NONE, e, 0), npart, size
        onchip = (mem == Mem.SBUF) | (mem == Mem.PSUM)
        bpp = np.where(mem == Mem.PSUM, target.psum_bytes_per_partition, target.sbuf_bytes_per_partition)
        lo_b = off + lo * size
        hi_b = off + hi * size + size
        var = np.where(mem == Mem.DRAM, ap["var"].astype(np.int64), len(variables))
        var = np.minimum(var, len(variables))
        pspan = (npart - 1) * ap["partition_stride"].astype(np.int64)
        dlo_b = off + (lo + np.minimum(pspan, 0)) * size
        dhi_b = off + (hi + np.maximum(pspan, 0)) * size + size
        dram = mem == Mem.DRAM
        decoded[slot].hi = np.where(dram, dhi_b, hi_b).tolist()

        def where(i, slot=slot, mem=mem, sp=sp, npart=npart, lo_b=lo_b, hi_b=hi_b, dlo_b=dlo_b, dhi_b=dhi_b, var=var):
            if mem[i] == Mem.DRAM:
                name = variables[var[i]].name if var[i] < len(variables) else "?"
                return f"{slot} DRAM variable '{name}' bytes [{dlo_b[i]}, {dhi_b[i]})"
            return f"{slot} {Mem(mem[i]).name} partitions [{sp[i]}, {sp[i] + npart[i]}) bytes [{lo_b[i]}, {hi_b[i]})"

        checks += [
            (onchip & (sp + npart > target.partitions), lambda i, w=where: f"{w(i)}: partitions out of bounds (a core has {target.partitions})"),
            (onchip & ((lo_b < 0) | (hi_b > bpp)), lambda i, w=where, bpp=bpp: f"{w(i)}: out of bounds (a partition has {bpp[i]} bytes)"),
            (onchip & compute & (sp % target.partition_alignment != 0), lambda i, w=where: f"{w(i)}: start partition not a multiple of {target.partition_alignment}"),
            ((mem != Mem.NONE) & (off % SHADOW_UNIT != 0), lambda i, w=where: f"{w(i)}: byte offset is odd"),
            (dram & ~kinds[var], lambda i, w=where, var=var: f"{w(i)}: variable of kind '{var_kind[var[i]]}' is not DRAM-addressable"),
            (dram & kinds[var] & ((dlo_b < 0) | (dhi_b > var_bytes[var])), lambda i, w=where, var=var: f"{w(i)}: out of bounds (the variable has {var_bytes[var[i]]} bytes)"),
            (dram & kinds[var] & (var_dtype[var] != ap["dtype"]), lambda i, w=where, var=var, ap=ap: f"{w(i)}: access dtype {DType(ap['dtype'][i]).short} differs from the variable's {variables[var[i]].dtype}"),
        ]
        if slot == "out":
            checks.append((dram & kinds[var] & ~writable[var], lambda i, w=where, var=var: f"{w(i)}: writes a read-only '{var_kind[var[i]]}' variable"))

    def total(slot):
        return elems[slot] * parts[slot]

    dt = {s: rec[s]["dtype"].astype(np.int64) for s in SLOTS}
    is_ = {o: op == o for o in Opcode}
    checks += [
        (is_[Opcode.DMA] & (dt["in0"] != dt["out"]), lambda i: "DMA between different dtypes (DMA copies, it does not convert)"),
        (is_[Opcode.DMA] & (total("in0") != total("out")), lambda i: f"DMA of {total('in0')[i]} elements into {total('out')[i]}"),
        (is_[Opcode.LOAD_STATIONARY] & (parts["in0"] > target.pe_rows), lambda i: f"stationary K = {parts['in0'][i]} > {target.pe_rows} rows"),
        (is_[Opcode.LOAD_STATIONARY] & (elems["in0"] > target.pe_columns), lambda i: f"stationary M = {elems['in0'][i]} > {target.pe_columns} columns"),
        (is_[Opcode.MATMUL] & (parts["in1"] > target.pe_rows), lambda i: f"moving K = {parts['in1'][i]} > {target.pe_rows} rows"),
        (is_[Opcode.MATMUL] & (elems["in1"] > target.pe_max_moving), lambda i: f"moving N = {elems['in1'][i]} > {target.pe_max_moving}"),
        (is_[Opcode.MATMUL] & (dt["out"] != DType.FP32), lambda i: "matmul result must be fp32 in PSUM"),
        (is_[Opcode.MATMUL] & (parts["out"] > target.pe_columns), lambda i: f"matmul writes {parts['out'][i]} PSUM partitions > {target.pe_columns}"),
        (is_[Opcode.MATMUL] & ~np.isin(rec["out"]["start_partition"], target.psum_matmul_partition_starts), lambda i: f"matmul PSUM start partition {rec['out']['start_partition'][i]} not one of {target.psum_matmul_partition_starts}"),
        (is_[Opcode.MATMUL] & (elems["out"] != elems["in1"]), lambda i: f"matmul writes {elems['out'][i]} elements per partition for N = {elems['in1'][i]}"),
    ]
    same_shape = (parts["out"] == parts["in0"]) & (elems["out"] == elems["in0"])
    unary = is_[Opcode.ACTIVATE] | is_[Opcode.TENSOR_SCALAR] | is_[Opcode.TENSOR_TENSOR]
    has_in1 = rec["in1"]["mem"] != Mem.NONE
    scalar_in1 = (is_[Opcode.ACTIVATE] | is_[Opcode.TENSOR_SCALAR]) & has_in1
    checks += [
        (unary & ~same_shape, lambda i: f"out [{parts['out'][i]} x {elems['out'][i]}] does not match in0 [{parts['in0'][i]} x {elems['in0'][i]}]"),
        (scalar_in1 & ((parts["in1"] != parts["in0"]) | (elems["in1"] != 1)), lambda i: f"per-partition scalar in1 must be [{parts['in0'][i]} x 1], got [{parts['in1'][i]} x {elems['in1'][i]}]"),
        (is_[Opcode.TENSOR_TENSOR] & ((parts["in1"] != parts["in0"]) | (elems["in1"] != elems["in0"])), lambda i: f"in1 [{parts['in1'][i]} x {elems['in1'][i]}] does not match in0 [{parts['in0'][i]} x {elems['in0'][i]}]"),
        (is_[Opcode.TRANSPOSE] & ((parts["out"] != elems["in0"]) | (elems["out"] != parts["in0"])), lambda i: f"transpose of [{parts['in0'][i]} x {elems['in0'][i]}] into [{parts['out'][i]} x {elems['out'][i]}]"),
    ]
    gat = is_[Opcode.DMA_GATHER]
    checks += [
        (is_[Opcode.SELECT] & ~same_shape, lambda i: f"SELECT out [{parts['out'][i]} x {elems['out'][i]}] does not match the predicate in0 [{parts['in0'][i]} x {elems['in0'][i]}]"),
        (is_[Opcode.SELECT] & ((parts["in1"] != parts["in0"]) | (elems["in1"] != elems["in0"])), lambda i: f"SELECT in1 [{parts['in1'][i]} x {elems['in1'][i]}] does not match in0 [{parts['in0'][i]} x {elems['in0'][i]}]"),
        (is_[Opcode.SELECT] & (dt["in1"] != dt["out"]), lambda i: "SELECT between different dtypes (in1 and out: select moves values, it does not convert)"),
        (gat & (dt["in0"] != dt["out"]), lambda i: "DMA_GATHER between different dtypes (DMA copies, it does not convert)"),
        (gat & ((parts["in1"] != parts["out"]) | (elems["in1"] != 1)), lambda i: f"DMA_GATHER index in1 must be [{parts['out'][i]} x 1] (one per destination partition), got [{parts['in1'][i]} x {elems['in1'][i]}]"),
        (gat & (elems["out"] != elems["in0"]), lambda i: f"DMA_GATHER of rows of {elems['in0'][i]} elements into {elems['out'][i]} per partition"),
    ]
    axes = rec["axes"].astype(np.int64)
    nd0 = rec["in0"]["ndims"].astype(np.int64)
    is_red = is_[Opcode.REDUCE]
    keep_counts = np.where(np.arange(MAX_FREE_DIMS)[None, :] < (nd0 - axes)[:, None], ap_counts(rec["in0"]), 1).prod(axis=1)
    checks += [
        (is_red & ((axes < 1) | (axes > nd0)), lambda i: f"REDUCE over {axes[i]} trailing dims of a {nd0[i]}-dim operand"),
        (is_red & ((parts["out"] != parts["in0"]) | (elems["out"] != keep_counts)), lambda i: f"REDUCE result [{parts['out'][i]} x {elems['out'][i]}] should be [{parts['in0'][i]} x {keep_counts[i]}]"),
    ]
    first = None
    for mask, msg in checks:
        idx = np.flatnonzero(mask[:n]) if n else ()
        if len(idx) and (first is None or idx[0] < first[0]):
            first = (int(idx[0]), msg)
    if first is not None:
        i, msg = first
        raise SimulationError(f"core {core}, {engine.stream_name} instruction {i} ({Opcode(int(op[i])).name}): {msg(i)}")
    return StreamFacts(elems, parts, isz)
