"""The campaigns' shared worker loop (kaena/testing/fuzz_harness.py): a case that kills
its worker or hangs costs that case only, is reported with what it marked, and the
worker restarts after it; a worker that fails between cases stops the campaign."""

from __future__ import annotations

import sys
import textwrap

import pytest

from kaena.testing.fuzz_harness import HarnessBroken, Lost, run_workers, worker_range

WORKER = textwrap.dedent("""
    import os, sys, time
    from kaena.testing.fuzz_harness import announce, worker_range

    cases, (mode,) = worker_range(sys.argv)
    if mode == "broken":
        sys.exit(5)
    for i in cases:
        announce({"start": i, "kind": f"k{i % 3}"})
        if i == 3:
            os._exit(7)            # dies mid-case
        if i == 4:
            time.sleep(60)         # hangs past the stall limit
        if i == 5:
            announce({"mark": "reference"})
            os._exit(9)            # dies after marking a stage
        announce({"done": i, "kind": f"k{i % 3}", "outcome": "ok"})
""")


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "worker.py"
    path.write_text(WORKER)
    return str(path)


def test_lost_cases_are_reported_and_the_rest_run(script):
    results = list(run_workers(script, ["ok"], workers=2, cases=8, seconds=0, memory_mb=4096, deadline=0.5))
    done = sorted(m["done"] for m in results if not isinstance(m, Lost))
    lost = {m.case: m for m in results if isinstance(m, Lost)}
    assert done == [0, 1, 2, 6, 7]
    assert sorted(lost) == [3, 4, 5]
    assert lost[3] == Lost(3, "k0", stalled=False, returncode=7)
    assert lost[4].stalled and lost[4].kind == "k1"
    assert lost[5].marks == frozenset({"reference"}) and lost[5].returncode == 9


def test_a_worker_failing_outside_any_case_breaks_the_campaign(script):
    with pytest.raises(HarnessBroken, match="worker 0 exited with 5 outside any case"):
        list(run_workers(script, ["broken"], workers=1, cases=2, seconds=0, memory_mb=4096, deadline=1.0))


def test_worker_range_reads_the_command_line():
    assert worker_range([sys.argv[0], "--worker", "1", "2", "7", "x"]) == (range(1, 7, 2), ["x"])
    assert worker_range([sys.argv[0], "--cases", "5"]) is None
