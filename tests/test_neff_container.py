"""NEFF container: round trip, determinism, and a reader that refuses bad files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import struct
import tarfile

import numpy as np
import pytest

from kaena.errors import NeffError
from kaena.isa import AP_DTYPE, INSTR_DTYPE, Engine, Opcode
from kaena.neff import Neff
from kaena.neff.archive import read_header
from kaena.neff.container import archive_members, read_neff_bytes, read_neff_file, write_neff_bytes
from kaena.neff.layout import HEADER_SIZE
from kaena.simulator import simulate
from kaena.simulator.builder import Program, dram, row, sbuf

DOCS = os.path.join(os.path.dirname(__file__), "..", "docs")


def make_neff() -> Neff:
    p = Program()
    x = p.var("x", "input", (4, 8))
    w = p.var("fc/1:weight", "file", (4, 8), "bfloat16", np.linspace(-1, 1, 32).reshape(4, 8))
    p.var("h", "tmp-buf", (4, 8))
    y = p.var("y", "output", (4, 8))
    p.var("sbuf", "state-buffer", (128, 64))
    p.add(Engine.DMA, Opcode.DMA, in0=dram(x, 4, 8, row(8)), out=sbuf(0, 4, row(8)))
    p.add(Engine.DMA, Opcode.DMA, in0=sbuf(0, 4, row(8)), out=dram(y, 4, 8, row(8)))
    p.signal(Engine.DMA, 0)
    neff = p.neff("tiny")
    neff.compiler_version = "kaena 0.1.0"
    neff.metadata = {"options": {"opt_level": 2}, "note": "é"}
    neff.subgraphs[0].sbuf_peak_bytes = 4096
    assert w == 1
    return neff


def assert_same(a: Neff, b: Neff) -> None:
    assert (a.name, a.inputs, a.outputs, a.compiler_version, a.version, a.metadata) == (
        b.name, b.inputs, b.outputs, b.compiler_version, b.version, b.metadata
    )
    assert len(a.subgraphs) == len(b.subgraphs)
    for sa, sb in zip(a.subgraphs, b.subgraphs):
        assert (sa.core, sa.sbuf_peak_bytes, sa.psum_peak_bytes) == (sb.core, sb.sbuf_peak_bytes, sb.psum_peak_bytes)
        for va, vb in zip(sa.variables, sb.variables, strict=True):
            assert (va.name, va.kind, tuple(va.shape), va.dtype) == (vb.name, vb.kind, tuple(vb.shape), vb.dtype)
            if va.kind == "file":
                assert vb.data.dtype.name == va.dtype
                np.testing.assert_array_equal(np.asarray(va.data).astype(vb.data.dtype), vb.data)
        for e in Engine:
            assert sa.stream(e).tobytes() == sb.stream(e).tobytes()


def test_round_trip_and_determinism(tmp_path):
    neff = make_neff()
    data = write_neff_bytes(neff)
    assert data == write_neff_bytes(make_neff())  # same Neff -> same bytes
    back = read_neff_bytes(data, "tiny.neff")
    assert_same(neff, back)
    assert len(back.uuid) == 16
    assert write_neff_bytes(back) == data  # the derived uuid survives a round trip
    path = tmp_path / "tiny.neff"
    neff.save(str(path))
    assert path.read_bytes() == data and os.listdir(tmp_path) == ["tiny.neff"]
    assert_same(neff, Neff.load(str(path)))
    # it still runs after the round trip
    x = np.arange(32, dtype=np.float32).reshape(4, 8)
    np.testing.assert_array_equal(simulate(back, {"x": x}, check_hazards=False).outputs["y"], x)


def test_uncompressed_variant_reads_the_same():
    neff = make_neff()
    assert_same(neff, read_neff_bytes(write_neff_bytes(neff, compress=False)))


def test_fast_loading_by_default_gzip_on_request():
    neff = make_neff()
    plain, packed = write_neff_bytes(neff), write_neff_bytes(neff, compress=True)
    assert plain[HEADER_SIZE:HEADER_SIZE + 2] != b"\x1f\x8b" and packed[HEADER_SIZE:HEADER_SIZE + 2] == b"\x1f\x8b"
    assert plain == neff.to_bytes() and packed == neff.to_bytes(compress=True)
    assert_same(neff, read_neff_bytes(packed))


def test_header_fields_follow_the_doc():
    neff = make_neff()
    data = write_neff_bytes(neff)
    pkg, hsize, dsize, vmaj, vmin = struct.unpack_from("<5Q", data, 0)
    assert (pkg, hsize, dsize, vmaj, vmin) == (1, 1024, len(data) - 1024, 1, 2)
    assert data[40:168].rstrip(b"\0") == b"kaena 0.1.0"
    assert struct.unpack_from("<I", data, 168)[0] == 1
    assert data[172:204] == hashlib.sha256(data[1024:]).digest()
    assert data[220:476].rstrip(b"\0") == b"tiny"
    assert struct.unpack_from("<I", data, 476)[0] == 1
    assert data[480:] [: 1024 - 480].strip(b"\0") == b""
    h = read_header(data)
    assert (h.compiler_version, h.name, h.num_tpb, h.version) == ("kaena 0.1.0", "tiny", 1, (1, 2))


def test_archive_members_and_doc_examples():
    neff = make_neff()
    tf = tarfile.open(fileobj=io.BytesIO(write_neff_bytes(neff)[HEADER_SIZE:]), mode="r:")
    infos = tf.getmembers()
    names = [m.name for m in infos]
    assert names == sorted(names)
    assert set(names) == {"neff.json", "sg00/def.json", "sg00/pe.bin", "sg00/act.bin", "sg00/pool.bin",
                          "sg00/dma.bin", "sg00/fc_1_weight.npy"}
    assert all((m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) == (0, 0, 0, "", "", 0o644) for m in infos)
    members = archive_members(neff)
    # the doc's example JSON documents have exactly the writer's keys
    doc = open(os.path.join(DOCS, "neff-format.md")).read()
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", doc, re.S)]
    example_neff, example_def = blocks
    written_neff = json.loads(members["neff.json"])
    written_def = json.loads(members["sg00/def.json"])
    assert set(example_neff) == set(written_neff)
    assert set(example_neff["subgraphs"][0]) == set(written_neff["subgraphs"][0])
    assert set(example_def) == set(written_def)
    assert set(example_def["engines"]) == set(written_def["engines"]) == {"pe", "act", "pool", "dma"}
    assert {k for v in example_def["variables"] for k in v} == {k for v in written_def["variables"] for k in v}
    assert written_def["variables"][1]["file"] == "fc_1_weight.npy"
    assert written_def["engines"]["dma"] == {"file": "dma.bin", "records": 3}


def test_isa_doc_offsets_match_the_record_dtypes():
    doc = open(os.path.join(DOCS, "isa.md")).read()
    record_part, ap_part = doc.split("Access pattern (`AP_DTYPE`", 1)
    pattern = re.compile(r"^\| (\d+) \| (\w+)(?:, \w+)? \|", re.M)
    instr = {name: int(off) for off, name in pattern.findall(record_part)}
    ap = {name: int(off) for off, name in pattern.findall(ap_part.split("### Iteration order")[0])}
    assert instr == {n: f[1] for n, f in INSTR_DTYPE.fields.items() if n != "_r1"}
    assert ap == {n: f[1] for n, f in AP_DTYPE.fields.items()}


# --- a reader that refuses bad files -------------------------------------------


def rebuild(members: dict[str, bytes], version=(1, 2), tweak=None) -> bytes:
    """A NEFF with arbitrary members and a valid header/hash."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if tweak:
                tweak(info)
            tf.addfile(info, io.BytesIO(data))
    archive = buf.getvalue()
    good = write_neff_bytes(make_neff())
    header = bytearray(good[:HEADER_SIZE])
    struct.pack_into("<QQQ", header, 16, len(archive), *version)
    header[172:204] = hashlib.sha256(archive).digest()
    return bytes(header) + archive


