"""The one target description: every hardware number Kaena uses lives here.

The values are the contract of ``shared/docs/inf1-hardware.md`` (part A: AWS
facts, part B: Kaena's fixed model of a NeuronCore-v1). The compiler, the SRAM
allocator, the cost model and the simulator all read them from ``INF1``;
nothing else in the code base writes a hardware number inline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


@dataclass(frozen=True)
class InstanceType:
    """One Inf1 instance size."""

    name: str
    chips: int
    neuron_cores: int
    vcpus: int
    host_memory_bytes: int
    neuronlink_bytes_per_s: float  # 0 where the instance has no NeuronLink


@dataclass(frozen=True)
class NeuronCoreTarget:
    """Kaena's model of one Inferentia chip and its NeuronCore-v1 cores."""

    name: str = "inf1"

    # --- chip ---------------------------------------------------------------
    cores_per_chip: int = 4
    dram_bytes_per_chip: int = 8 * GIB
    dram_bytes_per_s_per_chip: float = 50 * GIB
    neuronlink_bytes_per_s: float = 32 * GIB
    neuronlink_latency_s: float = 2e-6

    # --- clock --------------------------------------------------------------
    clock_hz: float = 1.0e9

    # --- tensor engine (systolic PE array) -----------------------------------
    pe_rows: int = 128  # contraction dim K, on partitions
    pe_columns: int = 64  # stationary free dim M (output partitions)
    pe_max_moving: int = 256  # moving free dim N per matmul
    pe_stationary_load_cycles: int = 64
    pe_min_matmul_cycles: int = 64
    pe_drain_cycles: int = 64
    pe_fp32_slowdown: int = 4
    # a matmul writes M <= pe_columns partitions starting at one of these
    psum_matmul_partition_starts: tuple[int, ...] = (0, 64)

    # --- on-chip memories ---------------------------------------------------
    partitions: int = 128
    sbuf_bytes_per_partition: int = 96 * KIB
    psum_banks: int = 4
    psum_bank_entries: int = 256  # FP32 entries per bank per partition
    psum_entry_bytes: int = 4
    partition_alignment: int = 32  # partition range starts are multiples of this

    # --- scalar (activation) and vector (pooling) engines --------------------
    act_fixed_cycles: int = 64  # cost = N + 64
    vector_fixed_cycles: int = 64  # cost = N * inputs + 64
    vector_flops_per_cycle: int = 256
    scalar_flops_per_cycle: int = 512

    # --- DMA, host, semaphores -----------------------------------------------
    dma_queues_per_core: int = 1
    dma_fixed_latency_s: float = 1e-6
    dma_gather_row_cycles: int = 64  # DMA gather: per row, on top of the DMA cost
    host_bytes_per_s: float = 12 * GIB
    host_transfer_latency_s: float = 5e-6
    semaphores_per_core: int = 32
    semaphore_cycles: int = 16

    # --- dtypes -------------------------------------------------------------
    compute_dtypes: tuple[str, ...] = ("bf16", "fp16")
    io_dtype: str = "fp32"

    instances: tuple[InstanceType, ...] = field(
        default=(
            InstanceType("inf1.xlarge", 1, 4, 4, 8 * GIB, 0.0),
            InstanceType("inf1.2xlarge", 1, 4, 8, 16 * GIB, 0.0),
            InstanceType("inf1.6xlarge", 4, 16, 24, 48 * GIB, 32 * GIB),
            InstanceType("inf1.24xlarge", 16, 64, 96, 192 * GIB, 32 * GIB),
        )
    )

    # --- derived ------------------------------------------------------------
    @property
    def sbuf_bytes(self) -> int:
        return self.partitions * self.sbuf_bytes_per_partition

    @property
    def psum_bank_bytes(self) -> int:
        """Bytes of one PSUM bank in one partition."""
        return self.psum_bank_entries * self.psum_entry_bytes

    @property
    def psum_bytes_per_partition(self) -> int:
        return self.psum_banks * self.psum_bank_bytes

    @property
    def macs_per_cycle(self) -> int:
        return self.pe_rows * self.pe_columns

    @property
    def dma_bytes_per_s_per_core(self) -> float:
        return self.dram_bytes_per_s_per_chip / self.cores_per_chip

    @property
    def dma_fixed_cycles(self) -> int:
        return round(self.dma_fixed_latency_s * self.clock_hz)

    def dma_cycles(self, nbytes: int) -> int:
        """Cycles one DMA instruction of ``nbytes`` occupies its queue."""
        return self.dma_fixed_cycles + round(nbytes / self.dma_bytes_per_s_per_core * self.clock_hz)

    def dma_gather_cycles(self, rows: int, nbytes: int) -> int:
        """Cycles one DMA gather of ``rows`` rows, ``nbytes`` in all, occupies its queue."""
        return self.dma_cycles(nbytes) + rows * self.dma_gather_row_cycles

    def host_transfer_seconds(self, nbytes: int) -> float:
        return self.host_transfer_latency_s + nbytes / self.host_bytes_per_s

    def instance(self, name: str) -> InstanceType:
        for inst in self.instances:
            if inst.name == name:
                return inst
        raise KeyError(name)


INF1 = NeuronCoreTarget()

TARGETS: dict[str, NeuronCoreTarget] = {"inf1": INF1}


def get_target(name: str) -> NeuronCoreTarget:
    """Look a target up by its ``--target`` name."""
    from kaena.errors import KaenaError

    try:
        return TARGETS[name]
    except KeyError:
        raise KaenaError(
            f"unknown target '{name}': supported targets are {', '.join(sorted(TARGETS))}"
        ) from None
