"""``sbuf_peak_bytes`` / ``psum_peak_bytes`` of STATS.json are what the simulated run
wrote (docs/profiling.md), checked against an independent count: every byte address of
every SBUF/PSUM destination element, enumerated in plain Python."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

import kaena
from kaena.isa import DType, Engine, Mem
from kaena.reports.profile import run_stats
from kaena.testing import modelzoo
from kaena.testing.reference import random_inputs


def independent_count(neff) -> dict[str, int]:
    """Distinct (partition, byte) pairs written, per memory, on the busiest core."""
    best = {"sbuf": 0, "psum": 0, "sbuf_part": 0, "psum_part": 0}
    for sg in neff.subgraphs:
        written: dict[int, set[tuple[int, int]]] = {int(Mem.SBUF): set(), int(Mem.PSUM): set()}
        for rec in [sg.stream(e) for e in Engine] + [sg.load_stream]:
            for r in rec:
                ap = r["out"]
                mem = int(ap["mem"])
                if mem not in written:
                    continue
                isz = DType(int(ap["dtype"])).itemsize
                nd = int(ap["ndims"])
                ranges = [range(int(c)) for c in ap["counts"][:nd]]
                strides = [int(s) for s in ap["strides"][:nd]]
                for p in range(int(ap["start_partition"]), int(ap["start_partition"]) + int(ap["num_partitions"])):
                    for idx in itertools.product(*ranges):
                        b = int(ap["offset"]) + isz * sum(i * s for i, s in zip(idx, strides))
                        written[mem].update((p, b + k) for k in range(isz))
        for name, mem in (("sbuf", Mem.SBUF), ("psum", Mem.PSUM)):
            pairs = written[int(mem)]
            per = np.bincount([p for p, _ in pairs], minlength=1) if pairs else np.zeros(1, int)
            best[name] = max(best[name], len(pairs))
            best[f"{name}_part"] = max(best[f"{name}_part"], int(per.max()))
    return best


@pytest.fixture(scope="module")
def lenet():
    model = modelzoo.lenet(batch=1)
    return model, kaena.compile(model, auto_cast="none")


def _peaks(stats: dict) -> dict[str, int]:
    return {"sbuf": stats["sbuf_peak_bytes"], "psum": stats["psum_peak_bytes"],
            "sbuf_part": stats["sbuf_peak_partition_bytes"], "psum_part": stats["psum_peak_partition_bytes"]}


def test_peaks_are_the_bytes_the_run_wrote(lenet):
    model, neff = lenet
    expected = independent_count(neff)
    assert expected["sbuf"] > 0 and expected["psum"] > 0
    # from the hazard shadow (a run with values), and painted from the records (timing only)
    shadow = run_stats(neff, kaena.load(neff).simulate(random_inputs(model, seed=0)))
    painted = run_stats(neff, kaena.load(neff).simulate({}, timing_only=True))
    assert _peaks(shadow) == expected == _peaks(painted)
    # not the allocator's plan copied from the NEFF
    assert shadow["sbuf_alloc_peak_bytes"] == neff.subgraphs[0].sbuf_peak_bytes
    assert shadow["sbuf_peak_bytes"] != shadow["sbuf_alloc_peak_bytes"]


def test_kaena_run_stats_file(lenet, tmp_path):
    model, neff = lenet
    path = tmp_path / "lenet.neff"
    neff.save(str(path))
    np.savez(tmp_path / "in.npz", **random_inputs(model, seed=0))
    proc = subprocess.run([sys.executable, "-m", "kaena.tools.kaena_run_main", str(path), "--inputs",
                           str(tmp_path / "in.npz"), "--output", str(tmp_path / "out.npz"), "--stats",
                           str(tmp_path / "stats.json"), "-q"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert _peaks(stats) == independent_count(neff)
