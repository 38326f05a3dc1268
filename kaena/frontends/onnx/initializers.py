"""ONNX weights read lazily: a model file's large initializers stay in the file.

``onnx.load`` would parse every weight into the protobuf (100 MB for ResNet-50) and
``numpy_helper.to_array`` copy each once more. Instead the file is scanned at the
protobuf wire level: the model is parsed without the ``raw_data`` of its large
initializers, and each of those (and each ``external_data`` tensor) becomes a
``MappedArray``, mapped from the file each time a pass reads it and unmapped when the
pass lets go of it. A file the scan does not understand is loaded by ``onnx.load``.
"""

from __future__ import annotations

import math
import os

import numpy as np
import onnx
from onnx import TensorProto
from onnx.external_data_helper import ExternalDataInfo, load_external_data_for_model

from kaena.errors import ModelImportError
from kaena.weights import MappedArray, MappedFile

# Initializers with more raw bytes than this stay in the file (smaller ones, shape
# tensors and scalars among them, are parsed as usual: shape inference reads them).
LAZY_BYTES = 1024

# ONNX element types whose raw_data is the little-endian numpy array itself.
_RAW_DTYPES = {
    TensorProto.FLOAT: "<f4", TensorProto.DOUBLE: "<f8", TensorProto.FLOAT16: "<f2",
    TensorProto.INT8: "i1", TensorProto.INT16: "<i2", TensorProto.INT32: "<i4", TensorProto.INT64: "<i8",
    TensorProto.UINT8: "u1", TensorProto.UINT16: "<u2", TensorProto.UINT32: "<u4", TensorProto.UINT64: "<u8",
    TensorProto.BOOL: "?",
}

# Field numbers (onnx.proto): ModelProto.graph, GraphProto.initializer, TensorProto.raw_data.
_MODEL_GRAPH, _GRAPH_INITIALIZER, _TENSOR_RAW_DATA = 7, 5, 9
_LENGTH_DELIMITED = 2


class _NotPlain(Exception):
    """The scan met something it does not rewrite (groups, repeated raw_data, a cut file)."""


def read_model(path: str) -> tuple[onnx.ModelProto, dict[int, MappedArray]]:
    """The model at ``path`` and its lazily read initializers, by index in ``graph.initializer``
    (those tensors hold no data in the returned proto). Errors propagate as ``onnx.load``'s do."""
    ext = os.path.splitext(path)[1]
    if onnx.serialization.registry.get_format_from_file_extension(ext) not in (None, "protobuf"):
        return onnx.load(path), {}
    with open(path, "rb") as f:
        buf = _FileBytes(f.fileno())
        try:
            skeleton, raw = _strip_model(buf)
        except (_NotPlain, IndexError):
            return onnx.load(path), {}
        proto = onnx.ModelProto()
        proto.ParseFromString(skeleton)
        mapped = _mapped_initializers(proto, raw, buf, MappedFile(path))
    _external_initializers(proto, mapped, os.path.dirname(os.path.abspath(path)))
    return proto, mapped


class _FileBytes:
    """A file indexed like bytes, read through a small window (the scan reads field
    headers and the small fields; the weights between them are never read)."""

    WINDOW = 1 << 16

    def __init__(self, fd: int):
        self.fd, self.size = fd, os.fstat(fd).st_size
        self.start, self.data = 0, b""

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop = key.start, min(key.stop, self.size)
            if self.start <= start and stop <= self.start + len(self.data):
                return self.data[start - self.start:stop - self.start]
            return os.pread(self.fd, stop - start, start) if stop > start else b""
        if not self.start <= key < self.start + len(self.data):
            if not 0 <= key < self.size:
                raise IndexError(key)
            self.start, self.data = key, os.pread(self.fd, self.WINDOW, key)
        return self.data[key - self.start]


def _mapped_initializers(proto: onnx.ModelProto, raw: dict[int, tuple[int, int]], buf: _FileBytes,
                         file: MappedFile) -> dict[int, MappedArray]:
    """A ``MappedArray`` for each stripped initializer that holds exactly its dims' values;
    the others get their bytes back (the importer then reports or converts them as before)."""
    mapped: dict[int, MappedArray] = {}
    for index, (offset, length) in raw.items():
        t = proto.graph.initializer[index]
        dtype = _RAW_DTYPES.get(t.data_type)
        if dtype is not None and length == math.prod(t.dims) * np.dtype(dtype).itemsize:
            mapped[index] = MappedArray(file, offset, tuple(t.dims), np.dtype(dtype))
        else:
            t.raw_data = bytes(buf[offset:offset + length])
    return mapped


