"""Reading a NEFF's JSON members against their schemas: each check names the member
and the key, and a subgraph's ``def.json`` with its record streams, sources and
weights becomes a ``Subgraph`` only when every field is in range."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from kaena.errors import NeffError
from kaena.isa import INSTR_DTYPE, Engine, Opcode, stream_errors
from kaena.neff.archive import load_npy
from kaena.neff.layout import (
    DEFAULT_LIMITS,
    DTYPE_NAMES,
    ENGINE_FILES,
    INT32_LIMITS,
    LOAD_FILE,
    MAX_SOURCE_NAME,
    MEMBER_NAME_RE,
    SOURCE_FILES,
    Limits,
    np_dtype,
)
from kaena.neff.model import NO_SOURCE, SOURCE_DTYPE, VARIABLE_KINDS, Subgraph, TensorSpec, Variable


class Schema:
    """Tiny JSON schema checks that name the member and the offending key."""

    def __init__(self, source: str, member: str, limits: Limits | None = None):
        self.where = f"{source}: malformed member {member}"
        self.limits = limits or DEFAULT_LIMITS

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


def load_json(members: dict[str, bytes], name: str, source: str) -> Any:
    if name not in members:
        raise NeffError(f"{source}: malformed NEFF: archive has no member {name}")
    try:
        return json.loads(members[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise NeffError(f"{source}: malformed member {name}: not valid JSON ({e})") from None


def read_spec(s: "Schema", t: Any, ctx: str, is_input: bool) -> TensorSpec:
    """One model input/output: float32 or int32; an int32 input may declare its valid range."""
    dtype = s.dtype(t, ctx)
    valid_range = None
    if "valid_range" in t:
        vr = t["valid_range"]
        if not (is_input and dtype == "int32"):
            raise s.fail(f"'{ctx}valid_range' is only allowed on an int32 input")
        if (not isinstance(vr, list) or len(vr) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in vr)
                or not INT32_LIMITS[0] <= vr[0] < vr[1] <= INT32_LIMITS[1] + 1):
            raise s.fail(f"'{ctx}valid_range' must be [lo, hi] with int32 lo < hi")
        valid_range = (vr[0], vr[1])
    return TensorSpec(s.get(t, "name", str, ctx), s.shape(t, ctx), dtype, valid_range)


def spec_nbytes(t: TensorSpec) -> int:
    return int(np.prod(t.shape, dtype=np.int64)) * np_dtype(t.dtype).itemsize


def read_subgraph(members: dict[str, bytes], d: str, k: int, source: str, limits: Limits) -> Subgraph:
    member = f"{d}/def.json"
    dj = load_json(members, member, source)
    s = Schema(source, member, limits)
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
            if not fname.endswith(".npy") or not MEMBER_NAME_RE.match(path) or path not in members:
                raise s.fail(f"'{ctx}file' {fname!r} is not a .npy member of {d}")
            if path in expected_files:
                raise s.fail(f"'{ctx}file' {fname!r} is used twice")
            expected_files.add(path)
            v.data = load_npy(members[path], v, source, path)
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
        if s.get(ej, "file", str, ctx) != ENGINE_FILES[e]:
            raise s.fail(f"'{ctx}file' must be '{ENGINE_FILES[e]}'")
        n = s.count(ej, "records", ctx)
        path = f"{d}/{ENGINE_FILES[e]}"
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
            source_members.add(f"{d}/{SOURCE_FILES[e]}")
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
    expected = expected_files | source_members | {member} | {f"{d}/{f}" for f in ENGINE_FILES.values()}
    extra = sorted(m for m in members if m.startswith(d + "/") and m not in expected)
    if extra:
        raise NeffError(f"{source}: malformed archive: member '{extra[0]}' is not referenced by {member}")
    return sg


def _sources(dj: dict, s: Schema) -> list[tuple[str, ...]]:
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
                s: Schema, source: str) -> np.ndarray | None:
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
    if s.get(ej, "source_file", str, ctx) != SOURCE_FILES[e]:
        raise s.fail(f"'{ctx}source_file' must be '{SOURCE_FILES[e]}'")
    path = f"{d}/{SOURCE_FILES[e]}"
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
