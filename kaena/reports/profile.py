"""What a simulated run cost and why: statistics, the roofline, the critical
path, a Chrome-trace/Perfetto profile and the terminal summary.

Inputs are a ``Neff`` and the ``SimResult`` of ``simulate(neff, ..., profile=True)``
(without ``profile`` the trace-based parts, critical path and instruction
kinds, are left out). Definitions: ``docs/profiling.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from kaena.target.costmodel import CostModel
from kaena.isa import ActFunc, AluOp, DType, Engine, Mem, Opcode
from kaena.files import atomic_write
from kaena.neff import NO_SOURCE, Neff
from kaena.neff.model import source_label
from kaena.simulator.results import NO_SIGNAL, CoreTrace, EngineTrace, SimResult
from kaena.target import NeuronCoreTarget

TRACK_NAMES = {
    Engine.PE: "pe (tensor engine)",
    Engine.ACT: "act (scalar engine)",
    Engine.POOL: "pool (vector engine)",
    Engine.DMA: "dma queue 0",
}
_SYNC = (int(Opcode.SEM_SIGNAL), int(Opcode.SEM_WAIT))
_ALU_OPS = (int(Opcode.TENSOR_TENSOR), int(Opcode.TENSOR_SCALAR), int(Opcode.REDUCE))


# --- instruction kinds ------------------------------------------------------------------
def kind_keys(rec: np.ndarray) -> np.ndarray:
    """One int per record naming its kind: opcode plus what changes its cost or meaning
    (matmul dtype, activation function, ALU op, DMA direction)."""
    op = rec["opcode"].astype(np.int64)
    sub = np.zeros(len(rec), dtype=np.int64)
    pe = (op == Opcode.MATMUL)
    sub = np.where(pe, rec["in1"]["dtype"], sub)
    sub = np.where(op == Opcode.LOAD_STATIONARY, rec["in0"]["dtype"], sub)
    sub = np.where(op == Opcode.ACTIVATE, rec["func"], sub)
    sub = np.where(np.isin(op, _ALU_OPS), rec["alu"], sub)
    sub = np.where(op == Opcode.DMA, rec["in0"]["mem"].astype(np.int64) * 16 + rec["out"]["mem"], sub)
    return (op << 16) | sub.astype(np.int64)


def kind_name(engine: Engine, key: int) -> str:
    op, sub = Opcode(key >> 16), key & 0xFFFF
    if op in (Opcode.MATMUL, Opcode.LOAD_STATIONARY):
        detail = DType(sub).short
    elif op == Opcode.ACTIVATE:
        detail = ActFunc(sub).name.lower()
    elif int(op) in _ALU_OPS:
        detail = AluOp(sub).name.lower()
    elif op == Opcode.DMA:
        detail = f"{Mem(sub >> 4).name}->{Mem(sub & 15).name}"
    else:
        detail = ""
    return f"{engine.stream_name} {op.name}" + (f" {detail}" if detail else "")


@dataclass
class KindCost:
    name: str
    count: int = 0
    cycles: int = 0  # engine occupancy, summed
    critical_cycles: int = 0  # time the kind spends on the critical path


@dataclass
class CriticalPath:
    """The chain of instructions, semaphore hand-offs and PSUM drains that sets the run's
    length; it covers every cycle of the run exactly once."""

    cycles: int = 0
    by_engine: dict[str, int] = field(default_factory=lambda: {e.stream_name: 0 for e in Engine})
    by_kind: dict[str, int] = field(default_factory=dict)


def _kinds(tr: EngineTrace) -> tuple[np.ndarray, list[str]]:
    """Per record a compact kind index, and the kinds' names."""
    if not len(tr.records):
        return np.zeros(0, dtype=np.int64), []
    uniq, inv = np.unique(kind_keys(tr.records), return_inverse=True)
    return inv.reshape(-1), [kind_name(tr.engine, int(k)) for k in uniq]


def kind_costs(trace: list[CoreTrace], cp: CriticalPath | None = None) -> dict[str, KindCost]:
    """Count, occupancy and critical-path cycles of every instruction kind over all cores."""
    out: dict[str, KindCost] = {}
    cp = cp if cp is not None else critical_path(trace)
    for ct in trace:
        for tr in ct.engines.values():
            inv, names = _kinds(tr)
            if not names:
                continue
            counts = np.bincount(inv, minlength=len(names))
            cycles = np.bincount(inv, weights=tr.occupancy, minlength=len(names))
            for k, name in enumerate(names):
                kc = out.setdefault(name, KindCost(name))
                kc.count += int(counts[k])
                kc.cycles += int(cycles[k])
    for name, c in cp.by_kind.items():
        out.setdefault(name, KindCost(name)).critical_cycles = c
    return out


