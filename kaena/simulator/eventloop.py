"""The event loop: the engines of one core, or of all the cores of a pipeline NEFF, run
concurrently in simulated time (docs/isa.md, "Costs" and "Cores").

The loop always advances the engine whose next step can start earliest (a
``SEM_WAIT`` can start when its semaphore reaches its value); a step is one
semaphore instruction, one cross-core send (a DMA with NOTIFY: it raises another
core's semaphore when it lands), or the run of instructions up to the next of
those, since nothing in between can affect another engine's timing.
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

import numpy as np

from kaena.errors import SimulationError
from kaena.isa import Engine, Opcode

if TYPE_CHECKING:
    from kaena.simulator.machine import CoreMachine, EngineMachine


def _ready_time(core: "CoreMachine", st: "EngineMachine") -> float:
    """When ``st``'s next step can start (inf while its semaphore wait cannot be met)."""
    k = st.idx
    if st.op[k] != Opcode.SEM_WAIT:
        return st.t
    v = st.sem_value[k]
    times = core.sem_times[st.sem[k]]
    if v > len(times):
        return math.inf
    return max(st.t, times[v - 1]) if v > 0 else st.t


def _sem_key(core: "CoreMachine", sem: int) -> int:
    return core.agent_base // len(Engine) * core.target.semaphores_per_core + sem


def run_cores(cores: "list[CoreMachine]") -> list[int]:
    """Run the engines of ``cores`` concurrently in simulated time; each core's end time.

    Always advances the engine whose next step can start earliest; a step is one
    semaphore instruction, one cross-core send (it raises another core's semaphore), or
    the run of instructions up to the next of those."""
    active = [(c, st) for c in cores for st in c.engines.values() if st.n]
    while active:
        best, best_r = None, math.inf
        for pair in active:
            r = _ready_time(pair[0], pair[1])
            if r < best_r:
                best, best_r = pair, r
        if best is None:
            waits = "; ".join(
                f"{'core %d ' % c.core if len(cores) > 1 else ''}{st.engine.stream_name} instruction {st.idx} "
                f"waits for semaphore {st.sem[st.idx]} >= {st.sem_value[st.idx]} "
                f"(it reaches {len(c.sem_times[st.sem[st.idx]])})"
                for c, st in active
            )
            where = f"core {cores[0].core}: " if len(cores) == 1 else ""
            raise SimulationError(f"{where}deadlock: every unfinished engine is blocked: {waits}")
        core, st = best
        _step(core, st, int(best_r))
        if st.idx >= st.n:
            active.remove(best)
    for c in cores:
        if c.hazards and c.hazards.uninitialised:
            raise c.hazards.uninitialised
    return [max([0] + [max(st.t, st.done) for st in c.engines.values()]) for c in cores]


def _raise(core: "CoreMachine", sem: int, rise: int, src: tuple[int, ...], st: "EngineMachine") -> None:
    times = core.sem_times[sem]
    pos = bisect.bisect_right(times, rise)
    times.insert(pos, rise)
    if st.profile:
        core.sem_src[sem].insert(pos, src)


def _step(self: "CoreMachine", st: "EngineMachine", ready: int) -> None:
    semc = self.target.semaphore_cycles
    k = st.idx
    op = st.op[k]
    if op == Opcode.SEM_WAIT:
        if st.profile:
            st.start[k] = st.t
            v = st.sem_value[k]
            if v > 0:
                st.ready[k] = self.sem_times[st.sem[k]][v - 1]
                st.src[k] = self.sem_src[st.sem[k]][v - 1]
            st.sync_end[k] = ready + semc
        st.t = ready + semc
        st.busy += semc
        if self.hazards:
            self.hazards.wait(self.agent(st), _sem_key(self, st.sem[k]), st.sem_value[k])
        st.idx += 1
    elif op == Opcode.SEM_SIGNAL:
        if st.profile:
            st.start[k] = st.t
        st.t += semc
        st.busy += semc
        rise = max(st.t, st.done)
        _raise(self, st.sem[k], rise, (int(st.engine), k), st)
        if st.profile:
            st.sync_end[k] = rise
        st.done = max(st.done, st.t)
        if self.hazards:
            self.hazards.signal(self.agent(st), k, _sem_key(self, st.sem[k]))
        st.idx += 1
    elif st.notify[k]:  # a send: the receiving core's semaphore rises when the last byte lands
        if st.profile:
            st.start[k] = st.t
        occ = st.cum[k + 1] - st.cum[k]
        st.t += occ
        st.busy += occ
        st.done = max(st.done, st.t)
        if not self.timing_only:
            with np.errstate(all="ignore"):
                self._execute(st, k)
        dest = self.remote[st.notify_core[k]]
        _raise(dest, st.sem[k], st.done, (int(st.engine), k, self.core), st)
        if self.hazards:
            self.hazards.signal(self.agent(st), k + 1, _sem_key(dest, st.sem[k]))
        st.idx += 1
    else:
        j = st.next_sync[k]
        base = st.t - st.cum[k]
        if st.profile:
            st.start[k:j] = base + st.cum_np[k:j]
        st.done = max(st.done, base + int(st.fin[k:j].max()))
        st.t = base + st.cum[j]
        st.busy += st.cum[j] - st.cum[k]
        if not self.timing_only:
            with np.errstate(all="ignore"):
                for i in range(k, j):
                    self._execute(st, i)
        st.idx = j

