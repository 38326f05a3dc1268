"""Malformed-NEFF generator and harness: the reader and the runtime must turn
every broken file into one clean ``KaenaError``, never a traceback, a hang or
an unbounded allocation.

``mutate(seed, rng)`` derives one broken file from a valid one; the kinds are
``MUTATIONS``. Mutants that edit the archive's contents (JSON fields, record
fields, .npy members, member names) are re-packed with a valid sha256 so they
reach the deep checks instead of stopping at the hash. ``run_case`` feeds one
file to the same functions ``kaena-neff info`` and ``kaena-run`` call and
classifies the outcome. Used by tests/test_neff_fuzz.py (a few thousand cases
in-process) and benchmarks/fuzz_neff.py (a longer campaign in a memory-bounded
subprocess).
"""

from __future__ import annotations

import io
import json
import random
import struct
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from kaena.errors import KaenaError
from kaena.isa import AP_DTYPE, INSTR_DTYPE
from kaena.neff.archive import gunzip, header_bytes, tar_bytes
from kaena.neff.layout import HEADER_SIZE
from kaena.testing.fuzz_harness import CaseTimeout, deadline

# (offset, struct format) of the header fields worth scrambling (docs/neff-format.md)
HEADER_FIELDS = [(0, "<Q"), (8, "<Q"), (16, "<Q"), (24, "<Q"), (32, "<Q"), (168, "<I"), (476, "<I"), (544, "<Q"),
                 (552, "<I"), (40, "<B"), (220, "<B")]
_INTERESTING = [0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 1023, 1024, 4096, 65535, 65536,
                2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1, -1, -2, -(2**31), -(2**63)]
_RECORD_FIELDS: list[tuple[str, ...]] = []
for _name in INSTR_DTYPE.names:
    if INSTR_DTYPE.fields[_name][0] == AP_DTYPE:
        _RECORD_FIELDS += [(_name, sub) for sub in AP_DTYPE.names]
    else:
        _RECORD_FIELDS.append((_name,))


@dataclass
class Outcome:
    kind: str  # "accepted", "rejected" (a clean KaenaError), "crash", "timeout"
    detail: str = ""


# --------------------------------------------------------------------------- archive helpers


def split(data: bytes) -> tuple[bytes, dict[str, bytes]]:
    """(header, members in archive order) of a valid NEFF."""
    header = data[:HEADER_SIZE]
    raw = data[HEADER_SIZE:]
    tar = gunzip(raw, 1 << 30, "seed") if raw[:2] == b"\x1f\x8b" else raw
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as tf:
        for info in tf:
            f = tf.extractfile(info)
            members[info.name] = f.read() if f else b""
    return header, members


def repack(header: bytes, members: dict[str, bytes], compress: bool = True) -> bytes:
    """Members -> archive with a header whose sizes and hash are valid again
    (the other header fields are kept as they were)."""
    return rehash(header + tar_bytes(members, compress))


def rehash(data: bytes) -> bytes:
    """Fix data_size and sha256 of ``data`` so a reader gets past the hash check."""
    archive = data[HEADER_SIZE:]
    good = header_bytes(archive, "x", (1, 1), "", 1)
    header = bytearray(data[:HEADER_SIZE].ljust(HEADER_SIZE, b"\0"))
    header[16:24] = good[16:24]
    header[172:204] = good[172:204]
    return bytes(header) + archive