# --- critical path --------------------------------------------------------------------------
def critical_path(trace: list[CoreTrace]) -> CriticalPath:
    """Walk back from the last completion: along an engine's program order, to the signal
    that released a blocked wait, and from a signal whose count rose late to the earlier
    work (a matmul's drain) that held it. Subgraphs of a serial NEFF run in series, so
    their paths add up; those of a pipeline run at once (all offsets 0): the path starts on
    the core that ends last and crosses to another core at a wait its send released."""
    cp = CriticalPath()
    if len(trace) > 1 and all(ct.offset == 0 for ct in trace):
        cores = {ct.core: ct for ct in trace}
        last = max(trace, key=lambda ct: ct.cycles)
        cp.cycles = last.cycles
        hop = _critical_core(last, cp, count_cycles=False)
        seen = 0
        while hop is not None and seen < len(trace) * 64:
            core, start = hop
            hop = _critical_core(cores[core], cp, start, count_cycles=False)
            seen += 1
        return cp
    for ct in trace:
        _critical_core(ct, cp)
    return cp


class _EngineWalk:
    def __init__(self, tr: EngineTrace):
        self.tr = tr
        n = len(tr.records)
        self.op = tr.records["opcode"].astype(np.int64)
        idx = np.arange(n)
        is_sync = np.isin(self.op, _SYNC)
        last_sync = np.maximum.accumulate(np.where(is_sync, idx, -1)) if n else idx
        self.seg_start = np.where(is_sync, idx, last_sync + 1)
        if n:
            run_max = np.maximum.accumulate(tr.complete)
            self.run_arg = np.maximum.accumulate(np.where(tr.complete == run_max, idx, 0))
        self.kind, self.names = _kinds(tr)
        self.crit = np.zeros(len(self.names), dtype=np.int64)

    def add(self, a: int, r: int, t_hi: int) -> None:
        """Records a..r-1 lie whole on the path; record r from its start to t_hi."""
        tr = self.tr
        if r > a:
            self.crit += np.bincount(self.kind[a:r], weights=tr.end[a:r] - tr.start[a:r],
                                     minlength=len(self.names)).astype(np.int64)
        self.crit[self.kind[r]] += t_hi - int(tr.start[r])


def _critical_core(ct: CoreTrace, cp: CriticalPath, start_at: tuple[Engine, int, int] | None = None,
                   count_cycles: bool = True) -> tuple[int, tuple[Engine, int, int]] | None:
    """Walk one core's path back (from its last completion, or from ``start_at`` =
    (engine, record, time)); returns (core, start) where it continues on another core."""
    walks = {e: _EngineWalk(tr) for e, tr in ct.engines.items() if len(tr.records)}
    if not walks or ct.cycles == 0:
        return None
    hop = None
    if start_at is None:
        e = max(walks, key=lambda e: int(walks[e].tr.complete.max()))
        w = walks[e]
        r = int(np.argmax(w.tr.complete))
        t_hi = int(w.tr.complete[r])
    else:
        e, r, t_hi = start_at
    via_rise = False  # arrived at a signal through its semaphore count rising
    while t_hi > 0 and r >= 0:
        w = walks[e]
        tr = w.tr
        op = int(w.op[r])
        start = int(tr.start[r])
        if op == Opcode.SEM_WAIT:
            ready = int(tr.ready[r])
            w.crit[w.kind[r]] += t_hi - max(start, ready)
            remote = tr.wait_src_core is not None and tr.wait_src_core[r] >= 0  # another core's send
            if ready > start and tr.wait_src_engine[r] != NO_SIGNAL and remote:
                hop = (int(tr.wait_src_core[r]), (Engine(int(tr.wait_src_engine[r])), int(tr.wait_src_index[r]), ready))
                break
            if ready > start and tr.wait_src_engine[r] != NO_SIGNAL and not remote:
                e, r = Engine(int(tr.wait_src_engine[r])), int(tr.wait_src_index[r])
                t_hi, via_rise = ready, True
            else:
                t_hi, r = start, r - 1
            continue
        if op == Opcode.SEM_SIGNAL and via_rise and int(tr.complete[r]) > int(tr.end[r]) and r > 0:
            r = int(w.run_arg[r - 1])  # the earlier work whose completion the count waited for
            via_rise = False
            continue
        via_rise = False
        a = int(w.seg_start[r])
        w.add(a, r, t_hi)
        t_hi, r = int(tr.start[a]), a - 1
    if count_cycles:
        cp.cycles += ct.cycles
    for e, w in walks.items():
        for name, c in zip(w.names, w.crit.tolist()):
            if c:
                cp.by_kind[name] = cp.by_kind.get(name, 0) + c
                cp.by_engine[e.stream_name] += c
    return hop


