"""Figures that explain a compile or a run: SBUF peak, DMA bytes, instructions per engine."""

from __future__ import annotations

import numpy as np

from kaena.isa import Engine, Opcode, itemsizes
from kaena.neff import Neff


def ap_bytes(ap: np.ndarray) -> np.ndarray:
    counts = ap["counts"].astype(np.int64)
    ndims = ap["ndims"].astype(np.int64)
    used = np.arange(counts.shape[-1])[None, :] < ndims[:, None]
    per_partition = np.where(used, counts, 1).prod(axis=1)
    return per_partition * ap["num_partitions"].astype(np.int64) * itemsizes(ap["dtype"])


def neff_summary(neff: Neff) -> dict:
    """Static figures of a compiled model (per core, summed)."""
    per_engine = {e.stream_name: 0 for e in Engine}
    dma_bytes = 0
    dma_count = 0
    weight_bytes = 0
    spilled_bytes = 0  # DRAM scratch: intermediates that live in device DRAM, not SBUF
    sbuf_peak = psum_peak = 0
    for sg in neff.subgraphs:
        for engine, records in sg.streams.items():
            per_engine[Engine(engine).stream_name] += len(records)
        stream = sg.stream(Engine.DMA)
        dma = stream[stream["opcode"] == Opcode.DMA]
        if len(dma):
            dma_bytes += int(ap_bytes(dma["in0"]).sum())
        gathers = stream[stream["opcode"] == Opcode.DMA_GATHER]  # bytes gathered: its destination's
        if len(gathers):
            dma_bytes += int(ap_bytes(gathers["out"]).sum())
        dma_count += len(dma) + len(gathers)
        weight_bytes += sum(v.nbytes for v in sg.variables if v.kind == "file")
        spilled_bytes += sum(v.nbytes for v in sg.variables if v.kind == "tmp-buf")
        sbuf_peak = max(sbuf_peak, sg.sbuf_peak_bytes)
        psum_peak = max(psum_peak, sg.psum_peak_bytes)
    return {
        "cores": neff.num_cores,
        "instructions": per_engine,
        "instructions_total": sum(per_engine.values()),
        "dma_bytes": dma_bytes,
        "dma_count": dma_count,
        "weight_bytes": weight_bytes,
        "spilled_bytes": spilled_bytes,
        "sbuf_peak_bytes": sbuf_peak,
        "psum_peak_bytes": psum_peak,
    }


def format_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def format_summary(s: dict) -> str:
    engines = ", ".join(f"{k} {v}" for k, v in s["instructions"].items())
    return (
        f"cores: {s['cores']}  SBUF peak: {format_bytes(s['sbuf_peak_bytes'])}  "
        f"PSUM peak: {format_bytes(s['psum_peak_bytes'])}  weights: {format_bytes(s['weight_bytes'])}  "
        f"spilled to DRAM: {format_bytes(s.get('spilled_bytes', 0))}  "
        f"DMA: {format_bytes(s['dma_bytes'])} in {s.get('dma_count', 0)} transfers\n"
        f"instructions: {s['instructions_total']} ({engines})"
    )


