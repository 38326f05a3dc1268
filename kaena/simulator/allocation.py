"""The allocation check: every read of SBUF/PSUM sees the write the compiler meant.

Hazard detection orders engines; it cannot see two tiles the allocator placed on the
same bytes while both are live (a bias tile on the weight tile the same DMA queue
writes, an activation's output on the bias table): the program is race-free and
computes the wrong numbers. With the NEFF's allocation table
(``kaena.neff.allocation``) each record's on-chip operands name their tile; the
hazard shadow already holds, per 2 bytes, the record that last wrote them, so a read
checks that those records wrote *its* tile (``HazardChecker._check_tile``).

It runs in every simulation with the hazard check, and without numbers in
``check_allocation`` (``kaena-neff verify``): the same event loop and the same
ordering logic, tracking only each byte's last writer (``touch``; no vector-clock
checks: races are the hazard check's, in a simulation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kaena.isa import AluOp, DType, Engine, Flags, Mem, Opcode
from kaena.neff.allocation import NO_TILE, allocation_tables

if TYPE_CHECKING:
    from kaena.neff import Neff
    from kaena.simulator.machine import CoreMachine, EngineMachine
    from kaena.simulator.hazards import HazardChecker

# the operand slots each opcode reads, in the order the simulator reads them
_READS: dict[int, tuple[str, ...]] = {
    Opcode.DMA: ("in0",), Opcode.LOAD_STATIONARY: ("in0",), Opcode.MATMUL: ("in1",),
    Opcode.ACTIVATE: ("in0", "in1"), Opcode.TENSOR_TENSOR: ("in0", "in1"), Opcode.TENSOR_SCALAR: ("in0", "in1"),
    Opcode.REDUCE: ("in0",), Opcode.TRANSPOSE: ("in0",), Opcode.MEMSET: (), Opcode.SELECT: ("in0", "in1", "out"),
    Opcode.DMA_GATHER: ("in1",),  # the table rows read depend on the indices' values: not replayed
}


def install_tiles(hazards: "HazardChecker", cores: "list[CoreMachine]") -> None:
    """Give ``hazards`` the tile of every write of ``cores`` (the cores it checks), by shadow code."""
    agents = hazards.agents
    longest = max((len(ops) for ops in hazards.opcodes.values()), default=0)
    loads = 0
    for c in cores:
        c.load_code0 = loads
        loads += len(c.load_tiles)
    base = loads + 1  # code NO_WRITER - 1 - j (load-time record j) -> index loads - 1 - j
    table = np.full(base + longest * agents, NO_TILE, dtype=np.int32)
    hazards.load_writers = []
    for c in cores:
        if c.tiles is None:
            continue
        key = c.agent_base // len(Engine)
        hazards.tile_names[key] = [t.describe() for t in c.tiles.tiles]
        for st in c.engines.values():
            if st.tile_of and st.n:
                table[base + c.agent(st) + agents * np.arange(st.n)] = st.tile_of["out"]
        for j, t in enumerate(c.load_tiles):
            table[loads - 1 - (c.load_code0 + j)] = t
        where = f"core {c.core} " if hazards.core_names else ""
        hazards.load_writers += [(key, f"{where}load-time instruction {j} (DMA)") for j in range(len(c.load_tiles))]
    hazards.code_tile = table
    hazards.code_base = base


def touch(core: "CoreMachine", st: "EngineMachine", i: int) -> None:
    """Record ``i``'s reads and writes on the hazard shadow, computing nothing."""
    op = st.op[i]
    if op == Opcode.NOP:
        return
    hz = core.hazards
    assert hz is not None
    aps = st.aps
    reads = _READS[op]
    if op == Opcode.MATMUL and st.flags[i] & Flags.ACCUMULATE:
        reads = ("in1", "out")
    elif op == Opcode.TENSOR_SCALAR and st.alu[i] == AluOp.BYPASS and aps["in0"].dtype[i] == DType.INT32:
        reads = ("in0",)  # the int32 copy reads no scalar
    for slot in reads:
        if aps[slot].mem[i] != Mem.NONE:
            hz.read(core.agent(st), i, core._region(st, slot, i), slot,
                    st.tile_of[slot][i] if st.tile_of else NO_TILE)
    if op != Opcode.LOAD_STATIONARY:
        hz.write(core.agent(st), i, core._region(st, "out", i), "out")


@dataclass(frozen=True)
class AllocationCheck:
    """What ``check_allocation`` replayed."""

    tiles: int
    records: int


def check_allocation(neff: "Neff") -> AllocationCheck | None:
    """Replay ``neff``'s streams without numbers, checking that every read sees the write
    for its tile; None when the NEFF carries no allocation table. Raises the first
    ``TileOverlapError`` (or a read of bytes nothing wrote)."""
    from kaena.simulator.budget import check_budget
    from kaena.simulator.core import core_machines
    from kaena.simulator.machine import CoreMachine
    from kaena.simulator.eventloop import run_cores

    tables = allocation_tables(neff)
    if tables is None:
        return None
    target = neff.target_description
    check_budget(neff, target, with_data=False, shadowed=True)
    if neff.execution == "pipeline":
        cores = core_machines(neff, target, False, True, False, tables, replay=True)
        for c in cores:
            c.preload()
        run_cores(cores)
    else:
        for k, sg in enumerate(neff.subgraphs):
            core = CoreMachine(k, sg, target, False, True, tiles=tables[k], replay=True)
            core.preload()
            run_cores([core])
    records = sum(len(sg.stream(e)) for sg in neff.subgraphs for e in sg.streams)
    return AllocationCheck(sum(len(t.tiles) for t in tables), records)
