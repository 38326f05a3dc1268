"""Hazard detection: vector clocks over engines, shadow memories per Space.

Engine e's clock ``vc[f]`` counts the instructions of engine f known complete
before e's current instruction (known through semaphore signal -> wait
chains). An access by e is ordered after an access (f, seq) iff f == e
(program order) or ``vc[f] > seq``. A wait for value v on a semaphore only
learns what *every* schedule guarantees: if the other engines signal that
semaphore n_other times in total, signaller f's (v - n_other)-th signal has
happened. So the verdict does not depend on the order the event loop picks.

Across the cores of a pipeline NEFF the same holds with one *agent* per (core,
engine): agent = core * 4 + engine, semaphores keyed per core; a DMA with flag
NOTIFY is a signal of its own agent on the receiving core's semaphore, made when
its last byte lands (so it counts itself complete).
"""

from __future__ import annotations

import numpy as np

from kaena.errors import HazardError, SimulationError
from kaena.isa import Engine, Opcode
from kaena.neff.allocation import NO_TILE
from kaena.simulator.memory import NO_WRITER, Region


ENGINES = len(Engine)


class TileOverlapError(SimulationError):
    """A read found bytes last written for another tile: two tiles the compiler placed
    overlap while one is still live (the allocation check, ``kaena.simulator.allocation``)."""