# --- roofline ------------------------------------------------------------------------------
def must_move(neff: Neff) -> tuple[int, int]:
    """(bytes, DMA instructions) the model itself needs moved, whatever the schedule: each
    input and weight (``file``: Kaena keeps no weights resident in SBUF between inferences)
    read once, each output written once. An embedding table read only by DMA gathers counts
    the rows gathered, not the whole table. The compiler's own spills (``tmp-buf``) and
    padding are not counted: a compile that spills more must not look closer to its floor.
    A DRAM-to-DRAM DMA does a read and a write in one, so those bytes count once."""
    nbytes = transfers = 0
    for sg in neff.subgraphs:
        dma = sg.stream(Engine.DMA)
        gathered = _gathered_bytes(dma)
        read = write = rvars = wvars = 0
        for i, v in enumerate(sg.variables):
            if v.kind in ("input", "file"):
                read, rvars = read + min(v.nbytes, gathered.get(i, v.nbytes)), rvars + 1
            if v.kind == "output":
                write, wvars = write + v.nbytes, wvars + 1
        d2d = dma[(dma["opcode"] == Opcode.DMA) & (dma["in0"]["mem"] == Mem.DRAM) & (dma["out"]["mem"] == Mem.DRAM)]
        model = {i for i, v in enumerate(sg.variables) if v.kind in ("input", "file", "output")}
        d2d = d2d[np.isin(d2d["in0"]["var"], list(model)) & np.isin(d2d["out"]["var"], list(model))]
        if len(d2d):
            from kaena.reports.summary import ap_bytes

            merged = int(ap_bytes(d2d["in0"]).sum())
            nbytes += read + write - min(merged, read, write)
            transfers += rvars + wvars - min(len(d2d), rvars, wvars)
        else:
            nbytes += read + write
            transfers += rvars + wvars
    return nbytes, transfers


def _gathered_bytes(dma: np.ndarray) -> dict[int, int]:
    """Bytes DMA gathers read per table variable, for tables read by nothing else."""
    from kaena.reports.summary import ap_bytes

    gat = dma[dma["opcode"] == Opcode.DMA_GATHER]
    if not len(gat):
        return {}
    other = set(dma[dma["opcode"] != Opcode.DMA_GATHER]["in0"]["var"].tolist())
    sizes = ap_bytes(gat["out"])
    out: dict[int, int] = {}
    for var, size in zip(gat["in0"]["var"].tolist(), sizes.tolist()):
        if var not in other:
            out[var] = out.get(var, 0) + int(size)
    return out


def model_macs(neff: Neff, result: SimResult, target: NeuronCoreTarget) -> tuple[int, int]:
    """(MACs, FP32-weighted MACs) of the model as its graph defines them, from the compile's
    metadata; a NEFF without it (hand-written) counts what its PE instructions do."""
    model = neff.metadata.get("model") if isinstance(neff.metadata, dict) else None
    if isinstance(model, dict) and isinstance(model.get("macs"), int) and isinstance(model.get("fp32_macs"), int):
        macs, fp32 = model["macs"], model["fp32_macs"]
        return macs, macs + fp32 * (target.pe_fp32_slowdown - 1)
    return int(result.macs), int(result.pe_weighted_macs)


def roofline(neff: Neff, result: SimResult, target: NeuronCoreTarget | None = None) -> dict:
    target = target or neff.target_description
    cm = CostModel(target)
    cores = max(1, neff.num_cores)
    nbytes, transfers = must_move(neff)
    pe = cm.pe_floor(model_macs(neff, result, target)[1], cores)
    dma = cm.dma_floor(nbytes, transfers, cores)
    roof = max(pe, dma)
    return {
        "pe_floor_cycles": pe,
        "dma_floor_cycles": dma,
        "roofline_cycles": roof,
        "roofline_bound": "pe" if pe >= dma else "dma",
        "roofline_fraction": roof / result.cycles if result.cycles else 0.0,
        "dma_must_move_bytes": nbytes,
        "dma_min_transfers": transfers,
    }


