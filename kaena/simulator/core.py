"""``simulate``: builds the machine's cores (``kaena.simulator.machine``), runs them in
the event loop (``kaena.simulator.eventloop``) and collects the result
(``kaena.simulator.results``). Subgraphs of a
serial NEFF run in series: an input variable of subgraph k takes the value of the
latest earlier subgraph's output variable of that name, else the model input of that
name; those of a pipeline NEFF run at once, sharing their cross-core buffers.
"""

from __future__ import annotations


import numpy as np
from threadpoolctl import threadpool_limits

from kaena.errors import SimulationError
from kaena.isa import Engine, Flags, Opcode
from kaena.neff import Neff
from kaena.simulator.eventloop import run_cores
from kaena.simulator.allocation import install_tiles
from kaena.simulator.budget import check_budget
from kaena.simulator.footprint import shadow_footprint
from kaena.simulator.hazards import HazardChecker
from kaena.simulator.inputs import check_inputs
from kaena.simulator.memory import (
    Space,
    np_dtype_of,
)
from kaena.neff.allocation import SubgraphTiles, allocation_tables
from kaena.target import NeuronCoreTarget

from kaena.simulator.machine import CoreMachine
from kaena.simulator.results import CoreTrace, SimResult

F32 = np.float32


def simulate(
    neff: Neff,
    inputs: dict[str, np.ndarray],
    *,
    timing_only: bool = False,
    check_hazards: bool = True,
    target: NeuronCoreTarget | None = None,
    profile: bool = False,
) -> SimResult:
    """Execute ``neff``'s records on modelled memories; see docs/isa.md.

    ``target`` defaults to the one the NEFF declares (``Neff.target``).

    ``timing_only`` skips arithmetic and hazard tracking (inputs may then be
    omitted; ``outputs`` is empty) and keeps the cycle count exact.
    ``profile`` also records when every instruction ran (``SimResult.trace``,
    read by ``kaena.reports.profile``); off, the run stays as fast as without it."""
    if target is None:
        target = neff.target_description
    # The run is many small matmuls: a multi-threaded BLAS spends more time synchronising
    # its threads than computing them (10x slower on 2 cores under load). One thread, for
    # this call only, so that importing Kaena leaves the process's BLAS alone.
    check_budget(neff, target, with_data=not timing_only, shadowed=check_hazards and not timing_only)
    try:
        with threadpool_limits(limits=1):
            return _simulate(neff, inputs, timing_only, check_hazards, target, profile)
    except MemoryError:  # the budget is an estimate: what it missed is still one clean line
        raise SimulationError(
            f"{neff.name}: out of memory while simulating (its DRAM variables: "
            f"{sum(v.nbytes for sg in neff.subgraphs for v in sg.variables)} bytes); free memory, "
            "or run without the hazard check (--no-hazard-check) or with --timing-only"
        ) from None


def _simulate(neff: Neff, inputs: dict[str, np.ndarray], timing_only: bool, check_hazards: bool,
              target: NeuronCoreTarget, profile: bool) -> SimResult:
    env = check_inputs(neff, inputs, timing_only)
    busy = {e.stream_name: 0 for e in Engine}
    source_cycles: dict[tuple[str, ...], int] = {}
    counts = {e.stream_name: {} for e in Engine}
    core_cycles: list[int] = []
    offsets: list[int] = []
    totals = [0, 0, 0]  # dma bytes, macs, weighted macs
    trace: list[CoreTrace] | None = [] if profile else None
    load_cycles = 0
    tables = allocation_tables(neff) if check_hazards and not timing_only else None
    if neff.execution == "pipeline":
        cores = core_machines(neff, target, timing_only, check_hazards, profile, tables)
        for c in cores:
            if not timing_only:
                c.load(env)
            load_cycles = max(load_cycles, c.preload())  # the cores load at once
        core_cycles = run_cores(cores)
        offsets = [0] * len(cores)
        if not timing_only:
            for c in cores:
                env.update(c.outputs())
    else:
        cores = []
        for k, sg in enumerate(neff.subgraphs):
            core = CoreMachine(k, sg, target, timing_only, check_hazards, profile, tiles=tables[k] if tables else None)
            if not timing_only:
                core.load(env)
            load_cycles += core.preload()
            offsets.append(sum(core_cycles))
            core_cycles.append(core.run())
            if not timing_only:
                env.update(core.outputs())
            cores.append(core)
    for k, core in enumerate(cores):
        if trace is not None:
            engines = {e: st.trace() for e, st in core.engines.items()}
            trace.append(CoreTrace(k, offsets[k], core_cycles[k], engines))
        _account(core, busy, source_cycles, counts, totals)
    outputs = {}
    produced = {v.name for sg in neff.subgraphs for v in sg.variables if v.kind == "output"}
    if not timing_only:
        for spec in neff.outputs:
            if spec.name not in produced:
                raise SimulationError(f"{neff.name}: model output '{spec.name}' is not an output variable of any subgraph")
            val = env[spec.name]
            if val.size != int(np.prod(spec.shape, dtype=np.int64)):
                raise SimulationError(
                    f"{neff.name}: output '{spec.name}' has {val.size} elements, declared shape {tuple(spec.shape)}"
                )
            outputs[spec.name] = val.astype(np_dtype_of(spec.dtype) if spec.dtype == "int32" else F32).reshape(spec.shape)
    cycles = max(core_cycles, default=0) if neff.execution == "pipeline" else sum(core_cycles)
    footprints = [shadow_footprint(c.mem.sbuf, c.mem.psum) for c in cores] \
        if cores and all(c.hazards is not None for c in cores) else None
    return SimResult(outputs, cycles, busy, counts, totals[0], totals[1], core_cycles, totals[2], trace,
                     source_cycles, load_cycles, footprints)


