"""A timing run that streams requests through a NEFF: the steady-state interval
(throughput), the latency of one request and each core's busy share.

Every core runs its program once per request, one request at a time (its
engines finish request r, then start request r + 1); request r's waits count the
signals of requests 0..r-1 too (each semaphore's value is offset by r times the
signals it gets per request). So a core starts request r + 1 as soon as it is done
with request r and its inputs have arrived: the stages of a pipeline work on
different requests at once. The cross-core buffers are taken to be as deep as the
runtime's request queue (no back-pressure from a slower later stage). Timing only: no data, no hazard check (``simulate`` checks one request).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from kaena.isa import Engine, Flags, Opcode, empty_records
from kaena.neff import Neff, Subgraph
from kaena.target import NeuronCoreTarget


@dataclass(frozen=True)
class StreamTiming:
    """What ``stream_requests`` measured (cycles at the target's clock)."""

    requests: int
    latency: int  # cycles from a request's start until its outputs are written (the first request)
    interval: int  # steady-state cycles between two requests' completions: 1 / throughput
    request_ends: list[int]  # when each request completed (its last core's end)
    core_busy: list[float]  # per core: fraction of the interval some engine of the core is occupied
    clock_hz: float

    @property
    def throughput(self) -> float:
        """Inferences per second in steady state (one NEFF, batch as compiled)."""
        return self.clock_hz / self.interval if self.interval else 0.0

    @property
    def latency_us(self) -> float:
        return self.latency / self.clock_hz * 1e6

    @property
    def interval_us(self) -> float:
        return self.interval / self.clock_hz * 1e6


def _signals_per_request(neff: Neff, semaphores: int) -> list[np.ndarray]:
    """Per core, per semaphore: the signals it receives in one request (its own
    engines' SEM_SIGNALs and other cores' NOTIFY sends)."""
    counts = [np.zeros(semaphores, dtype=np.int64) for _ in neff.subgraphs]
    for k, sg in enumerate(neff.subgraphs):
        for e in Engine:
            rec = sg.stream(e)
            sig = rec["opcode"] == Opcode.SEM_SIGNAL
            np.add.at(counts[k], rec["sem"][sig].astype(np.int64), 1)
            notify = (rec["flags"] & int(Flags.NOTIFY)) != 0
            for core, sem in zip(rec["notify_core"][notify].tolist(), rec["sem"][notify].tolist()):
                counts[core][sem] += 1
    return counts


def _free_semaphores(sg: Subgraph, core: int, neff: Neff, semaphores: int, n: int) -> list[int]:
    used: set[int] = set()
    for other_k, other in enumerate(neff.subgraphs):
        for e in Engine:
            rec = other.stream(e)
            notify = (rec["flags"] & int(Flags.NOTIFY)) != 0
            if other_k == core:
                sync = np.isin(rec["opcode"], [Opcode.SEM_SIGNAL, Opcode.SEM_WAIT])
                used |= set(rec["sem"][sync].tolist())
            used |= {s for c, s in zip(rec["notify_core"][notify].tolist(), rec["sem"][notify].tolist()) if c == core}
    free = [s for s in range(semaphores - 1, -1, -1) if s not in used][:n]
    if len(free) < n:
        raise ValueError(f"core {core}: a timing run needs {n} free semaphores to order its requests")
    return free


def _sync(opcode: Opcode, sem: int, value: int = 0) -> np.ndarray:
    rec = empty_records(1)
    rec["opcode"] = opcode
    rec["sem"] = sem
    rec["sem_value"] = value
    return rec


def repeated(neff: Neff, requests: int, target: NeuronCoreTarget) -> Neff:
    """``neff`` with every stream run ``requests`` times, its waits offset per request,
    and on each core request r + 1 starting once every engine has finished request r (a
    core runs one request at a time; its engines' semaphores order them: free ones)."""
    counts = _signals_per_request(neff, target.semaphores_per_core)
    subgraphs: list[Subgraph] = []
    for k, sg in enumerate(neff.subgraphs):
        engines = [e for e in Engine if len(sg.stream(e))]
        barrier = dict(zip(engines, _free_semaphores(sg, k, neff, target.semaphores_per_core, len(engines))))
        streams = {}
        for e in engines:
            rec = sg.stream(e)
            parts = []
            for r in range(requests):
                tile = rec.copy()
                wait = (tile["opcode"] == Opcode.SEM_WAIT) & (tile["sem_value"] > 0)
                offset = r * counts[k][tile["sem"][wait].astype(np.int64)]
                tile["sem_value"][wait] = (tile["sem_value"][wait].astype(np.int64) + offset).astype(np.uint32)
                if r:
                    parts += [_sync(Opcode.SEM_WAIT, barrier[f], r) for f in engines if f != e]
                parts += [tile, _sync(Opcode.SEM_SIGNAL, barrier[e])]
            streams[e] = np.concatenate(parts)
        subgraphs.append(replace(sg, streams=streams, source_ids={}))
    return replace(neff, subgraphs=subgraphs)


def _union(start: np.ndarray, end: np.ndarray) -> int:
    """Cycles covered by the union of [start, end) intervals."""
    keep = end > start
    start, end = start[keep], end[keep]
    if not len(start):
        return 0
    order = np.argsort(start, kind="stable")
    start, end = start[order], end[order]
    reach = np.maximum.accumulate(end)
    new = np.empty(len(start), dtype=bool)
    new[0] = True
    new[1:] = start[1:] > reach[:-1]
    seg = np.flatnonzero(new)
    seg_end = np.append(reach[seg[1:] - 1], reach[-1])
    return int((seg_end - start[seg]).sum())


def stream_requests(neff: Neff, requests: int = 4, target: NeuronCoreTarget | None = None) -> StreamTiming:
    """Stream ``requests`` requests through ``neff`` (a pipeline or one core)."""
    from kaena.simulator.core import simulate

    if requests < 2:
        raise ValueError("a timing run streams at least 2 requests")
    target = target or neff.target_description
    result = simulate(repeated(neff, requests, target), {}, timing_only=True, profile=True, target=target)
    assert result.trace is not None
    ends = np.zeros(requests, dtype=np.int64)
    busy: list[int] = []
    for ct, sg in zip(result.trace, neff.subgraphs):
        starts, finishes = [], []
        for e, tr in ct.engines.items():
            n = len(sg.stream(e))
            if not n:
                continue
            others = sum(1 for f in Engine if f != e and len(sg.stream(f)))
            # tile r: r * others barrier waits, its n records, its barrier signal
            last = np.array([r * (n + 1) + max(0, r) * others + n - 1 for r in range(requests)])
            last = tr.complete[last] + ct.offset
            ends = np.maximum(ends, last)
            work = tr.records["opcode"] != Opcode.SEM_WAIT
            starts.append(tr.start[work])
            finishes.append(tr.start[work] + tr.occupancy[work])
        busy.append(_union(np.concatenate(starts), np.concatenate(finishes)) if starts else 0)
    ends = np.maximum.accumulate(ends)
    interval = int(round((ends[-1] - ends[0]) / (requests - 1)))
    share = [b / requests / interval if interval else 0.0 for b in busy]
    return StreamTiming(requests, int(ends[0]), interval, [int(t) for t in ends], share, target.clock_hz)


def core_busy_cycles(neff: Neff, target: NeuronCoreTarget | None = None) -> list[int]:
    """Per core, the cycles some engine of it is occupied in one request (timing only): a
    stage's own work, whatever it waits for."""
    from kaena.simulator.core import simulate

    result = simulate(neff, {}, timing_only=True, profile=True, target=target)
    assert result.trace is not None
    busy = []
    for ct in result.trace:
        work = [(tr.start[tr.records["opcode"] != Opcode.SEM_WAIT], tr.occupancy[tr.records["opcode"] != Opcode.SEM_WAIT])
                for tr in ct.engines.values() if len(tr.records)]
        busy.append(_union(np.concatenate([s for s, _ in work]), np.concatenate([s + o for s, o in work]))
                    if work else 0)
    return busy