def test_version_mismatch():
    neff = make_neff()
    neff.version = (2, 0)
    with pytest.raises(NeffError) as e:
        read_neff_bytes(write_neff_bytes(neff), "m.neff")
    msg = str(e.value)
    assert msg.startswith("m.neff: NEFF version mismatch supported: 1.2 received: 2.0")
    assert "recompile the model with this Kaena" in msg
    neff.version = (1, 7)  # any minor of major 1 loads
    assert read_neff_bytes(write_neff_bytes(neff)).version == (1, 7)


def test_hash_mismatch():
    data = bytearray(write_neff_bytes(make_neff()))
    data[-10] ^= 0xFF
    with pytest.raises(NeffError, match=r"^m.neff: corrupt NEFF: sha256 .* \(hash mismatch\)$"):
        read_neff_bytes(bytes(data), "m.neff")


@pytest.mark.parametrize("cut", [0, 100, HEADER_SIZE, HEADER_SIZE + 50, -1])
def test_truncated_file(cut):
    data = write_neff_bytes(make_neff())
    with pytest.raises(NeffError, match=r"^m.neff: truncated NEFF"):
        read_neff_bytes(data[:cut], "m.neff")


def test_trailing_garbage_and_foreign_file(tmp_path):
    data = write_neff_bytes(make_neff())
    with pytest.raises(NeffError, match="unexpected bytes after the archive"):
        read_neff_bytes(data + b"x", "m.neff")
    with pytest.raises(NeffError, match="not a Kaena NEFF"):
        read_neff_bytes(b"\x7fELF" + bytes(2000), "m.neff")
    with pytest.raises(NeffError, match="NEFF file not found"):
        read_neff_file(str(tmp_path / "missing.neff"))


