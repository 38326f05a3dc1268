"""``inf-allocate-sram``: place every SBUF and PSUM tile of each ``inf.core``.

Liveness is by program position (the index of the top-level op of the core
body; an op nested in an ``inf.loop`` counts as its top-level loop's whole
range): a tile is live from its first to its last use. Placement is in a 2-D
space (partition range x bytes within a partition), in two phases:

- tiles marked ``kaena.resident`` (values the lowering keeps in SBUF across
  ops) first, largest first, each at the lowest place free of the placed
  tiles whose lifetimes overlap its own (greedy by size: little fragmentation);
- then the short-lived tiles in order of first use, each in the place free
  the longest (never used, else whose previous occupants died earliest), from
  the top down. Consecutive layers' tiles land in different memory, so a
  tile's first writer (e.g. the next layer's weight DMA) does not wait for the
  readers of the previous occupant: the free SBUF works as a ring buffer that
  lets the DMA queue run ahead of the compute engines.
  A tile not loaded by DMA instead reuses the memory freed most recently but
  at least ``_SLACK`` positions before its first use (the compute engines run
  close to program order), so the memory free the longest stays for the tiles
  the in-order DMA queue loads (weights), which run ahead furthest. In a
  pipelined module (``kaena.pipeline``) that reuse never takes a DMA-loaded
  tile's memory, so a stage's weights can stay resident across inferences.
  Where compact reuse leaves no contiguous room for a tile, the core is placed
  again with every short-lived tile in the memory free the longest.

In a pipeline stage the tiles holding one copy of a weight are first pinned
(``_pin_weights``: live for the whole program, placed with the resident tiles,
within ``tiling.pinned_weight_budget``), so that the encoder can load them once when the model is
loaded; where the pinned tiles leave the rest no room, the longest prefix of them (largest
first) that does is kept and the others are unpinned.

Allocs that already carry ``partition``/``offset`` are kept where they are and
the others are placed around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import Operation
from xdsl.passes import ModulePass

from kaena.dialects.inferentia import (
    AllocOp,
    CoreOp,
    DmaOp,
    DramOp,
    InstructionOp,
    LoopOp,
    MatmulOp,
    PsumType,
    SbufType,
)
from kaena.dialects.attributes import PIPELINE_ATTR, PSUM_PEAK_ATTR, RESIDENT_ATTR, SBUF_PEAK_ATTR, describe_sources
from kaena.isa import ceil_div
from kaena.errors import AllocationError, CompileError
from kaena.target import NeuronCoreTarget, target_of
from kaena.target.tiling import pinned_weight_budget

# the dead tiles whose memory counts as recently freed (older ones as free long ago)
_RECENT = 64
# a tile not loaded by DMA reuses the memory freed most recently but at least this many
# top-level positions before its first use (the compute engines run close to program
# order, so its writer seldom waits), which leaves the memory free the longest to the
# tiles the in-order DMA queue loads ahead of the compute engines
_SLACK = 32


@dataclass
class _Tile:
    op: AllocOp
    index: int  # order of the alloc in the core (deterministic tie-break)
    psum: bool
    parts: int
    nbytes: int  # bytes per partition
    itemsize: int
    first: int
    last: int
    # partition offsets (within the tile) at which inf.matmul writes it
    matmul_rows: frozenset[int] = frozenset()
    resident: bool = False
    # first written by a DMA (a weight or input load on the in-order DMA queue)
    loaded: bool = False
    partition: int = -1
    offset: int = -1
    fixed: bool = False

    @property
    def memory(self) -> str:
        return "PSUM" if self.psum else "SBUF"

    def describe(self) -> str:
        hint = self.op.result.name_hint
        name = f"%{hint} " if hint else ""
        src = describe_sources(self.op)  # the framework node(s) the tile serves, when stamped
        return f"{self.memory} tile {name}({self.op.result.type})" + (f" of {src}" if src else "")

    def live_overlaps(self, other: "_Tile") -> bool:
        return self.first <= other.last and other.first <= self.last

    def space_overlaps(self, other: "_Tile") -> bool:
        return (
            self.partition < other.partition + other.parts
            and other.partition < self.partition + self.parts
            and self.offset < other.offset + other.nbytes
            and other.offset < self.offset + self.nbytes
        )


def _affine_values(expr, trips: list[int]) -> set[int]:
    """Every value an affine expression takes over the iteration space."""
    vals = np.array([expr.const], dtype=np.int64)
    for c, t in zip(expr.coeffs, trips):
        if c:
            vals = np.unique(vals[:, None] + c * np.arange(t, dtype=np.int64)[None, :])
    return {int(v) for v in vals}


def _loop_trips(op: Operation, core: CoreOp) -> list[int]:
    trips: list[int] = []
    parent = op.parent_op()
    while parent is not None and parent is not core:
        if isinstance(parent, LoopOp):
            trips.append(parent.trips.value.data)
        parent = parent.parent_op()
    return trips[::-1]


def _collect_tiles(core: CoreOp) -> list[_Tile]:
    top_index = {op: i for i, op in enumerate(core.body.block.ops)}

    def position(op: Operation) -> int:
        while op not in top_index:
            parent = op.parent_op()
            if parent is None:  # pragma: no cover - uses outside the core cannot verify
                raise CompileError(f"'{op.name}' uses an inf.alloc outside its inf.core")
            op = parent
        return top_index[op]

    order = {op: i for i, op in enumerate(core.walk())}
    tiles: list[_Tile] = []
    for op in core.walk():
        if not isinstance(op, AllocOp):
            continue
        t = op.result.type
        assert isinstance(t, SbufType | PsumType)
        first_user = min((use.operation for use in op.result.uses), key=lambda u: order[u], default=None)
        loaded = isinstance(first_user, DmaOp) and first_user.dst is op.result
        positions = [position(use.operation) for use in op.result.uses]
        if not positions:
            positions = [position(op)]
        rows: set[int] = set()
        for use in op.result.uses:
            user = use.operation
            if isinstance(user, MatmulOp) and user.acc is op.result:
                rows |= _affine_values(user.acc_ap.data.partition, _loop_trips(user, core))
        tile = _Tile(
            op=op, index=len(tiles), psum=isinstance(t, PsumType), parts=t.partitions,
            nbytes=t.bytes_per_partition, itemsize=t.dtype.itemsize, first=min(positions), last=max(positions),
            matmul_rows=frozenset(rows), resident=RESIDENT_ATTR in op.attributes,
            loaded=loaded,
        )
        if op.is_allocated:
            tile.partition = op.partition.value.data
            tile.offset = op.offset.value.data
            tile.fixed = True
        tiles.append(tile)
    return tiles


class _Placer:
    """First-fit placement of one memory (SBUF or PSUM) of one core."""

    def __init__(self, target: NeuronCoreTarget, psum: bool, align: int, keep_loaded: bool = False,
                 compact: bool = True, early: frozenset[int] = frozenset()):
        self.target = target
        self.early = early  # the indices of tiles placed with the resident ones
        self.compact = compact  # tiles not loaded by DMA reuse recently freed memory
        self.keep_loaded = keep_loaded  # compact reuse never takes a DMA-loaded tile's memory
        self.psum = psum
        self.align = align
        self.limit = target.psum_bytes_per_partition if psum else target.sbuf_bytes_per_partition
        self.bank = target.psum_bank_bytes

    def partition_starts(self, tile: _Tile) -> list[int]:
        t = self.target
        starts = [p for p in range(0, t.partitions - tile.parts + 1, t.partition_alignment)]
        if tile.matmul_rows:
            allowed = set(t.psum_matmul_partition_starts)
            starts = [p for p in starts if all(p + r in allowed for r in tile.matmul_rows)]
        return starts

    def _fix(self, off: int, tile: _Tile) -> int:
        align = max(self.align, tile.itemsize)
        off = ceil_div(off, align) * align
        if self.psum:
            if tile.nbytes > self.bank:
                off = ceil_div(off, self.bank) * self.bank
            elif off // self.bank != (off + tile.nbytes - 1) // self.bank:
                off = (off // self.bank + 1) * self.bank
        return off

    def lowest_offset(self, tile: _Tile, busy: list[tuple[int, int]]) -> int | None:
        off = 0
        while True:
            off = self._fix(off, tile)
            if off + tile.nbytes > self.limit:
                return None
            for s, e in busy:
                if s < off + tile.nbytes and off < e:
                    off = e
                    break
            else:
                return off

    def largest_gap(self, busy: list[tuple[int, int]]) -> int:
        best, cur = 0, 0
        for s, e in sorted(busy):
            best = max(best, s - cur)
            cur = max(cur, e)
        return max(best, self.limit - cur)

    def freest_offset(self, tile: _Tile, busy: list[tuple[int, int]],
                      freed: list[tuple[int, int, int, int]], reuse_before: int | None = None) -> tuple[int, int] | None:
        """(score, offset) of the placement free the longest: among the offsets
        where ``tile`` fits between the ``busy`` ranges, the one whose previous
        occupants (``freed``: start, end, last use, loaded by DMA) died earliest
        (-1: never used), then the highest. Reusing memory that died long ago keeps
        the tile's first writer from waiting on the previous occupant's readers.
        With ``reuse_before``, the memory freed most recently before it; with
        ``keep_loaded`` never a DMA-loaded tile's, so that a pipeline stage's weights,
        loaded at the same place in every inference, can stay resident
        (``kaena.neff.resident``)."""
        cands = {0, *(e for _, e in busy), *(f[1] for f in freed)}
        align = max(self.align, tile.itemsize)  # also flush below a range or the top
        tops = [self.limit, *(st for st, _ in busy), *(f[0] for f in freed)]
        cands.update((t - tile.nbytes) // align * align for t in tops if t >= tile.nbytes)
        offs = sorted({self._fix(c, tile) for c in cands})
        offs = np.array([o for o in offs if o + tile.nbytes <= self.limit], dtype=np.int64)
        if not len(offs):
            return None
        ends = offs + tile.nbytes
        if busy:
            b = np.array(busy, dtype=np.int64)
            clash = ((b[None, :, 0] < ends[:, None]) & (offs[:, None] < b[None, :, 1])).any(axis=1)
            offs, ends = offs[~clash], ends[~clash]
            if not len(offs):
                return None
        score = np.full(len(offs), -1, dtype=np.int64)
        if freed:
            f = np.array(freed, dtype=np.int64)
            hit = (f[None, :, 0] < ends[:, None]) & (offs[:, None] < f[None, :, 1])
            score = np.where(hit, f[None, :, 2], -1).max(axis=1)
            over_loaded = (hit & (f[None, :, 3] != 0)).any(axis=1) if self.keep_loaded \
                else np.zeros(len(offs), dtype=bool)
        else:
            over_loaded = np.zeros(len(offs), dtype=bool)
        if reuse_before is not None:
            ok = (score >= 0) & (score < reuse_before) & ~over_loaded
            if ok.any():
                # the memory freed most recently, at least the slack before: compact reuse
                j = np.flatnonzero(ok)
                i = int(j[np.lexsort((-offs[j], -score[j]))[0]])
                return -1 - int(score[i]), int(offs[i])
        i = int(np.lexsort((-offs, score))[0])  # free the longest, then the highest
        return int(score[i]), int(offs[i])

    def place_resident(self, tiles: list[_Tile], fixed: list[_Tile], core_id: int) -> None:
        """Resident tiles first, largest first, each at the lowest place free of
        the tiles already placed whose lifetimes overlap its own (all lifetimes
        are known: greedy by size fragments far less than first-use order)."""
        placed = list(fixed)
        # the tiles live from the first resident tile's birth (e.g. the bias table, loaded by
        # the program's first DMA) go first, at the bottom: placed after the larger ones they
        # would sit higher and split the memory the short-lived tiles rotate through
        born = min((t.first for t in tiles), default=0)
        for tile in sorted(tiles, key=lambda t: (t.first != born, -t.parts * t.nbytes, t.first, t.index)):
            live = [a for a in placed if a.live_overlaps(tile)]
            best: tuple[int, int, int] | None = None  # (end, partition, offset)
            for p in self.partition_starts(tile):
                busy = sorted((a.offset, a.offset + a.nbytes) for a in live
                              if a.partition < p + tile.parts and p < a.partition + a.parts)
                off = self.lowest_offset(tile, busy)
                if off is not None and (best is None or (off + tile.nbytes, p) < best[:2]):
                    best = (off + tile.nbytes, p, off)
            if best is None:
                self._fail(tile, live, core_id)
            tile.partition, tile.offset = best[1], best[2]
            placed.append(tile)

    def place(self, tiles: list[_Tile], core_id: int) -> None:
        fixed = [t for t in tiles if t.fixed]
        resident = [t for t in tiles if (t.resident or t.index in self.early) and not t.fixed]
        self.place_resident(resident, fixed, core_id)
        fixed = fixed + resident
        todo = sorted((t for t in tiles if not t.fixed and not t.resident and t.index not in self.early),
                      key=lambda t: (t.first, t.index))
        active: list[_Tile] = []
        dead: list[_Tile] = []
        for tile in todo:
            still = []
            for a in active:
                (still if a.last >= tile.first else dead).append(a)
            active = still
            if len(dead) > 2 * _RECENT:
                dead = sorted(dead, key=lambda a: (a.last, a.index))[-_RECENT:]
            live = active + [f for f in fixed if f.live_overlaps(tile)]
            best: tuple[int, int, int, int] | None = None  # (score, end, partition, offset)
            for p in self.partition_starts(tile):
                busy = [(a.offset, a.offset + a.nbytes) for a in live
                        if a.partition < p + tile.parts and p < a.partition + a.parts]
                freed = [(a.offset, a.offset + a.nbytes, a.last, int(a.loaded)) for a in dead + fixed
                         if a.last < tile.first and a.partition < p + tile.parts and p < a.partition + a.parts]
                reuse = None if tile.loaded or not self.compact else tile.first - _SLACK
                found = self.freest_offset(tile, busy, freed, reuse)
                if found is None:
                    continue
                key = (found[0], -(found[1] + tile.nbytes), p, found[1])
                if best is None or key < best:
                    best = key
            if best is None:
                self._fail(tile, live, core_id)
            tile.partition, tile.offset = best[2], best[3]
            active.append(tile)

    def _fail(self, tile: _Tile, live: list[_Tile], core_id: int) -> None:
        t = self.target
        capacity = t.partitions * self.limit
        used = sum(a.parts * a.nbytes for a in live)
        starts = self.partition_starts(tile)
        gap = 0
        for p in starts:
            busy = [
                (a.offset, a.offset + a.nbytes) for a in live
                if a.partition < p + tile.parts and p < a.partition + a.parts
            ]
            gap = max(gap, self.largest_gap(busy))
        where = f"ops {tile.first}..{tile.last}" if tile.first != tile.last else f"op {tile.first}"
        error = AllocationError(
            f"core {core_id}: {tile.describe()} does not fit: it needs {tile.parts} partitions x "
            f"{tile.nbytes} bytes = {tile.parts * tile.nbytes} bytes while live over top-level "
            f"{where}, but only {capacity - used} of {capacity} {tile.memory} bytes are free "
            f"({len(live)} live tiles; largest free run {gap} bytes per partition"
            f"{'' if starts else ', no valid partition start'}); use smaller tiles "
            f"(e.g. split the layer) or compile for more NeuronCores"
        )
        error.tile = tile  # (the fallback places it with the resident tiles)
        raise error


def _check(tiles: list[_Tile], target: NeuronCoreTarget, core_id: int) -> None:
    """Re-verify the placement: no two live-overlapping tiles share memory; PSUM
    rules hold (bank straddling, matmul partition starts)."""
    for psum in (False, True):
        group = sorted((t for t in tiles if t.psum == psum), key=lambda t: (t.first, t.index))
        active: list[_Tile] = []
        for tile in group:
            active = [a for a in active if a.last >= tile.first]
            for a in active:
                if a.space_overlaps(tile):
                    raise AllocationError(
                        f"core {core_id}: {a.describe()} at partition {a.partition} offset {a.offset} "
                        f"and {tile.describe()} at partition {tile.partition} offset {tile.offset} "
                        f"overlap while both are live; fix the fixed placements or remove them"
                    )
            active.append(tile)
            if psum:
                bank = target.psum_bank_bytes
                straddles = (
                    tile.offset % bank != 0 if tile.nbytes > bank
                    else tile.offset // bank != (tile.offset + tile.nbytes - 1) // bank
                )
                if straddles:
                    raise AllocationError(
                        f"core {core_id}: {tile.describe()} at offset {tile.offset} straddles a "
                        f"PSUM bank of {bank} bytes; place it inside one bank"
                    )
                bad = [r for r in tile.matmul_rows
                       if tile.partition + r not in target.psum_matmul_partition_starts]
                if bad:
                    raise AllocationError(
                        f"core {core_id}: {tile.describe()} at partition {tile.partition} is written "
                        f"by inf.matmul at partition {tile.partition + bad[0]}, matmuls write from "
                        f"partitions {list(target.psum_matmul_partition_starts)}; move the tile"
                    )


def _peak(tiles: list[_Tile], n_positions: int) -> int:
    """Largest total of live bytes (all partitions) at any program position."""
    if not tiles:
        return 0
    delta = np.zeros(n_positions + 1, dtype=np.int64)
    for t in tiles:
        delta[t.first] += t.parts * t.nbytes
        delta[t.last + 1] -= t.parts * t.nbytes
    return int(np.cumsum(delta).max())


def _pin_weights(core: CoreOp, tiles: list[_Tile], budget: int) -> list[tuple[_Tile, tuple[int, int]]]:
    """In a pipeline stage: the SBUF tiles that hold one copy of a weight (written only
    by one DMA from a ``file`` variable, outside any loop) live from the program's start
    to its end, placed like resident tiles, largest first (then in program order) while
    their bytes per partition stay within ``budget``; nothing else reuses their memory, so the encoder
    moves their loads to the load-time program (``kaena.neff.resident``). Returns each
    pinned tile with its own lifetime (to undo the pin)."""
    files = {op.result for op in core.body.block.ops if isinstance(op, DramOp) and op.kind.data == "file"}
    end = len(core.body.block.ops) - 1
    pinned: list[tuple[_Tile, tuple[int, int]]] = []
    used = 0
    for t in sorted(tiles, key=lambda t: (-t.nbytes, t.first, t.index)):
        if t.psum or t.resident or t.fixed or not t.loaded or used + t.nbytes > budget:
            continue
        writers = [u.operation for u in t.op.result.uses if not isinstance(u.operation, InstructionOp)
                   or any(a.buffer is t.op.result and a.is_write for a in u.operation.accesses())]
        w = writers[0] if len(writers) == 1 else None
        if not isinstance(w, DmaOp) or w.src not in files or isinstance(w.parent_op(), LoopOp):
            continue
        pinned.append((t, (t.first, t.last)))
        t.resident, t.first, t.last = True, 0, end
        used += t.nbytes
    return pinned


def _place_pinned(group: list[_Tile], pinned: list[tuple[_Tile, tuple[int, int]]], target: NeuronCoreTarget,
                  align: int, keep_loaded: bool, core_id: int) -> bool:
    """Place ``group`` (SBUF) with the longest prefix of the ``pinned`` weights (largest first)
    that leaves the rest room (bisected: each try is one placement), the others unpinned and
    streamed as before; False, with every pin undone, when not even the first one fits."""

    def pin(k: int) -> None:
        for i, (t, span) in enumerate(pinned):
            t.resident, (t.first, t.last) = (True, (0, end)) if i < k else (False, span)

    def fits(k: int) -> bool:
        pin(k)
        try:
            _Placer(target, False, align, keep_loaded).place(group, core_id)
            return True
        except AllocationError:
            return False

    end = max(t.last for t, _ in pinned)
    if fits(len(pinned)):
        return True
    lo, hi = 0, len(pinned)  # the longest prefix that fits is in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    if lo and fits(lo):
        return True
    pin(0)
    return False


def allocate_core(core: CoreOp, *, check: bool = True, align: int = 32,
                  target: NeuronCoreTarget | None = None, keep_loaded: bool = False) -> None:
    """Place every inf.alloc of ``core`` and record the peaks on it; ``target``
    defaults to the one recorded on the enclosing module. ``keep_loaded``: no tile
    reuses a DMA-loaded tile's memory by compact reuse (a pipeline stage's weights stay
    resident where nothing else writes them)."""
    target = target_of(core) if target is None else target
    core_id = core.core.value.data
    tiles = _collect_tiles(core)
    pinned = _pin_weights(core, tiles, pinned_weight_budget(target)) if keep_loaded else []
    for psum in (False, True):
        group = [t for t in tiles if t.psum == psum]
        if not psum and pinned and _place_pinned(group, pinned, target, align, keep_loaded, core_id):
            continue
        try:
            _Placer(target, psum, align, keep_loaded).place(group, core_id)
        except AllocationError:
            # compact reuse can fragment the memory a large DMA-loaded tile needs
            # (BERT-base's 4.5 MiB FFN weight tile): place everything free-longest first
            # the resident values, placed first, can split the run a weight tile needs beside
            # them (ResNet-50 at batch 4: a whole batch's layer3 output at 51,840 of 98,304 bytes
            # per partition left 36,064 below it for a 36,864-byte tile): each tile that finds
            # no room is placed with the resident ones (largest first), and the rest again
            early: set[int] = set()
            while True:
                try:
                    _Placer(target, psum, align, keep_loaded, compact=False,
                            early=frozenset(early)).place(group, core_id)
                    break
                except AllocationError as e:
                    tile = getattr(e, "tile", None)
                    if tile is None or tile.index in early or tile.resident or tile.fixed:
                        raise
                    early.add(tile.index)
    if check:
        _check(tiles, target, core_id)
    for t in tiles:
        if not t.fixed:
            t.op.partition = IntegerAttr(t.partition, i64)
            t.op.offset = IntegerAttr(t.offset, i64)
    n = len(core.body.block.ops)
    core.attributes[SBUF_PEAK_ATTR] = IntegerAttr(_peak([t for t in tiles if not t.psum], n), i64)
    core.attributes[PSUM_PEAK_ATTR] = IntegerAttr(_peak([t for t in tiles if t.psum], n), i64)


@dataclass(frozen=True)
class AllocateSramPass(ModulePass):
    """Set ``partition``/``offset`` of every inf.alloc; ``check`` re-verifies
    that no two live tiles overlap; ``align`` is the byte alignment of tile
    starts (a compiler policy that keeps tiles from sharing the semaphore
    pass's dependence cells). The memories filled are those of the module's
    ``kaena.target`` (``inf-set-target``), the one the lowering tiled for."""

    name: ClassVar[str] = "inf-allocate-sram"

    check: bool = True
    align: int = 32

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.align < 1:
            raise CompileError(f"inf-allocate-sram: align must be >= 1, got {self.align}")
        target = target_of(op)
        pipelined = PIPELINE_ATTR in op.attributes  # its weights may stay resident
        for core in op.walk():
            if isinstance(core, CoreOp):
                allocate_core(core, check=self.check, align=self.align, target=target, keep_loaded=pipelined)