def _external_initializers(proto: onnx.ModelProto, mapped: dict[int, MappedArray], base_dir: str) -> None:
    """Initializers in external data files: mapped in place when their data is a plain
    array, otherwise (and every other external tensor) loaded by onnx."""
    files: dict[str, MappedFile] = {}
    for index, t in enumerate(proto.graph.initializer):
        dtype = _RAW_DTYPES.get(t.data_type)
        if t.data_location != TensorProto.EXTERNAL or dtype is None:
            continue
        info = ExternalDataInfo(t)
        path = _external_path(base_dir, info.location, t.name)
        want = math.prod(t.dims) * np.dtype(dtype).itemsize
        offset = info.offset or 0
        size = os.path.getsize(path)
        length = size - offset if info.length is None else info.length
        if length != want or offset + want > size:
            raise ModelImportError(
                f"{t.name}: external data '{info.location}' holds {max(0, min(length, size - offset))} bytes "
                f"from offset {offset}, the initializer's dims {list(t.dims)} need {want}; re-export the model"
            )
        file = files.setdefault(path, MappedFile(path))
        mapped[index] = MappedArray(file, offset, tuple(t.dims), np.dtype(dtype))
        t.data_location = TensorProto.DEFAULT
        del t.external_data[:]
    load_external_data_for_model(proto, base_dir)


def _external_path(base_dir: str, location: str, name: str) -> str:
    """The external data file, which must be a file inside the model's directory."""
    path = os.path.realpath(os.path.join(base_dir, location))
    inside = os.path.commonpath([path, os.path.realpath(base_dir)]) == os.path.realpath(base_dir)
    if not location or os.path.isabs(location) or not inside:
        raise ModelImportError(f"initializer '{name}': external data location '{location}' is not a file "
                               "inside the model's directory")
    if not os.path.isfile(path):
        raise ModelImportError(f"initializer '{name}': external data file '{location}' not found beside the model")
    return path


# --------------------------------------------------------------------------- the wire-level scan


def _varint(buf, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise _NotPlain


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _fields(buf, start: int, end: int):
    """(field number, wire type, field start, value start, value end) of each field in [start, end)."""
    pos = start
    while pos < end:
        field_start = pos
        key, pos = _varint(buf, pos)
        wire = key & 7
        if wire == 0:
            _, value_end = _varint(buf, pos)
        elif wire == 1:
            value_end = pos + 8
        elif wire == _LENGTH_DELIMITED:
            length, pos = _varint(buf, pos)
            value_end = pos + length
        elif wire == 5:
            value_end = pos + 4
        else:
            raise _NotPlain
        if value_end > end:
            raise _NotPlain
        yield key >> 3, wire, field_start, pos, value_end
        pos = value_end


def _submessage(field: int, body: bytes) -> bytes:
    return _encode_varint(field << 3 | _LENGTH_DELIMITED) + _encode_varint(len(body)) + body


def _strip_model(buf) -> tuple[bytes, dict[int, tuple[int, int]]]:
    """The model's bytes without its initializers' large raw_data, and where each of those
    is in the file: initializer index -> (offset, length)."""
    out: list[bytes] = []
    raw: dict[int, tuple[int, int]] = {}
    count = [0]  # initializers seen (a graph field may occur more than once: protobuf merges them)
    for field, wire, fs, vs, ve in _fields(buf, 0, len(buf)):
        if field == _MODEL_GRAPH and wire == _LENGTH_DELIMITED:
            out.append(_submessage(field, _strip_graph(buf, vs, ve, raw, count)))
        else:
            out.append(buf[fs:ve])
    return b"".join(out), raw


def _strip_graph(buf, start: int, end: int, raw: dict[int, tuple[int, int]], count: list[int]) -> bytes:
    out: list[bytes] = []
    for field, wire, fs, vs, ve in _fields(buf, start, end):
        if field == _GRAPH_INITIALIZER and wire == _LENGTH_DELIMITED:
            out.append(_submessage(field, _strip_tensor(buf, vs, ve, raw, count[0])))
            count[0] += 1
        else:
            out.append(buf[fs:ve])
    return b"".join(out)


def _strip_tensor(buf, start: int, end: int, raw: dict[int, tuple[int, int]], index: int) -> bytes:
    """A TensorProto without its raw_data when that is larger than ``LAZY_BYTES``."""
    out: list[bytes] = []
    seen = 0
    for field, wire, fs, vs, ve in _fields(buf, start, end):
        if field == _TENSOR_RAW_DATA and wire == _LENGTH_DELIMITED:
            seen += 1
            if seen > 1:
                raise _NotPlain  # the last occurrence would win: leave that to protobuf
            if ve - vs > LAZY_BYTES:
                raw[index] = (vs, ve - vs)
                continue
        out.append(buf[fs:ve])
    return b"".join(out)
