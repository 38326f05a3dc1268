"""The NEFF container: ``Neff`` (a compiled model in memory) and its archive members,
``neff.json`` and each subgraph's ``def.json``, records and weights.

Layout and schemas are specified in ``docs/neff-format.md``; the header and the
archive bytes are ``kaena.neff.archive``'s. The writer is deterministic (same Neff
-> same bytes). The reader trusts nothing: it checks sizes, hash, version, member
names and types, JSON schemas and every record field before building a ``Neff``,
and reports any problem as one-line ``NeffError`` naming the file; it never
executes anything from the file.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from kaena.errors import NeffError
from kaena.files import atomic_open
from kaena.isa import INSTR_DTYPE, Engine
from kaena.neff.archive import (
    DigestingWriter,
    Payload,
    header_bytes,
    header_for,
    npy_payload,
    payload_bytes,
    read_file_bytes,
    read_header,
    read_members,
    tar_bytes,
    write_tar,
)
from kaena.neff.layout import (
    DTYPE_NAMES,
    ENGINE_FILES,
    FORMAT_TAG,
    HEADER_SIZE,
    LOAD_FILE,
    SOURCE_FILES,
    NeffHeader,
    c_string,
    file_names,
    fixed_field,
    limits_of,
    subgraph_dir,
)
from kaena.neff.model import (
    NEFF_VERSION,
    NO_SOURCE,
    PIPELINE_VERSION,
    SOURCE_DTYPE,
    VARIABLE_KINDS,
    Subgraph,
    TensorSpec,
    Variable,
)
from kaena.neff.schema import Schema, load_json, read_spec, read_subgraph, spec_nbytes
from kaena.target import DEFAULT_TARGET, TARGETS, NeuronCoreTarget, get_target


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


def _json_bytes(obj: Any, where: str) -> bytes:
    try:
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise NeffError(f"{where}: cannot be written as JSON ({e}); keep metadata to str/int/float/bool/list/dict") from None
    return (text + "\n").encode()


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
    files = file_names(sg.variables)
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
            {"name": f"q{q}", "engine": Engine.DMA.stream_name, "file": ENGINE_FILES[Engine.DMA]}
            for q in range(target.dma_queues_per_core)
        ],
        "engines": {
            e.stream_name: {
                "file": ENGINE_FILES[e], "records": int(len(sg.stream(e))),
                **({"source_file": SOURCE_FILES[e]} if _has_sources(sg, e) else {}),
            }
            for e in Engine
        },
        **({"load": {"file": LOAD_FILE, "records": int(len(sg.load_stream))}} if len(sg.load_stream) else {}),
        "sources": [list(names) for names in sg.sources],
        "variables": variables,
        "sbuf_peak_bytes": int(sg.sbuf_peak_bytes),
        "psum_peak_bytes": int(sg.psum_peak_bytes),
    }


def _member_payloads(neff: Neff) -> dict[str, Payload]:
    """Every archive member, by name: checked and encoded, the weights not yet copied."""
    members: dict[str, Payload] = {"neff.json": _json_bytes(neff_json(neff), f"{neff.name}: neff.json")}
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
            members[f"{d}/{ENGINE_FILES[e]}"] = np.ascontiguousarray(rec).tobytes()
            if _has_sources(sg, e):
                ids = np.asarray(sg.stream_sources(e))
                if ids.shape != (len(rec),) or ((ids >= len(sg.sources)) & (ids != NO_SOURCE)).any():
                    raise NeffError(f"{neff.name}: {d} {e.stream_name} source indices do not match its records")
                members[f"{d}/{SOURCE_FILES[e]}"] = ids.astype(SOURCE_DTYPE).tobytes()
        if len(sg.load_stream):
            members[f"{d}/{LOAD_FILE}"] = np.ascontiguousarray(sg.load_stream).tobytes()
        for i, fname in file_names(sg.variables).items():
            members[f"{d}/{fname}"] = npy_payload(sg.variables[i], f"{neff.name} {d}")
    return members


def archive_members(neff: Neff) -> dict[str, bytes]:
    """Every archive member, by name (what the writer puts in the tar)."""
    return {name: payload_bytes(p) for name, p in _member_payloads(neff).items()}


def write_neff(neff: Neff, out: BinaryIO, *, compress: bool = False) -> None:
    """Serialise ``neff`` into the seekable ``out`` at its current position: header + the
    uncompressed "fast loading" tar by default (gzip buys 8% on trained FP32 weights, 20% on
    BF16, at 10-36 MB/s: see docs/neff-format.md), or tar.gz with ``compress=True``.
    Deterministic. The weights stream from their arrays into ``out``; the header (which
    holds the archive's size and hash) is written last, over a placeholder."""
    members = _member_payloads(neff)
    start = out.tell()
    out.write(bytes(HEADER_SIZE))
    archive = DigestingWriter(out)
    write_tar(members, archive, compress)
    end = out.tell()
    out.seek(start)
    out.write(header_for(archive.sha.digest(), archive.size, neff.name, neff.version, neff.compiler_version,
                      neff.num_cores, neff.uuid))
    out.seek(end)


def write_neff_bytes(neff: Neff, *, compress: bool = False) -> bytes:
    """``write_neff`` into memory: the NEFF file's bytes."""
    out = io.BytesIO()
    write_neff(neff, out, compress=compress)
    return out.getvalue()


def pack_members(members: dict[str, bytes], uuid: bytes = b"", source: str = "<members>") -> bytes:
    """A NEFF from archive members (as ``unpack`` wrote them): the header fields
    come from ``neff.json``. The result is only returned if the reader accepts it."""
    if "neff.json" not in members:
        raise NeffError(f"{source}: no neff.json; a NEFF directory holds neff.json and sgNN/ folders")
    top = load_json(members, "neff.json", source)
    s = Schema(source, "neff.json")
    ver = s.get(top, "version", dict)
    data = header_bytes(
        archive := tar_bytes(members, compress=False),
        s.get(top, "name", str),
        (s.count(ver, "major", "version."), s.count(ver, "minor", "version.")),
        s.get(top, "compiler_version", str),
        s.count(top, "num_cores"),
        uuid,
    ) + archive
    read_neff_bytes(data, source)
    return data


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
    members = read_members(bytes(archive), source, header)
    return header, members, _build(members, header, source)


def _build(members: dict[str, bytes], header: NeffHeader, source: str) -> Neff:
    top = load_json(members, "neff.json", source)
    s = Schema(source, "neff.json")
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
    if c_string(fixed_field(name, 256), source, "name") != header.name:
        raise NeffError(f"{source}: corrupt NEFF header: name '{header.name}' differs from neff.json's '{name}'")
    if c_string(fixed_field(compiler_version, 128), source, "build version") != header.compiler_version:
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
            specs[key].append(read_spec(s, t, ctx, key == "inputs"))
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
        subgraphs.append(read_subgraph(members, d, k, source, limits))
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


def _check_io(neff: Neff, s: Schema) -> None:
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
        if spec_nbytes(t) != v.nbytes:
            raise s.fail(f"model input '{name}' {list(t.shape)} {t.dtype} does not match its variable {list(v.shape)} {v.dtype}")
    for t in neff.outputs:
        v = produced.get(t.name)
        if v is None:
            raise s.fail(f"model output '{t.name}' is not an output variable of any subgraph")
        if int(np.prod(t.shape, dtype=np.int64)) != int(np.prod(v.shape, dtype=np.int64)):
            raise s.fail(f"model output '{t.name}' {list(t.shape)} does not match its variable {list(v.shape)}")


