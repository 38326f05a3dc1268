"""The NEFF container: ``Neff`` (a compiled model in memory) and its bytes on
disk, a 1024-byte header and a tar.gz archive.

Layout and schemas are specified in ``docs/neff-format.md``. The writer is
deterministic (same Neff -> same bytes). The reader trusts nothing: it checks
sizes, hash, version, member names and types, JSON schemas and every record
field before building a ``Neff``, and reports any problem as one-line
``NeffError`` naming the file; it never executes anything from the file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import stat
import struct
import tarfile
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from kaena.errors import NeffError
from kaena.isa import INSTR_DTYPE, DType, Engine, Opcode, stream_errors
from kaena.files import atomic_open
from kaena.neff.model import NEFF_VERSION, NO_SOURCE, PIPELINE_VERSION, SOURCE_DTYPE, VARIABLE_KINDS, Subgraph, TensorSpec, Variable
from kaena.target import DEFAULT_TARGET, MIB, TARGETS, NeuronCoreTarget, get_target

PKG_VERSION = 1
HEADER_SIZE = 1024
# <: little-endian, no padding. Field order and offsets: docs/neff-format.md.
_HEADER = struct.Struct("<QQQQQ128sI32s16s256sI64sQI468s")
assert _HEADER.size == HEADER_SIZE

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


def _loosest() -> Limits:
    """Bounds checked before neff.json names the target (header, archive size):
    the largest over every known target."""
    return max((Limits(t) for t in TARGETS.values()), key=lambda lim: (lim.max_cores, lim.dram_bytes_per_core))


_DEFAULT_LIMITS = limits_of(DEFAULT_TARGET)
MAX_TENSOR_ELEMENTS = _DEFAULT_LIMITS.max_tensor_elements
MAX_CORES = _DEFAULT_LIMITS.max_cores
DRAM_BYTES_PER_CORE = _DEFAULT_LIMITS.dram_bytes_per_core
MAX_AP_BYTES = _DEFAULT_LIMITS.max_ap_bytes
DTYPE_NAMES = tuple(d.numpy_name for d in DType)
# .npy members hold bfloat16 as its raw uint16 bits (numpy cannot name bfloat16 in an .npy header)
_NPY_STORAGE = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "bfloat16": np.dtype("<u2"),
                "int32": np.dtype("<i4")}
_INT32_LIMITS = (-(2**31), 2**31 - 1)
_MEMBER_RE = re.compile(r"^(neff\.json|sg\d{2,4}/[A-Za-z0-9_][A-Za-z0-9._-]{0,94})$")
_SANITISE_RE = re.compile(r"[^A-Za-z0-9._-]")
_ENGINE_FILES = {e: f"{e.stream_name}.bin" for e in Engine}
_SOURCE_FILES = {e: f"{e.stream_name}.src.bin" for e in Engine}
LOAD_FILE = "load.bin"  # a subgraph's load-time program (DMA records, run once at load; 1.3)


@dataclass
class Neff:
    """A compiled model: inputs/outputs, subgraphs (one per core), metadata."""

    name: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    subgraphs: list[Subgraph]
    compiler_version: str = ""
    version: tuple[int, int] = NEFF_VERSION
    metadata: dict = field(default_factory=dict)  # free-form JSON-able (options, summary)
    uuid: bytes = b""  # 16 bytes; derived from the contents when written if empty
    target: str = DEFAULT_TARGET  # the kaena.target compiled for (neff.json "target")
    # "serial": subgraphs run one after the other; "pipeline" (1.3): all at once, one per core,
    # ordered by cross-core DMA notifications (NeuronCore Pipeline)
    execution: str = "serial"

    @property
    def target_description(self) -> NeuronCoreTarget:
        """The ``NeuronCoreTarget`` this NEFF was compiled for: what the simulator models."""
        return get_target(self.target)

    @property
    def num_cores(self) -> int:
        return len(self.subgraphs)

    def to_bytes(self, *, compress: bool = False) -> bytes:
        return write_neff_bytes(self, compress=compress)

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> "Neff":
        return read_neff_bytes(data, source)

    def save(self, path: str, *, compress: bool = False) -> None:
        """Write atomically (a partly written file never appears at ``path``), the weights
        streamed into the file rather than built into the NEFF's bytes in memory first."""
        with atomic_open(path) as f:
            write_neff(self, f, compress=compress)

    @classmethod
    def load(cls, path: str) -> "Neff":
        return read_neff_file(path)


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


# --------------------------------------------------------------------------- writer


def _fixed(text: str, size: int) -> bytes:
    """UTF-8, cut on a character boundary to leave a terminating NUL, NUL-padded."""
    raw = text.encode("utf-8")[: size - 1].decode("utf-8", errors="ignore").encode("utf-8")
    return raw.ljust(size, b"\0")


def _json_bytes(obj: Any, where: str) -> bytes:
    try:
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise NeffError(f"{where}: cannot be written as JSON ({e}); keep metadata to str/int/float/bool/list/dict") from None
    return (text + "\n").encode()


def _file_names(variables: list[Variable]) -> dict[int, str]:
    """Archive member names (within the subgraph dir) of the ``file`` variables."""
    names: dict[int, str] = {}
    used: set[str] = set()
    for i, v in enumerate(variables):
        if v.kind != "file":
            continue
        base = _SANITISE_RE.sub("_", v.name)[:64].lstrip(".-") or "var"
        name = f"{base}.npy"
        if name in used:
            name = f"{base}_{i}.npy"
        used.add(name)
        names[i] = name
    return names


def subgraph_sources(neff: Neff) -> list[dict[str, str]]:
    """For each subgraph, where each input variable's value comes from: the latest
    earlier subgraph with an output variable of that name, else the model input."""
    sources: list[dict[str, str]] = []
    produced: dict[str, str] = {}
    for k, sg in enumerate(neff.subgraphs):
        sources.append({v.name: produced.get(v.name, "model") for v in sg.variables if v.kind == "input"})
        for v in sg.variables:
            if v.kind == "output":
                produced[v.name] = subgraph_dir(k)
    return sources