# --- statistics ------------------------------------------------------------------------------
def sram_stats(neff: Neff, result: SimResult, target: NeuronCoreTarget) -> dict:
    """SBUF/PSUM as the run used them (the bytes its instructions wrote, on the busiest
    core), beside the allocator's plan from the NEFF (``*_alloc_peak_bytes``)."""
    from kaena.simulator.footprint import painted_footprint

    fps = result.footprints or [painted_footprint(sg, target) for sg in neff.subgraphs]
    return {
        "sbuf_peak_bytes": max((f.sbuf_bytes for f in fps), default=0),
        "psum_peak_bytes": max((f.psum_bytes for f in fps), default=0),
        "sbuf_peak_partition_bytes": max((f.sbuf_partition_bytes for f in fps), default=0),
        "psum_peak_partition_bytes": max((f.psum_partition_bytes for f in fps), default=0),
        "sbuf_alloc_peak_bytes": max((sg.sbuf_peak_bytes for sg in neff.subgraphs), default=0),
        "psum_alloc_peak_bytes": max((sg.psum_peak_bytes for sg in neff.subgraphs), default=0),
    }


def run_stats(neff: Neff, result: SimResult, target: NeuronCoreTarget | None = None, top: int = 10) -> dict:
    """The STATS.json of ``kaena-run --stats``: plain JSON types only."""
    target = target or neff.target_description
    cm = CostModel(target)
    cycles = int(result.cycles)
    macs = model_macs(neff, result, target)[0]
    stats: dict = {
        "model": neff.name,
        "cores": neff.num_cores,
        "clock_hz": target.clock_hz,
        "cycles": cycles,
        "core_cycles": [int(c) for c in result.core_cycles],
        "latency_us": cm.cycles_to_us(cycles),
        # the model's MACs; pe_macs is what the PE array did (padding included)
        "macs": macs,
        "pe_macs": int(result.macs),
        "pe_weighted_macs": int(result.pe_weighted_macs),
        "pe_utilization": macs / (target.macs_per_cycle * max(1, len(result.core_cycles))) / cycles if cycles else 0.0,
        "busy_cycles": {k: int(v) for k, v in result.busy.items()},
        "busy_pct": {k: (100.0 * v / cycles if cycles else 0.0) for k, v in result.busy.items()},
        "dma_bytes": int(result.dma_bytes),
        **sram_stats(neff, result, target),
        "instruction_counts": result.instruction_counts,
    }
    stats.update(node_stats(result))
    stats.update(roofline(neff, result, target))
    if result.trace is not None:
        waits = {e.stream_name: 0 for e in Engine}
        for ct in result.trace:
            for e, tr in ct.engines.items():
                blocked = (tr.records["opcode"] == Opcode.SEM_WAIT) & (tr.ready > tr.start)
                waits[e.stream_name] += int((tr.ready - tr.start)[blocked].sum())
        stats["wait_cycles"] = waits
        cp = critical_path(result.trace)
        kinds = kind_costs(result.trace, cp)
        stats["critical_path"] = {
            "cycles": cp.cycles,
            "by_engine_cycles": cp.by_engine,
            "by_engine_pct": {k: (100.0 * v / cp.cycles if cp.cycles else 0.0) for k, v in cp.by_engine.items()},
        }
        ranked = sorted(kinds.values(), key=lambda k: (-k.cycles, k.name))
        stats["top_instruction_kinds"] = [
            {"kind": k.name, "count": k.count, "cycles": k.cycles, "critical_cycles": k.critical_cycles}
            for k in ranked[:top]
        ]
    return stats


def node_stats(result: SimResult) -> dict:
    """Busy cycles per source (framework node, or the fused nodes of one op), costliest
    first; ``share`` is of all engines' busy cycles. Instructions without a source
    (semaphores, hand-written code) are ``unattributed_cycles``."""
    total = sum(result.busy.values())
    named = [(names, c) for names, c in result.source_cycles.items() if names]
    named.sort(key=lambda nc: (-nc[1], source_label(nc[0])))
    return {
        "nodes": [
            {"name": source_label(names), "sources": list(names), "cycles": int(c),
             "share": c / total if total else 0.0}
            for names, c in named
        ],
        "unattributed_cycles": int(result.source_cycles.get((), 0)),
    }


