"""What a simulation returns: its outputs, cycles per engine and core, and (when
profiled) when every instruction ran (``EngineTrace``, read by ``kaena.reports.profile``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kaena.isa import Engine
from kaena.simulator.footprint import Footprint
from kaena.target import INF1, NeuronCoreTarget


NO_SIGNAL = -1  # EngineTrace.wait_src_*: the wait never blocked on a signal


@dataclass
class EngineTrace:
    """When each record of one engine ran (cycles from the subgraph's start); recorded
    only when ``simulate(..., profile=True)``. See ``kaena.reports.profile``."""

    engine: Engine
    records: np.ndarray  # the stream's INSTR_DTYPE records
    start: np.ndarray  # issue time of each record
    end: np.ndarray  # end of occupancy (a wait: when the engine continues)
    complete: np.ndarray  # result complete (end + matmul drain); a signal: when the count rises
    occupancy: np.ndarray
    ready: np.ndarray  # SEM_WAIT: when its semaphore reached the value (-1 elsewhere)
    wait_src_engine: np.ndarray  # SEM_WAIT: engine of the signal that satisfied it, else NO_SIGNAL
    wait_src_index: np.ndarray  # ... and its record index
    # ... and, for a wait released by another core's send (pipeline NEFFs), that core (-1: this one)
    wait_src_core: np.ndarray | None = None


@dataclass
class CoreTrace:
    """One subgraph's run: its engines' traces and where it sits in the whole run."""

    core: int
    offset: int  # cycles: subgraphs run in series
    cycles: int
    engines: dict[Engine, EngineTrace]


@dataclass
class SimResult:
    """What one simulated inference produced and cost."""

    outputs: dict[str, np.ndarray]  # float32, declared output shapes; empty when timing_only
    cycles: int  # simulated end time of the whole program (subgraphs in series)
    busy: dict[str, int]  # engine stream name -> cycles the engine was occupied (all cores)
    instruction_counts: dict[str, dict[str, int]]  # engine -> opcode name -> records executed
    dma_bytes: int
    macs: int
    core_cycles: list[int] = field(default_factory=list)  # per subgraph
    pe_weighted_macs: int = 0  # MACs with fp32 ones counted pe_fp32_slowdown times (PE floor)
    trace: list[CoreTrace] | None = None  # per subgraph, when simulate(..., profile=True)
    # busy cycles (as in ``busy``, all engines and cores) per source: the framework node
    # names of the instructions (the NEFF's source table), () for instructions with none
    source_cycles: dict[tuple[str, ...], int] = field(default_factory=dict)
    # cycles of the cores' load-time programs (resident weights), run once when the model is
    # loaded: not part of ``cycles``
    load_cycles: int = 0
    # per subgraph, the SBUF/PSUM bytes the run wrote, from the hazard shadow (None without
    # one: ``kaena.simulator.footprint.painted_footprint`` counts them from the records)
    footprints: list[Footprint] | None = None

    def pe_utilization(self, target: NeuronCoreTarget = INF1) -> float:
        """(MACs / (peak MACs per cycle x cores)) / cycles, as in the hardware contract."""
        cores = max(1, len(self.core_cycles))
        return self.macs / (target.macs_per_cycle * cores) / self.cycles if self.cycles else 0.0
