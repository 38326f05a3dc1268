"""The simulated machine: one ``CoreMachine`` per subgraph (its memories, decoded streams
and hazard checker) with one ``EngineMachine`` per instruction stream, and the arithmetic
of each record (``execute``); ``simulate`` and the event loop drive them."""

from __future__ import annotations

import numpy as np

from kaena.errors import SimulationError
from kaena.isa import AluOp, DType, Engine, Flags, Mem, Opcode, stream_errors
from kaena.neff import Subgraph
from kaena.simulator import execute as ex
from kaena.simulator.eventloop import run_cores
from kaena.simulator.allocation import install_tiles, touch
from kaena.simulator.hazards import HazardChecker
from kaena.simulator.memory import (
    NO_WRITER,
    PRELOADED,
    SHADOW_UNIT,
    SLOTS,
    CoreMemory,
    DecodedAP,
    Region,
    check_stream,
    np_dtype_of,
)
from kaena.simulator.timing import stream_costs
from kaena.neff.allocation import NO_TILE, SubgraphTiles, stream_name
from kaena.neff.model import NO_SOURCE
from kaena.simulator.results import NO_SIGNAL, EngineTrace
from kaena.target import NeuronCoreTarget

F32 = np.float32


class EngineMachine:
    """One instruction stream's decoded records, costs and progress."""

    def __init__(self, core: int, engine: Engine, rec: np.ndarray, sg: Subgraph, target: NeuronCoreTarget,
                 profile: bool):
        self.engine = engine
        self.rec = rec
        self.n = len(rec)
        self.aps = {s: DecodedAP(rec[s]) for s in SLOTS}
        facts = check_stream(core, engine, rec, sg.variables, target, self.aps)
        costs = stream_costs(engine, rec, facts, target)
        occ, drain = costs.occupancy, costs.drain
        self.dma_bytes, self.macs, self.wmacs = costs.dma_bytes, costs.macs, costs.pe_weighted_macs
        self.occ, self.drain = occ, drain
        self.op = rec["opcode"].tolist()
        self.flags = rec["flags"].tolist()
        self.func = rec["func"].tolist()
        self.alu = rec["alu"].tolist()
        self.axes = rec["axes"].tolist()
        self.sem = rec["sem"].tolist()
        self.sem_value = rec["sem_value"].tolist()
        self.scale = rec["scale"].tolist()
        self.imm = rec["imm"].tolist()
        cum = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(occ, out=cum[1:])
        self.cum = cum.tolist()
        self.cum_np = cum
        self.fin = cum[1:] + drain  # completion time of each record relative to the stream start
        op = rec["opcode"]
        self.notify = (rec["flags"] & int(Flags.NOTIFY)) != 0  # cross-core sends: they order another core
        self.notify_core = rec["notify_core"].tolist()
        sync = np.flatnonzero((op == Opcode.SEM_SIGNAL) | (op == Opcode.SEM_WAIT) | self.notify)
        self.next_sync = np.append(sync, self.n)[np.searchsorted(sync, np.arange(self.n))].tolist()
        self.counts = np.bincount(op.astype(np.int64), minlength=len(Opcode))
        self.source_cycles = _source_cycles(sg, engine, occ)
        self.idx = 0
        self.t = 0
        self.done = 0
        self.busy = 0
        self.profile = profile
        self.tile_of: dict[str, list[int]] | None = None  # slot -> each record's tile (allocation check)
        if profile:  # filled by the event loop; only sync records need per-record work
            self.start = np.zeros(self.n, dtype=np.int64)
            self.sync_end: dict[int, int] = {}  # wait -> resume time; signal -> count rise
            self.ready: dict[int, int] = {}
            self.src: dict[int, tuple[int, ...]] = {}  # (engine, index[, sending core])

    def trace(self) -> EngineTrace:
        end = self.start + self.occ
        complete = end + self.drain
        ready = np.full(self.n, -1, dtype=np.int64)
        src_e = np.full(self.n, NO_SIGNAL, dtype=np.int64)
        src_i = np.full(self.n, NO_SIGNAL, dtype=np.int64)
        src_c = np.full(self.n, -1, dtype=np.int64)
        for i, t in self.sync_end.items():
            if self.op[i] == Opcode.SEM_WAIT:
                end[i] = complete[i] = t
            else:
                complete[i] = t
        for i, r in self.ready.items():
            ready[i] = r
        for i, src in self.src.items():
            src_e[i], src_i[i] = src[0], src[1]
            if len(src) > 2:
                src_c[i] = src[2]
        return EngineTrace(self.engine, self.rec, self.start, end, complete, self.occ, ready, src_e, src_i, src_c)


