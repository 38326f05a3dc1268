"""How much SBUF and PSUM a run touched: the bytes its instructions wrote (the load-time
program's included), per core, in total and in the fullest partition. From the hazard
shadow when the run kept one, else by painting every record's destination.

This is what ``sbuf_peak_bytes`` / ``psum_peak_bytes`` of ``kaena-run --stats`` report
(docs/profiling.md): what the simulated program used, not what the allocator planned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kaena.isa import DType, Engine, Mem
from kaena.neff import Subgraph
from kaena.simulator.memory import NO_WRITER, SHADOW_UNIT, Space
from kaena.target import NeuronCoreTarget


@dataclass(frozen=True)
class Footprint:
    """Bytes of one core's SBUF and PSUM some instruction wrote during the run."""

    sbuf_bytes: int  # over all partitions
    psum_bytes: int
    sbuf_partition_bytes: int  # in the partition with the most
    psum_partition_bytes: int


def _counts(per_row: np.ndarray) -> tuple[int, int]:
    return int(per_row.sum()), int(per_row.max(initial=0))


def shadow_footprint(sbuf: Space, psum: Space) -> Footprint:
    """From the hazard shadow: the entries with a writer (NO_WRITER: never written)."""
    s = _counts((sbuf.writer != NO_WRITER).sum(axis=1) * SHADOW_UNIT)
    p = _counts((psum.writer != NO_WRITER).sum(axis=1) * SHADOW_UNIT)
    return Footprint(s[0], p[0], s[1], p[1])


def painted_footprint(sg: Subgraph, target: NeuronCoreTarget) -> Footprint:
    """From the records: paint each SBUF/PSUM destination (streams validated by a run)."""
    grids = {Mem.SBUF: np.zeros((target.partitions, target.sbuf_bytes_per_partition), np.uint8),
             Mem.PSUM: np.zeros((target.partitions, target.psum_bytes_per_partition), np.uint8)}
    streams = [sg.stream(e) for e in Engine] + [sg.load_stream]
    for rec in streams:
        out = rec["out"]
        for i in np.flatnonzero((out["mem"] == Mem.SBUF) | (out["mem"] == Mem.PSUM)).tolist():
            ap = out[i]
            grid = grids[Mem(int(ap["mem"]))]
            isz = DType(int(ap["dtype"])).itemsize
            nd = int(ap["ndims"])
            shape = (int(ap["num_partitions"]),) + tuple(int(c) for c in ap["counts"][:nd])
            strides = (grid.shape[1],) + tuple(int(s) * isz for s in ap["strides"][:nd])
            offset = int(ap["start_partition"]) * grid.shape[1] + int(ap["offset"])
            dt = _unsigned(int(ap["dtype"]))
            np.ndarray(shape, dt, buffer=grid, offset=offset, strides=strides)[...] = np.iinfo(dt).max
    s = _counts(np.count_nonzero(grids[Mem.SBUF], axis=1))
    p = _counts(np.count_nonzero(grids[Mem.PSUM], axis=1))
    return Footprint(s[0], p[0], s[1], p[1])


def _unsigned(dtype: int) -> np.dtype:
    return np.dtype(f"u{DType(dtype).itemsize}")