@pytest.mark.parametrize(
    "name, tweak, match",
    [
        ("../evil.json", None, "name not allowed"),
        ("/etc/passwd", None, "name not allowed"),
        ("sg00/../../x.npy", None, "name not allowed"),
        ("sg00/link.npy", lambda i: setattr(i, "type", tarfile.SYMTYPE), "link or device"),
        ("sg00/dev.npy", lambda i: setattr(i, "type", tarfile.CHRTYPE), "link or device"),
        ("sg00/extra.npy", None, "'sg00/extra.npy' is not referenced"),
    ],
)
def test_bad_member(name, tweak, match):
    members = archive_members(make_neff())
    members[name] = b"data"
    with pytest.raises(NeffError, match=match):
        read_neff_bytes(rebuild(members, tweak=lambda i: tweak(i) if tweak and i.name == name else None), "m.neff")


@pytest.mark.parametrize(
    "member, edit, match",
    [
        ("neff.json", lambda d: d.pop("inputs"), "malformed member neff.json: missing key 'inputs'"),
        ("neff.json", lambda d: d.update(num_cores="1"), "'num_cores' must be int"),
        ("sg00/def.json", lambda d: d["variables"][0].update(dtype="int64"), "'variables\\[0\\].dtype' 'int64'"),
        ("sg00/def.json", lambda d: d["variables"][0].update(kind="weird"), "'variables\\[0\\].kind' 'weird'"),
        ("sg00/def.json", lambda d: d["variables"][0].update(shape=[-1]), "positive integers"),
        ("sg00/def.json", lambda d: d["engines"]["dma"].update(records=5), "3 records, def.json says 5"),
        ("sg00/def.json", lambda d: d["variables"][1].update(file="../x.npy"), "is not a .npy member"),
        ("sg00/def.json", lambda d: d["variables"][1].update(shape=[8, 4]), "def.json declares"),
    ],
)
def test_bad_json(member, edit, match):
    members = archive_members(make_neff())
    doc = json.loads(members[member])
    edit(doc)
    members[member] = json.dumps(doc).encode()
    with pytest.raises(NeffError, match=match):
        read_neff_bytes(rebuild(members), "m.neff")


def test_not_json_and_missing_member():
    members = archive_members(make_neff())
    members["neff.json"] = b"{not json"
    with pytest.raises(NeffError, match="malformed member neff.json: not valid JSON"):
        read_neff_bytes(rebuild(members), "m.neff")
    members = archive_members(make_neff())
    del members["sg00/pe.bin"]
    with pytest.raises(NeffError, match="archive has no member sg00/pe.bin"):
        read_neff_bytes(rebuild(members), "m.neff")


def test_bad_records():
    members = archive_members(make_neff())
    members["sg00/dma.bin"] = members["sg00/dma.bin"][:-1]
    with pytest.raises(NeffError, match="not a multiple of the 192-byte record"):
        read_neff_bytes(rebuild(members), "m.neff")
    for field, value, match in [
        ("opcode", Opcode.MATMUL, "opcode 3 is not valid on the dma engine"),
        ("opcode", 999, "opcode 999 is not valid"),
        ("sem", 32, "semaphore 32 out of range"),
    ]:
        members = archive_members(make_neff())
        rec = np.frombuffer(members["sg00/dma.bin"], dtype=INSTR_DTYPE).copy()
        rec[field][2] = value
        members["sg00/dma.bin"] = rec.tobytes()
        with pytest.raises(NeffError, match=f"malformed member sg00/dma.bin: record 2: {match}"):
            read_neff_bytes(rebuild(members), "m.neff")
    members = archive_members(make_neff())
    rec = np.frombuffer(members["sg00/dma.bin"], dtype=INSTR_DTYPE).copy()
    rec["in0"]["var"][0] = 9
    rec["out"]["dtype"][1] = 7
    members["sg00/dma.bin"] = rec.tobytes()
    with pytest.raises(NeffError, match="record 0: in0: variable index 9 out of range"):
        read_neff_bytes(rebuild(members), "m.neff")


def test_pickled_npy_is_refused():
    members = archive_members(make_neff())
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    members["sg00/fc_1_weight.npy"] = buf.getvalue()
    with pytest.raises(NeffError, match="not a readable .npy"):
        read_neff_bytes(rebuild(members), "m.neff")


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    from kaena import files
    from kaena.errors import KaenaError

    path = tmp_path / "m.neff"
    path.write_bytes(b"old")

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(KaenaError, match="m.neff: cannot write: disk full"):
        files.atomic_write(str(path), b"new contents")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.neff"]
