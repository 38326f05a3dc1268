"""kaena-neff: info, verify, unpack/pack, disasm/asm, version rules, and the
listing syntax documented in docs/neff-format.md."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import kaena
from kaena.testing import modelzoo
from kaena.errors import NeffError
from kaena.isa import Engine, Opcode, empty_records
from kaena.neff.container import read_neff_bytes
from kaena.neff.layout import HEADER_SIZE
from kaena.testing.neff_fuzz import rehash, repack, split
from kaena.neff.listing import assemble, disassemble, neff_weights, streams_equal
from kaena.tools import kaena_neff_main as tool

DOC = os.path.join(os.path.dirname(__file__), "..", "docs", "neff-format.md")


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "kaena.tools.kaena_neff_main", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def assert_clean_error(proc, pattern: str) -> None:
    """Exit 1, one stderr line naming the problem, no traceback."""
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kaena-neff: error: "), proc.stderr
    assert re.search(pattern, lines[0]), lines[0]


@pytest.fixture(scope="module")
def lenet_neff(tmp_path_factory):
    path = tmp_path_factory.mktemp("neff") / "lenet.neff"
    kaena.compile(modelzoo.lenet(batch=2), auto_cast="none").save(str(path))
    return path


def doc_listing() -> str:
    return re.search(r"```listing\n(.*?)```", open(DOC).read(), re.S).group(1)


# --- info / verify ------------------------------------------------------------------------


def test_info_text_and_json(lenet_neff):
    proc = cli("info", lenet_neff)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for expected in ("format version:   1.2", "compiler version: kaena 0.1.0", "name:             lenet",
                     "cores:            1", "input  [2,1,28,28]  float32", "output  [2,10]  float32",
                     "instructions", "constants"):
        assert expected in out
    info = tool.neff_info(lenet_neff.read_bytes(), str(lenet_neff))
    assert info["uuid"] in out and len(info["uuid"]) == 32
    size = info["size"]
    assert size["file"] == lenet_neff.stat().st_size == size["header"] + size["archive"]
    records = sum(info["per_core"][0]["records"].values())
    assert size["uncompressed"]["instructions"] == records * 192
    assert json.loads(cli("info", "--json", lenet_neff).stdout) == info


def test_verify_good_and_bad(lenet_neff, tmp_path):
    proc = cli("verify", lenet_neff)
    assert proc.returncode == 0 and proc.stdout.startswith(f"{lenet_neff}: OK: NEFF 1.2 'lenet'")
    data = bytearray(lenet_neff.read_bytes())
    data[-100] ^= 0x10
    bad = tmp_path / "flipped.neff"
    bad.write_bytes(bytes(data))
    assert_clean_error(cli("verify", bad), r"flipped.neff: corrupt NEFF: sha256 .* \(hash mismatch\)")
    cut = tmp_path / "cut.neff"
    cut.write_bytes(lenet_neff.read_bytes()[:5000])
    assert_clean_error(cli("verify", cut), r"cut.neff: truncated NEFF: header announces \d+ archive bytes, file has 3976")
    # a record whose operand leaves SBUF passes the reader's field checks but not verify
    header, members = split(lenet_neff.read_bytes())
    rec = np.frombuffer(members["sg00/act.bin"], dtype=empty_records(0).dtype).copy()
    i = int(np.flatnonzero(rec["opcode"] == Opcode.ACTIVATE)[0])
    rec["out"]["offset"][i] = 4 * 1024 * 1024
    members["sg00/act.bin"] = rec.tobytes()
    oob = tmp_path / "oob.neff"
    oob.write_bytes(repack(header, members))
    read_neff_bytes(oob.read_bytes())  # structurally fine
    assert_clean_error(cli("verify", oob), rf"oob.neff: invalid program: core 0, act instruction {i} .*out of bounds")


def test_malformed_member_message(lenet_neff, tmp_path):
    header, members = split(lenet_neff.read_bytes())
    members["sg00/def.json"] = members["sg00/def.json"].replace(b'"record_size":192', b'"record_size":"192"')
    path = tmp_path / "m.neff"
    path.write_bytes(repack(header, members))
    assert_clean_error(cli("info", path), r"m.neff: malformed member sg00/def.json: 'record_size' must be int")


def test_not_a_file(tmp_path):
    assert_clean_error(cli("info", tmp_path), "is a directory")
    assert_clean_error(cli("info", "/dev/zero"), "not a regular file")
    assert_clean_error(cli("info", tmp_path / "missing.neff"), "NEFF file not found")


# --- versions -------------------------------------------------------------------------------


def test_other_major_is_refused_naming_both_versions(lenet_neff, tmp_path):
    data = bytearray(lenet_neff.read_bytes())
    struct.pack_into("<QQ", data, 24, 2, 3)
    path = tmp_path / "v2.neff"
    path.write_bytes(bytes(data))
    for proc in (cli("info", path), subprocess.run(
            [sys.executable, "-m", "kaena.tools.kaena_run_main", str(path), "--inputs", "x.npz", "--output", "y.npz"],
            capture_output=True, text=True)):
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert "NEFF version mismatch supported: 1.2 received: 2.3" in proc.stderr
        assert "recompile" in proc.stderr
    struct.pack_into("<QQ", data, 24, 0, 9)
    with pytest.raises(NeffError, match="NEFF version mismatch supported: 1.2 received: 0.9"):
        read_neff_bytes(bytes(data))


@pytest.mark.parametrize("minor", [0, 1, 7])
def test_every_minor_of_the_major_loads(lenet_neff, tmp_path, minor):
    out = tmp_path / "u"
    tool.unpack_neff(lenet_neff.read_bytes(), "lenet.neff", str(out))
    top = json.loads((out / "neff.json").read_text())
    top["version"]["minor"] = minor
    (out / "neff.json").write_text(json.dumps(top))
    data = tool.pack_directory(str(out))
    assert struct.unpack_from("<QQ", data, 24) == (1, minor)
    neff = read_neff_bytes(data)
    assert neff.version == (1, minor)
    x = np.ones((2, 1, 28, 28), np.float32)
    np.testing.assert_array_equal(kaena.load(data).run({"input": x})["output"],
                                  kaena.load(str(lenet_neff)).run({"input": x})["output"])


def test_later_minor_may_use_reserved_header_bytes(lenet_neff):
    data = bytearray(lenet_neff.read_bytes())
    data[600] = 1  # pad
    with pytest.raises(NeffError, match="reserved bytes"):
        read_neff_bytes(bytes(data))
    header, members = split(bytes(data))
    top = json.loads(members["neff.json"])
    top["version"]["minor"] = 3
    members["neff.json"] = json.dumps(top).encode()
    newer = bytearray(repack(header, members))
    struct.pack_into("<Q", newer, 32, 3)
    assert read_neff_bytes(bytes(newer)).version == (1, 3)


# --- unpack / pack --------------------------------------------------------------------------


def test_unpack_then_pack_is_identical(lenet_neff, tmp_path):
    out = tmp_path / "dir"
    proc = cli("unpack", lenet_neff, out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["header.json", "neff.json", "sg00"]
    assert {"def.json", "pe.bin", "act.bin", "pool.bin", "dma.bin"} <= {p.name for p in (out / "sg00").iterdir()}
    assert json.loads((out / "header.json").read_text())["uuid"] == tool.neff_info(
        lenet_neff.read_bytes(), "x")["uuid"]
    packed = tmp_path / "re.neff"
    assert cli("pack", out, packed).returncode == 0
    assert packed.read_bytes() == lenet_neff.read_bytes()
    # unpack refuses a non-empty directory; pack refuses links and files the reader would refuse
    assert_clean_error(cli("unpack", lenet_neff, out), "not empty")
    os.symlink("/etc/passwd", out / "sg00" / "evil.npy")
    assert_clean_error(cli("pack", out, tmp_path / "x.neff"), "evil.npy: not a regular file")
    os.unlink(out / "sg00" / "evil.npy")
    (out / "sg00" / "stray.npy").write_bytes(b"x")
    assert_clean_error(cli("pack", out, tmp_path / "x.neff"), "member 'sg00/stray.npy' is not referenced")
    assert not (tmp_path / "x.neff").exists()


def test_pack_after_editing_a_constant(lenet_neff, tmp_path):
    out = tmp_path / "dir"
    tool.unpack_neff(lenet_neff.read_bytes(), "lenet.neff", str(out))
    bias = next(p for p in (out / "sg00").iterdir() if p.name.startswith("fc3.bias"))
    arr = np.load(bias)
    shift = np.arange(10, dtype=np.float32) * 0.1
    np.save(bias, arr + shift)
    (out / "header.json").unlink()  # a new uuid is derived
    data = tool.pack_directory(str(out))
    assert data != lenet_neff.read_bytes()
    x = np.zeros((2, 1, 28, 28), np.float32)
    a = kaena.load(str(lenet_neff)).run({"input": x})["output"]
    b = kaena.load(data).run({"input": x})["output"]
    expected = a * np.exp(shift)  # the model ends in softmax: a shifted bias reweights it
    np.testing.assert_allclose(b, expected / expected.sum(axis=1, keepdims=True), rtol=1e-5)


# --- disasm / asm ---------------------------------------------------------------------------


def test_disasm_asm_gives_the_same_file(lenet_neff, tmp_path):
    listing = tmp_path / "lenet.lst"
    assert cli("disasm", lenet_neff, "-o", listing).returncode == 0
    text = listing.read_text()
    assert re.search(r"^  engine pe  ; \d+ instructions$", text, re.M)
    assert re.search(r"^    0: sem_wait sem=\d+", text, re.M)
    assert cli("disasm", lenet_neff).stdout == text
    unpacked = tmp_path / "u"
    tool.unpack_neff(lenet_neff.read_bytes(), "x", str(unpacked))
    for flag, src in (("--like", lenet_neff), ("--weights", unpacked)):
        out = tmp_path / f"asm{flag}.neff"
        proc = cli("asm", listing, "-o", out, flag, src)
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == lenet_neff.read_bytes()
    assert_clean_error(cli("asm", listing, "-o", tmp_path / "n.neff"), r"no data for constant '.*' of core 0: pass --weights")


def test_doc_listing_assembles_runs_and_is_canonical(tmp_path):
    text = doc_listing()
    neff = assemble(text)
    assert disassemble(neff) == text
    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(4, 8)
    np.testing.assert_array_equal(kaena.load(neff.to_bytes()).run({"x": x})["y"], np.maximum(2 * x, 0))
    # through the CLIs: asm then kaena-run
    (tmp_path / "relu.lst").write_text(text)
    assert cli("asm", "relu.lst", "-o", "relu.neff", cwd=tmp_path).returncode == 0
    np.savez(tmp_path / "in.npz", x=x)
    run = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_run_main", "relu.neff", "--inputs", "in.npz",
                          "--output", "out.npz", "-q"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npz")["y"], np.maximum(2 * x, 0))


def test_odd_field_values_round_trip_exactly():
    """Out-of-range enums in unused fields, NaN payloads, -0.0, unused dims and
    reserved bytes all come back bit for bit."""
    neff = assemble(doc_listing())
    rec = neff.subgraphs[0].streams[Engine.DMA]
    rec["func"][0] = 999  # unused by DMA
    rec["alu"][1] = 77
    rec["imm"][1] = np.uint32(0x7FC00123).view(np.float32)  # NaN with a payload
    rec["scale"][2] = np.float32(-0.0)
    rec["imm"][2] = np.float32(1e-45)
    rec["in1"]["mem"][3] = 0
    rec["in1"]["dtype"][3] = 200  # garbage in an absent operand
    rec["in1"]["counts"][3, 3] = 5
    rec["in1"]["ndims"][3] = 9
    rec["_r1"][0] = 3
    rec["out"]["_r0"][0] = 1
    text = disassemble(neff)
    assert "func=999" in text and "imm=0x7fc00123" in text and "scale=-0.0" in text and "r1=3" in text
    back = assemble(text)
    assert streams_equal(neff, back) is None
    assert back.subgraphs[0].streams[Engine.DMA].tobytes() == rec.tobytes()


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("func=relu", "func=relux"), r":11: unknown activation function 'relux'"),
    (lambda t: t.replace("sem=1 value=1 tag=2", "sem=70000 tag=2"), r":17: sem = 70000 does not fit its uint16"),
    (lambda t: t.replace("off=128 nd=1 [8:1]) tag=2", "off=-2 nd=1 [8:1]) tag=2"), r":18: in0 off = -2 does not fit"),
    (lambda t: t.replace("    1: sem_signal sem=0", "    5: sem_signal sem=0"), r":16: instruction numbered 5, expected 1"),
    (lambda t: t.replace("tag=0\n    1:", "tag=0 tag=1\n    1:"), r":15: field 'tag' given twice"),
    (lambda t: t.replace("engine pool", "engine act"), r":13: engine act listed twice"),
    (lambda t: t.replace("scale=2.0", "scale=two"), r":11: scale must be a number"),
    (lambda t: t.replace("version 1.1", "version 1.1.1"), r"<doc>:1:\d+: cannot parse the listing here"),
    (lambda t: t.replace("tag=1\n    2:", "tag=1.5\n    2:"), r":11: tag must be an integer"),
])
def test_listing_errors_name_the_line(edit, message):
    with pytest.raises(NeffError, match=message):
        assemble(edit(doc_listing()), source="<doc>")


def test_asm_refuses_what_the_reader_refuses(tmp_path):
    text = doc_listing().replace("sem_wait sem=1 value=1 tag=2", "sem_wait sem=31 value=1 tag=2")
    assert tool.assemble_listing(text, "ok.lst")  # 31 < semaphores_per_core
    bad = doc_listing().replace("    2: sem_signal sem=1 tag=1", "    2: sem_signal sem=40 tag=1")
    (tmp_path / "bad.lst").write_text(bad)
    assert_clean_error(cli("asm", "bad.lst", "-o", "bad.neff", cwd=tmp_path),
                       r"bad.lst \(assembled\): malformed member sg00/act.bin: record 2: semaphore 40 out of range")
    assert not (tmp_path / "bad.neff").exists()


def test_compiled_models_are_checked_by_the_conftest_hook():
    from conftest import _LISTING_CHECKS

    if os.environ.get("KAENA_SKIP_LISTING_CHECK"):
        pytest.skip("listing check turned off")
    before = len(_LISTING_CHECKS)
    neff = kaena.compile(modelzoo.mlp(batch=1, sizes=(16, 8, 4)))
    assert _LISTING_CHECKS[before:] == [neff.name]
    back = assemble(disassemble(neff), neff_weights(neff))
    assert back.to_bytes() == neff.to_bytes()


def test_rehash_helper_only_fixes_size_and_hash(lenet_neff):
    data = lenet_neff.read_bytes()
    assert rehash(data) == data
    assert rehash(data + b"x")[:16] == data[:16] and rehash(data + b"x")[HEADER_SIZE:] == data[HEADER_SIZE:] + b"x"


def test_large_dram_to_dram_dma_is_accepted():
    """DRAM operands are bounded by a core's DRAM, not by the SBUF size: the
    lowering copies whole tensors DRAM to DRAM (concat, pad, transpose)."""

    from kaena.isa import DType, Engine, Mem, Opcode, empty_records
    from kaena.neff import Neff, Subgraph, TensorSpec, Variable
    from kaena.target import INF1

    rows, cols = 4096, 1024  # 16 MiB of fp32 > SBUF
    assert rows * cols * 4 > INF1.sbuf_bytes
    rec = empty_records(1)
    rec["opcode"] = Opcode.DMA
    for slot, var in (("out", 1), ("in0", 0)):
        ap = rec[slot]
        ap["mem"], ap["dtype"], ap["var"] = Mem.DRAM, DType.FP32, var
        ap["num_partitions"], ap["partition_stride"], ap["ndims"] = rows, cols, 1
        ap["counts"][:, 0], ap["strides"][:, 0] = cols, 1
    sg = Subgraph(core=0, variables=[Variable("x", "input", (rows, cols), "float32"),
                                     Variable("y", "output", (rows, cols), "float32")],
                  streams={Engine.DMA: rec})
    neff = Neff("copy", [TensorSpec("x", (rows, cols))], [TensorSpec("y", (rows, cols))], [sg])
    back = Neff.from_bytes(neff.to_bytes())
    assert len(back.subgraphs[0].stream(Engine.DMA)) == 1
