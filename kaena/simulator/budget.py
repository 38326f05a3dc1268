"""What a simulation will allocate, bounded before anything is allocated.

A NEFF of a few KB may declare gigabytes of DRAM variables: the simulator holds every
variable's bytes and, for the writable ones, the hazard shadow (an int32 writer code
per 2 bytes, and one int32 plane per agent that reads the variable). ``check_budget``
refuses, in one line naming the variable, a NEFF whose variables exceed the device
DRAM a core has (the target description), or whose simulation would need more memory
than this process can get (its address-space limit, the machine's available memory).
"""

from __future__ import annotations

import resource

import numpy as np

from kaena.errors import SimulationError
from kaena.isa import Engine, Mem
from kaena.neff import Neff
from kaena.simulator.memory import DRAM_KINDS, DRAM_WRITABLE, SHADOW_UNIT
from kaena.target import NeuronCoreTarget

_SHADOW_ENTRY = 4  # int32 per SHADOW_UNIT bytes
_GIB = 1 << 30


def _readers(neff: Neff) -> list[dict[int, int]]:
    """Per subgraph: variable index -> how many engines read it (one shadow plane each)."""
    out = []
    for sg in neff.subgraphs:
        read: dict[int, set[int]] = {}
        for e in Engine:
            rec = sg.stream(e)
            for slot in ("in0", "in1"):  # a DRAM "out" is only written
                ap = rec[slot]
                for v in np.unique(ap["var"][ap["mem"] == Mem.DRAM]).tolist():
                    read.setdefault(int(v), set()).add(int(e))
        out.append({v: len(es) for v, es in read.items()})
    return out


def process_allowance() -> int | None:
    """Bytes this process can still allocate: under its address-space limit and the
    machine's available memory (None when neither is known)."""
    limits = []
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm") as f:
                used = int(f.read().split()[0]) * resource.getpagesize()
            limits.append(soft - used)
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return min(limits) if limits else None


def simulation_bytes(neff: Neff, target: NeuronCoreTarget, with_data: bool, shadowed: bool) -> list[tuple[int, str]]:
    """(bytes, what) the simulator will allocate for each memory of each subgraph."""
    parts: list[tuple[int, str]] = []
    onchip = target.partitions * (target.sbuf_bytes_per_partition + target.psum_bytes_per_partition)
    for k, (sg, readers) in enumerate(zip(neff.subgraphs, _readers(neff))):
        # the on-chip shadow grows with what the program touches: its writer plane counted here
        parts.append((onchip * (with_data + _SHADOW_ENTRY // SHADOW_UNIT * shadowed), f"core {k} SBUF and PSUM"))
        for i, v in enumerate(sg.variables):
            if v.kind not in DRAM_KINDS:
                continue
            n = v.nbytes * with_data * (3 if v.kind == "output" else 1)  # + the copies handed back
            if shadowed and v.kind in DRAM_WRITABLE:
                n += v.nbytes // SHADOW_UNIT * _SHADOW_ENTRY * (1 + readers.get(i, 0))
            parts.append((n, f"core {k} DRAM variable '{v.name}' ({v.kind}, {v.nbytes} bytes)"))
    return parts


def check_budget(neff: Neff, target: NeuronCoreTarget, with_data: bool, shadowed: bool) -> None:
    """Refuse, before allocating, a NEFF the device or this process cannot hold."""
    per_core = target.dram_bytes_per_chip // target.cores_per_chip
    for k, sg in enumerate(neff.subgraphs):
        dram = [v for v in sg.variables if v.kind in DRAM_KINDS]
        big = max(dram, key=lambda v: v.nbytes, default=None)
        total = sum(v.nbytes for v in dram)
        if big is not None and total > per_core:
            raise SimulationError(
                f"{neff.name}: core {k}'s DRAM variables need {total} bytes (the largest, '{big.name}', "
                f"{big.nbytes}), more than the {per_core} bytes of device DRAM a {target.name} core has"
            )
    if not with_data and not shadowed:
        return
    parts = simulation_bytes(neff, target, with_data, shadowed)
    need = sum(n for n, _ in parts)
    allowance = process_allowance()
    if allowance is not None and need > allowance:
        n, what = max(parts)
        plain = sum(m for m, _ in simulation_bytes(neff, target, with_data, False))
        hint = ("run without the hazard check (kaena-run --no-hazard-check: about "
                f"{plain / _GIB:.2f} GiB) or " if shadowed and plain <= allowance else "")
        raise SimulationError(
            f"{neff.name}: simulating needs about {need / _GIB:.2f} GiB ({what}: {n / _GIB:.2f} GiB with "
            f"{'its hazard shadow and ' if shadowed else ''}the copies handed back), more than the "
            f"{max(allowance, 0) / _GIB:.2f} GiB this process can allocate: {hint}count cycles only (--timing-only)"
        )
