"""``inf-connect-pipeline``: order the cores of a NeuronCore Pipeline.

Each stage was lowered on its own: stage p writes a value it sends as an ``output``
DRAM variable, the stage c that reads it declares an ``input`` of the same name.
Here every ``inf.dma`` writing such a variable becomes an ``inf.dma_send`` that, when
its last byte lands, increments a semaphore of core c (one semaphore per sending
core, the highest ones core c's own engines leave free); core c's DMA queue waits,
before the first instruction reading the variable, for the number of sends from p
up to the last one writing it. A core's DMA queue runs in order, so that count
covers every byte of the variable (hardware contract, "core to core").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation
from xdsl.passes import ModulePass

from kaena.dialects.inferentia import (
    CoreOp,
    DmaOp,
    DmaSendOp,
    DramOp,
    InstructionOp,
    LoopOp,
    SemSignalOp,
    SemWaitOp,
)
from kaena.errors import CompileError
from kaena.isa import Engine
from kaena.target import target_of


def _vars(core: CoreOp, kind: str) -> dict[str, DramOp]:
    return {op.var_name.data: op for op in core.body.block.ops if isinstance(op, DramOp) and op.kind.data == kind}


def _top_item(op: Operation, block: Block) -> Operation:
    while op.parent_block() is not block:
        parent = op.parent_op()
        assert parent is not None
        op = parent
    return op


def _trips(op: Operation) -> int:
    n = 1
    p = op.parent_op()
    while isinstance(p, LoopOp):
        n *= p.trips.value.data
        p = p.parent_op()
    return n


def _used_sems(core: CoreOp) -> set[int]:
    return {op.sem.value.data for op in core.walk() if isinstance(op, SemSignalOp | SemWaitOp)}


@dataclass(frozen=True)
class InfConnectPipelinePass(ModulePass):
    """Turn the writes of values another core reads into cross-core sends, and make
    the reading core wait for them."""

    name: ClassVar[str] = "inf-connect-pipeline"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        cores = [c for c in op.walk() if isinstance(c, CoreOp)]
        target = target_of(op)
        producers: dict[str, CoreOp] = {}
        free: dict[int, list[int]] = {}
        for c in cores:
            cid = c.core.value.data
            used = _used_sems(c)
            free[cid] = [s for s in range(target.semaphores_per_core - 1, -1, -1) if s not in used]
            links = [(name, producers[name]) for name in _vars(c, "input") if name in producers]
            sems: dict[int, int] = {}
            for _, p in links:
                pid = p.core.value.data
                if pid not in sems:
                    if not free[cid]:
                        raise CompileError(
                            f"core {cid}: no semaphore left for the values core {pid} sends it "
                            f"({target.semaphores_per_core} per core)"
                        )
                    sems[pid] = free[cid].pop(0)
            for name, p in links:
                self._send(p, _vars(p, "output")[name], cid, sems[p.core.value.data])
            for name, p in links:
                self._wait(c, _vars(c, "input")[name], p, cid, sems[p.core.value.data], name)
            for name in _vars(c, "output"):
                producers[name] = c

    @staticmethod
    def _send(producer: CoreOp, var: DramOp, to_core: int, sem: int) -> None:
        writes = [w for w in producer.walk() if isinstance(w, DmaOp) and w.dst == var.result]
        for w in writes:
            send = DmaSendOp(w.dst, w.dst_ap, w.src, w.src_ap, to_core, sem)
            for k, v in w.attributes.items():
                send.attributes[k] = v
            w.parent_block().insert_op_before(send, w)
            w.detach()
            w.erase()

    @staticmethod
    def _wait(consumer: CoreOp, var: DramOp, producer: CoreOp, cid: int, sem: int, name: str) -> None:
        out = _vars(producer, "output")[name].result
        count, last = 0, None
        for item in producer.body.block.ops:
            sends = [s for s in item.walk() if isinstance(s, DmaSendOp) and s.to_core.value.data == cid]
            count += sum(_trips(s) for s in sends)
            if any(s.dst == out for s in sends):
                last = count
        if last is None:
            raise CompileError(f"core {producer.core.value.data} declares '{name}' but never writes it")
        readers = [r for r in consumer.walk() if isinstance(r, InstructionOp)
                   and any(a.buffer == var.result for a in r.accesses())]
        if not readers:
            return
        item = _top_item(readers[0], consumer.body.block)
        consumer.body.block.insert_op_before(SemWaitOp(Engine.DMA, sem, last), item)