def neff_json(neff: Neff) -> dict:
    sources = subgraph_sources(neff)
    return {
        "format": FORMAT_TAG,
        "name": neff.name,
        "version": {"major": int(neff.version[0]), "minor": int(neff.version[1])},
        "compiler_version": neff.compiler_version,
        "target": neff.target,
        "num_cores": neff.num_cores,
        "execution": neff.execution,
        "inputs": [_spec_json(t) for t in neff.inputs],
        "outputs": [_spec_json(t) for t in neff.outputs],
        "subgraphs": [
            {
                "dir": subgraph_dir(k),
                "core": sg.core,
                **({"chip": sg.chip} if neff.execution == "pipeline" else {}),
                "inputs": [{"name": n, "from": src} for n, src in sources[k].items()],
                "outputs": [v.name for v in sg.variables if v.kind == "output"],
            }
            for k, sg in enumerate(neff.subgraphs)
        ],
        "metadata": neff.metadata,
    }


def _spec_json(t: TensorSpec) -> dict:
    entry: dict[str, Any] = {"name": t.name, "shape": [int(d) for d in t.shape], "dtype": t.dtype}
    if t.valid_range is not None:
        entry["valid_range"] = [int(t.valid_range[0]), int(t.valid_range[1])]
    return entry


def _has_sources(sg: Subgraph, e: Engine) -> bool:
    return bool(sg.sources) and len(sg.stream(e)) > 0


def def_json(sg: Subgraph, target: NeuronCoreTarget | None = None) -> dict:
    target = target or get_target(DEFAULT_TARGET)
    files = _file_names(sg.variables)
    variables = []
    for i, v in enumerate(sg.variables):
        entry = {"index": i, "name": v.name, "kind": v.kind, "shape": [int(d) for d in v.shape], "dtype": v.dtype}
        if i in files:
            entry["file"] = files[i]
        variables.append(entry)
    return {
        "core": sg.core,
        "record_size": INSTR_DTYPE.itemsize,
        "dma_queues": [
            {"name": f"q{q}", "engine": Engine.DMA.stream_name, "file": _ENGINE_FILES[Engine.DMA]}
            for q in range(target.dma_queues_per_core)
        ],
        "engines": {
            e.stream_name: {
                "file": _ENGINE_FILES[e], "records": int(len(sg.stream(e))),
                **({"source_file": _SOURCE_FILES[e]} if _has_sources(sg, e) else {}),
            }
            for e in Engine
        },
        **({"load": {"file": LOAD_FILE, "records": int(len(sg.load_stream))}} if len(sg.load_stream) else {}),
        "sources": [list(names) for names in sg.sources],
        "variables": variables,
        "sbuf_peak_bytes": int(sg.sbuf_peak_bytes),
        "psum_peak_bytes": int(sg.psum_peak_bytes),
    }


# A member's contents: bytes, or (the .npy header, the array) whose data is written
# straight from the array, so a NEFF's weights are never copied into one archive in memory.
_Payload = bytes | tuple[bytes, np.ndarray]
# Bytes per write when copying an array into the archive.
_COPY_CHUNK = 1 << 20


def _npy_payload(v: Variable, where: str) -> tuple[bytes, np.ndarray]:
    """A ``file`` variable as ``np.save`` writes it: the .npy header and the array in its
    storage dtype (a view of ``v.data`` when it already has that dtype and layout)."""
    if v.data is None:
        raise NeffError(f"{where}: file variable '{v.name}' has no data")
    data = np.asarray(v.data)
    if data.size != int(np.prod(v.shape, dtype=np.int64)):
        raise NeffError(
            f"{where}: file variable '{v.name}' holds {data.size} elements but its shape {tuple(v.shape)} needs "
            f"{int(np.prod(v.shape, dtype=np.int64))}"
        )
    arr = np.ascontiguousarray(data.astype(np_dtype(v.dtype), copy=False).reshape(v.shape))
    storage = _NPY_STORAGE[v.dtype]
    arr = arr.view(storage) if v.dtype == "bfloat16" else arr.astype(storage, copy=False)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(arr))
    return header.getvalue(), arr


