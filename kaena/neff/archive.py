"""The NEFF's bytes below the schema: the header (packed and checked), the ustar/tar.gz
archive (written deterministically, weights streamed from their arrays; read with
every member bounded before it is allocated) and the ``.npy`` members."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import stat
import struct
import tarfile
import zlib
from typing import BinaryIO

import numpy as np

from kaena.errors import NeffError
from kaena.neff.layout import (
    HEADER_SIZE,
    HEADER_STRUCT,
    MAX_JSON_BYTES,
    MEMBER_NAME_RE,
    NPY_STORAGE,
    PKG_VERSION,
    Limits,
    NeffHeader,
    c_string,
    fixed_field,
    loosest_limits,
    np_dtype,
)
from kaena.neff.model import NEFF_VERSION, Variable
from kaena.target import MIB

# A member's contents: bytes, or (the .npy header, the array) whose data is written
# straight from the array, so a NEFF's weights are never copied into one archive in memory.
Payload = bytes | tuple[bytes, np.ndarray]
# Bytes per write when copying an array into the archive.
_COPY_CHUNK = 1 << 20


def npy_payload(v: Variable, where: str) -> tuple[bytes, np.ndarray]:
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
    storage = NPY_STORAGE[v.dtype]
    arr = arr.view(storage) if v.dtype == "bfloat16" else arr.astype(storage, copy=False)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(arr))
    return header.getvalue(), arr


def payload_bytes(payload: Payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    header, arr = payload
    return header + arr.tobytes()


def _payload_size(payload: Payload) -> int:
    return len(payload) if isinstance(payload, bytes) else len(payload[0]) + payload[1].nbytes


class _PayloadReader:
    """A payload as the file object ``tarfile`` copies a member from, in chunks."""

    def __init__(self, payload: Payload):
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


class DigestingWriter:
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


def write_tar(members: dict[str, Payload], out: BinaryIO, compress: bool) -> None:
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


def tar_bytes(members: dict[str, bytes], compress: bool) -> bytes:
    out = io.BytesIO()
    write_tar(dict(members), out, compress)
    return out.getvalue()


def header_bytes(
    archive: bytes, name: str, version: tuple[int, int], compiler_version: str, num_cores: int, uuid: bytes = b""
) -> bytes:
    """The 1024-byte header for ``archive`` (hash, sizes, versions; layout in docs/neff-format.md)."""
    return header_for(hashlib.sha256(archive).digest(), len(archive), name, version, compiler_version, num_cores, uuid)


def header_for(digest: bytes, size: int, name: str, version: tuple[int, int], compiler_version: str, num_cores: int,
            uuid: bytes = b"") -> bytes:
    """The header of an archive of ``size`` bytes whose sha256 is ``digest``."""
    if uuid and len(uuid) != 16:
        raise NeffError(f"{name}: uuid must be 16 bytes, got {len(uuid)}")
    for what, value, limit in (("major version", version[0], 2**32), ("minor version", version[1], 2**32),
                               ("core count", num_cores, 2**32)):
        if not 0 <= int(value) < limit:
            raise NeffError(f"{name}: {what} {value} does not fit the NEFF header")
    uuid = uuid or hashlib.sha256(b"kaena-neff-uuid" + digest).digest()[:16]
    return HEADER_STRUCT.pack(
        PKG_VERSION,
        HEADER_SIZE,
        size,
        int(version[0]),
        int(version[1]),
        fixed_field(compiler_version, 128),
        int(num_cores),
        digest,
        uuid,
        fixed_field(name, 256),
        int(num_cores),
        bytes(64),
        0,
        0,
        bytes(468),
    )


def read_header(data: bytes, source: str = "<bytes>") -> NeffHeader:
    """Decode and sanity-check the fixed header (sizes, packaging, version)."""
    if len(data) < HEADER_SIZE:
        raise NeffError(f"{source}: truncated NEFF: {len(data)} bytes, the header alone is {HEADER_SIZE}")
    (pkg, hsize, dsize, vmaj, vmin, build, num_tpb, digest, uuid, name, req, tpn, feat, lnc, pad) = (
        HEADER_STRUCT.unpack_from(data, 0)
    )
    if pkg != PKG_VERSION or hsize != HEADER_SIZE:
        raise NeffError(
            f"{source}: not a Kaena NEFF (packaging version {pkg}, header size {hsize}; "
            f"expected {PKG_VERSION} and {HEADER_SIZE})"
        )
    header = NeffHeader(
        pkg, hsize, dsize, (vmaj, vmin), c_string(build, source, "build version"), num_tpb, digest, uuid,
        c_string(name, source, "name"), req, feat,
    )
    if vmaj != NEFF_VERSION[0]:
        raise NeffError(
            f"{source}: NEFF version mismatch supported: {NEFF_VERSION[0]}.{NEFF_VERSION[1]} received: "
            f"{vmaj}.{vmin} (built by '{header.compiler_version}'); recompile the model with this Kaena"
        )
    if feat != 0:
        raise NeffError(f"{source}: NEFF uses feature bits {feat:#x} this Kaena does not know; recompile the model with this Kaena")
    max_cores = loosest_limits().max_cores  # neff.json's target bounds it again
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
    per_core = (limits or loosest_limits()).dram_bytes_per_core
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
        limit = HEADER_SIZE + archive_budget(loosest_limits().max_cores)
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


def gunzip(archive: bytes, limit: int, source: str) -> bytes:
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


def read_members(archive: bytes, source: str, header: NeffHeader) -> dict[str, bytes]:
    budget = archive_budget(header.num_tpb)
    if archive[:2] == b"\x1f\x8b":
        archive = gunzip(archive, budget + 2 * MIB, source)  # + tar headers
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
                if not MEMBER_NAME_RE.match(name) or ".." in name.split("/"):
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


def load_npy(raw: bytes, v: Variable, source: str, path: str) -> np.ndarray:
    """Decode a .npy member after checking its header against the variable and
    its length against the data, so nothing is allocated on the header's word."""
    want = NPY_STORAGE[v.dtype]
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
