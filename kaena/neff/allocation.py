"""The allocation table a Kaena NEFF carries in ``neff.json`` metadata (``"allocation"``):
every SBUF/PSUM tile the compiler placed, and which tile each on-chip operand of each
instruction means. With it a checker can tell, without reference numbers, that every
read sees the write the compiler meant (the simulator's allocation check,
``kaena.simulator.allocation``; format: docs/neff-format.md, "Allocation table").

One row per tile and one per static instruction (its records share the ``tag``), so the
table stays small however far the encoder unrolls loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kaena.errors import NeffError
from kaena.isa import Engine, Mem

ALLOCATION_KEY = "allocation"
TILE_SLOTS = ("out", "in0", "in1")  # operand slots of a record, in table order
NO_TILE = -1  # an operand slot that names no tile (DRAM, or absent)
_MEMS = {"sbuf": Mem.SBUF, "psum": Mem.PSUM}


@dataclass(frozen=True)
class Tile:
    """One ``inf.alloc``: partitions [partition, partition + partitions) x bytes
    [offset, offset + nbytes) of each, in SBUF or PSUM."""

    mem: Mem
    partition: int
    partitions: int
    offset: int
    nbytes: int
    name: str  # the IR value (and the framework node it serves), for messages

    def describe(self) -> str:
        return (f"tile {self.name} ({self.mem.name} partitions [{self.partition}, {self.partition + self.partitions}) "
                f"bytes [{self.offset}, {self.offset + self.nbytes}))")


@dataclass(frozen=True)
class SubgraphTiles:
    """One subgraph's table: its tiles and, by record tag, the tile of each operand slot."""

    tiles: list[Tile]
    tags: np.ndarray  # sorted, unique (int64)
    slots: np.ndarray  # [len(tags), 3] int64: tile index per TILE_SLOTS entry, or NO_TILE

    def stream_tiles(self, rec: np.ndarray, where: str) -> np.ndarray:
        """[records, 3]: the tile each on-chip operand of ``rec`` means (NO_TILE for the others).
        Refuses an on-chip operand the table does not cover or covers with a tile of the
        other memory; ``where`` names the stream (``core 0, act``)."""
        n = len(rec)
        out = np.full((n, len(TILE_SLOTS)), NO_TILE, dtype=np.int64)
        if not n:
            return out
        tags = rec["tag"].astype(np.int64)
        pos = np.minimum(np.searchsorted(self.tags, tags), max(len(self.tags) - 1, 0))
        found = (self.tags[pos] == tags) if len(self.tags) else np.zeros(n, dtype=bool)
        mems = np.array([int(t.mem) for t in self.tiles] + [int(Mem.NONE)], dtype=np.int64)
        for s, slot in enumerate(TILE_SLOTS):
            mem = rec[slot]["mem"].astype(np.int64)
            onchip = (mem == Mem.SBUF) | (mem == Mem.PSUM)
            tile = np.where(found, self.slots[pos, s] if len(self.tags) else NO_TILE, NO_TILE)
            bad = np.flatnonzero(onchip & ((tile == NO_TILE) | (mems[tile] != mem)))
            if len(bad):
                i = int(bad[0])
                why = (f"its tag {int(tags[i])} names no {slot} tile" if tile[i] == NO_TILE
                       else f"the table's {self.tiles[tile[i]].describe()} is not in {Mem(int(mem[i])).name}")
                raise NeffError(f"{where} instruction {i}: {slot} is in {Mem(int(mem[i])).name} but {why} "
                                "in the allocation table (metadata 'allocation')")
            out[:, s] = np.where(onchip, tile, NO_TILE)
        return out


def _fail(name: str, why: str) -> NeffError:
    return NeffError(f"{name}: malformed allocation table (metadata '{ALLOCATION_KEY}'): {why}")


def _ints(row, n: int) -> bool:
    return isinstance(row, list) and len(row) == n and all(type(v) is int for v in row)


def _tile(name: str, k: int, row, partitions: int, bytes_per_mem: dict[Mem, int]) -> Tile:
    if not (isinstance(row, list) and len(row) == 6 and isinstance(row[0], str) and row[0] in _MEMS
            and _ints(row[1:5], 4)
            and isinstance(row[5], str)):
        raise _fail(name, f"tile {k} is not [\"sbuf\"|\"psum\", partition, partitions, offset, bytes, name]")
    mem = _MEMS[row[0]]
    p, n, off, nbytes = row[1:5]
    if p < 0 or n < 1 or p + n > partitions or off < 0 or nbytes < 1 or off + nbytes > bytes_per_mem[mem]:
        raise _fail(name, f"tile {k} ({row[0]} partitions [{p}, {p + n}) bytes [{off}, {off + nbytes})) "
                          f"is outside the core's {partitions} partitions of {bytes_per_mem[mem]} bytes")
    return Tile(mem, p, n, off, nbytes, row[5][:200])


def allocation_tables(neff) -> list[SubgraphTiles] | None:
    """Each subgraph's table from ``neff.metadata``, validated; None when the NEFF has none
    (hand-written files: the allocation check is then off)."""
    raw = neff.metadata.get(ALLOCATION_KEY) if isinstance(neff.metadata, dict) else None
    if raw is None:
        return None
    name = neff.name
    subs = raw.get("subgraphs") if isinstance(raw, dict) else None
    if not isinstance(subs, list) or len(subs) != len(neff.subgraphs):
        raise _fail(name, f"expected {{\"subgraphs\": [...]}} with one entry per subgraph ({len(neff.subgraphs)})")
    target = neff.target_description
    per_mem = {Mem.SBUF: target.sbuf_bytes_per_partition, Mem.PSUM: target.psum_bytes_per_partition}
    out = []
    for k, sub in enumerate(subs):
        if not isinstance(sub, dict) or not isinstance(sub.get("tiles"), list) \
                or not isinstance(sub.get("operands"), list):
            raise _fail(name, f"subgraph {k} is not {{\"tiles\": [...], \"operands\": [...]}}")
        tiles = [_tile(name, j, row, target.partitions, per_mem) for j, row in enumerate(sub["tiles"])]
        rows = sub["operands"]
        for j, row in enumerate(rows):
            if not _ints(row, 4) or not 0 <= row[0] < 2**32 or not all(NO_TILE <= t < len(tiles) for t in row[1:]):
                raise _fail(name, f"subgraph {k} operand row {j} is not [tag, out, in0, in1] (a record tag, tiles in "
                                  f"[-1, {len(tiles)}))")
        arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
        if len(arr) > 1 and (np.diff(arr[:, 0]) <= 0).any():
            raise _fail(name, f"subgraph {k} operand rows are not sorted by unique tag")
        out.append(SubgraphTiles(tiles, arr[:, 0].copy(), arr[:, 1:].copy()))
    return out


def stream_name(core: int, engine: Engine | None) -> str:
    """How allocation messages name a stream: ``core 0, act`` (``load-time`` for the load program)."""
    return f"core {core}, {engine.stream_name if engine is not None else 'load-time'}"