def _payload_bytes(payload: _Payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    header, arr = payload
    return header + arr.tobytes()


def _payload_size(payload: _Payload) -> int:
    return len(payload) if isinstance(payload, bytes) else len(payload[0]) + payload[1].nbytes


class _PayloadReader:
    """A payload as the file object ``tarfile`` copies a member from, in chunks."""

    def __init__(self, payload: _Payload):
        if isinstance(payload, bytes):
            self.parts = [memoryview(payload)]
        else:
            header, arr = payload
            self.parts = [memoryview(header), memoryview(arr.reshape(-1).view(np.uint8))]
        self.part, self.pos = 0, 0

    def read(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n and self.part < len(self.parts):
            view = self.parts[self.part]
            take = view[self.pos:self.pos + n - len(out)]
            out += take
            self.pos += len(take)
            if self.pos == len(view):
                self.part, self.pos = self.part + 1, 0
        return bytes(out)


def _member_payloads(neff: Neff) -> dict[str, _Payload]:
    """Every archive member, by name: checked and encoded, the weights not yet copied."""
    members: dict[str, _Payload] = {"neff.json": _json_bytes(neff_json(neff), f"{neff.name}: neff.json")}
    for k, sg in enumerate(neff.subgraphs):
        d = subgraph_dir(k)
        for v in sg.variables:
            if v.dtype not in DTYPE_NAMES:
                raise NeffError(f"{neff.name}: variable '{v.name}' has dtype {v.dtype!r}; expected one of {DTYPE_NAMES}")
            if v.kind not in VARIABLE_KINDS:
                raise NeffError(f"{neff.name}: variable '{v.name}' has kind {v.kind!r}; expected one of {VARIABLE_KINDS}")
        members[f"{d}/def.json"] = _json_bytes(def_json(sg, neff.target_description), f"{neff.name}: {d}/def.json")
        for e in Engine:
            rec = sg.stream(e)
            if rec.dtype != INSTR_DTYPE:
                raise NeffError(f"{neff.name}: {d} {e.stream_name} stream is not an INSTR_DTYPE array")
            members[f"{d}/{_ENGINE_FILES[e]}"] = np.ascontiguousarray(rec).tobytes()
            if _has_sources(sg, e):
                ids = np.asarray(sg.stream_sources(e))
                if ids.shape != (len(rec),) or ((ids >= len(sg.sources)) & (ids != NO_SOURCE)).any():
                    raise NeffError(f"{neff.name}: {d} {e.stream_name} source indices do not match its records")
                members[f"{d}/{_SOURCE_FILES[e]}"] = ids.astype(SOURCE_DTYPE).tobytes()
        if len(sg.load_stream):
            members[f"{d}/{LOAD_FILE}"] = np.ascontiguousarray(sg.load_stream).tobytes()
        for i, fname in _file_names(sg.variables).items():
            members[f"{d}/{fname}"] = _npy_payload(sg.variables[i], f"{neff.name} {d}")
    return members


def archive_members(neff: Neff) -> dict[str, bytes]:
    """Every archive member, by name (what the writer puts in the tar)."""
    return {name: _payload_bytes(p) for name, p in _member_payloads(neff).items()}


class _DigestingWriter:
    """Writes through to ``out``, counting the bytes and hashing them (the header's size and sha256)."""

    def __init__(self, out: BinaryIO):
        self.out, self.size, self.sha = out, 0, hashlib.sha256()

    def write(self, data) -> int:
        self.out.write(data)
        self.sha.update(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass


def _write_tar(members: dict[str, _Payload], out: BinaryIO, compress: bool) -> None:
    """The archive (ustar, members sorted by name, nothing run-dependent), written to ``out``."""
    gz = None
    if compress:
        # filename="" and mtime=0 keep the gzip header free of anything run-dependent
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6)
    with tarfile.open(fileobj=gz or out, mode="w", format=tarfile.USTAR_FORMAT, copybufsize=_COPY_CHUNK) as tf:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = _payload_size(members[name])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tf.addfile(info, _PayloadReader(members[name]))
    if gz is not None:
        gz.close()


def _tar_bytes(members: dict[str, bytes], compress: bool) -> bytes:
    out = io.BytesIO()
    _write_tar(dict(members), out, compress)
    return out.getvalue()


def write_neff(neff: Neff, out: BinaryIO, *, compress: bool = False) -> None:
    """Serialise ``neff`` into the seekable ``out`` at its current position: header + the
    uncompressed "fast loading" tar by default (gzip buys 8% on trained FP32 weights, 20% on
    BF16, at 10-36 MB/s: see docs/neff-format.md), or tar.gz with ``compress=True``.
    Deterministic. The weights stream from their arrays into ``out``; the header (which
    holds the archive's size and hash) is written last, over a placeholder."""
    members = _member_payloads(neff)
    start = out.tell()
    out.write(bytes(HEADER_SIZE))
    archive = _DigestingWriter(out)
    _write_tar(members, archive, compress)
    end = out.tell()
    out.seek(start)
    out.write(_header(archive.sha.digest(), archive.size, neff.name, neff.version, neff.compiler_version,
                      neff.num_cores, neff.uuid))
    out.seek(end)


def write_neff_bytes(neff: Neff, *, compress: bool = False) -> bytes:
    """``write_neff`` into memory: the NEFF file's bytes."""
    out = io.BytesIO()
    write_neff(neff, out, compress=compress)
    return out.getvalue()


def header_bytes(
    archive: bytes, name: str, version: tuple[int, int], compiler_version: str, num_cores: int, uuid: bytes = b""
) -> bytes:
    """The 1024-byte header for ``archive`` (hash, sizes, versions; layout in docs/neff-format.md)."""
    return _header(hashlib.sha256(archive).digest(), len(archive), name, version, compiler_version, num_cores, uuid)


def _header(digest: bytes, size: int, name: str, version: tuple[int, int], compiler_version: str, num_cores: int,
            uuid: bytes = b"") -> bytes:
    """The header of an archive of ``size`` bytes whose sha256 is ``digest``."""
    if uuid and len(uuid) != 16:
        raise NeffError(f"{name}: uuid must be 16 bytes, got {len(uuid)}")
    for what, value, limit in (("major version", version[0], 2**32), ("minor version", version[1], 2**32),
                               ("core count", num_cores, 2**32)):
        if not 0 <= int(value) < limit:
            raise NeffError(f"{name}: {what} {value} does not fit the NEFF header")
    uuid = uuid or hashlib.sha256(b"kaena-neff-uuid" + digest).digest()[:16]
    return _HEADER.pack(
        PKG_VERSION,
        HEADER_SIZE,
        size,
        int(version[0]),
        int(version[1]),
        _fixed(compiler_version, 128),
        int(num_cores),
        digest,
        uuid,
        _fixed(name, 256),
        int(num_cores),
        bytes(64),
        0,
        0,
        bytes(468),
    )


def pack_members(members: dict[str, bytes], uuid: bytes = b"", source: str = "<members>") -> bytes:
    """A NEFF from archive members (as ``unpack`` wrote them): the header fields
    come from ``neff.json``. The result is only returned if the reader accepts it."""
    if "neff.json" not in members:
        raise NeffError(f"{source}: no neff.json; a NEFF directory holds neff.json and sgNN/ folders")
    top = _load_json(members, "neff.json", source)
    s = _Schema(source, "neff.json")
    ver = s.get(top, "version", dict)
    data = header_bytes(
        archive := _tar_bytes(members, compress=False),
        s.get(top, "name", str),
        (s.count(ver, "major", "version."), s.count(ver, "minor", "version.")),
        s.get(top, "compiler_version", str),
        s.count(top, "num_cores"),
        uuid,
    ) + archive
    read_neff_bytes(data, source)
    return data


def _cstr(raw: bytes, source: str, field: str) -> str:
    try:
        return raw.split(b"\0", 1)[0].decode("utf-8")
    except UnicodeDecodeError:
        raise NeffError(f"{source}: corrupt NEFF header: {field} is not UTF-8") from None


def read_header(data: bytes, source: str = "<bytes>") -> NeffHeader:
    """Decode and sanity-check the fixed header (sizes, packaging, version)."""
    if len(data) < HEADER_SIZE:
        raise NeffError(f"{source}: truncated NEFF: {len(data)} bytes, the header alone is {HEADER_SIZE}")
    (pkg, hsize, dsize, vmaj, vmin, build, num_tpb, digest, uuid, name, req, tpn, feat, lnc, pad) = (
        _HEADER.unpack_from(data, 0)
    )
    if pkg != PKG_VERSION or hsize != HEADER_SIZE:
        raise NeffError(
            f"{source}: not a Kaena NEFF (packaging version {pkg}, header size {hsize}; "
            f"expected {PKG_VERSION} and {HEADER_SIZE})"
        )
    header = NeffHeader(
        pkg, hsize, dsize, (vmaj, vmin), _cstr(build, source, "build version"), num_tpb, digest, uuid,
        _cstr(name, source, "name"), req, feat,
    )
    if vmaj != NEFF_VERSION[0]:
        raise NeffError(
            f"{source}: NEFF version mismatch supported: {NEFF_VERSION[0]}.{NEFF_VERSION[1]} received: "
            f"{vmaj}.{vmin} (built by '{header.compiler_version}'); recompile the model with this Kaena"
        )
    if feat != 0:
        raise NeffError(f"{source}: NEFF uses feature bits {feat:#x} this Kaena does not know; recompile the model with this Kaena")
    max_cores = _loosest().max_cores  # neff.json's target bounds it again
    if not 1 <= num_tpb <= max_cores:
        raise NeffError(f"{source}: corrupt NEFF header: num_tpb {num_tpb} is not between 1 and {max_cores}")
    if req != num_tpb:
        raise NeffError(f"{source}: corrupt NEFF header: requested_tpb_count {req} differs from num_tpb {num_tpb}")
    # fields this minor leaves zero; a later minor may use them for optional content
    if vmin <= NEFF_VERSION[1] and (tpn.strip(b"\0") or lnc or pad.strip(b"\0")):
        raise NeffError(f"{source}: corrupt NEFF header: reserved bytes (tpb_per_node, lnc_size, pad) are not zero")
    actual = len(data) - HEADER_SIZE
    if dsize > actual:
        raise NeffError(f"{source}: truncated NEFF: header announces {dsize} archive bytes, file has {actual}")
    if dsize < actual:
        raise NeffError(f"{source}: corrupt NEFF: {actual - dsize} unexpected bytes after the archive")
    return header


def archive_budget(num_tpb: int, limits: Limits | None = None) -> int:
    """Most bytes the archive of a ``num_tpb``-core NEFF may hold uncompressed:
    the cores' device DRAM plus the JSON members (before the target is known:
    the largest of every known target's)."""
    per_core = (limits or _loosest()).dram_bytes_per_core
    return per_core * num_tpb + MAX_JSON_BYTES * (1 + num_tpb)


def read_file_bytes(path: str) -> bytes:
    """The bytes of a NEFF file: a regular file no larger than any NEFF can be
    (never a device or FIFO, which could be endless)."""
    try:
        st = os.stat(path)  # before open: opening a FIFO would block
        if stat.S_ISDIR(st.st_mode):
            raise NeffError(f"{path}: is a directory, not a NEFF file")
        if not stat.S_ISREG(st.st_mode):
            raise NeffError(f"{path}: not a regular file; a NEFF is a file written by kaena-compile")
        limit = HEADER_SIZE + archive_budget(_loosest().max_cores)
        if st.st_size > limit:
            raise NeffError(f"{path}: {st.st_size} bytes is larger than any NEFF ({limit}); not a NEFF")
        with open(path, "rb") as f:
            data = f.read(st.st_size + 1)
        if len(data) > st.st_size:
            raise NeffError(f"{path}: the file grew while it was read; retry when it is complete")
        return data
    except FileNotFoundError:
        raise NeffError(f"{path}: NEFF file not found") from None
    except IsADirectoryError:
        raise NeffError(f"{path}: is a directory, not a NEFF file") from None
    except OSError as e:
        raise NeffError(f"{path}: cannot read NEFF file ({e.strerror})") from None


def read_neff_file(path: str) -> Neff:
    return read_neff_bytes(read_file_bytes(path), path)


def read_neff_bytes(data: bytes, source: str = "<bytes>") -> Neff:
    return read_neff_parts(data, source)[2]


def read_neff_parts(data: bytes, source: str = "<bytes>") -> tuple[NeffHeader, dict[str, bytes], Neff]:
    """Validate and decode everything: (header, archive members by name, Neff)."""
    header = read_header(data, source)
    archive = memoryview(data)[HEADER_SIZE:]
    if hashlib.sha256(archive).digest() != header.sha256:
        raise NeffError(f"{source}: corrupt NEFF: sha256 of the archive does not match the header (hash mismatch)")
    members = _read_members(bytes(archive), source, header)
    return header, members, _build(members, header, source)


def _gunzip(archive: bytes, limit: int, source: str) -> bytes:
    """Decompress a gzip stream, refusing (before allocating it) more than ``limit`` bytes."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(archive, limit + 1)
    except zlib.error as e:
        raise NeffError(f"{source}: malformed NEFF archive (gzip: {e})") from None
    if len(out) > limit:
        raise NeffError(f"{source}: malformed NEFF archive: it decompresses to more than {limit} bytes")
    if not d.eof:
        raise NeffError(f"{source}: truncated NEFF archive: the gzip stream ends early")
    if d.unused_data:
        raise NeffError(f"{source}: malformed NEFF archive: {len(d.unused_data)} bytes after the gzip stream")
    return out


def _read_members(archive: bytes, source: str, header: NeffHeader) -> dict[str, bytes]:
    budget = archive_budget(header.num_tpb)
    if archive[:2] == b"\x1f\x8b":
        archive = _gunzip(archive, budget + 2 * MIB, source)  # + tar headers
    members: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tf:
            for info in tf:
                name = info.name
                if info.pax_headers or info.type in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK):
                    raise NeffError(f"{source}: malformed archive member '{name}': only plain ustar entries allowed")
                if not info.isreg():
                    kind = "directory" if info.isdir() else "link or device"
                    raise NeffError(f"{source}: malformed archive member '{name}': a {kind}, only regular files allowed")
                if not _MEMBER_RE.match(name) or ".." in name.split("/"):
                    raise NeffError(f"{source}: malformed archive member '{name}': name not allowed in a NEFF")
                if name in members:
                    raise NeffError(f"{source}: malformed archive: member '{name}' appears twice")
                limit = MAX_JSON_BYTES if name.endswith(".json") else budget
                total += info.size
                if info.size > limit or total > budget:
                    raise NeffError(f"{source}: malformed archive member '{name}': {info.size} bytes exceeds the limit")
                f = tf.extractfile(info)
                content = f.read(info.size) if f is not None else b""
                if len(content) != info.size:
                    raise NeffError(f"{source}: truncated archive member '{name}'")
                members[name] = content
    except NeffError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError, ValueError, UnicodeError) as e:
        raise NeffError(f"{source}: malformed NEFF archive ({type(e).__name__}: {e})") from None
    if "neff.json" not in members and not members:
        raise NeffError(f"{source}: malformed NEFF archive: it holds no members")
    return members


class _Schema:
    """Tiny JSON schema checks that name the member and the offending key."""

    def __init__(self, source: str, member: str, limits: Limits | None = None):
        self.where = f"{source}: malformed member {member}"
        self.limits = limits or _DEFAULT_LIMITS

    def fail(self, msg: str) -> NeffError:
        return NeffError(f"{self.where}: {msg}")

    def get(self, obj: Any, key: str, typ: type | tuple[type, ...], ctx: str = "") -> Any:
        if not isinstance(obj, dict) or key not in obj:
            raise self.fail(f"missing key '{ctx}{key}'")
        val = obj[key]
        if isinstance(val, bool) and typ in (int, (int,)):
            raise self.fail(f"'{ctx}{key}' must be {getattr(typ, '__name__', typ)}")
        if not isinstance(val, typ):
            name = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
            raise self.fail(f"'{ctx}{key}' must be {name}")
        return val

    def count(self, obj: Any, key: str, ctx: str = "", low: int = 0, high: int | None = None) -> int:
        val = self.get(obj, key, int, ctx)
        if val < low or (high is not None and val > high):
            raise self.fail(f"'{ctx}{key}' = {val} out of range")
        return val

    def shape(self, obj: Any, ctx: str) -> tuple[int, ...]:
        shape = self.get(obj, "shape", list, ctx)
        if len(shape) > 8 or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape):
            raise self.fail(f"'{ctx}shape' must be a list of at most 8 positive integers")
        if int(np.prod(shape, dtype=np.float64)) > self.limits.max_tensor_elements:
            raise self.fail(f"'{ctx}shape' {shape} is too large")
        return tuple(shape)

    def dtype(self, obj: Any, ctx: str) -> str:
        dt = self.get(obj, "dtype", str, ctx)
        if dt not in DTYPE_NAMES:
            raise self.fail(f"'{ctx}dtype' {dt!r} is not one of {', '.join(DTYPE_NAMES)}")
        return dt


def _load_json(members: dict[str, bytes], name: str, source: str) -> Any:
    if name not in members:
        raise NeffError(f"{source}: malformed NEFF: archive has no member {name}")
    try:
        return json.loads(members[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise NeffError(f"{source}: malformed member {name}: not valid JSON ({e})") from None


def _build(members: dict[str, bytes], header: NeffHeader, source: str) -> Neff:
    top = _load_json(members, "neff.json", source)
    s = _Schema(source, "neff.json")
    if s.get(top, "format", str) != FORMAT_TAG:
        raise s.fail(f"'format' is not '{FORMAT_TAG}'")
    name = s.get(top, "name", str)
    ver = s.get(top, "version", dict)
    version = (s.count(ver, "major", "version."), s.count(ver, "minor", "version."))
    if version != header.version:
        raise s.fail(f"version {version[0]}.{version[1]} differs from the header's {header.version[0]}.{header.version[1]}")
    compiler_version = s.get(top, "compiler_version", str)
    target_name = DEFAULT_TARGET  # NEFFs before 1.2 declare none: they were built for inf1
    if "target" in top:
        target_name = s.get(top, "target", str)
        if target_name not in TARGETS:
            raise s.fail(f"'target' {target_name!r} is not a known target ({', '.join(sorted(TARGETS))})")
    limits = limits_of(target_name)
    s.limits = limits
    if _cstr(_fixed(name, 256), source, "name") != header.name:
        raise NeffError(f"{source}: corrupt NEFF header: name '{header.name}' differs from neff.json's '{name}'")
    if _cstr(_fixed(compiler_version, 128), source, "build version") != header.compiler_version:
        raise NeffError(
            f"{source}: corrupt NEFF header: build version '{header.compiler_version}' differs from "
            f"neff.json's '{compiler_version}'"
        )
    execution = s.get(top, "execution", str)
    if execution not in ("serial", "pipeline") or (execution == "pipeline" and version < PIPELINE_VERSION):
        raise s.fail("'execution' must be 'serial' (or 'pipeline' from format 1.3)")
    num_cores = s.count(top, "num_cores", low=1, high=limits.max_cores)
    if num_cores != header.num_tpb:
        raise s.fail(f"num_cores {num_cores} differs from the header's num_tpb {header.num_tpb}")
    specs: dict[str, list[TensorSpec]] = {}
    for key in ("inputs", "outputs"):
        specs[key] = []
        for i, t in enumerate(s.get(top, key, list)):
            ctx = f"{key}[{i}]."
            specs[key].append(_spec(s, t, ctx, key == "inputs"))
        names = [t.name for t in specs[key]]
        if len(set(names)) != len(names):
            raise s.fail(f"duplicate names in '{key}'")
    metadata = s.get(top, "metadata", dict)
    sg_entries = s.get(top, "subgraphs", list)
    if len(sg_entries) != num_cores:
        raise s.fail(f"{len(sg_entries)} subgraphs for num_cores {num_cores}")
    subgraphs = []
    for k, entry in enumerate(sg_entries):
        d = subgraph_dir(k)
        if s.get(entry, "dir", str, f"subgraphs[{k}].") != d:
            raise s.fail(f"subgraphs[{k}].dir must be '{d}'")
        subgraphs.append(_build_subgraph(members, d, k, source, limits))
        if execution == "pipeline":
            chip = s.count(entry, "chip", f"subgraphs[{k}].", high=limits.max_cores)
            if chip != k // limits.target.cores_per_chip:
                raise s.fail(f"subgraphs[{k}].chip must be {k // limits.target.cores_per_chip}")
            subgraphs[-1].chip = chip
    neff = Neff(
        execution=execution,
        name=name, inputs=specs["inputs"], outputs=specs["outputs"], subgraphs=subgraphs,
        compiler_version=compiler_version, version=version, metadata=metadata, uuid=header.uuid,
        target=target_name,
    )
    # the connection table must be what the variables imply
    for k, src in enumerate(subgraph_sources(neff)):
        entry = sg_entries[k]
        listed = {}
        for j, inp in enumerate(s.get(entry, "inputs", list, f"subgraphs[{k}].")):
            ctx = f"subgraphs[{k}].inputs[{j}]."
            listed[s.get(inp, "name", str, ctx)] = s.get(inp, "from", str, ctx)
        if listed != src:
            raise s.fail(f"subgraphs[{k}].inputs do not match the input variables of {subgraph_dir(k)}/def.json")
        outs = s.get(entry, "outputs", list, f"subgraphs[{k}].")
        if outs != [v.name for v in subgraphs[k].variables if v.kind == "output"]:
            raise s.fail(f"subgraphs[{k}].outputs do not match the output variables of {subgraph_dir(k)}/def.json")
    _check_io(neff, s)
    dirs = {subgraph_dir(k) for k in range(num_cores)}
    extra = sorted(m for m in members if m != "neff.json" and m.split("/")[0] not in dirs)
    if extra:
        raise NeffError(f"{source}: malformed archive: unexpected member '{extra[0]}'")
    return neff


def _spec(s: "_Schema", t: Any, ctx: str, is_input: bool) -> TensorSpec:
    """One model input/output: float32 or int32; an int32 input may declare its valid range."""
    dtype = s.dtype(t, ctx)
    valid_range = None
    if "valid_range" in t:
        vr = t["valid_range"]
        if not (is_input and dtype == "int32"):
            raise s.fail(f"'{ctx}valid_range' is only allowed on an int32 input")
        if (not isinstance(vr, list) or len(vr) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in vr)
                or not _INT32_LIMITS[0] <= vr[0] < vr[1] <= _INT32_LIMITS[1] + 1):
            raise s.fail(f"'{ctx}valid_range' must be [lo, hi] with int32 lo < hi")
        valid_range = (vr[0], vr[1])
    return TensorSpec(s.get(t, "name", str, ctx), s.shape(t, ctx), dtype, valid_range)


def _check_io(neff: Neff, s: _Schema) -> None:
    """Model inputs/outputs hold exactly the bytes of the variables they feed or
    come from, so a runtime never copies more (or less) than the file declares."""
    consumed: dict[str, Variable] = {}
    produced: dict[str, Variable] = {}
    for k, (sg, src) in enumerate(zip(neff.subgraphs, subgraph_sources(neff))):
        for v in sg.variables:
            if v.kind == "input" and src.get(v.name) == "model":
                consumed.setdefault(v.name, v)
            elif v.kind == "output":
                produced[v.name] = v
    specs = {t.name: t for t in neff.inputs}
    for name, v in consumed.items():
        t = specs.get(name)
        if t is None:
            raise s.fail(f"input variable '{name}' is neither a model input nor an earlier subgraph's output")
        if _spec_nbytes(t) != v.nbytes:
            raise s.fail(f"model input '{name}' {list(t.shape)} {t.dtype} does not match its variable {list(v.shape)} {v.dtype}")
    for t in neff.outputs:
        v = produced.get(t.name)
        if v is None:
            raise s.fail(f"model output '{t.name}' is not an output variable of any subgraph")
        if int(np.prod(t.shape, dtype=np.int64)) != int(np.prod(v.shape, dtype=np.int64)):
            raise s.fail(f"model output '{t.name}' {list(t.shape)} does not match its variable {list(v.shape)}")


def _spec_nbytes(t: TensorSpec) -> int:
    return int(np.prod(t.shape, dtype=np.int64)) * np_dtype(t.dtype).itemsize


def _build_subgraph(members: dict[str, bytes], d: str, k: int, source: str, limits: Limits) -> Subgraph:
    member = f"{d}/def.json"
    dj = _load_json(members, member, source)
    s = _Schema(source, member, limits)
    target = limits.target
    if s.count(dj, "core") != k:
        raise s.fail(f"'core' must be {k}")
    if s.count(dj, "record_size") != INSTR_DTYPE.itemsize:
        raise s.fail(f"'record_size' must be {INSTR_DTYPE.itemsize}")
    queues = s.get(dj, "dma_queues", list)
    if not 1 <= len(queues) <= target.dma_queues_per_core:
        raise s.fail(f"'dma_queues' must list 1 to {target.dma_queues_per_core} queue(s)")
    for i, q in enumerate(queues):
        s.get(q, "name", str, f"dma_queues[{i}].")
        if s.get(q, "engine", str, f"dma_queues[{i}].") != Engine.DMA.stream_name:
            raise s.fail(f"dma_queues[{i}].engine must be '{Engine.DMA.stream_name}'")
    variables: list[Variable] = []
    expected_files: set[str] = set()
    for i, vj in enumerate(s.get(dj, "variables", list)):
        ctx = f"variables[{i}]."
        if s.count(vj, "index", ctx) != i:
            raise s.fail(f"'{ctx}index' must be {i}")
        kind = s.get(vj, "kind", str, ctx)
        if kind not in VARIABLE_KINDS:
            raise s.fail(f"'{ctx}kind' {kind!r} is not one of {', '.join(VARIABLE_KINDS)}")
        v = Variable(s.get(vj, "name", str, ctx), kind, s.shape(vj, ctx), s.dtype(vj, ctx))
        if kind == "file":
            fname = s.get(vj, "file", str, ctx)
            path = f"{d}/{fname}"
            if not fname.endswith(".npy") or not _MEMBER_RE.match(path) or path not in members:
                raise s.fail(f"'{ctx}file' {fname!r} is not a .npy member of {d}")
            if path in expected_files:
                raise s.fail(f"'{ctx}file' {fname!r} is used twice")
            expected_files.add(path)
            v.data = _load_npy(members[path], v, source, path)
        elif "file" in vj:
            raise s.fail(f"'{ctx}file' is only allowed on file variables")
        variables.append(v)
    dram = sum(v.nbytes for v in variables if v.kind != "state-buffer")
    if dram > limits.dram_bytes_per_core:
        raise s.fail(f"its DRAM variables need {dram} bytes, more than a core's {limits.dram_bytes_per_core}")
    sg = Subgraph(core=k, variables=variables)
    sg.sbuf_peak_bytes = s.count(dj, "sbuf_peak_bytes", high=target.sbuf_bytes)
    sg.psum_peak_bytes = s.count(dj, "psum_peak_bytes", high=target.partitions * target.psum_bytes_per_partition)
    sg.sources = _sources(dj, s)
    source_members: set[str] = set()
    engines = s.get(dj, "engines", dict)
    if set(engines) != {e.stream_name for e in Engine}:
        raise s.fail(f"'engines' must name exactly {', '.join(e.stream_name for e in Engine)}")
    for e in Engine:
        ctx = f"engines.{e.stream_name}."
        ej = engines[e.stream_name]
        if s.get(ej, "file", str, ctx) != _ENGINE_FILES[e]:
            raise s.fail(f"'{ctx}file' must be '{_ENGINE_FILES[e]}'")
        n = s.count(ej, "records", ctx)
        path = f"{d}/{_ENGINE_FILES[e]}"
        raw = members.get(path)
        if raw is None:
            raise NeffError(f"{source}: malformed NEFF: archive has no member {path}")
        if len(raw) % INSTR_DTYPE.itemsize:
            raise NeffError(
                f"{source}: malformed member {path}: {len(raw)} bytes is not a multiple of the "
                f"{INSTR_DTYPE.itemsize}-byte record"
            )
        rec = np.frombuffer(raw, dtype=INSTR_DTYPE).copy()
        if len(rec) != n:
            raise NeffError(f"{source}: malformed member {path}: {len(rec)} records, def.json says {n}")
        bad = stream_errors(rec, e, len(variables), target.semaphores_per_core, limits.max_ap_bytes,
                            limits.dram_bytes_per_core)
        if bad is not None:
            raise NeffError(f"{source}: malformed member {path}: record {bad[0]}: {bad[1]}")
        if n:
            sg.streams[e] = rec
        ids = _source_ids(members, d, e, ej, n, len(sg.sources), s, source)
        if ids is not None:
            sg.source_ids[e] = ids
            source_members.add(f"{d}/{_SOURCE_FILES[e]}")
    if "load" in dj:
        lj = s.get(dj, "load", dict)
        if s.get(lj, "file", str, "load.") != LOAD_FILE:
            raise s.fail(f"'load.file' must be '{LOAD_FILE}'")
        n = s.count(lj, "records", "load.")
        path = f"{d}/{LOAD_FILE}"
        raw = members.get(path)
        if raw is None or len(raw) != n * INSTR_DTYPE.itemsize:
            raise NeffError(f"{source}: malformed NEFF: {path} does not hold the {n} records def.json announces")
        rec = np.frombuffer(raw, dtype=INSTR_DTYPE).copy()
        bad = stream_errors(rec, Engine.DMA, len(variables), target.semaphores_per_core, limits.max_ap_bytes,
                            limits.dram_bytes_per_core)
        if bad is None and len(rec) and (rec["opcode"] != Opcode.DMA).any():
            bad = (int(np.flatnonzero(rec["opcode"] != Opcode.DMA)[0]), "a load-time program holds DMA records only")
        if bad is not None:
            raise NeffError(f"{source}: malformed member {path}: record {bad[0]}: {bad[1]}")
        sg.load_stream = rec
        source_members.add(path)
    expected = expected_files | source_members | {member} | {f"{d}/{f}" for f in _ENGINE_FILES.values()}
    extra = sorted(m for m in members if m.startswith(d + "/") and m not in expected)
    if extra:
        raise NeffError(f"{source}: malformed archive: member '{extra[0]}' is not referenced by {member}")
    return sg


def _sources(dj: dict, s: _Schema) -> list[tuple[str, ...]]:
    """def.json's source table (absent before NEFF 1.2): distinct entries, each a
    non-empty list of distinct node names of 1 to MAX_SOURCE_NAME characters."""
    if "sources" not in dj:
        return []
    table: list[tuple[str, ...]] = []
    for i, names in enumerate(s.get(dj, "sources", list)):
        if (not isinstance(names, list) or not names or len(set(map(str, names))) != len(names)
                or not all(isinstance(n, str) and 1 <= len(n) <= MAX_SOURCE_NAME for n in names)):
            raise s.fail(f"'sources[{i}]' must be a list of distinct node names of 1 to {MAX_SOURCE_NAME} characters")
        table.append(tuple(names))
    if len(set(table)) != len(table):
        raise s.fail("'sources' lists an entry twice")
    return table


def _source_ids(members: dict[str, bytes], d: str, e: Engine, ej: dict, n: int, num_sources: int,
                s: _Schema, source: str) -> np.ndarray | None:
    """The stream's per-record source indices: a member exactly when the subgraph has
    sources and the stream has records, one uint32 per record, each in the table or NO_SOURCE."""
    ctx = f"engines.{e.stream_name}."
    want = num_sources > 0 and n > 0
    if "source_file" not in ej:
        if want:
            raise s.fail(f"missing key '{ctx}source_file' (the subgraph has sources)")
        return None
    if not want:
        raise s.fail(f"'{ctx}source_file' is only allowed on a stream with records when 'sources' is not empty")
    if s.get(ej, "source_file", str, ctx) != _SOURCE_FILES[e]:
        raise s.fail(f"'{ctx}source_file' must be '{_SOURCE_FILES[e]}'")
    path = f"{d}/{_SOURCE_FILES[e]}"
    raw = members.get(path)
    if raw is None:
        raise NeffError(f"{source}: malformed NEFF: archive has no member {path}")
    if len(raw) != n * SOURCE_DTYPE.itemsize:
        raise NeffError(f"{source}: malformed member {path}: {len(raw)} bytes, {n} records need {n * SOURCE_DTYPE.itemsize}")
    ids = np.frombuffer(raw, dtype=SOURCE_DTYPE).copy()
    bad = np.flatnonzero((ids >= num_sources) & (ids != NO_SOURCE))
    if len(bad):
        raise NeffError(
            f"{source}: malformed member {path}: record {int(bad[0])}: source index {int(ids[bad[0]])} out of range "
            f"({num_sources} sources)"
        )
    return ids


_NPY_MAGIC = b"\x93NUMPY\x01\x00"
_NPY_HEADER_RE = re.compile(
    r"\{'descr': *'([<>|=][a-zA-Z][0-9]{0,2})', *'fortran_order': *(False|True), *"
    r"'shape': *\(((?:[0-9]{1,12}, *)*(?:[0-9]{1,12})?)\), *\} *\n"
)


def _npy_header(raw: bytes, where: str) -> tuple[str, bool, tuple[int, ...], int]:
    """(descr, fortran_order, shape, data offset) of a .npy format 1.0 member,
    parsed strictly with a regular expression (never evaluated as Python)."""
    if len(raw) < 10 or raw[:8] != _NPY_MAGIC:
        raise NeffError(f"{where}: not a readable .npy (expected the format 1.0 magic \\x93NUMPY\\x01\\x00)")
    hlen = struct.unpack_from("<H", raw, 8)[0]
    if 10 + hlen > len(raw):
        raise NeffError(f"{where}: not a readable .npy (truncated header)")
    try:
        text = raw[10 : 10 + hlen].decode("ascii")
    except UnicodeDecodeError:
        raise NeffError(f"{where}: not a readable .npy (header is not ASCII)") from None
    m = _NPY_HEADER_RE.fullmatch(text.rstrip(" \n") + "\n")
    if m is None:
        raise NeffError(f"{where}: not a readable .npy (header {text.strip()[:60]!r}... is not a plain array header)")
    shape = tuple(int(d) for d in m.group(3).replace(" ", "").split(",") if d)
    return m.group(1), m.group(2) == "True", shape, 10 + hlen


def _load_npy(raw: bytes, v: Variable, source: str, path: str) -> np.ndarray:
    """Decode a .npy member after checking its header against the variable and
    its length against the data, so nothing is allocated on the header's word."""
    want = _NPY_STORAGE[v.dtype]
    where = f"{source}: malformed member {path}"
    descr, fortran, shape, start = _npy_header(raw, where)
    if "O" in descr:
        raise NeffError(f"{where}: not a readable .npy (it holds pickled Python objects; a NEFF never runs them)")
    if fortran or descr != want.str or shape != tuple(v.shape):
        order = " (Fortran order)" if fortran else ""
        raise NeffError(f"{where}: holds {descr} {shape}{order}, def.json declares {want.str} {tuple(v.shape)}")
    data = raw[start:]
    if len(data) != v.nbytes:
        raise NeffError(f"{where}: {len(data)} data bytes, {want.str} {tuple(v.shape)} needs {v.nbytes}")
    arr = np.frombuffer(data, dtype=want).reshape(v.shape).copy()
    return arr.view(np_dtype("bfloat16")) if v.dtype == "bfloat16" else arr
