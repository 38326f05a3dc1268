"""The NEFF's fixed layout, shared by its writer and its reader: the 1024-byte header's
struct, member names, dtype storage, and the limits a target puts on every size
(``docs/neff-format.md``)."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import numpy as np

from kaena.errors import NeffError
from kaena.isa import DType, Engine
from kaena.neff.model import Variable
from kaena.target import DEFAULT_TARGET, MIB, TARGETS, NeuronCoreTarget, get_target

PKG_VERSION = 1
HEADER_SIZE = 1024
# <: little-endian, no padding. Field order and offsets: docs/neff-format.md.
HEADER_STRUCT = struct.Struct("<QQQQQ128sI32s16s256sI64sQI468s")
assert HEADER_STRUCT.size == HEADER_SIZE

FORMAT_TAG = "kaena-neff"
MAX_JSON_BYTES = 16 * MIB  # neff.json / def.json larger than this are refused
MAX_SOURCE_NAME = 1024  # characters of one source (framework node) name


@dataclass(frozen=True)
class Limits:
    """What a NEFF for ``target`` can hold: the reader bounds every size by the
    target the NEFF declares, so no field makes it allocate more than that device has."""

    target: NeuronCoreTarget

    @property
    def max_tensor_elements(self) -> int:  # more elements than device bytes: not a real tensor
        return self.target.dram_bytes_per_chip

    @property
    def max_cores(self) -> int:  # the largest instance
        return max(inst.neuron_cores for inst in self.target.instances)

    @property
    def dram_bytes_per_core(self) -> int:
        return self.target.dram_bytes_per_chip // self.target.cores_per_chip

    @property
    def max_ap_bytes(self) -> int:  # one on-chip operand of one record iterates at most this many bytes
        return self.target.sbuf_bytes


def limits_of(target: NeuronCoreTarget | str = DEFAULT_TARGET) -> Limits:
    return Limits(get_target(target) if isinstance(target, str) else target)


def loosest_limits() -> Limits:
    """Bounds checked before neff.json names the target (header, archive size):
    the largest over every known target."""
    return max((Limits(t) for t in TARGETS.values()), key=lambda lim: (lim.max_cores, lim.dram_bytes_per_core))


DEFAULT_LIMITS = limits_of(DEFAULT_TARGET)
MAX_TENSOR_ELEMENTS = DEFAULT_LIMITS.max_tensor_elements
MAX_CORES = DEFAULT_LIMITS.max_cores
DRAM_BYTES_PER_CORE = DEFAULT_LIMITS.dram_bytes_per_core
MAX_AP_BYTES = DEFAULT_LIMITS.max_ap_bytes
DTYPE_NAMES = tuple(d.numpy_name for d in DType)
# .npy members hold bfloat16 as its raw uint16 bits (numpy cannot name bfloat16 in an .npy header)
NPY_STORAGE = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "bfloat16": np.dtype("<u2"),
                "int32": np.dtype("<i4")}
INT32_LIMITS = (-(2**31), 2**31 - 1)
MEMBER_NAME_RE = re.compile(r"^(neff\.json|sg\d{2,4}/[A-Za-z0-9_][A-Za-z0-9._-]{0,94})$")
SANITISE_RE = re.compile(r"[^A-Za-z0-9._-]")
ENGINE_FILES = {e: f"{e.stream_name}.bin" for e in Engine}
SOURCE_FILES = {e: f"{e.stream_name}.src.bin" for e in Engine}
LOAD_FILE = "load.bin"  # a subgraph's load-time program (DMA records, run once at load; 1.3)


@dataclass(frozen=True)
class NeffHeader:
    """The decoded fixed header; enough to tell who built a NEFF without unpacking it."""

    pkg_version: int
    header_size: int
    data_size: int
    version: tuple[int, int]
    compiler_version: str
    num_tpb: int
    sha256: bytes
    uuid: bytes
    name: str
    requested_tpb_count: int
    feature_bits: int


def subgraph_dir(index: int) -> str:
    return f"sg{index:02d}"


def np_dtype(name: str) -> np.dtype:
    return DType.from_name(name).np


def fixed_field(text: str, size: int) -> bytes:
    """UTF-8, cut on a character boundary to leave a terminating NUL, NUL-padded."""
    raw = text.encode("utf-8")[: size - 1].decode("utf-8", errors="ignore").encode("utf-8")
    return raw.ljust(size, b"\0")


def file_names(variables: list[Variable]) -> dict[int, str]:
    """Archive member names (within the subgraph dir) of the ``file`` variables."""
    names: dict[int, str] = {}
    used: set[str] = set()
    for i, v in enumerate(variables):
        if v.kind != "file":
            continue
        base = SANITISE_RE.sub("_", v.name)[:64].lstrip(".-") or "var"
        name = f"{base}.npy"
        if name in used:
            name = f"{base}_{i}.npy"
        used.add(name)
        names[i] = name
    return names


def c_string(raw: bytes, source: str, field: str) -> str:
    try:
        return raw.split(b"\0", 1)[0].decode("utf-8")
    except UnicodeDecodeError:
        raise NeffError(f"{source}: corrupt NEFF header: {field} is not UTF-8") from None
