"""Instruction costs, from the target (docs/isa.md, "Costs").

``occupancy`` is how long an instruction keeps its engine busy; ``drain`` how
much later its result is complete (only matmuls have one: the PSUM drain).
"""

from __future__ import annotations

import numpy as np

from kaena.isa import DType, Engine, Opcode
from kaena.simulator.memory import StreamFacts
from kaena.target import NeuronCoreTarget


def stream_costs(
    engine: Engine, rec: np.ndarray, facts: StreamFacts, target: NeuronCoreTarget
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per record: (occupancy cycles, drain cycles, DMA bytes, MACs), int64."""
    n = len(rec)
    op = rec["opcode"].astype(np.int64)
    occ = np.zeros(n, dtype=np.int64)
    drain = np.zeros(n, dtype=np.int64)
    nbytes = np.zeros(n, dtype=np.int64)
    macs = np.zeros(n, dtype=np.int64)
    el, parts = facts.elems, facts.parts
    is_sem = (op == Opcode.SEM_SIGNAL) | (op == Opcode.SEM_WAIT)
    occ[is_sem] = target.semaphore_cycles
    if engine == Engine.PE:
        slow_in0 = np.where(rec["in0"]["dtype"] == DType.FP32, target.pe_fp32_slowdown, 1)
        slow_in1 = np.where(rec["in1"]["dtype"] == DType.FP32, target.pe_fp32_slowdown, 1)
        ls = op == Opcode.LOAD_STATIONARY
        mm = op == Opcode.MATMUL
        occ[ls] = (target.pe_stationary_load_cycles * slow_in0)[ls]
        occ[mm] = (np.maximum(el["in1"], target.pe_min_matmul_cycles) * slow_in1)[mm]
        drain[mm] = target.pe_drain_cycles
        macs[mm] = (parts["in1"] * parts["out"] * el["in1"])[mm]
    elif engine == Engine.ACT:
        act = op == Opcode.ACTIVATE
        occ[act] = (el["in0"] + target.act_fixed_cycles)[act]
    elif engine == Engine.POOL:
        tt = op == Opcode.TENSOR_TENSOR
        one = (op == Opcode.TENSOR_SCALAR) | (op == Opcode.REDUCE) | (op == Opcode.TRANSPOSE)
        ms = op == Opcode.MEMSET
        occ[tt] = (2 * el["in0"] + target.vector_fixed_cycles)[tt]
        occ[one] = (el["in0"] + target.vector_fixed_cycles)[one]
        occ[ms] = (el["out"] + target.vector_fixed_cycles)[ms]
    elif engine == Engine.DMA:
        dma = op == Opcode.DMA
        nbytes[dma] = (el["in0"] * parts["in0"] * facts.itemsize["in0"])[dma]
        if dma.any():
            sizes, inverse = np.unique(nbytes[dma], return_inverse=True)
            occ[dma] = np.array([target.dma_cycles(int(b)) for b in sizes], dtype=np.int64)[inverse]
    return occ, drain, nbytes, macs
