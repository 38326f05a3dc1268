"""Kaena's NeuronCore-v1 instruction set: fixed-size binary records.

This is the contract between the code generator (which unrolls the
Inferentia dialect's loops into records with numpy), the NEFF container (one
record array per engine and core) and the simulator (which decodes and
executes them). ``docs/isa.md`` documents every field; change both together.

Every record is ``INSTR_DTYPE`` (192 bytes, little-endian). Operands are
*access patterns* (``AP_DTYPE``, 52 bytes): a partition range plus up to four
free dimensions with element strides, iterated partition-outermost,
row-major (the last dimension innermost).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum, IntFlag

import ml_dtypes
import numpy as np


class Engine(IntEnum):
    """The instruction streams of one NeuronCore; the value is the stream index."""

    PE = 0  # tensor engine (systolic array)
    ACT = 1  # scalar / activation engine
    POOL = 2  # vector / pooling engine
    DMA = 3  # the core's DMA queue

    @property
    def stream_name(self) -> str:
        return self.name.lower()


class Opcode(IntEnum):
    NOP = 0
    DMA = 1  # DMA: out <- in0, element for element, same dtype
    LOAD_STATIONARY = 2  # PE: stationary <- in0 [K partitions, M elements]
    MATMUL = 3  # PE: out[M, N] (+)= stationary[K, M]^T @ in1[K, N]
    ACTIVATE = 4  # ACT: out = func(in0 * scale + bias), bias = in1[p] or imm
    TENSOR_TENSOR = 5  # POOL: out = alu(in0, in1)
    TENSOR_SCALAR = 6  # POOL: out = alu(in0, s), s = in1[p] or imm
    REDUCE = 7  # POOL: out = alu-reduce of in0 over its last `axes` dims, * scale
    TRANSPOSE = 8  # POOL: out[f, p] = in0[p, f]
    MEMSET = 9  # POOL: out = imm
    SEM_SIGNAL = 10  # any: sems[sem] += 1 once all earlier work of the engine is complete
    SEM_WAIT = 11  # any: block until sems[sem] >= sem_value
    SELECT = 12  # POOL: out = in0 != 0 ? in1 : out (read-modify-write: out holds on_false)
    DMA_GATHER = 13  # DMA: out[p, :] <- row in1[p] of the table in0 (int32 indices, one per partition)


class Flags(IntFlag):
    NONE = 0
    ACCUMULATE = 1  # MATMUL: add into PSUM instead of overwriting
    NOTIFY = 2  # DMA to a DRAM variable another core reads: when its last byte lands, semaphore
    # ``sem`` of core ``notify_core`` is incremented (the only way cores order each other)
    NEURONLINK = 4  # DMA with NOTIFY whose receiving core is on another chip: crosses NeuronLink


class Mem(IntEnum):
    NONE = 0  # operand absent
    DRAM = 1
    SBUF = 2
    PSUM = 3


class DType(IntEnum):
    FP32 = 0
    BF16 = 1
    FP16 = 2
    INT32 = 3  # SBUF tiles, DRAM variables, model inputs; engines read it as FP32

    @property
    def np(self) -> np.dtype:
        return _NP_DTYPES[self]

    @property
    def itemsize(self) -> int:
        return _NP_DTYPES[self].itemsize

    @property
    def short(self) -> str:
        return self.name.lower()

    @property
    def numpy_name(self) -> str:
        """The name NEFF JSON and numpy use: 'float32', 'bfloat16', 'float16', 'int32'."""
        return _NUMPY_NAMES[self]

    @classmethod
    def from_name(cls, name: str) -> "DType":
        """Accepts 'fp32'/'f32'/'float32', 'bf16'/'bfloat16', 'fp16'/'f16'/'float16', 'i32'/'int32'."""
        return _DTYPE_NAMES[name.lower()]


_NP_DTYPES = {
    DType.FP32: np.dtype(np.float32),
    DType.BF16: np.dtype(ml_dtypes.bfloat16),
    DType.FP16: np.dtype(np.float16),
    DType.INT32: np.dtype(np.int32),
}
_NUMPY_NAMES = {DType.FP32: "float32", DType.BF16: "bfloat16", DType.FP16: "float16", DType.INT32: "int32"}
DTYPE_ITEMSIZE = np.array([d.itemsize for d in DType], dtype=np.int64)
"""Bytes per element, indexed by a record's ``dtype`` code: the one itemsize table."""


