"""The benchmark runner works (its figures are measurements, never asserted)."""

import importlib.util
from pathlib import Path

RUNNER = Path(__file__).parents[1] / "benchmarks" / "run.py"


def _runner():
    spec = importlib.util.spec_from_file_location("kaena_benchmarks_run", RUNNER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_one_model_row_and_table():
    run = _runner()
    row = run.run_one("lenet", "none")
    assert row["ok"] and row["max_rel_err"] <= 1e-5 and row["cycles"] > 0
    table = run.format_table([row, {"model": "x", "auto_cast": "none", "error": "boom"}], markdown=True)
    assert table.splitlines()[0].startswith("| model | auto-cast | compile s")
    assert "| lenet | none |" in table and "x (none): boom" in table


def test_profiles_are_written(tmp_path):
    import json

    run = _runner()
    row = run.run_one("mlp", "matmult", profiles=str(tmp_path))
    assert row["ok"]
    stats = json.loads((tmp_path / "mlp-matmult.stats.json").read_text())
    assert stats["cycles"] == row["cycles"] and stats["cycles"] >= stats["roofline_cycles"] > 0
    trace = json.loads((tmp_path / "mlp-matmult.trace.json").read_text())
    assert trace["traceEvents"]
    estimate = json.loads((tmp_path / "mlp-matmult.estimate.json").read_text())
    assert "inf1.xlarge" in json.dumps(estimate)
