"""Weights resident in SBUF: a core's load-time program (NeuronCore Pipeline).

A pipeline stage keeps the weights it can in its SBUF across inferences: the DMA
records that copy a ``file`` variable into SBUF move, once each, from the
per-inference DMA stream to the subgraph's ``load`` stream, which a runtime runs
once when it loads the model. A record moves when no other record (any engine)
ever writes the SBUF bytes it fills and every record filling overlapping bytes is
the same copy (a weight tile loaded again and again at the same place in a loop):
then the tile holds the same values at every point of every inference. The
semaphore signals after a moved load stay, so its readers' waits still complete.
Everything else streams from DRAM per inference, as the lowering planned it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kaena.isa import DTYPE_ITEMSIZE, Engine, Mem, Opcode, ap_counts
from kaena.neff.model import Subgraph

GRAIN = 32  # bytes per cell of the footprint map: coarser only keeps more loads streaming


@dataclass(frozen=True)
class Residency:
    """What moved to the load-time program of one subgraph."""

    resident_bytes: int  # bytes the load-time program copies into SBUF (once)
    streamed_bytes: int  # weight bytes the per-inference program still copies from DRAM


def _boxes(ap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per record: SBUF partitions [p0, p1) and byte cells [c0, c1) an operand touches."""
    isz = DTYPE_ITEMSIZE[ap["dtype"].astype(np.int64)]
    counts = ap_counts(ap)
    span = (counts - 1) * ap["strides"].astype(np.int64)
    lo = ap["offset"].astype(np.int64) + np.minimum(span, 0).sum(axis=1) * isz
    hi = ap["offset"].astype(np.int64) + (np.maximum(span, 0).sum(axis=1) + 1) * isz
    p0 = ap["start_partition"].astype(np.int64)
    return p0, p0 + ap["num_partitions"].astype(np.int64), lo // GRAIN, -(-hi // GRAIN)


def _paint(grid: np.ndarray, boxes, rows: np.ndarray, value: int | None = None) -> None:
    p0, p1, c0, c1 = boxes
    for i in rows.tolist():
        grid[p0[i]:p1[i], c0[i]:c1[i]] = True if value is None else value


def hoist_weight_loads(sg: Subgraph, partitions: int, sbuf_bytes_per_partition: int) -> Residency:
    """Move the weight loads of ``sg`` that can stay resident to ``sg.load_stream``."""
    files = np.array([v.kind == "file" for v in sg.variables] + [False])
    dma = sg.stream(Engine.DMA)
    cells = -(-sbuf_bytes_per_partition // GRAIN)
    # candidates: DMA file -> SBUF
    var = np.minimum(dma["in0"]["var"].astype(np.int64), len(files) - 1)
    cand = ((dma["opcode"] == Opcode.DMA) & (dma["in0"]["mem"] == Mem.DRAM) & files[var]
            & (dma["out"]["mem"] == Mem.SBUF))
    dirty = np.zeros((partitions, cells), dtype=bool)
    for e in Engine:
        rec = sg.stream(e)
        writes = rec["out"]["mem"] == Mem.SBUF
        if e == Engine.DMA:
            writes &= ~cand
        _paint(dirty, _boxes(rec["out"]), np.flatnonzero(writes))
    if not cand.any():
        sg.load_stream = np.zeros(0, dtype=dma.dtype)
        return Residency(0, 0)
    # one key per distinct copy (the same source and destination bytes)
    idx = np.flatnonzero(cand)
    keys = np.concatenate([np.ascontiguousarray(dma[slot][idx]).view(np.uint8).reshape(len(idx), -1)
                           for slot in ("in0", "out")], axis=1)  # the operands' bytes, no padding
    uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    ucand = idx[first]  # one record per distinct copy, in first-appearance order below
    boxes = _boxes(dma["out"])
    keep = np.ones(len(ucand), dtype=bool)
    while True:
        owner = np.full((partitions, cells), -1, dtype=np.int64)
        clash = np.zeros(len(ucand), dtype=bool)
        for u in np.flatnonzero(keep).tolist():
            i = ucand[u]
            p0, p1, c0, c1 = (b[i] for b in boxes)
            if dirty[p0:p1, c0:c1].any():
                clash[u] = True
                continue
            region = owner[p0:p1, c0:c1]
            others = np.unique(region[region >= 0])
            if len(others):
                clash[u] = True
                clash[others] = True
            region[...] = u
        if not clash.any():
            break
        keep &= ~clash
        _paint(dirty, boxes, ucand[clash])
    moved = keep[inverse]
    hoisted = np.zeros(len(dma), dtype=bool)
    hoisted[idx[moved]] = True
    order = np.sort(ucand[keep])
    sg.load_stream = np.ascontiguousarray(dma[order])
    sg.streams[Engine.DMA] = np.ascontiguousarray(dma[~hoisted])
    if Engine.DMA in sg.source_ids:
        sg.source_ids[Engine.DMA] = np.ascontiguousarray(sg.source_ids[Engine.DMA][~hoisted])
    nbytes = _bytes(dma)
    return Residency(int(nbytes[order].sum()), int(nbytes[cand & ~hoisted].sum()))


def _bytes(rec: np.ndarray) -> np.ndarray:
    ap = rec["in0"]
    return ap_counts(ap).prod(axis=1) * ap["num_partitions"].astype(np.int64) * DTYPE_ITEMSIZE[ap["dtype"].astype(np.int64)]