def itemsizes(codes: np.ndarray) -> np.ndarray:
    """Bytes per element of each ``dtype`` code (int64); 0 for codes that name no DType."""
    codes = np.asarray(codes).astype(np.int64)
    known = (codes >= 0) & (codes < len(DTYPE_ITEMSIZE))
    return np.where(known, DTYPE_ITEMSIZE[np.where(known, codes, 0)], 0)


def ceil_div(a, b):
    """``ceil(a / b)`` for integers (and integer arrays), without floats."""
    return -(-a // b)


_DTYPE_NAMES = {
    "fp32": DType.FP32, "f32": DType.FP32, "float32": DType.FP32,
    "bf16": DType.BF16, "bfloat16": DType.BF16,
    "fp16": DType.FP16, "f16": DType.FP16, "float16": DType.FP16,
    "i32": DType.INT32, "int32": DType.INT32,
}


class ActFunc(IntEnum):
    IDENTITY = 0
    RELU = 1
    GELU = 2
    TANH = 3
    SIGMOID = 4
    EXP = 5
    SQRT = 6
    RECIPROCAL = 7
    SQUARE = 8
    RSQRT = 9
    NEG = 10
    ERF = 11
    GELU_TANH = 12  # 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))
    LOG = 13  # natural log; log 0 = -inf, log of a negative = nan


class AluOp(IntEnum):
    ADD = 0
    SUB = 1  # in0 - in1
    MUL = 2
    MAX = 3
    MIN = 4
    DIV = 5  # in0 / in1
    BYPASS = 6  # out = in0 (a copy / cast on the vector engine)
    EQUAL = 7  # 1.0 where in0 == in1, else 0.0
    LESS = 8  # 1.0 where in0 < in1, else 0.0
    GREATER = 9  # 1.0 where in0 > in1, else 0.0


MAX_FREE_DIMS = 4

AP_DTYPE = np.dtype(
    [
        ("mem", "u1"),  # Mem
        ("dtype", "u1"),  # DType
        ("ndims", "u1"),  # free dims in use, 0..4
        ("_r0", "u1"),
        ("var", "<u2"),  # DRAM: index into the subgraph's def.json variables
        ("start_partition", "<u2"),  # SBUF/PSUM: first partition
        ("num_partitions", "<u2"),  # partitions (or DRAM rows) iterated
        ("_r1", "<u2"),
        ("offset", "<u4"),  # bytes: within each partition (SBUF/PSUM) or the variable (DRAM)
        ("partition_stride", "<i4"),  # DRAM only: elements between rows; 0 elsewhere
        ("strides", "<i4", (MAX_FREE_DIMS,)),  # elements
        ("counts", "<u4", (MAX_FREE_DIMS,)),  # unused dims have count 1
    ]
)
assert AP_DTYPE.itemsize == 52

INSTR_DTYPE = np.dtype(
    [
        ("opcode", "<u2"),  # Opcode
        ("flags", "<u2"),  # Flags
        ("func", "<u2"),  # ActFunc (ACTIVATE)
        ("alu", "<u2"),  # AluOp (TENSOR_TENSOR, TENSOR_SCALAR, REDUCE)
        ("axes", "<u2"),  # REDUCE: trailing free dims of in0 that are reduced
        ("sem", "<u2"),  # SEM_SIGNAL / SEM_WAIT: semaphore index
        ("sem_value", "<u4"),  # SEM_WAIT: count to wait for
        ("scale", "<f4"),  # ACTIVATE: input scale; REDUCE: result scale
        ("imm", "<f4"),  # immediate scalar / bias when in1 is absent
        ("tag", "<u4"),  # index of the IR op this record came from (profiling)
        ("notify_core", "<u4"),  # DMA with Flags.NOTIFY: the core whose semaphore ``sem`` it increments
        ("_r1", "<u4"),
        ("out", AP_DTYPE),
        ("in0", AP_DTYPE),
        ("in1", AP_DTYPE),
    ]
)
assert INSTR_DTYPE.itemsize == 192

# Which opcodes each engine may execute (semaphores and NOP on all).
ENGINE_OPCODES: dict[Engine, frozenset[Opcode]] = {
    Engine.PE: frozenset({Opcode.LOAD_STATIONARY, Opcode.MATMUL}),
    Engine.ACT: frozenset({Opcode.ACTIVATE}),
    Engine.POOL: frozenset(
        {
            Opcode.TENSOR_TENSOR,
            Opcode.TENSOR_SCALAR,
            Opcode.REDUCE,
            Opcode.TRANSPOSE,
            Opcode.MEMSET,
            Opcode.SELECT,
        }
    ),
    Engine.DMA: frozenset({Opcode.DMA, Opcode.DMA_GATHER}),
}
_COMMON = frozenset({Opcode.NOP, Opcode.SEM_SIGNAL, Opcode.SEM_WAIT})
for _e in Engine:
    ENGINE_OPCODES[_e] = ENGINE_OPCODES[_e] | _COMMON


def empty_records(n: int) -> np.ndarray:
    """``n`` zeroed records, unused APs have ``mem == Mem.NONE``; scale defaults to 1."""
    rec = np.zeros(n, dtype=INSTR_DTYPE)
    rec["scale"] = 1.0
    for ap in ("out", "in0", "in1"):
        rec[ap]["counts"] = 1
    return rec


def ap_elements_per_partition(ap: np.void | np.ndarray) -> int:
    """Elements one partition (DRAM row) of an access pattern covers."""
    return int(np.prod(ap["counts"][: int(ap["ndims"])], dtype=np.int64))


# --- operand rules ------------------------------------------------------------
# For each opcode, the memories each operand (out, in0, in1) may name;
# ``Mem.NONE`` in a set means the operand is optional (or, alone, absent).
_N = frozenset({Mem.NONE})
_SB = frozenset({Mem.SBUF})
_SB_PS = frozenset({Mem.SBUF, Mem.PSUM})
_DR_SB = frozenset({Mem.DRAM, Mem.SBUF})
OPERAND_MEMS: dict[Opcode, tuple[frozenset[Mem], frozenset[Mem], frozenset[Mem]]] = {
    Opcode.NOP: (_N, _N, _N),
    Opcode.DMA: (_DR_SB, _DR_SB, _N),
    Opcode.LOAD_STATIONARY: (_N, _SB, _N),
    Opcode.MATMUL: (frozenset({Mem.PSUM}), _N, _SB),
    Opcode.ACTIVATE: (_SB, _SB_PS, _SB_PS | _N),
    Opcode.TENSOR_TENSOR: (_SB, _SB_PS, _SB_PS),
    Opcode.TENSOR_SCALAR: (_SB, _SB_PS, _SB_PS | _N),
    Opcode.REDUCE: (_SB, _SB_PS, _N),
    Opcode.TRANSPOSE: (_SB, _SB_PS, _N),
    Opcode.MEMSET: (_SB, _N, _N),
    Opcode.SEM_SIGNAL: (_N, _N, _N),
    Opcode.SEM_WAIT: (_N, _N, _N),
    Opcode.SELECT: (_SB, _SB_PS, _SB_PS),
    Opcode.DMA_GATHER: (_SB, frozenset({Mem.DRAM}), _SB),
}
COMPARE_ALUS = frozenset({AluOp.EQUAL, AluOp.LESS, AluOp.GREATER})
REDUCE_ALUS = frozenset({AluOp.ADD, AluOp.MAX, AluOp.MIN})
_OPERANDS = ("out", "in0", "in1")


def stream_errors(
    rec: np.ndarray, engine: Engine, num_variables: int, num_semaphores: int,
    max_ap_bytes: int | None = None, max_dram_ap_bytes: int | None = None,
) -> tuple[int, str] | None:
    """The first record of ``engine``'s stream whose fields are out of range, as
    (index, reason), or None. Vectorised: a reader checks a whole stream at once
    before anything interprets it. ``max_ap_bytes`` bounds the bytes one on-chip
    operand iterates (the NEFF reader passes the SBUF size) and
    ``max_dram_ap_bytes`` one DRAM operand (a core's DRAM), so no record can make
    a consumer allocate more than that."""
    if rec.dtype != INSTR_DTYPE:
        return (0, f"records have dtype {rec.dtype}, expected INSTR_DTYPE")
    if len(rec) == 0:
        return None
    checks: list[tuple[np.ndarray, Callable[[int], str]]] = []
    op = rec["opcode"].astype(np.int64)
    allowed = np.array(sorted(ENGINE_OPCODES[engine]), dtype=np.int64)
    checks.append((~np.isin(op, allowed), lambda i: f"opcode {op[i]} is not valid on the {engine.stream_name} engine"))
    flags = rec["flags"].astype(np.int64)
    known = int(Flags.ACCUMULATE | Flags.NOTIFY | Flags.NEURONLINK)
    checks.append(((flags & ~known) != 0, lambda i: f"unknown flags {flags[i]:#x}"))
    acc = (flags & int(Flags.ACCUMULATE)) != 0
    checks.append((acc & (op != Opcode.MATMUL), lambda i: "flag ACCUMULATE on a non-MATMUL record"))
    notify = (flags & int(Flags.NOTIFY)) != 0
    checks.append((notify & ((op != Opcode.DMA) | (rec["out"]["mem"] != Mem.DRAM)),
                   lambda i: "flag NOTIFY on a record that is not a DMA into DRAM"))
    checks.append((((flags & int(Flags.NEURONLINK)) != 0) & ~notify, lambda i: "flag NEURONLINK without NOTIFY"))
    checks.append((~notify & (rec["notify_core"] != 0),
                   lambda i: f"notify_core {rec['notify_core'][i]} on a record without flag NOTIFY"))
    is_act = op == Opcode.ACTIVATE
    checks.append((is_act & (rec["func"] >= len(ActFunc)), lambda i: f"activation function {rec['func'][i]} is unknown"))
    uses_alu = np.isin(op, [Opcode.TENSOR_TENSOR, Opcode.TENSOR_SCALAR, Opcode.REDUCE])
    checks.append((uses_alu & (rec["alu"] >= len(AluOp)), lambda i: f"ALU op {rec['alu'][i]} is unknown"))
    red_alus = np.array(sorted(REDUCE_ALUS), dtype=np.int64)
    checks.append((
        (op == Opcode.REDUCE) & ~np.isin(rec["alu"].astype(np.int64), red_alus),
        lambda i: f"REDUCE with ALU op {rec['alu'][i]} (only ADD, MAX, MIN reduce)",
    ))
    checks += _int32_errors(rec, op)
    is_sem = np.isin(op, [Opcode.SEM_SIGNAL, Opcode.SEM_WAIT]) | notify
    checks.append((
        is_sem & (rec["sem"] >= num_semaphores),
        lambda i: f"semaphore {rec['sem'][i]} out of range (a core has {num_semaphores})",
    ))
    checks.append((rec["_r1"] != 0, lambda i: f"reserved field _r1 is {rec['_r1'][i]}, must be 0"))
    for k, name in enumerate(_OPERANDS):
        ap = rec[name]
        mem = ap["mem"].astype(np.int64)
        for field in ("_r0", "_r1"):
            checks.append((
                ap[field] != 0,
                lambda i, ap=ap, name=name, field=field: f"{name}: reserved field {field} is {ap[field][i]}, must be 0",
            ))
        checks.append((mem >= len(Mem), lambda i, ap=ap, name=name: f"{name}: memory {ap['mem'][i]} is unknown"))
        # operand presence / memory kind per opcode
        ok = np.zeros(len(rec), dtype=bool)
        for opc, mems in OPERAND_MEMS.items():
            ok |= (op == opc) & np.isin(mem, np.array(sorted(mems[k]), dtype=np.int64))
        valid_op = np.isin(op, np.array(sorted(OPERAND_MEMS), dtype=np.int64))
        checks.append((
            valid_op & ~ok,
            lambda i, name=name, mem=mem: (
                f"{name}: {Opcode(op[i]).name} does not take "
                + (f"a {Mem(mem[i]).name} operand" if mem[i] < len(Mem) else "this operand")
            ),
        ))
        used = mem != Mem.NONE
        checks.append((used & (ap["dtype"] >= len(DType)), lambda i, ap=ap, name=name: f"{name}: dtype {ap['dtype'][i]} is unknown"))
        checks.append((used & (ap["ndims"] > MAX_FREE_DIMS), lambda i, ap=ap, name=name: f"{name}: ndims {ap['ndims'][i]} > {MAX_FREE_DIMS}"))
        checks.append((used & (ap["num_partitions"] == 0), lambda i, name=name: f"{name}: num_partitions is 0"))
        dims_used = np.arange(MAX_FREE_DIMS)[None, :] < ap["ndims"][:, None].astype(np.int64)
        zero_count = (dims_used & (ap["counts"] == 0)).any(axis=1)
        checks.append((used & zero_count, lambda i, name=name: f"{name}: a free dimension has count 0"))
        if max_ap_bytes is not None or max_dram_ap_bytes is not None:
            # float64: four u32 counts can overflow int64
            size = itemsizes(ap["dtype"]).astype(np.float64)
            nbytes = ap_counts(ap).astype(np.float64).prod(axis=1) * ap["num_partitions"] * size
            limit = np.where(
                mem == Mem.DRAM,
                np.inf if max_dram_ap_bytes is None else max_dram_ap_bytes,
                np.inf if max_ap_bytes is None else max_ap_bytes,
            )
            checks.append((
                used & (nbytes > limit),
                lambda i, name=name, nbytes=nbytes, limit=limit: (
                    f"{name}: iterates {nbytes[i]:.0f} bytes, more than {limit[i]:.0f}"
                ),
            ))
        checks.append((
            (mem == Mem.DRAM) & (ap["var"] >= num_variables),
            lambda i, ap=ap, name=name: f"{name}: variable index {ap['var'][i]} out of range ({num_variables} variables)",
        ))
    first: tuple[int, str] | None = None
    for mask, msg in checks:
        idx = np.flatnonzero(mask)
        if len(idx) and (first is None or idx[0] < first[0]):
            first = (int(idx[0]), msg(int(idx[0])))
    return first


def _int32_errors(rec: np.ndarray, op: np.ndarray) -> list[tuple[np.ndarray, Callable[[int], str]]]:
    """Where int32 may appear (docs/isa.md, "Integers"): engines read int32 as FP32, but
    only a bit-exact move writes it (DMA, DMA_GATHER, BYPASS or TRANSPOSE of int32,
    SELECT of int32 values); the tensor engine takes no int32 and indices must be int32."""
    i32 = {s: (rec[s]["dtype"] == DType.INT32) & (rec[s]["mem"] != Mem.NONE) for s in _OPERANDS}
    move = (
        (((op == Opcode.TENSOR_SCALAR) & (rec["alu"] == AluOp.BYPASS)) | (op == Opcode.TRANSPOSE)) & i32["in0"]
    ) | ((op == Opcode.SELECT) & i32["in1"])
    pe = (op == Opcode.LOAD_STATIONARY) | (op == Opcode.MATMUL)
    compute = ~np.isin(op, [Opcode.DMA, Opcode.DMA_GATHER])
    return [
        (pe & (i32["in0"] | i32["in1"] | i32["out"]), lambda i: "the tensor engine has no int32 operands"),
        (compute & i32["out"] & ~move, lambda i: (
            f"{Opcode(int(op[i])).name} writes int32: only a bit-exact move of int32 values does"
        )),
        (move & ~i32["out"] & ((op == Opcode.SELECT)), lambda i: "SELECT of int32 values writes int32"),
        ((op == Opcode.DMA_GATHER) & ~i32["in1"], lambda i: "DMA_GATHER indices (in1) must be int32"),
        (np.any([i32[s] & (rec[s]["mem"] == Mem.PSUM) for s in _OPERANDS], axis=0),
         lambda i: "an int32 PSUM operand (PSUM holds fp32)"),
    ]


def ap_counts(ap: np.ndarray) -> np.ndarray:
    """Per record, the free-dimension counts with unused dimensions set to 1 (int64 [n, 4])."""
    counts = ap["counts"].astype(np.int64)
    used = np.arange(MAX_FREE_DIMS)[None, :] < ap["ndims"][:, None].astype(np.int64)
    return np.where(used, counts, 1)