class HazardChecker:
    def __init__(self, core: int, opcodes: dict[int, list[int]], sig_totals: dict[int, dict[int, int]],
                 agents: int = ENGINES, core_names: bool = False, ordering: bool = True):
        """``ordering`` False: track the last writer of every byte only (no vector-clock
        checks, no reader planes): what the allocation check's replay needs."""
        self.core = core
        self.ordering = ordering
        self.opcodes = opcodes  # agent -> its stream's opcodes
        self.agents = agents
        self.core_names = core_names  # name instructions "core C <engine> ..." (pipeline NEFFs)
        self.vc = {a: np.zeros(agents, dtype=np.int64) for a in range(agents)}
        self.sig_totals = sig_totals  # sem key -> agent -> number of signals it makes
        self.sig_clocks: dict[tuple[int, int], list[np.ndarray]] = {}
        self.uninitialised: SimulationError | None = None  # first read of never-written bytes
        # the allocation check (set by kaena.simulator.allocation.install_tiles): the tile
        # each write was for, by shadow code (code_tile[code + code_base]), and names
        self.code_tile: np.ndarray | None = None
        self.code_base = 0
        self.tile_names: dict[int, list[str]] = {}  # core key (agent // 4) -> tile descriptions
        self.load_writers: list[tuple[int, str]] = []  # load-time code -2 - j -> (core key, name)

    def _where(self) -> str:
        return "" if self.core_names else f"core {self.core}: "

    # --- synchronisation -----------------------------------------------------
    def signal(self, e: int, seq: int, sem: int) -> None:
        clock = self.vc[e].copy()
        clock[e] = seq  # every instruction of e before ``seq`` is complete
        self.sig_clocks.setdefault((sem, int(e)), []).append(clock)

    def wait(self, e: int, sem: int, value: int) -> None:
        totals = self.sig_totals.get(sem, {})
        all_signals = sum(totals.values())
        for f, n in totals.items():
            m = value - (all_signals - n)
            clocks = self.sig_clocks.get((sem, f), [])
            if m >= 1 and len(clocks) >= m:
                np.maximum(self.vc[e], clocks[m - 1], out=self.vc[e])

    # --- accesses -------------------------------------------------------------
    def _name(self, a: int, seq: int) -> str:
        where = f"core {a // ENGINES} " if self.core_names else ""
        return f"{where}{Engine(a % ENGINES).stream_name} instruction {seq} ({Opcode(self.opcodes[a][seq]).name})"

    def _unordered(self, w: np.ndarray, e: int, lo: int, hi: int) -> np.ndarray | None:
        """Mask of entries whose writer is not ordered before agent e, or None if all are
        (``lo``, ``hi``: the least and greatest code in ``w``)."""
        if hi < 0:
            return None
        A = self.agents
        if lo == hi:  # one instruction wrote the whole range: the common case
            if (lo % A) == e or self.vc[e][lo % A] > (lo // A):
                return None
            return np.ones(w.shape, dtype=bool)
        valid = w >= 0
        we = np.where(valid, w % A, 0)
        return valid & (we != e) & (self.vc[e][we] <= (w // A))

    def read(self, e: int, seq: int, region: Region, what: str, tile: int = NO_TILE) -> None:
        """Check a read of ``region`` by agent e's record ``seq``: ordered after every write
        of its bytes, and (``tile`` given) those writes were for that tile."""
        if not region.space.shadowed:
            return
        w = region.writer_view()
        lo, hi = int(w.min()), int(w.max())
        if self.uninitialised is None and lo < 0 and (w == NO_WRITER).any():
            uninit = w == NO_WRITER
            # Reported when the run ends: if a later write by another engine races
            # with this read, the race (HazardError) is the real bug to report.
            idx = tuple(int(i) for i in np.argwhere(uninit)[0])
            self.uninitialised = SimulationError(
                f"{self._where()}{self._name(e, seq)} reads {what} {region.describe()} "
                f"that nothing wrote (uninitialised memory, first at {region.describe_unit(idx)})"
            )
        if self.ordering:
            self._check_writer(e, seq, region, what, w, "reads", "written by", "read-after-write", lo, hi)
        if tile != NO_TILE and self.code_tile is not None:
            self._check_tile(e, seq, region, what, w, tile, lo, hi)
        if self.ordering:
            region.reader_view(e)[...] = seq

    def write(self, e: int, seq: int, region: Region, what: str) -> None:
        if not region.space.shadowed:
            return
        w = region.writer_view()
        if not self.ordering:
            w[...] = seq * self.agents + e
            return
        self._check_writer(e, seq, region, what, w, "writes", "also written by", "write-after-write",
                           int(w.min()), int(w.max()))
        for f, r in region.reader_views():
            if f == e:
                continue
            if int(r.max()) >= self.vc[e][f]:
                idx = tuple(int(i) for i in np.argwhere(r >= self.vc[e][f])[0])
                raise HazardError(
                    f"{self._where()}{self._name(e, seq)} writes {what} {region.describe()} (first conflict at {region.describe_unit(idx)}) read by "
                    f"{self._name(f, int(r[idx]))} with no semaphore ordering them (write-after-read hazard)"
                )
        w[...] = seq * self.agents + e

    def _check_writer(self, e: Engine, seq: int, region: Region, what: str, w: np.ndarray,
                      verb: str, relation: str, kind: str, lo: int, hi: int) -> None:
        """Raise if the last writer of any byte in ``w`` is not ordered before ``e``."""
        bad = self._unordered(w, e, lo, hi)
        if bad is not None and bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            code = int(w[idx])
            raise HazardError(
                f"{self._where()}{self._name(e, seq)} {verb} {what} {region.describe()} "
                f"(first conflict at {region.describe_unit(idx)}) {relation} "
                f"{self._name(code % self.agents, code // self.agents)} with no semaphore ordering them ({kind} hazard)"
            )

    # --- allocation -----------------------------------------------------------
    def _writer_name(self, code: int) -> tuple[int, str]:
        """(core key, name) of the record whose write left shadow code ``code``."""
        if code < NO_WRITER:
            return self.load_writers[-2 - code]
        a = code % self.agents
        return a // ENGINES, self._name(a, code // self.agents)

    def _check_tile(self, e: int, seq: int, region: Region, what: str, w: np.ndarray, tile: int,
                    lo: int, hi: int) -> None:
        """Raise if a byte of ``w`` was last written for a tile other than ``tile``."""
        table, base = self.code_tile, self.code_base
        if lo == hi:  # one write covers the whole read: the common case
            got = int(table[lo + base])
            if got == NO_TILE or got == tile:
                return
            idx = (0,) * w.ndim
        else:
            seg = table[lo + base: hi + base + 1]  # every code of w is in [lo, hi]
            if hi - lo < w.size and ((seg == tile) | (seg == NO_TILE)).all():
                return
            tiles = table[w + base]
            bad = (tiles != tile) & (tiles != NO_TILE)
            if not bad.any():
                return
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            got = int(tiles[idx])
        key, writer = self._writer_name(int(w[idx]))
        names = self.tile_names[e // ENGINES]
        raise TileOverlapError(
            f"{self._where()}{self._name(e, seq)} reads {what} {region.describe()} as {names[tile]}, but "
            f"{region.describe_unit(idx)} was last written by {writer} for {self.tile_names[key][got]}: "
            f"the two tiles overlap and that write overwrote {what}'s tile while it was live (allocation check)"
        )