def _account(core: CoreMachine, busy: dict, source_cycles: dict, counts: dict, totals: list[int]) -> None:
    for e, st in core.engines.items():
        busy[e.stream_name] += st.busy
        for names, c in st.source_cycles.items():
            source_cycles[names] = source_cycles.get(names, 0) + c
        for o in np.flatnonzero(st.counts):
            name = Opcode(int(o)).name
            counts[e.stream_name][name] = counts[e.stream_name].get(name, 0) + int(st.counts[o])
        totals[0] += int(st.dma_bytes.sum())
        totals[1] += int(st.macs.sum())
        totals[2] += int(st.wmacs.sum())


def connections(neff: Neff) -> list[tuple[int, int, int, int]]:
    """A pipeline's cross-core buffers: (producer subgraph, its output variable, consumer
    subgraph, its input variable), the latest earlier producer of the name."""
    out: list[tuple[int, int, int, int]] = []
    produced: dict[str, tuple[int, int]] = {}
    for k, sg in enumerate(neff.subgraphs):
        for i, v in enumerate(sg.variables):
            if v.kind == "input" and v.name in produced:
                out.append((*produced[v.name], k, i))
        for i, v in enumerate(sg.variables):
            if v.kind == "output":
                produced[v.name] = (k, i)
    return out


def core_machines(neff: Neff, target: NeuronCoreTarget, timing_only: bool, check_hazards: bool,
                  profile: bool, tables: list[SubgraphTiles] | None = None, replay: bool = False) -> list[CoreMachine]:
    """The cores of a pipeline NEFF, sharing their cross-core buffers and one hazard checker."""
    n = len(neff.subgraphs)
    E = len(Engine)
    links = connections(neff)
    shared: list[dict[int, Space]] = [{} for _ in range(n)]
    readers: dict[tuple[int, int], list[int]] = {}
    for p, i, c, _ in links:
        readers.setdefault((p, i), []).append(c)
    shadowed = check_hazards and not timing_only
    for (p, i), cs in readers.items():
        v = neff.subgraphs[p].variables[i]
        agents = tuple(a for k in [p] + cs for a in range(k * E, k * E + E))
        shared[p][i] = Space(f"core {p} DRAM '{v.name}'", 1, v.nbytes, not timing_only and not replay, shadowed,
                             agents)
    for p, i, c, j in links:
        w = neff.subgraphs[c].variables[j]
        if w.nbytes != neff.subgraphs[p].variables[i].nbytes:
            raise SimulationError(f"core {c}: input variable '{w.name}' does not match core {p}'s output of that name")
        shared[c][j] = shared[p][i]
    hazards = None
    if shadowed:
        opcodes: dict[int, list[int]] = {}
        sig: dict[int, dict[int, int]] = {}
        for k, sg in enumerate(neff.subgraphs):
            for e in Engine:
                rec = sg.stream(e)
                opcodes[k * E + int(e)] = rec["opcode"].tolist()
                op = rec["opcode"].astype(np.int64)
                notify = (rec["flags"] & int(Flags.NOTIFY)) != 0
                for r in np.flatnonzero((op == Opcode.SEM_SIGNAL) | notify).tolist():
                    dest = int(rec["notify_core"][r]) if notify[r] else k
                    key = dest * target.semaphores_per_core + int(rec["sem"][r])
                    sig.setdefault(key, {}).setdefault(k * E + int(e), 0)
                    sig[key][k * E + int(e)] += 1
        if max((len(o) for o in opcodes.values()), default=0) * n * E >= 2**31:
            raise SimulationError(f"{neff.name}: too many instructions to check hazards across {n} cores")
        hazards = HazardChecker(0, opcodes, sig, agents=n * E, core_names=True, ordering=not replay)
    cores = [CoreMachine(k, sg, target, timing_only, check_hazards, profile, hazards, shared[k], f"core {k} ",
                   tables[k] if tables else None, replay)
             for k, sg in enumerate(neff.subgraphs)]
    if hazards is not None and tables:
        install_tiles(hazards, cores)
    for k, c in enumerate(cores):
        c.agent_base = k * E
        c.remote = cores
        for e, st in c.engines.items():
            bad = [r for r in np.flatnonzero(st.notify).tolist() if not 0 <= st.notify_core[r] < n
                   or st.notify_core[r] == k]
            if bad:
                raise SimulationError(
                    f"core {k}, {e.stream_name} instruction {bad[0]}: notifies core {st.notify_core[bad[0]]}, "
                    f"not another of the NEFF's {n} cores"
                )
    return cores