def format_summary(stats: dict) -> str:
    """The terminal table of ``kaena-run``: engines, the costliest instruction kinds, the roofline."""
    cyc = stats["cycles"] or 1
    lines = [
        f"{stats['model']}: {stats['cycles']} cycles ({stats['latency_us']:.1f} us) on {stats['cores']} core(s); "
        f"PE utilisation {100 * stats['pe_utilization']:.2f}%; roofline {stats['roofline_cycles']:.0f} cycles "
        f"({stats['roofline_bound']}-bound, {100 * stats['roofline_fraction']:.1f}% of the run)",
    ]
    cp = stats.get("critical_path")
    waits = stats.get("wait_cycles")
    head = f"  {'engine':<6} {'busy cycles':>12} {'busy %':>7}"
    head += f" {'blocked %':>9} {'critical %':>10}" if cp else ""
    lines += ["", head]
    for eng, busy in stats["busy_cycles"].items():
        row = f"  {eng:<6} {busy:>12} {100 * busy / cyc:>6.1f}%"
        if cp:
            row += f" {100 * waits[eng] / cyc:>8.1f}% {cp['by_engine_pct'][eng]:>9.1f}%"
        lines.append(row)
    kinds = stats.get("top_instruction_kinds")
    if kinds:
        lines += ["", f"  {'instruction kind':<32} {'count':>8} {'cycles':>12} {'% busy':>7} {'critical %':>10}"]
        total_busy = sum(stats["busy_cycles"].values()) or 1
        for k in kinds:
            lines.append(
                f"  {k['kind']:<32} {k['count']:>8} {k['cycles']:>12} {100 * k['cycles'] / total_busy:>6.1f}% "
                f"{100 * k['critical_cycles'] / cyc:>9.1f}%"
            )
    nodes = stats.get("nodes")
    if nodes:
        shown = nodes[:TOP_NODES]
        lines += ["", f"  {'source node (top ' + str(len(shown)) + ' of ' + str(len(nodes)) + ')':<40} "
                      f"{'busy cycles':>12} {'% busy':>7}"]
        for n in shown:
            lines.append(f"  {_cut(_node_label(n, 40), 40):<40} {n['cycles']:>12} {100 * n['share']:>6.1f}%")
    return "\n".join(lines)


TOP_NODES = 10  # source nodes kaena-run prints


def _node_label(node: dict, width: int = 40) -> str:
    """The node names of a (fused) op, ``conv1 + relu1``; when they do not fit ``width``,
    the first and how many more, ``layer4.0.conv2.conv (+2 fused)``, so the name the
    user knows stays readable."""
    sources = node.get("sources") or [node["name"]]
    full = " + ".join(sources)
    return full if len(full) <= width or len(sources) == 1 else f"{sources[0]} (+{len(sources) - 1} fused)"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# --- Chrome trace / Perfetto -----------------------------------------------------------------
def _operand_strings(rec: np.ndarray, slot: str, var_names: list[str]) -> list[str | None]:
    ap = rec[slot]
    mem = ap["mem"].tolist()
    dt = ap["dtype"].tolist()
    nd = ap["ndims"].tolist()
    sp = ap["start_partition"].tolist()
    npart = ap["num_partitions"].tolist()
    var = ap["var"].tolist()
    counts = ap["counts"].tolist()
    out: list[str | None] = []
    for i in range(len(rec)):
        m = mem[i]
        if m == Mem.NONE:
            out.append(None)
            continue
        shape = "x".join(str(c) for c in [npart[i], *counts[i][: nd[i]]])
        dts = DType(dt[i]).short if dt[i] < len(DType) else "?"
        if m == Mem.DRAM:
            name = var_names[var[i]] if var[i] < len(var_names) else "?"
            out.append(f"DRAM '{name}' [{shape}] {dts}")
        else:
            out.append(f"{Mem(m).name} p{sp[i]}:{sp[i] + npart[i]} [{shape}] {dts}")
    return out


