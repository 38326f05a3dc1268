"""``inf-insert-semaphores``: order cross-engine dependencies with semaphores.

LOWER emits one sequential program; the engines run their own streams
concurrently. For every RAW, WAR and WAW dependency between instructions of
different engines (on overlapping physical memory: allocated SBUF/PSUM
partition x byte ranges, DRAM by variable and byte range) this pass inserts
``inf.sem_signal`` after the producer and ``inf.sem_wait`` before the consumer.

Scheme: one semaphore per (producer engine, consumer engine) pair; only the
producer signals it, so its count is the number of the producer's signals so
far, affine in the loop indices. A dependency is always expressed between two
*sibling items* of one block (an instruction or a whole nested loop): the
signal goes after the producer's item, the wait before the consumer's item, for
the count of that signal in the same iteration, or (loop-carried) in the
previous iteration ``d_k - 1``; in the first iteration that value is <= the
count at the loop's start, so it is always safe and never deadlocks (a value
<= 0 never blocks).

Dependencies between top-level items are found with a coarse shadow table of
the memories (cells of partition groups x bytes; per engine the last writer
and the last reader), which keeps the analysis linear in program length; the
items inside one top-level loop nest are compared pairwise with an exact-ish
interval test on their affine addresses, per loop level.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation
from xdsl.passes import ModulePass

from kaena.dialects.inferentia import (
    AffineExpr,
    AllocOp,
    CoreOp,
    DramOp,
    DramType,
    InstructionOp,
    LoopOp,
    PsumType,
    SbufType,
    SemSignalOp,
    SemWaitOp,
)
from kaena.errors import CompileError
from kaena.isa import Engine, ceil_div
from kaena.target import NeuronCoreTarget, target_of

# Granularity of the top-level shadow table (an analysis choice, not hardware):
# coarser cells only add (safe) dependencies between neighbouring tiles.
SBUF_CELL_BYTES = 32
PSUM_CELL_BYTES = 16

_ENGINES = tuple(Engine)


def semaphore_of(producer: Engine, consumer: Engine) -> int:
    """The semaphore ``producer`` signals and ``consumer`` waits on."""
    n = len(_ENGINES) - 1
    return int(producer) * n + (int(consumer) if consumer < producer else int(consumer) - 1)


@dataclass(frozen=True)
class _Access:
    mem: tuple  # ("sbuf",) | ("psum",) | ("dram", variable index)
    write: bool
    part: AffineExpr | None  # physical first partition (None: DRAM)
    nparts: int
    off: AffineExpr  # physical byte offset of the access pattern's start
    lo: int  # bytes touched: [off + lo, off + hi)
    hi: int


@dataclass
class _Instr:
    op: Operation
    engine: Engine
    path: tuple[Operation, ...]  # path[j]: ancestor item in the block at depth j (last: op)
    trips: tuple[int, ...]  # trip counts of the enclosing loops, outermost first
    accesses: list[_Access]


def _extent(dims, partition_stride: int, partitions: int) -> tuple[int, int]:
    lo = hi = 0
    for count, stride in dims:
        span = stride * (count - 1)
        lo += min(0, span)
        hi += max(0, span)
    if partition_stride:
        span = partition_stride * (partitions - 1)
        lo += min(0, span)
        hi += max(0, span)
    return lo, hi + 1


def _diff_bounds(ea: AffineExpr, eb: AffineExpr, ta: tuple[int, ...], tb: tuple[int, ...],
                 shared: int, carried: int | None) -> tuple[int, int]:
    """Bounds of ``eb(i_b) - ea(i_a)`` where the first ``shared`` indices are
    equal, index ``carried`` (if any) of ``a`` is at least one trip before
    ``b``'s, and the other indices are independent."""
    lo = hi = eb.const - ea.const
    for level in range(max(len(ta), len(tb))):
        ca = ea.coeffs[level] if level < len(ea.coeffs) else 0
        cb = eb.coeffs[level] if level < len(eb.coeffs) else 0
        if not ca and not cb:
            continue
        if level < shared:
            span = (cb - ca) * (ta[level] - 1)
            lo += min(0, span)
            hi += max(0, span)
        elif level == carried:
            t = ta[level]
            for c in (cb - ca, ca):  # (cb - ca) * i_b + ca * delta, i_b and delta in [1, t-1]
                lo += min(c, c * (t - 1))
                hi += max(c, c * (t - 1))
        else:
            if level < len(tb):
                span = cb * (tb[level] - 1)
                lo += min(0, span)
                hi += max(0, span)
            if level < len(ta):
                span = -ca * (ta[level] - 1)
                lo += min(0, span)
                hi += max(0, span)
    return lo, hi


