"""MXNet's NDArray list format (``*-NNNN.params``, ``mx.nd.save``), read natively.

The layout (docs/mxnet-format.md), all little-endian: u64 magic 0x112, u64
reserved, u64 array count, that many arrays, u64 name count (0 or the array
count), that many names (u64 length + UTF-8 bytes). An array starts with a u32
magic: V2 (0xF993FAC9) and V3 (0xF993FACA, numpy shape semantics) carry an i32
storage type, V1 (0xF993FAC8) does not, and anything else is a legacy array whose
magic is its ndim. Then the shape (i32 ndim + i64 dims; legacy: u32 dims), and
unless the shape is empty (a "none" array) the context (i32 device type, i32
device id), an i32 dtype flag and the raw row-major data. Every length and offset
is checked against the file before it is used, so a corrupt file gives one clear
``ModelImportError`` and never a crash or a huge allocation.
"""

from __future__ import annotations

import math
import os
import struct

import numpy as np

from kaena.errors import ModelImportError

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA

# mshadow type flags -> numpy dtypes (12 is bfloat16: read as its raw bits, widened below).
DTYPES = {0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32, 5: np.int8,
          6: np.int64, 7: np.bool_, 8: np.int16, 9: np.uint16, 10: np.uint32, 11: np.uint64}
BFLOAT16 = 12
STORAGE_TYPES = {0: "default", 1: "row_sparse", 2: "csr"}
MAX_NDIM = 32


class _Reader:
    """Bounds-checked little-endian reads from a bytes buffer."""

    def __init__(self, data: bytes, source: str):
        self.data = data
        self.source = source
        self.pos = 0

    def fail(self, why: str) -> ModelImportError:
        return ModelImportError(
            f"{self.source}: not a valid MXNet .params file ({why} at byte {self.pos}); "
            "re-export the model with HybridBlock.export() or check the file is complete"
        )

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"{what} needs {n} bytes, {len(self.data) - self.pos} left")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def u64(self, what: str) -> int:
        return self.unpack("Q", what)[0]

    def count(self, what: str, min_item_bytes: int) -> int:
        """A u64 element count that the rest of the file can hold."""
        n = self.u64(what)
        if n * min_item_bytes > len(self.data) - self.pos:
            raise self.fail(f"{what} {n} exceeds what the file can hold")
        return n


def _shape(r: _Reader, legacy_ndim: int | None, numpy_semantics: bool = False) -> tuple[int, ...] | None:
    """The shape, or None for a "none" array: an empty shape, or in numpy semantics (V3)
    an unknown one (ndim -1 or a dim -1), where ndim 0 is a scalar."""
    if legacy_ndim is None:
        (ndim,) = r.unpack("i", "shape ndim")
        if ndim == -1 and numpy_semantics:
            return None
        if not 0 <= ndim <= MAX_NDIM:
            raise r.fail(f"shape ndim {ndim} is out of range")
        dims = r.unpack(f"{ndim}q", "shape dims")
    else:
        dims = r.unpack(f"{legacy_ndim}I", "legacy shape dims")
    if numpy_semantics and -1 in dims:
        return None
    if any(d < 0 for d in dims):
        raise r.fail(f"shape {list(dims)} has a negative dimension")
    # even with a zero dim, numpy refuses shapes whose other dims overflow: the file bounds them
    if math.prod(max(d, 1) for d in dims) > len(r.data):
        raise r.fail(f"shape {list(dims)} holds more elements than the file has bytes")
    if not dims and not numpy_semantics:
        return None
    return tuple(dims)


def _array(r: _Reader, index: int) -> np.ndarray | None:
    """One NDArray; None for a "none" (empty-shape) array."""
    start = r.pos
    (magic,) = r.unpack("I", f"array {index} magic")
    if magic in (V2_MAGIC, V3_MAGIC):
        (stype,) = r.unpack("i", f"array {index} storage type")
        if stype != 0:
            r.pos = start
            what = STORAGE_TYPES.get(stype, f"unknown storage type {stype}")
            raise r.fail(f"array {index} is {what}; Kaena reads dense arrays only: save it with "
                         "tostype('default')")
        shape = _shape(r, None, numpy_semantics=magic == V3_MAGIC)
    elif magic == V1_MAGIC:
        shape = _shape(r, None)
    else:
        if magic > MAX_NDIM:
            r.pos = start
            raise r.fail(f"array {index} has an unknown magic 0x{magic:08X}")
        shape = _shape(r, magic)
    if shape is None:
        return None
    r.unpack("ii", f"array {index} context")
    (flag,) = r.unpack("i", f"array {index} dtype")
    if flag == BFLOAT16:
        dtype = np.dtype(np.uint16)
    elif flag in DTYPES:
        dtype = np.dtype(DTYPES[flag])
    else:
        raise r.fail(f"array {index} has an unknown dtype flag {flag}")
    size = math.prod(shape)
    raw = r.take(size * dtype.itemsize, f"array {index} data ({list(shape)} x {dtype})")
    array = np.frombuffer(raw, dtype.newbyteorder("<")).reshape(shape)
    if flag == BFLOAT16:  # widen: a bf16 is the top half of a float32
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(array.dtype.newbyteorder("="))


def parse_params(data: bytes, source: str = "<params>") -> dict[str, np.ndarray]:
    """Name -> array of an NDArray list, names as saved (``arg:``/``aux:`` prefixes kept)."""
    r = _Reader(data, source)
    magic = r.u64("list magic")
    if magic != LIST_MAGIC:
        r.pos = 0
        raise r.fail(f"list magic is 0x{magic:X}, not 0x{LIST_MAGIC:X}")
    r.u64("reserved field")
    arrays = [_array(r, i) for i in range(r.count("array count", 4))]
    n_names = r.count("name count", 8)
    if n_names not in (0, len(arrays)):
        raise r.fail(f"{n_names} names for {len(arrays)} arrays")
    names = []
    for i in range(n_names):
        raw = r.take(r.count(f"name {i} length", 1), f"name {i}")
        try:
            names.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise r.fail(f"name {i} is not UTF-8") from None
    if r.pos != len(data):
        raise r.fail(f"{len(data) - r.pos} trailing bytes after the names")
    if not names:
        raise r.fail("the arrays have no names; Kaena needs named parameters (as export() writes)")
    if len(set(names)) != len(names):
        raise r.fail("a parameter name repeats")
    out = {}
    for name, array in zip(names, arrays):
        if array is None:
            raise r.fail(f"parameter '{name}' is an empty (none) array")
        out[name] = array
    return out


def model_params(data: bytes, source: str = "<params>") -> dict[str, np.ndarray]:
    """The parameters of a model: {name: array} with MXNet's ``arg:``/``aux:`` prefixes stripped."""
    out: dict[str, np.ndarray] = {}
    for name, array in parse_params(data, source).items():
        kind, sep, bare = name.partition(":")
        key = bare if sep and kind in ("arg", "aux") else name
        if key in out:
            raise ModelImportError(f"{source}: parameter '{key}' is saved twice (as arg: and aux:)")
        out[key] = array
    return out


def read_params(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a ``.params`` file (``model_params`` of its bytes)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ModelImportError(f"{path}: cannot read the MXNet parameters ({e.strerror})") from None
    return model_params(data, path)