def _raw_tar(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for info, data in entries:
            info.size = len(data) if info.isreg() else 0
            tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


# --------------------------------------------------------------------------- mutations


def _value(rng: random.Random) -> object:
    """A hostile JSON value."""
    return rng.choice([
        rng.choice(_INTERESTING), 10**rng.randint(3, 30), -rng.randint(1, 10**6), rng.random() * 1e6, 0.5,
        True, None, "", "x" * rng.randint(1, 300), "../etc/passwd", "/abs", "sg00/../../x", "a\u0000b", "é",
        [], [rng.choice(_INTERESTING)] * rng.randint(1, 9), [[1]], {}, {"k": 1}, float("inf"), float("nan"),
        "float64", "bfloat16", "int8", "file", "input", "output", "state-buffer", "model", "sg00", "sg01", "pe.bin",
    ])


def _paths(obj, prefix=()) -> Iterator[tuple]:
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _scramble_json(doc, rng: random.Random):
    paths = [p for p in _paths(doc) if p]
    if not paths:
        return _value(rng)
    path = rng.choice(paths)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    action = rng.random()
    if action < 0.15 and isinstance(parent, dict):
        del parent[last]
    elif action < 0.25 and isinstance(parent, list):
        parent.append(parent[last] if rng.random() < 0.5 else _value(rng))
    elif action < 0.32 and isinstance(parent, list):
        del parent[last]
    elif action < 0.38 and isinstance(parent, dict):
        parent[rng.choice(["extra", "file", "index", "from", "dir"])] = _value(rng)
    elif action < 0.55 and isinstance(parent[last], int) and not isinstance(parent[last], bool):
        parent[last] = parent[last] + rng.choice([-1, 1, -2, 2, 100, -100, 2**31, 2**32])
    else:
        parent[last] = _value(rng)
    return doc


def mutate_truncate(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    cut = rng.choice([rng.randrange(len(data)), rng.randrange(HEADER_SIZE + 64), len(data) - rng.randint(1, 64)])
    return data[: max(0, cut)]


def mutate_bitflip(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    region = rng.choice([len(buf), HEADER_SIZE])
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(region)
        buf[pos] ^= 1 << rng.randrange(8)
    return bytes(buf)


def mutate_bitflip_rehashed(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    """Flip bits of the compressed archive and fix the hash: stresses gzip and tar."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(HEADER_SIZE, len(buf))
        buf[pos] ^= 1 << rng.randrange(8)
    return rehash(bytes(buf))


def mutate_tar_bytes(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    """Corrupt the uncompressed tar (headers, sizes, checksums), re-gzip, fix the hash."""
    tar = bytearray(tar_bytes(members, compress=False))
    for _ in range(rng.randint(1, 6)):
        block = rng.randrange(len(tar) // 512) * 512
        pos = block + rng.choice([rng.randrange(512), rng.randrange(100), 124 + rng.randrange(12), 148 + rng.randrange(8), 156])
        tar[pos] = rng.randrange(256) if rng.random() < 0.5 else tar[pos] ^ (1 << rng.randrange(8))
    import gzip

    return rehash(header + (gzip.compress(bytes(tar), mtime=0) if rng.random() < 0.7 else bytes(tar)))


def mutate_header_field(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    off, fmt = rng.choice(HEADER_FIELDS)
    size = struct.calcsize(fmt)
    value = rng.choice(_INTERESTING + [rng.getrandbits(8 * size)]) % (1 << (8 * size))
    buf[off : off + size] = value.to_bytes(size, "little")
    return bytes(buf)


def mutate_json(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    names = [n for n in members if n.endswith(".json")]
    name = rng.choice(names)
    members = dict(members)
    doc = json.loads(members[name])
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        doc = _scramble_json(doc, rng)
    text = json.dumps(doc) if rng.random() < 0.97 else json.dumps(doc)[: rng.randrange(1, 50)]
    members[name] = text.encode()
    return repack(header, members)


def mutate_record(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    streams = [n for n in members if n.endswith(".bin") and not n.endswith(".src.bin")]
    bins = [n for n in streams if members[n]] or streams
    name = rng.choice(bins)
    members = dict(members)
    raw = members[name]
    if not raw or rng.random() < 0.08:  # length not a multiple of the record, or records added / dropped
        raw = raw + bytes(rng.choice([1, 8, 191, 192, 384]))
        members[name] = raw if rng.random() < 0.5 else raw[: max(0, len(raw) - rng.randint(1, 400))]
        return repack(header, members)
    rec = np.frombuffer(raw, dtype=INSTR_DTYPE).copy()
    for _ in range(rng.choice([1, 1, 2, 3, 5])):
        i = rng.randrange(len(rec))
        field = rng.choice(_RECORD_FIELDS)
        target = rec[field[0]] if len(field) == 1 else rec[field[0]][field[1]]
        dt = target.dtype.base
        if dt.kind == "f":
            val = rng.choice([0.0, -0.0, 1.0, -1.0, 1e38, -1e38, float("inf"), float("-inf"), float("nan"), 1e-45])
            target[i] = val
        else:
            info = np.iinfo(dt)
            val = rng.choice(_INTERESTING + [rng.randint(info.min, info.max)])
            val = min(max(val, info.min), info.max) if rng.random() < 0.5 else val % (info.max + 1 - info.min) + info.min
            if target.ndim == 2:
                target[i, rng.randrange(target.shape[1])] = val
            else:
                target[i] = val
    members[name] = rec.tobytes()
    return repack(header, members)


def mutate_sources(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    """Corrupt the per-record source indices (``*.src.bin``): out-of-table indices,
    a length that does not match the records, a member dropped."""
    names = [n for n in members if n.endswith(".src.bin")]
    if not names:
        return mutate_record(header, members, data, rng)
    name = rng.choice(names)
    members = dict(members)
    idx = np.frombuffer(members[name], dtype="<u4").copy()
    choice = rng.randrange(4)
    if choice == 0 and len(idx):
        idx[rng.randrange(len(idx))] = rng.choice([len(idx) + 7, 0xFFFFFFFE, 2**31, rng.getrandbits(32)])
        members[name] = idx.tobytes()
    elif choice == 1:
        members[name] = members[name][: max(0, len(members[name]) - rng.choice([1, 3, 4, 8]))]
    elif choice == 2:
        members[name] = members[name] + bytes(rng.choice([1, 4, 5]))
    else:
        del members[name]
    return repack(header, members)


def mutate_npy(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    names = [n for n in members if n.endswith(".npy")]
    if not names:
        return mutate_json(header, members, data, rng)
    name = rng.choice(names)
    members = dict(members)
    raw = bytearray(members[name])
    choice = rng.random()
    if choice < 0.3:  # edit the header text (shape / dtype / order)
        end = raw.index(b"\n") if b"\n" in raw else 60
        text = raw[10:end].decode("latin-1")
        text = rng.choice([
            text.replace("(", "(999999999999, "), text.replace("'<", "'>"), text.replace("False", "True"),
            text.replace("<u2", "|O").replace("<f4", "|O"), "{'descr': " + "[" * 500, text[: rng.randrange(len(text) + 1)],
            text.replace("'shape': (", "'shape': (-1, "),
        ])
        raw = raw[:10] + text.encode("latin-1") + raw[end:]
    elif choice < 0.6:
        raw = raw[: rng.randrange(len(raw))]
    elif choice < 0.8:
        raw = raw + bytes(rng.randint(1, 64))
    else:
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(min(len(raw), 128))] ^= 1 << rng.randrange(8)
    members[name] = bytes(raw)
    return repack(header, members)


def mutate_members(header: bytes, members: dict[str, bytes], data: bytes, rng: random.Random) -> bytes:
    """Missing, extra, duplicated or hostile members (names, links, devices, directories)."""
    entries = [(tarfile.TarInfo(n), d) for n, d in members.items()]
    choice = rng.randrange(8)
    if choice == 0:
        del entries[rng.randrange(len(entries))]
    elif choice == 1:
        entries.append(rng.choice(entries))
    else:
        evil = rng.choice(["../evil", "/etc/evil", "sg00/../../evil", "sg00/.hidden", "sg99/x.npy", "sg00/x y",
                           "neff.json/x", "sg00/" + "a" * 200, "sg00/extra.npy", "sg00", "./neff.json"])
        info = tarfile.TarInfo(evil)
        info.type = rng.choice([tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.DIRTYPE,
                                tarfile.FIFOTYPE])
        if info.type in (tarfile.SYMTYPE, tarfile.LNKTYPE):
            info.linkname = rng.choice(["/etc/passwd", "neff.json", "../../x"])
        if rng.random() < 0.5:  # a link or device in place of a real member
            victim = rng.randrange(len(entries))
            info.name = entries[victim][0].name
            entries[victim] = (info, b"")
        else:
            entries.insert(rng.randrange(len(entries) + 1), (info, b"\0" * rng.randint(0, 600)))
    import gzip

    return rehash(header + gzip.compress(_raw_tar(entries), mtime=0))


MUTATIONS: dict[str, Callable[[bytes, dict[str, bytes], bytes, random.Random], bytes]] = {
    "truncate": mutate_truncate,
    "bitflip": mutate_bitflip,
    "bitflip-rehashed": mutate_bitflip_rehashed,
    "tar-bytes": mutate_tar_bytes,
    "header-field": mutate_header_field,
    "json-field": mutate_json,
    "record-field": mutate_record,
    "npy": mutate_npy,
    "sources": mutate_sources,
    "members": mutate_members,
}
# deep (re-packed) mutations get more weight: they reach most of the reader
WEIGHTS = {"truncate": 1, "bitflip": 1, "bitflip-rehashed": 1, "tar-bytes": 1, "header-field": 1, "json-field": 4,
           "record-field": 5, "npy": 1, "sources": 1, "members": 2}


class Seed:
    """A valid NEFF, pre-split, plus inputs that run it."""

    def __init__(self, data: bytes, inputs: dict[str, np.ndarray]):
        self.data = data
        self.header, self.members = split(data)
        self.inputs = inputs


def mutate(seed: Seed, rng: random.Random, kind: str | None = None) -> tuple[str, bytes]:
    kind = kind or rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    return kind, MUTATIONS[kind](seed.header, seed.members, seed.data, rng)


# --------------------------------------------------------------------------- harness


def run_case(data: bytes, inputs: dict[str, np.ndarray], seconds: float = 10.0, simulate: bool = True) -> Outcome:
    """What ``kaena-neff info`` and ``kaena-run`` do with ``data``: each must
    finish with a result or a KaenaError. Anything else is a crash."""
    from kaena.runtime import load
    from kaena.neff.info import neff_info

    try:
        with deadline(seconds):
            try:
                neff_info(data, "fuzz.neff")
            except KaenaError as e:
                return Outcome("rejected", str(e))
            if simulate:
                try:
                    load(data).simulate(inputs)
                except KaenaError as e:
                    return Outcome("rejected", str(e))
            return Outcome("accepted")
    except CaseTimeout as e:
        return Outcome("timeout", str(e))
    except Exception as e:  # noqa: BLE001 - classifying crashes is the point
        import traceback

        return Outcome("crash", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=-4)}")


def default_seeds() -> list[Seed]:
    """Small valid NEFFs: a one-core program with a bf16 constant, a two-core
    pipeline, and a compiled MLP (so codegen's record patterns are covered)."""
    from kaena.isa import DType, Engine, Opcode
    from kaena.neff import Neff, TensorSpec
    from kaena.simulator.builder import Program, dram, row, sbuf

    def stage(src: str, dst: str, first: bool) -> Program:
        p = Program()
        x = p.var(src, "input", (4, 8))
        w = p.var("w", "file", (4, 8), "bfloat16", np.linspace(-1, 1, 32).reshape(4, 8))
        p.var("t", "tmp-buf", (4, 8))
        y = p.var(dst, "output", (4, 8))
        p.var("sbuf", "state-buffer", (128, 64))
        p.add(Engine.DMA, Opcode.DMA, in0=dram(x, 4, 8, row(8)), out=sbuf(0, 4, row(8)))
        p.add(Engine.DMA, Opcode.DMA, in0=dram(w, 4, 8, row(8), dtype=DType.BF16), out=sbuf(64, 4, row(8), dtype=DType.BF16))
        p.signal(Engine.DMA, 0)
        p.wait(Engine.ACT, 0, 1)
        p.add(Engine.ACT, Opcode.ACTIVATE, func=1, in0=sbuf(0, 4, row(8)), out=sbuf(128, 4, row(8)), imm=0.5)
        p.signal(Engine.ACT, 1)
        p.wait(Engine.POOL, 1, 1)
        p.add(Engine.POOL, Opcode.TENSOR_TENSOR, alu=0, in0=sbuf(128, 4, row(8)),
              in1=sbuf(64, 4, row(8), dtype=DType.BF16), out=sbuf(256, 4, row(8)))
        p.signal(Engine.POOL, 2)
        p.wait(Engine.DMA, 2, 1)
        p.add(Engine.DMA, Opcode.DMA, in0=sbuf(256, 4, row(8)), out=dram(y, 4, 8, row(8)))
        return p

    one = stage("x", "y", True).neff("fuzz-one")
    one.compiler_version = "kaena-fuzz"
    two = Neff("fuzz-two", [TensorSpec("x", (4, 8))], [TensorSpec("z", (4, 8))],
               [stage("x", "y", True).subgraph(0), stage("y", "z", False).subgraph(1)], "kaena-fuzz")
    x = {"x": np.linspace(-2, 2, 32, dtype=np.float32).reshape(4, 8)}
    seeds = [Seed(one.to_bytes(), x), Seed(two.to_bytes(), x)]
    try:
        import kaena
        from kaena.testing import modelzoo

        model = modelzoo.mlp(batch=1, sizes=(32, 16, 8))
        neff = kaena.driver.compile(model)
        spec = neff.inputs[0]
        seeds.append(Seed(neff.to_bytes(), {spec.name: np.ones(spec.shape, np.float32)}))
    except KaenaError:
        pass
    return seeds