def _source_cycles(sg: Subgraph, engine: Engine, occ: np.ndarray) -> dict[tuple[str, ...], int]:
    """Occupancy of ``engine``'s records summed per source entry (what ``busy`` adds up)."""
    ids = sg.source_ids.get(engine)
    if ids is None or not len(ids):
        total = int(np.asarray(occ).sum())
        return {(): total} if total else {}
    known = ids != NO_SOURCE
    per = np.bincount(ids[known].astype(np.int64), weights=np.asarray(occ)[known], minlength=len(sg.sources))
    out = {sg.sources[k]: int(c) for k, c in enumerate(per.tolist()) if c}
    rest = int(np.asarray(occ)[~known].sum())
    if rest:
        out[()] = rest
    return out


class CoreMachine:
    def __init__(self, core: int, sg: Subgraph, target: NeuronCoreTarget, timing_only: bool, check_hazards: bool,
                 profile: bool = False, hazards: HazardChecker | None = None, shared: dict | None = None,
                 prefix: str = "", tiles: SubgraphTiles | None = None, replay: bool = False):
        """``hazards``: a pipeline's checker shared by all its cores (agents core * 4 + engine);
        ``shared``: variable index -> Space of the cross-core buffers this core shares;
        ``tiles``: the NEFF's allocation table for this core (checked with the hazards);
        ``replay``: no values, only the hazard and allocation checks (``kaena.simulator.allocation``)."""
        self.core = core
        self.replay = replay
        self.agent_base = core * len(Engine) if shared is not None else 0
        self.shared = shared or {}
        self.profile = profile
        self.sg = sg
        self.target = target
        self.timing_only = timing_only
        for e in Engine:
            bad = stream_errors(sg.stream(e), e, len(sg.variables), target.semaphores_per_core)
            if bad is not None:
                i, why = bad
                raise SimulationError(f"core {core}, {e.stream_name} instruction {i}: {why}")
        self.engines = {e: EngineMachine(core, e, sg.stream(e), sg, target, profile) for e in Engine}
        self.sem_times: list[list[int]] = [[] for _ in range(target.semaphores_per_core)]
        # profile: which (engine, record) produced each entry of sem_times, in the same order
        self.sem_src: list[list[tuple[int, ...]]] = [[] for _ in range(target.semaphores_per_core)]
        self.hazards: HazardChecker | None = hazards
        if hazards is None and check_hazards and not timing_only:
            totals: dict[int, dict[int, int]] = {}
            for e, st in self.engines.items():
                for i in np.flatnonzero(np.array(st.op, dtype=np.int64) == Opcode.SEM_SIGNAL):
                    s = st.sem[i]
                    totals.setdefault(s, {}).setdefault(int(e), 0)
                    totals[s][int(e)] += 1
            self.hazards = HazardChecker(core, {int(e): st.op for e, st in self.engines.items()}, totals,
                                         ordering=not replay)
        agents = tuple(self.agent_base + int(e) for e in Engine)
        self.mem = CoreMemory(sg, target, with_data=not timing_only and not replay,
                              shadowed=self.hazards is not None, agents=agents, shared=shared, prefix=prefix)
        self.load_code0 = 0  # shadow code of load-time record j: NO_WRITER - 1 - (load_code0 + j)
        self.load_tiles: list[int] = []
        self.tiles: SubgraphTiles | None = None
        if tiles is not None and self.hazards is not None:
            for e, st in self.engines.items():
                st.tile_of = dict(zip(SLOTS, tiles.stream_tiles(st.rec, stream_name(core, e)).T.tolist()))
            self.load_tiles = tiles.stream_tiles(sg.load_stream, stream_name(core, None))[:, 0].tolist()
            self.tiles = tiles
            if hazards is None:
                install_tiles(self.hazards, [self])
        self.remote: list[CoreMachine] = []  # a pipeline's cores, by index (NOTIFY targets)
        self.stationary: tuple[np.ndarray, int] | None = None  # (transposed [M, K] fp32, dtype)

    # --- the event loop ----------------------------------------------------------
    def run(self) -> int:
        return run_cores([self])[0]

    def agent(self, st: EngineMachine) -> int:
        return self.agent_base + int(st.engine)

    # --- data ----------------------------------------------------------------------
    def _region(self, st: EngineMachine, slot: str, i: int) -> Region:
        return st.aps[slot].region(i, self.mem)

    def _read(self, st: EngineMachine, i: int, slot: str, native: bool = False) -> np.ndarray:
        r = self._region(st, slot, i)
        if self.hazards:
            self.hazards.read(self.agent(st), i, r, slot, st.tile_of[slot][i] if st.tile_of else NO_TILE)
        v = r.view()
        return np.array(v) if native else v.astype(F32)

    def _write(self, st: EngineMachine, i: int, values: np.ndarray) -> None:
        r = self._region(st, "out", i)
        if self.hazards:
            self.hazards.write(self.agent(st), i, r, "out")
        r.view()[...] = np.asarray(values).astype(r.dtype, copy=False).reshape(r.shape)

    def _fail(self, st: EngineMachine, i: int, why: str) -> SimulationError:
        return SimulationError(f"core {self.core}, {st.engine.stream_name} instruction {i} ({Opcode(st.op[i]).name}): {why}")

    def _execute(self, st: EngineMachine, i: int) -> None:
        if self.replay:
            touch(self, st, i)
            return
        op = st.op[i]
        if op == Opcode.NOP:
            return
        if op == Opcode.DMA:
            self._write(st, i, self._read(st, i, "in0", native=True))
        elif op == Opcode.LOAD_STATIONARY:
            x = self._read(st, i, "in0")
            self.stationary = (np.ascontiguousarray(x.reshape(x.shape[0], -1).T), st.aps["in0"].dtype[i])
        elif op == Opcode.MATMUL:
            if self.stationary is None:
                raise self._fail(st, i, "no stationary operand loaded (LOAD_STATIONARY first)")
            stat_t, sdt = self.stationary
            if st.aps["in1"].dtype[i] != sdt:
                raise self._fail(
                    st, i, f"moving operand is {DType(st.aps['in1'].dtype[i]).short}, stationary is {DType(sdt).short}"
                )
            mov = self._read(st, i, "in1")
            mov = mov.reshape(mov.shape[0], -1)
            if mov.shape[0] != stat_t.shape[1]:
                raise self._fail(st, i, f"moving K = {mov.shape[0]} differs from stationary K = {stat_t.shape[1]}")
            if st.aps["out"].np[i] != stat_t.shape[0]:
                raise self._fail(st, i, f"writes {st.aps['out'].np[i]} PSUM partitions for stationary M = {stat_t.shape[0]}")
            res = ex.matmul(stat_t, mov)
            if st.flags[i] & Flags.ACCUMULATE:
                res = self._read(st, i, "out").reshape(res.shape) + res
            self._write(st, i, res)
        elif op == Opcode.ACTIVATE:
            x = self._read(st, i, "in0")
            x = x.reshape(x.shape[0], -1)
            bias = self._scalar(st, i)
            self._write(st, i, ex.activation(st.func[i], x * F32(st.scale[i]) + bias))
        elif op == Opcode.TENSOR_TENSOR:
            a = self._read(st, i, "in0")
            b = self._read(st, i, "in1")
            self._write(st, i, ex.alu(st.alu[i], a.reshape(a.shape[0], -1), b.reshape(a.shape[0], -1)))
        elif op == Opcode.TENSOR_SCALAR and st.alu[i] == AluOp.BYPASS and st.aps["in0"].dtype[i] == DType.INT32:
            self._write(st, i, self._read(st, i, "in0", native=True))  # an int32 copy: bit-exact
        elif op == Opcode.TENSOR_SCALAR:
            a = self._read(st, i, "in0")
            self._write(st, i, ex.alu(st.alu[i], a.reshape(a.shape[0], -1), self._scalar(st, i)))
        elif op == Opcode.REDUCE:
            x = self._read(st, i, "in0")
            axes = tuple(range(x.ndim - st.axes[i], x.ndim))
            self._write(st, i, ex.reduce(st.alu[i], x, axes) * F32(st.scale[i]))
        elif op == Opcode.TRANSPOSE:
            x = self._read(st, i, "in0", native=st.aps["in0"].dtype[i] == DType.INT32)
            self._write(st, i, x.reshape(x.shape[0], -1).T)
        elif op == Opcode.MEMSET:
            self._write(st, i, np.full(self._region(st, "out", i).shape, F32(st.imm[i])))
        elif op == Opcode.SELECT:
            pred = self._read(st, i, "in0", native=True)
            on_true = self._read(st, i, "in1", native=True)
            on_false = self._read(st, i, "out", native=True)
            n = pred.shape[0]
            self._write(st, i, ex.select(pred.reshape(n, -1), on_true.reshape(n, -1), on_false.reshape(n, -1)))
        elif op == Opcode.DMA_GATHER:
            self._gather(st, i)
        else:
            raise AssertionError(op)

    def _gather(self, st: EngineMachine, i: int) -> None:
        """DMA_GATHER: row in1[p] of the table in0 (its num_partitions rows) into partition p of
        out. Every index is checked before anything is read: one outside the table is a fault."""
        idx = self._read(st, i, "in1", native=True).reshape(-1).astype(np.int64)
        rows = st.aps["in0"].np[i]
        bad = np.flatnonzero((idx < 0) | (idx >= rows))
        if len(bad):
            p = int(bad[0])
            raise self._fail(
                st, i, f"gather index {int(idx[p])} in partition {p} (index tile partition "
                f"{st.aps['in1'].sp[i] + p}) is outside the table's rows [0, {rows}); nothing was read"
            )
        table = self._region(st, "in0", i)
        if self.hazards and table.space.shadowed:
            tile = st.tile_of["in0"][i] if st.tile_of else NO_TILE
            for r in np.unique(idx).tolist():  # only the gathered rows are read
                self.hazards.read(self.agent(st), i, _row_region(table, r), "in0", tile)
        self._write(st, i, table.view()[idx])

    def _scalar(self, st: EngineMachine, i: int) -> np.ndarray | np.float32:
        """in1 as one value per partition [P, 1], or the immediate when in1 is absent."""
        if st.aps["in1"].mem[i] == Mem.NONE:
            return F32(st.imm[i])
        b = self._read(st, i, "in1")
        return b.reshape(b.shape[0], 1)

    # --- the load-time program ------------------------------------------------------
    def preload(self) -> int:
        """Run the subgraph's load-time program (weights into SBUF, once: before every
        instruction of the inference, so it orders before all of them); its cycles."""
        rec = self.sg.load_stream
        if not len(rec):
            return 0
        bad = stream_errors(rec, Engine.DMA, len(self.sg.variables), self.target.semaphores_per_core)
        if bad is not None or (rec["opcode"] != Opcode.DMA).any() or (rec["out"]["mem"] != Mem.SBUF).any():
            i = bad[0] if bad is not None else int(np.flatnonzero((rec["opcode"] != Opcode.DMA)
                                                                  | (rec["out"]["mem"] != Mem.SBUF))[0])
            why = bad[1] if bad is not None else "a load-time record is a DMA into SBUF"
            raise SimulationError(f"core {self.core}, load-time instruction {i}: {why}")
        aps = {s: DecodedAP(rec[s]) for s in SLOTS}
        facts = check_stream(self.core, Engine.DMA, rec, self.sg.variables, self.target, aps)
        if self.mem.sbuf.data is not None or self.hazards is not None:
            for i in range(len(rec)):
                src, dst = aps["in0"].region(i, self.mem), aps["out"].region(i, self.mem)
                if self.mem.sbuf.data is not None:
                    dst.view()[...] = np.asarray(src.view()).astype(dst.dtype, copy=False).reshape(dst.shape)
                if self.hazards is not None:  # ordered before everything; the code names the record
                    dst.writer_view()[...] = PRELOADED - self.load_code0 - i
        return int(stream_costs(Engine.DMA, rec, facts, self.target).occupancy.sum())

    # --- DRAM variables in and out --------------------------------------------------
    def load(self, env: dict[str, np.ndarray]) -> None:
        for i, (v, space) in enumerate(zip(self.sg.variables, self.mem.dram)):
            if i in self.shared:
                continue  # another core's buffer: that core writes it
            if v.kind == "input":
                if v.name not in env:
                    raise SimulationError(
                        f"core {self.core}: input variable '{v.name}' has no value: it is neither a model input "
                        "nor an output of an earlier subgraph"
                    )
                value = env[v.name]
            elif v.kind == "file":
                if v.data is None:
                    raise SimulationError(f"core {self.core}: file variable '{v.name}' has no data")
                value = v.data
            else:
                continue
            value = np.asarray(value)
            if value.size * np_dtype_of(v.dtype).itemsize != space.row_bytes:
                raise SimulationError(
                    f"core {self.core}: variable '{v.name}' of shape {tuple(v.shape)} gets {value.size} elements"
                )
            if space.data is not None:
                space.data[0] = np.ascontiguousarray(value.astype(np_dtype_of(v.dtype))).reshape(-1).view(np.uint8)

    def outputs(self) -> dict[str, np.ndarray]:
        out = {}
        for v, space in zip(self.sg.variables, self.mem.dram):
            if v.kind != "output" or self.replay:
                continue
            if self.hazards is not None:
                space.ensure(space.row_bytes)
                unwritten = np.flatnonzero(space.writer[0] == NO_WRITER)
                if len(unwritten):
                    raise SimulationError(
                        f"core {self.core}: output variable '{v.name}' is not fully written by the program "
                        f"(bytes [{int(unwritten[0]) * SHADOW_UNIT}, {int(unwritten[0] + 1) * SHADOW_UNIT}) never are)"
                    )
            out[v.name] = space.data[0].view(np_dtype_of(v.dtype)).reshape(v.shape).copy()
        return out


def _row_region(table: Region, r: int) -> Region:
    """Row ``r`` of a DRAM table region (one partition step of its access pattern)."""
    isz = table.dtype.itemsize
    hi = sum(max(0, (c - 1) * b) for c, b in zip(table.shape[1:], table.free_bytes))
    col0 = table.col0 + r * table.part_bytes
    return Region(table.space, table.row0, col0, (1,) + table.shape[1:], 0, table.part_bytes,
                  table.free_bytes, table.dtype, col0 + hi + isz)
