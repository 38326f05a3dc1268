"""The cost model of the hardware contract, in cycles, from ``kaena.target``.

One module answers "how long does this take" for everyone: the simulator's
timing (``kaena.simulator.timing`` is a thin user of ``stream_costs``), the
lowering's tile and schedule decisions (the scalar methods and ``gemm``), the
profile's roofline (``pe_floor``, ``dma_floor``) and ``kaena-estimate`` (host
and NeuronLink transfers). The numbers are ``docs/isa.md``'s "Costs" table;
nothing here writes a hardware number inline.

    from kaena.target.costmodel import CostModel
    cm = CostModel()                       # INF1 by default
    cm.matmul(256, "bf16")                 # 256: engine occupancy
    cm.gemm(K=512, M=128, N=1024).cycles   # a tiled matmul on the PE array
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from kaena.isa import DType, Engine, Flags, Opcode
from kaena.target import INF1, NeuronCoreTarget
from kaena.target.tiling import cdiv, split

DTypeLike = DType | str


def as_dtype(dtype: DTypeLike) -> DType:
    """``DType`` from a ``DType`` or a name ('bf16', 'float32', ...)."""
    return dtype if isinstance(dtype, DType) else DType.from_name(str(dtype))


class GemmCost(NamedTuple):
    """A tiled matmul out[M, N] = A[K, M]^T B[K, N] on one PE array."""

    cycles: int  # PE occupancy plus the final PSUM drain
    stationary_loads: int
    matmuls: int
    macs: int  # K*M*N with the real sizes


class EngineCycles(NamedTuple):
    """Modelled busy cycles per engine of one lowered op (the compiler's estimate)."""

    pe: int = 0
    act: int = 0
    pool: int = 0
    dma: int = 0

    @property
    def cycles(self) -> int:
        """The engines overlap (semaphores pipeline them), so the busiest one sets the op's length."""
        return max(self)


class StreamCosts(NamedTuple):
    """Per record of one engine stream (int64 arrays)."""

    occupancy: np.ndarray  # cycles the record keeps its engine busy
    drain: np.ndarray  # cycles after that until its result is complete (matmuls)
    dma_bytes: np.ndarray  # bytes a DMA moves
    macs: np.ndarray  # K*M*N of a matmul
    pe_weighted_macs: np.ndarray  # macs x the dtype's PE slowdown (fp32: x4), for the PE floor


class OperandFacts(Protocol):
    """Per-record operand sizes (``kaena.simulator.memory.StreamFacts`` has them)."""

    elems: dict[str, np.ndarray]  # slot -> elements per partition (0 when absent)
    parts: dict[str, np.ndarray]  # slot -> partitions (DRAM rows)
    itemsize: dict[str, np.ndarray]


@dataclass(frozen=True)
class CostModel:
    """Instruction costs of one target; every method returns cycles at ``target.clock_hz``."""

    target: NeuronCoreTarget = INF1

    # --- tensor engine -------------------------------------------------------------
    def pe_slowdown(self, dtype: DTypeLike) -> int:
        """FP32 operands run the PE array at 1/``pe_fp32_slowdown`` rate."""
        return self.target.pe_fp32_slowdown if as_dtype(dtype) == DType.FP32 else 1

    def stationary_load(self, dtype: DTypeLike = DType.BF16) -> int:
        return self.target.pe_stationary_load_cycles * self.pe_slowdown(dtype)

    def matmul(self, n: int, dtype: DTypeLike = DType.BF16) -> int:
        """Engine occupancy of one matmul with ``n`` moving columns."""
        return max(n, self.target.pe_min_matmul_cycles) * self.pe_slowdown(dtype)

    def matmul_drain(self) -> int:
        """Cycles from a matmul's end of occupancy until its PSUM result is complete."""
        return self.target.pe_drain_cycles

    def matmul_latency(self, n: int, dtype: DTypeLike = DType.BF16) -> int:
        """Start to complete result of an isolated matmul (320 for bf16 N = 256)."""
        return self.matmul(n, dtype) + self.matmul_drain()

    @staticmethod
    def matmul_macs(k: int, m: int, n: int) -> int:
        return k * m * n

    def gemm(self, K: int, M: int, N: int, dtype: DTypeLike = DType.BF16) -> GemmCost:
        """PE cycles of out[M, N] = A[K, M]^T B[K, N] tiled to the array, stationary-outer order:
        each [<=pe_rows, <=pe_columns] stationary tile is loaded once and streams all N columns in
        chunks of <= pe_max_moving; the last result completes one drain after the last matmul."""
        t = self.target
        kt, mt = math.ceil(K / t.pe_rows), math.ceil(M / t.pe_columns)
        full, rest = divmod(N, t.pe_max_moving)
        per_stationary = full * self.matmul(t.pe_max_moving, dtype) + (self.matmul(rest, dtype) if rest else 0)
        chunks = full + (1 if rest else 0)
        loads = kt * mt
        cycles = loads * (self.stationary_load(dtype) + per_stationary) + (self.matmul_drain() if chunks else 0)
        return GemmCost(cycles, loads, loads * chunks, K * M * N)

    # --- scalar and vector engines -------------------------------------------------
    def activation(self, n: int) -> int:
        """ACTIVATE over ``n`` elements per partition."""
        return n + self.target.act_fixed_cycles

    def vector(self, n: int, inputs: int = 1) -> int:
        """A vector-engine op over ``n`` elements per partition reading ``inputs`` tensors
        (SELECT: 3; TENSOR_TENSOR: 2; TENSOR_SCALAR, REDUCE, TRANSPOSE, MEMSET: 1)."""
        return n * inputs + self.target.vector_fixed_cycles

    # --- estimators for the lowering's decisions ---------------------------------------
    def depthwise_conv(self, engine: str, channels: int, taps: int, out_rows: int, out_cols: int,
                       dtype: DTypeLike = DType.BF16, bands: int = 1, group: int = 1) -> EngineCycles:
        """Engine cycles of a depthwise convolution (one input channel per output
        channel) as ``convert-tensor-to-inferentia`` emits it on ``engine``:

        - ``"pe"``: per block of <= ``pe_columns`` channels and per tap, a diagonal
          stationary matrix (built once per op on the vector engine from an identity
          times the per-partition weights) and one matmul per moving chunk of
          <= ``pe_max_moving`` output columns, accumulated in PSUM; each stationary
          is loaded once per ``group`` consecutive row chunks (one PSUM bank each);
          the scalar engine drains each chunk with the bias and activation;
        - ``"vector"``: channels on partitions, per tap one multiply by the
          per-partition weight and one add of the whole band (``bands`` bands).
        Both read the operand dtype: PE FP32 operands run at 1/``pe_fp32_slowdown``."""
        t = self.target
        if engine == "pe":  # channel c on partition c % partitions (the resident layout)
            full, rest = divmod(channels, t.partitions)
            tiles = [t.partitions] * full + ([rest] if rest else [])
        else:
            tiles = [size for size, count in split(channels, t.partitions) for _ in range(count)]
        if engine == "pe":
            blocks = sum(cdiv(cw, t.pe_columns) for cw in tiles)
            cols = split(out_cols, t.pe_max_moving)
            rows = split(out_rows, max(1, t.pe_max_moving // cols[0][0]))
            chunks = [(r * c, rn * cn) for r, rn in rows for c, cn in cols]
            loads = sum(cn for _, cn in cols) * cdiv(sum(rn for _, rn in rows), max(1, group))
            pe = blocks * taps * (loads * self.stationary_load(dtype)
                                  + sum(k * self.matmul(n, dtype) for n, k in chunks))
            act = blocks * sum(k * self.activation(n) for n, k in chunks)
            pool = self.vector(len(tiles) * taps * t.pe_columns, inputs=2)
            return EngineCycles(pe=pe + self.matmul_drain(), act=act, pool=pool)
        if engine == "vector":
            per_band = [(r * out_cols, k) for r, k in split(out_rows, cdiv(out_rows, max(1, bands)))]
            pool = len(tiles) * sum(k * (taps * self.vector(n) + (taps - 1) * self.vector(n, inputs=2))
                                    for n, k in per_band)
            act = len(tiles) * sum(k * self.activation(n) for n, k in per_band)
            return EngineCycles(act=act, pool=pool)
        raise ValueError(f"unknown engine '{engine}' (pe or vector)")

    def depthwise_split(self, channels: int, taps: int, out_rows: int, out_cols: int, vector_rows: int,
                        dtype: DTypeLike = DType.BF16, group: int = 1, vector_band_rows: int = 0,
                        epilogue_ops: int = 1, clamps: int = 0, vector_tiles: int = 0) -> EngineCycles:
        """Engine cycles of a depthwise convolution split between the PE array and the vector
        engine, the engines working at once: the first ``vector_tiles`` channel tiles (of
        ``partitions`` channels) wholly on the vector engine, the other tiles' first
        ``out_rows - vector_rows`` rows on the PE array as ``depthwise_conv("pe")`` (plus
        ``clamps`` vector ops per drained chunk after the scalar engine's activation, e.g.
        relu6's min), their last ``vector_rows`` on the vector engine (channels on
        partitions, bands of ``vector_band_rows`` rows: per tap a multiply by the
        per-partition weight, an add from the second tap on, then ``epilogue_ops`` vector
        ops of bias and clamps). A vector tile costs the vector engine the same whatever its
        channel count, and needs no diagonals and no stationary loads."""
        t = self.target
        pe_channels = channels - vector_tiles * t.partitions
        pe_rows = out_rows - vector_rows
        pe = EngineCycles()
        if pe_rows > 0 and pe_channels > 0:
            pe = self.depthwise_conv("pe", pe_channels, taps, pe_rows, out_cols, dtype, group=group)
            if clamps:
                blocks = sum(cdiv(min(t.partitions, pe_channels - c0), t.pe_columns)
                             for c0 in range(0, pe_channels, t.partitions))
                cols = split(out_cols, t.pe_max_moving)
                rows = split(pe_rows, max(1, t.pe_max_moving // cols[0][0]))
                pe = pe._replace(pool=pe.pool + clamps * blocks * sum(
                    rn * cn * self.vector(r * c) for r, rn in rows for c, cn in cols))

        def vector_part(rows: int) -> int:
            per_band = split(rows, max(1, vector_band_rows or rows))
            return sum(k * ((taps + epilogue_ops) * self.vector(r * out_cols)
                            + (taps - 1) * self.vector(r * out_cols, inputs=2)) for r, k in per_band)

        pool = 0
        if vector_rows > 0 and pe_channels > 0:
            pool += cdiv(pe_channels, t.partitions) * vector_part(vector_rows)
        if vector_tiles > 0:
            pool += vector_tiles * vector_part(out_rows)
        return pe._replace(pool=pe.pool + pool)

    def pipeline(self, stages: list[int], trips: int, buffers: int) -> int:
        """Cycles of a loop of ``trips`` iterations whose work passes through ``stages``
        (cycles per stage, each on its own engine) in a buffer rotation of ``buffers``:
        one buffer serialises the stages (the producer waits for the consumer to free
        it), more overlap them: the slowest stage sets the pace, or the rotation when a
        buffer's trip through every stage outlasts the others' (three stages, two buffers)."""
        if trips <= 0 or not stages:
            return 0
        if buffers <= 1:
            return trips * sum(stages)
        return sum(stages) + (trips - 1) * max(max(stages), -(-sum(stages) // buffers))

    def buffer_count(self, stages: list[int], trips: int, most: int) -> int:
        """The fewest buffers (<= ``most``) at which ``pipeline`` is fastest."""
        return min(range(1, max(1, most) + 1), key=lambda k: (self.pipeline(stages, trips, k), k))

    def band_loop(self, loads: list[int], computes: list[int], stores: list[int], buffers: int) -> int:
        """Cycles of a loop over bands as the lowering emits it on one in-order DMA queue:
        band i's input DMA (``loads[i]``), its compute (``computes[i]``, PE and epilogue),
        then its result DMA (``stores[i]``, waits for the compute). With one input buffer
        each band's load waits for the previous compute; with two or more the load of band
        i + 1 is issued before band i's store, into the buffer band i + 1 - ``buffers``
        freed (a prefetch one band ahead)."""
        n = len(loads)
        if n == 0:
            return 0
        queue = comp = 0
        comp_end: list[int] = []
        if buffers <= 1:
            for i in range(n):
                queue = max(queue, comp) + loads[i]
                comp = max(comp, queue) + computes[i]
                queue = max(queue, comp) + stores[i]
            return max(queue, comp)
        load_end = [loads[0]]
        queue = loads[0]
        for i in range(n):
            if i + 1 < n:
                j = i + 1 - buffers
                queue = max(queue, comp_end[j] if j >= 0 else 0) + loads[i + 1]
                load_end.append(queue)
            comp = max(comp, load_end[i]) + computes[i]
            comp_end.append(comp)
            queue = max(queue, comp) + stores[i]
        return max(queue, comp)

    def streamed_weights(self, weight_bytes: int, compute: int, blocks: int) -> int:
        """Cycles of a matmul whose ``weight_bytes`` stream in ``blocks`` equal column blocks
        (one DMA each, back to back on the queue) while the PE array does each block's
        ``compute / blocks`` once it has landed: what the queue takes plus the compute it
        does not hide (at least the last block's)."""
        return self.streamed(self.dma(cdiv(weight_bytes, blocks)), cdiv(compute, blocks), blocks)

    @staticmethod
    def streamed(load: int, compute: int, blocks: int) -> int:
        """Cycles of ``blocks`` blocks, each ``load`` queue cycles (back to back) and then
        ``compute`` engine cycles once it has landed and the block before is done."""
        queue = comp = 0
        for _ in range(blocks):
            queue += load
            comp = max(comp, queue) + compute
        return comp

    # --- DMA, semaphores, host, chip to chip ------------------------------------------
    def dma(self, nbytes: int) -> int:
        """One DMA instruction: fixed latency plus bytes at the core's share of DRAM bandwidth."""
        return self.target.dma_cycles(nbytes)

    def dma_gather(self, rows: int, nbytes: int) -> int:
        """One DMA gather of ``rows`` rows (``nbytes`` in all): a DMA plus a per-row cost
        (each row is its own descriptor, its address read from the index tile)."""
        return self.target.dma_gather_cycles(rows, nbytes)

    def semaphore(self) -> int:
        """A SEM_SIGNAL or SEM_WAIT on the engine that issues it (a blocked wait costs this after it unblocks)."""
        return self.target.semaphore_cycles

    def host_transfer(self, nbytes: int) -> int:
        """One host <-> device PCIe transfer."""
        return self.seconds_to_cycles(self.target.host_transfer_seconds(nbytes))

    def neuronlink(self, nbytes: int) -> int:
        """One transfer to another chip over NeuronLink."""
        t = self.target
        return self.seconds_to_cycles(t.neuronlink_latency_s + nbytes / t.neuronlink_bytes_per_s)

    # --- floors (roofline) ---------------------------------------------------------------
    def pe_floor(self, weighted_macs: int, cores: int = 1) -> float:
        """Cycles the PE arrays of ``cores`` cores need at peak for ``weighted_macs``
        (MACs with fp32 ones counted ``pe_fp32_slowdown`` times)."""
        return weighted_macs / (self.target.macs_per_cycle * max(1, cores))

    def dma_floor(self, nbytes: int, transfers: int, cores: int = 1) -> float:
        """Cycles ``cores`` DMA queues need for ``nbytes`` in at least ``transfers`` instructions,
        perfectly balanced: bytes at the per-core bandwidth plus one fixed latency per instruction."""
        t = self.target
        c = max(1, cores)
        return (nbytes / t.dma_bytes_per_s_per_core * t.clock_hz + transfers * t.dma_fixed_cycles) / c

    # --- units ---------------------------------------------------------------------------
    def seconds_to_cycles(self, seconds: float) -> int:
        return round(seconds * self.target.clock_hz)

    def cycles_to_us(self, cycles: float) -> float:
        return cycles / self.target.clock_hz * 1e6

    # --- whole streams (vectorised) ---------------------------------------------------------
    def stream_costs(self, engine: Engine, rec: np.ndarray, facts: OperandFacts) -> StreamCosts:
        """Costs of every record of one engine's stream: the same rules as the scalar methods,
        with numpy (a stream may have millions of records)."""
        t = self.target
        n = len(rec)
        op = rec["opcode"].astype(np.int64)
        occ = np.zeros(n, dtype=np.int64)
        drain = np.zeros(n, dtype=np.int64)
        nbytes = np.zeros(n, dtype=np.int64)
        macs = np.zeros(n, dtype=np.int64)
        wmacs = np.zeros(n, dtype=np.int64)
        el, parts = facts.elems, facts.parts
        occ[(op == Opcode.SEM_SIGNAL) | (op == Opcode.SEM_WAIT)] = self.semaphore()
        if engine == Engine.PE:
            slow_in0 = np.where(rec["in0"]["dtype"] == DType.FP32, t.pe_fp32_slowdown, 1)
            slow_in1 = np.where(rec["in1"]["dtype"] == DType.FP32, t.pe_fp32_slowdown, 1)
            ls = op == Opcode.LOAD_STATIONARY
            mm = op == Opcode.MATMUL
            occ[ls] = (t.pe_stationary_load_cycles * slow_in0)[ls]
            occ[mm] = (np.maximum(el["in1"], t.pe_min_matmul_cycles) * slow_in1)[mm]
            drain[mm] = self.matmul_drain()
            # K = moving partitions, M = PSUM partitions written, N = moving columns
            macs[mm] = (parts["in1"] * parts["out"] * el["in1"])[mm]
            wmacs[mm] = (macs * slow_in1)[mm]
        elif engine == Engine.ACT:
            act = op == Opcode.ACTIVATE
            occ[act] = (el["in0"] + t.act_fixed_cycles)[act]
        elif engine == Engine.POOL:
            tt = op == Opcode.TENSOR_TENSOR
            one = (op == Opcode.TENSOR_SCALAR) | (op == Opcode.REDUCE) | (op == Opcode.TRANSPOSE)
            ms = op == Opcode.MEMSET
            sel = op == Opcode.SELECT  # reads pred, on_true and the old out (on_false)
            occ[sel] = (3 * el["in0"] + t.vector_fixed_cycles)[sel]
            occ[tt] = (2 * el["in0"] + t.vector_fixed_cycles)[tt]
            occ[one] = (el["in0"] + t.vector_fixed_cycles)[one]
            occ[ms] = (el["out"] + t.vector_fixed_cycles)[ms]
        elif engine == Engine.DMA:
            dma = op == Opcode.DMA
            nbytes[dma] = (el["in0"] * parts["in0"] * facts.itemsize["in0"])[dma]
            if dma.any():
                sizes, inverse = np.unique(nbytes[dma], return_inverse=True)
                occ[dma] = np.array([self.dma(int(b)) for b in sizes], dtype=np.int64)[inverse]
            # a send to a core on another chip crosses NeuronLink instead of the DRAM queue
            link = dma & ((rec["flags"].astype(np.int64) & int(Flags.NEURONLINK)) != 0)
            if link.any():
                sizes, inverse = np.unique(nbytes[link], return_inverse=True)
                occ[link] = np.array([self.neuronlink(int(b)) for b in sizes], dtype=np.int64)[inverse]
            gat = op == Opcode.DMA_GATHER
            nbytes[gat] = (el["out"] * parts["out"] * facts.itemsize["out"])[gat]
            if gat.any():
                pairs, inverse = np.unique(np.stack([parts["out"][gat], nbytes[gat]], axis=1), axis=0,
                                           return_inverse=True)
                occ[gat] = np.array([self.dma_gather(int(r), int(b)) for r, b in pairs],
                                    dtype=np.int64)[inverse.reshape(-1)]
        return StreamCosts(occ, drain, nbytes, macs, wmacs)


COSTS = CostModel()
"""The cost model of ``INF1``."""