def chrome_trace(neff: Neff, result: SimResult, target: NeuronCoreTarget | None = None) -> dict:
    """A Chrome-trace (Perfetto) document: one process per core, one track per engine and DMA
    queue, every instruction a slice (operands' shapes in args), waits as their own slices with
    a flow arrow from the signal that released them. Times in microseconds."""
    target = target or neff.target_description
    if result.trace is None:
        raise ValueError("chrome_trace needs simulate(..., profile=True)")
    us = 1e6 / target.clock_hz
    half = target.semaphore_cycles / 2  # flow ends sit inside the signal and wait slices
    ev: list[dict] = []
    flow = 0
    cores = {ct.core: ct for ct in result.trace}
    for ct in result.trace:
        pid = ct.core
        var_names = [v.name for v in neff.subgraphs[ct.core].variables]
        ev.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": f"core {ct.core}"}})
        ev.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0, "args": {"sort_index": ct.core}})
        for e, tr in ct.engines.items():
            tid = int(e)
            ev.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": TRACK_NAMES[e]}})
            ev.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "args": {"sort_index": tid}})
            n = len(tr.records)
            if not n:
                continue
            inv, kinds = _kinds(tr)
            ops = {s: _operand_strings(tr.records, s, var_names) for s in ("out", "in0", "in1")}
            op = tr.records["opcode"].tolist()
            sem = tr.records["sem"].tolist()
            semv = tr.records["sem_value"].tolist()
            tag = tr.records["tag"].tolist()
            start = (tr.start + ct.offset).tolist()
            end = (tr.end + ct.offset).tolist()
            complete = (tr.complete + ct.offset).tolist()
            ready = tr.ready.tolist()
            src_e, src_i = tr.wait_src_engine.tolist(), tr.wait_src_index.tolist()
            src_c = tr.wait_src_core.tolist() if tr.wait_src_core is not None else [-1] * n
            inv_l = inv.tolist()
            sg = neff.subgraphs[ct.core]
            src = sg.stream_sources(e).tolist() if sg.sources else [NO_SOURCE] * n
            for i in range(n):
                args: dict = {"index": i, "tag": tag[i], "start_cycle": start[i], "cycles": end[i] - start[i]}
                names = sg.source_names(src[i])
                if names:
                    args["node"] = source_label(names)
                    args["sources"] = list(names)
                for s in ("out", "in0", "in1"):
                    if ops[s][i] is not None:
                        args[s] = ops[s][i]
                o = op[i]
                if o == Opcode.SEM_WAIT:
                    name = f"wait sem {sem[i]} >= {semv[i]}"
                    blocked = max(0, ready[i] - (start[i] - ct.offset))
                    args["blocked_cycles"] = blocked
                    if src_e[i] != NO_SIGNAL:
                        from_core = ct.core if src_c[i] < 0 else src_c[i]  # a pipeline's send: another core
                        src_ct = ct if src_c[i] < 0 else cores[from_core]
                        where = "" if src_c[i] < 0 else f"core {from_core} "
                        args["released_by"] = f"{where}{Engine(src_e[i]).stream_name} #{src_i[i]}"
                        src_tr = src_ct.engines[Engine(src_e[i])]
                        flow += 1
                        ev.append({"ph": "s", "id": flow, "name": f"sem {sem[i]}", "cat": "semaphore",
                                   "pid": src_ct.core, "tid": src_e[i],
                                   "ts": round((int(src_tr.start[src_i[i]]) + src_ct.offset + half) * us, 3)})
                        ev.append({"ph": "f", "bp": "e", "id": flow, "name": f"sem {sem[i]}", "cat": "semaphore",
                                   "pid": pid, "tid": tid, "ts": round((start[i] + blocked + half) * us, 3)})
                    cat = "wait"
                elif o == Opcode.SEM_SIGNAL:
                    name = f"signal sem {sem[i]}"
                    args["count_rises_at_cycle"] = complete[i]
                    cat = "signal"
                else:
                    name = kinds[inv_l[i]] + (f" [{args['node']}]" if "node" in args else "")
                    if complete[i] != end[i]:
                        args["result_complete_cycle"] = complete[i]
                    cat = e.stream_name
                ev.append({"ph": "X", "name": name, "cat": cat, "pid": pid, "tid": tid,
                           "ts": round(start[i] * us, 3), "dur": round((end[i] - start[i]) * us, 3), "args": args})
    return {
        "traceEvents": ev,
        "displayTimeUnit": "ns",
        "otherData": {"model": neff.name, "cycles": int(result.cycles), "clock_hz": target.clock_hz,
                      "time_unit": "microseconds (1 cycle = %g us)" % us},
    }


def write_chrome_trace(path: str, neff: Neff, result: SimResult, target: NeuronCoreTarget | None = None) -> None:
    target = target or neff.target_description

    doc = chrome_trace(neff, result, target)
    atomic_write(path, json.dumps(doc, separators=(",", ":")).encode())