def _may_conflict(a: _Instr, b: _Instr, shared: int, carried: int | None) -> bool:
    for xa in a.accesses:
        for xb in b.accesses:
            if xa.mem != xb.mem or not (xa.write or xb.write):
                continue
            dlo, dhi = _diff_bounds(xa.off, xb.off, a.trips, b.trips, shared, carried)
            if not (dhi > xa.lo - xb.hi and dlo < xa.hi - xb.lo):
                continue
            if xa.part is not None and xb.part is not None:
                plo, phi = _diff_bounds(xa.part, xb.part, a.trips, b.trips, shared, carried)
                if not (phi > -xb.nparts and plo < xa.nparts):
                    continue
            return True
    return False


def _substitute_last(expr: AffineExpr, depth: int, trips: int) -> AffineExpr:
    """``expr`` with ``d_depth`` set to its last trip (it refers to no deeper index)."""
    c = expr.coeffs
    last = c[depth] * (trips - 1) if depth < len(c) else 0
    return AffineExpr(expr.const + last, c[:depth])


class _CoreScheduler:
    def __init__(self, core: CoreOp, target: NeuronCoreTarget):
        self.core = core
        self.core_id = core.core.value.data
        self.target = target
        self.order: dict[Operation, int] = {}
        self.instrs: list[_Instr] = []
        self.var_index: dict = {}
        # deps: consumer item -> (consumer engine, semaphore) -> [(producer item, carried loop depth)]
        self.deps: dict[Operation, dict[tuple[Engine, int], set[tuple[Operation, int | None]]]] = (
            defaultdict(lambda: defaultdict(set))
        )
        self.signals: set[tuple[Operation, Engine, Engine]] = set()

    # --- collection -------------------------------------------------------
    def collect(self) -> None:
        for op in self.core.walk():
            if isinstance(op, SemSignalOp | SemWaitOp):
                raise CompileError(
                    f"core {self.core_id}: already has semaphores ('{op.name}'); "
                    f"inf-insert-semaphores runs once, on IR without them"
                )
        for i, op in enumerate(o for o in self.core.body.block.ops if isinstance(o, DramOp)):
            self.var_index[op.result] = i
        self._collect_block(self.core.body.block, (), ())

    def _collect_block(self, block: Block, path: tuple[Operation, ...], trips: tuple[int, ...]) -> None:
        for i, op in enumerate(block.ops):
            self.order[op] = i
            if isinstance(op, LoopOp):
                self._collect_block(op.body.block, path + (op,), trips + (op.trips.value.data,))
            elif isinstance(op, InstructionOp):
                self.instrs.append(_Instr(op, op.ENGINE, path + (op,), trips, self._accesses(op)))

    def _accesses(self, op: InstructionOp) -> list[_Access]:
        out: list[_Access] = []
        for acc in op.accesses():
            t = acc.buffer.type
            pat = acc.pattern
            isz = t.dtype.itemsize
            lo, hi = _extent(pat.dims, pat.partition_stride, pat.partitions)
            if isinstance(t, DramType):
                out.append(_Access(("dram", self.var_index[acc.buffer]), acc.is_write, None,
                                   pat.partitions, pat.offset.scaled(isz), lo * isz, hi * isz))
                continue
            assert isinstance(t, SbufType | PsumType)
            alloc = acc.buffer.owner
            assert isinstance(alloc, AllocOp)
            if not alloc.is_allocated:
                raise CompileError(
                    f"core {self.core_id}: '{op.name}' uses an unallocated inf.alloc ({t}): "
                    f"run inf-allocate-sram before inf-insert-semaphores"
                )
            mem = ("psum",) if isinstance(t, PsumType) else ("sbuf",)
            out.append(_Access(
                mem, acc.is_write, pat.partition + alloc.partition.value.data, pat.partitions,
                pat.offset.scaled(isz) + alloc.offset.value.data, lo * isz, hi * isz,
            ))
        return out

    def _add_dep(self, a_item: Operation, b_item: Operation, p: Engine, c: Engine,
                 carried: int | None) -> None:
        self.signals.add((a_item, p, c))
        self.deps[b_item][(c, semaphore_of(p, c))].add((a_item, carried))

    # --- dependencies between top-level items: shadow table ----------------
    def top_level_deps(self) -> None:
        t = self.target
        groups = t.partitions // t.partition_alignment
        n_vars = max(1, len(self.var_index))
        cells = {
            ("sbuf",): (t.partition_alignment, SBUF_CELL_BYTES,
                        ceil_div(t.sbuf_bytes_per_partition, SBUF_CELL_BYTES), groups),
            ("psum",): (t.partition_alignment, PSUM_CELL_BYTES,
                        ceil_div(t.psum_bytes_per_partition, PSUM_CELL_BYTES), groups),
        }
        tables = {
            mem: np.full((2, len(_ENGINES), g, ncols), -1, dtype=np.int64)
            for mem, (_, _, ncols, g) in cells.items()
        }
        dram_table = np.full((2, len(_ENGINES), 1, n_vars), -1, dtype=np.int64)

        items: list[Operation] = list(self.core.body.block.ops)
        by_item: dict[Operation, list[_Instr]] = defaultdict(list)
        for ins in self.instrs:
            by_item[ins.path[0]].append(ins)

        def region(x: _Access, trips: tuple[int, ...]):
            if x.mem[0] == "dram":
                v = x.mem[1]
                return dram_table, (slice(0, 1), slice(v, v + 1))
            palign, cell, ncols, g = cells[x.mem]
            plo, phi = x.part.bounds(trips)
            olo, ohi = x.off.bounds(trips)
            g0 = max(0, plo // palign)
            g1 = min(g, ceil_div(phi + x.nparts, palign))
            c0 = max(0, (olo + x.lo) // cell)
            c1 = min(ncols, ceil_div(ohi + x.hi, cell))
            return tables[x.mem], (slice(g0, max(g1, g0 + 1)), slice(c0, max(c1, c0 + 1)))

        # know[c][p]: the latest top-level item whose work on engine p engine c
        # knows complete (through top-level waits, transitively); snapshots of
        # it after each item give what a signal placed after that item implies.
        n_eng = len(_ENGINES)
        know = np.full((n_eng, n_eng), -1, dtype=np.int64)
        snapshots: dict[int, np.ndarray] = {}
        for pos, item in enumerate(items):
            instrs = by_item.get(item)
            if not instrs:
                continue
            regions = [(ins.engine, x, *region(x, ins.trips)) for ins in instrs for x in ins.accesses]
            need: dict[tuple[Engine, Engine], int] = {}
            for c, x, table, (gs, cs) in regions:
                sub = table[:, :, gs, cs]
                latest = sub[0].max(axis=(1, 2))
                if x.write:
                    latest = np.maximum(latest, sub[1].max(axis=(1, 2)))
                for p in _ENGINES:
                    if p != c and latest[p] >= 0:
                        need[(p, c)] = max(need.get((p, c), -1), int(latest[p]))
            for (p, c), a_pos in sorted(need.items(), key=lambda kv: (-kv[1], kv[0])):
                if know[c, p] >= a_pos:
                    continue  # already ordered through an earlier (transitive) wait
                self._add_dep(items[a_pos], item, p, c, None)
                np.maximum(know[c], snapshots[a_pos][p], out=know[c])
                know[c, p] = a_pos
            for c, p in self.loop_knowledge.get(item, ()):
                know[c, p] = max(know[c, p], pos)
            snapshots[pos] = know.copy()
            for c, x, table, (gs, cs) in regions:
                if x.write:
                    table[:, :, gs, cs] = -1
            for c, x, table, (gs, cs) in regions:
                table[0 if x.write else 1, int(c), gs, cs] = pos

    # --- dependencies inside one top-level loop nest: pairwise -------------
    def nested_deps(self) -> None:
        by_item: dict[Operation, list[_Instr]] = defaultdict(list)
        for ins in self.instrs:
            if len(ins.path) > 1:
                by_item[ins.path[0]].append(ins)
        for instrs in by_item.values():
            for a in instrs:
                for b in instrs:
                    if a is not b and a.engine != b.engine:
                        self._pair(a, b)

    def _loop_knowledge(self) -> None:
        """(c, p) pairs for which engine c, at the end of a top-level loop, has
        waited (in the loop's body, same trip) for p's signal after the last
        body item holding p's work: c then knows all p's work of the loop done."""
        self.loop_knowledge: dict[Operation, set[tuple[Engine, Engine]]] = defaultdict(set)
        last_item: dict[tuple[Operation, Engine], Operation] = {}
        for ins in self.instrs:
            if len(ins.path) > 1:
                key = (ins.path[0], ins.engine)
                prev = last_item.get(key)
                if prev is None or self.order[ins.path[1]] > self.order[prev]:
                    last_item[key] = ins.path[1]
        for b_item, per_sem in self.deps.items():
            loop = b_item.parent_op()
            if not isinstance(loop, LoopOp) or loop.parent_op() is not self.core:
                continue
            for (c, s), producers in per_sem.items():
                p = _ENGINES[_producer_of(s)]
                if any(carried is None and last_item.get((loop, p)) is a_item
                       for a_item, carried in producers):
                    self.loop_knowledge[loop].add((c, p))

    def _pair(self, a: _Instr, b: _Instr) -> None:
        common = 0
        while a.path[common] is b.path[common]:
            common += 1
        a_item, b_item = a.path[common], b.path[common]
        if self.order[a_item] < self.order[b_item] and _may_conflict(a, b, common, None):
            self._add_dep(a_item, b_item, a.engine, b.engine, None)
            return
        for m in range(common - 1, -1, -1):
            if a.trips[m] > 1 and _may_conflict(a, b, m, m):
                self._add_dep(a.path[m + 1], b.path[m + 1], a.engine, b.engine, m)
                return

    # --- insertion ----------------------------------------------------------
    def insert_signals(self) -> dict[tuple[Operation, Engine, Engine], SemSignalOp]:
        sig_ops: dict[tuple[Operation, Engine, Engine], SemSignalOp] = {}
        by_item: dict[Operation, list[tuple[Engine, Engine]]] = defaultdict(list)
        for item, p, c in self.signals:
            by_item[item].append((p, c))
        for item, pairs in by_item.items():
            block = item.parent_block()
            assert block is not None
            anchor = item
            for p, c in sorted(pairs):
                sig = SemSignalOp(p, semaphore_of(p, c))
                block.insert_op_after(sig, anchor)
                anchor = sig
                sig_ops[(item, p, c)] = sig
        return sig_ops

    def _per_iteration(self, loop: LoopOp, memo: dict) -> dict[int, int]:
        if loop in memo:
            return memo[loop]
        counts: dict[int, int] = defaultdict(int)
        for op in loop.body.block.ops:
            if isinstance(op, SemSignalOp):
                counts[op.sem.value.data] += 1
            elif isinstance(op, LoopOp):
                trips = op.trips.value.data
                for s, n in self._per_iteration(op, memo).items():
                    counts[s] += trips * n
        memo[loop] = dict(counts)
        return memo[loop]

    def signal_counts(self) -> dict[SemSignalOp, AffineExpr]:
        """The semaphore's count right after each signal, affine in its loop indices."""
        counts: dict[SemSignalOp, AffineExpr] = {}
        memo: dict = {}

        def walk(block: Block, depth: int, cnt: dict[int, AffineExpr]) -> None:
            for op in block.ops:
                if isinstance(op, SemSignalOp):
                    s = op.sem.value.data
                    cnt[s] = cnt.get(s, AffineExpr(0)) + 1
                    counts[op] = cnt[s]
                elif isinstance(op, LoopOp):
                    per = self._per_iteration(op, memo)
                    inner = dict(cnt)
                    for s, n in per.items():
                        inner[s] = cnt.get(s, AffineExpr(0)) + AffineExpr.dim(depth, n)
                    walk(op.body.block, depth + 1, inner)
                    trips = op.trips.value.data
                    for s, n in per.items():
                        cnt[s] = cnt.get(s, AffineExpr(0)) + trips * n

        walk(self.core.body.block, 0, {})
        return counts

    def insert_waits(self, sig_ops, counts) -> None:
        pending: dict[Operation, dict[tuple[Engine, int], list[AffineExpr]]] = {}
        for b_item, per_sem in self.deps.items():
            pending[b_item] = {}
            for (c, s), producers in per_sem.items():
                values = []
                for a_item, carried in producers:
                    p = _ENGINES[_producer_of(s)]
                    v = counts[sig_ops[(a_item, p, c)]]
                    if carried is not None:
                        shift = v.coeffs[carried] if carried < len(v.coeffs) else 0
                        v = v + (-shift)
                    values.append(v)
                pending[b_item][(c, s)] = values
        self._place(self.core.body.block, (), {}, pending)

    def _place(self, block: Block, trips: tuple[int, ...],
               known: dict[tuple[Engine, int], list[AffineExpr]], pending) -> None:
        def covers(k: AffineExpr, v: AffineExpr) -> bool:
            return (k + v.scaled(-1)).bounds(trips)[0] >= 0

        for op in list(block.ops):
            needs = pending.get(op)
            if needs:
                for (c, s) in sorted(needs):
                    values = sorted(set(needs[(c, s)]), key=lambda e: (e.const, e.coeffs))
                    values = [v for v in values if v.bounds(trips)[1] >= 1]  # else never blocks
                    kept: list[AffineExpr] = []
                    for v in values:  # keep the values no other one covers
                        if not any(covers(k, v) for k in kept):
                            kept = [k for k in kept if not covers(v, k)] + [v]
                    kept = [v for v in kept if not any(covers(k, v) for k in known.get((c, s), []))]
                    for v in kept:
                        block.insert_op_before(SemWaitOp(c, s, v), op)
                        known.setdefault((c, s), []).append(v)
                        del known[(c, s)][:-4]
            if isinstance(op, LoopOp):
                depth = len(trips)
                t = op.trips.value.data
                inner = {key: list(vals) for key, vals in known.items()}
                before = {key: len(vals) for key, vals in inner.items()}
                self._place(op.body.block, trips + (t,), inner, pending)
                for key, vals in inner.items():
                    for v in vals[before.get(key, 0):]:
                        known.setdefault(key, []).append(_substitute_last(v, depth, t))
                    if key in known:
                        del known[key][:-4]

    def run(self) -> None:
        if len(_ENGINES) * (len(_ENGINES) - 1) > self.target.semaphores_per_core:
            raise CompileError(  # pragma: no cover - a target description problem
                f"the pairwise semaphore scheme needs {len(_ENGINES) * (len(_ENGINES) - 1)} "
                f"semaphores, the target has {self.target.semaphores_per_core}"
            )
        self.collect()
        self.nested_deps()
        self._loop_knowledge()
        self.top_level_deps()
        sig_ops = self.insert_signals()
        counts = self.signal_counts()
        self.insert_waits(sig_ops, counts)


def _producer_of(sem: int) -> int:
    return sem // (len(_ENGINES) - 1)


@dataclass(frozen=True)
class InsertSemaphoresPass(ModulePass):
    """Insert inf.sem_signal / inf.sem_wait so that every cross-engine RAW, WAR
    and WAW dependency of the sequential program is preserved (after
    inf-allocate-sram)."""

    name: ClassVar[str] = "inf-insert-semaphores"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for core in op.walk():
            if isinstance(core, CoreOp):
                _CoreScheduler(core, target_of(core)).run()
