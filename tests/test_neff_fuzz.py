"""Thousands of broken NEFFs (truncated, bit-flipped, field-scrambled and
re-hashed) through what `kaena-neff info` and `kaena-run` call: every one must
end in a result or a clean KaenaError, within a deadline. A handful also go
through the real command-line tools, under a memory limit."""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaena.testing import neff_fuzz as fuzz
from kaena.testing.neff_fuzz import MUTATIONS, default_seeds, mutate, run_case

CASES = 2000
DEADLINE_S = 10.0
MEMORY_LIMIT = 4 << 30  # bytes of address space for the CLI subprocesses

_SEEDS = None
_OUTCOMES: Counter = Counter()


def seeds():
    global _SEEDS
    if _SEEDS is None:
        _SEEDS = default_seeds()
    return _SEEDS


@settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2), kind=st.sampled_from(sorted(MUTATIONS)), rnd=st.randoms(use_true_random=False))
def test_broken_neffs_end_in_clean_errors(seed, kind, rnd):
    s = seeds()[seed % len(seeds())]
    _, data = mutate(s, rnd, kind)
    outcome = run_case(data, s.inputs, DEADLINE_S)
    _OUTCOMES[(kind, outcome.kind)] += 1
    assert outcome.kind in ("accepted", "rejected"), f"{kind} mutant: {outcome.kind}: {outcome.detail}"


def test_the_campaign_reached_the_deep_checks():
    """The test above is only worth something if mutants get past the hash and
    the archive: re-packed ones must hit JSON, record and .npy checks."""
    if sum(_OUTCOMES.values()) < CASES // 2:
        pytest.skip("run together with test_broken_neffs_end_in_clean_errors")
    rejected_by = Counter()
    rng = random.Random(7)
    for kind in ("json-field", "record-field", "npy"):
        for _ in range(40):
            s = rng.choice(seeds())
            out = run_case(mutate(s, rng, kind)[1], s.inputs)
            if out.kind == "rejected":
                rejected_by["hash" if "hash mismatch" in out.detail else "json" if ".json" in out.detail
                            else "record" if ".bin" in out.detail else "npy" if ".npy" in out.detail else "other"] += 1
    assert rejected_by["hash"] == 0
    assert min(rejected_by["json"], rejected_by["record"], rejected_by["npy"]) > 0, rejected_by
    for kind in MUTATIONS:
        assert _OUTCOMES[(kind, "rejected")] > 0, f"no {kind} mutant was rejected: {dict(_OUTCOMES)}"


def test_harness_reports_crashes_and_hangs(monkeypatch):
    """run_case itself must be able to fail: a raw exception is a crash, a stall a timeout."""
    s = seeds()[0]
    import kaena.neff.info as tool  # run_case reads files with kaena.neff.info.neff_info

    monkeypatch.setattr(tool, "neff_info", lambda data, source: (_ for _ in ()).throw(IndexError("boom")))
    assert run_case(s.data, s.inputs).kind == "crash"
    monkeypatch.setattr(tool, "neff_info", lambda data, source: time.sleep(5))
    t0 = time.monotonic()
    assert run_case(s.data, s.inputs, seconds=0.2).kind == "timeout"
    assert time.monotonic() - t0 < 2


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def test_cli_tools_on_broken_files(tmp_path):
    """The real entry points: one error line, exit 1, no traceback, bounded time and memory."""
    import numpy as np

    rng = random.Random(11)
    s = seeds()[0]
    np.savez(tmp_path / "in.npz", **s.inputs)
    kinds = ["truncate", "bitflip", "header-field", "json-field", "record-field", "npy", "sources", "members",
             "tar-bytes"]
    checked = 0
    for kind in kinds:
        for _ in range(20):  # find a mutant the reader refuses
            data = mutate(s, rng, kind)[1]
            if run_case(data, s.inputs).kind == "rejected":
                break
        path = tmp_path / f"{kind}.neff"
        path.write_bytes(data)
        for cmd in (["kaena.tools.kaena_neff_main", "info", str(path)],
                    ["kaena.tools.kaena_run_main", str(path), "--inputs", str(tmp_path / "in.npz"),
                     "--output", str(tmp_path / "out.npz")]):
            proc = subprocess.run([sys.executable, "-m", *cmd], capture_output=True, text=True, timeout=120,
                                  preexec_fn=_limit_memory)
            assert proc.returncode == 1, (kind, proc.stderr)
            assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
            assert len(proc.stderr.strip().splitlines()) == 1 and ": error: " in proc.stderr
            checked += 1
    assert checked == 2 * len(kinds)


def test_bounded_before_allocation():
    """Hostile sizes are refused from the declarations, without allocating them."""
    from kaena.neff.container import read_neff_bytes
    from kaena.errors import NeffError

    s = seeds()[0]
    header, members = fuzz.split(s.data)
    # a gzip bomb: a huge zero member compresses to almost nothing
    import gzip
    import io
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        info = tarfile.TarInfo("sg00/bomb.npy")
        info.size = 3 << 30
        tf.addfile(info)  # header only: the size field claims 3 GiB
    with pytest.raises(NeffError, match="malformed|truncated"):
        read_neff_bytes(fuzz.rehash(header + gzip.compress(raw.getvalue())))
    bomb = gzip.compress(bytes(64 << 20), compresslevel=1)  # 64 MiB of zeros in ~64 KiB
    with pytest.raises(NeffError, match="holds no members"):
        read_neff_bytes(fuzz.rehash(header + bomb))
    from kaena.neff import archive

    with pytest.MonkeyPatch.context() as mp:  # the real budget is GiBs: shrink it to see the bound act
        mp.setattr(archive, "archive_budget", lambda num_tpb: 1 << 20)
        with pytest.raises(NeffError, match="decompresses to more than"):
            read_neff_bytes(fuzz.rehash(header + bomb))
    # an .npy header that claims a shape far beyond its data
    name = next(n for n in members if n.endswith(".npy"))
    npy = members[name]
    members[name] = npy.replace(b"(4, 8)", b"(4, 800000000000)")
    with pytest.raises(NeffError, match="holds .* def.json declares|not a readable"):
        read_neff_bytes(fuzz.repack(header, members))
