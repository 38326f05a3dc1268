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


def _compile_speed():
    path = RUNNER.parent / "compile_speed.py"
    spec = importlib.util.spec_from_file_location("kaena_benchmarks_compile_speed", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_compile_speed_times_kaena_from_file_to_file(tmp_path):
    """The Kaena side of the side-by-side benchmark (TVM's side needs its own venv,
    installed by the script, so it is not run here)."""
    import sys

    import onnx

    from kaena.testing import modelzoo

    speed = _compile_speed()
    model = tmp_path / "lenet.onnx"
    onnx.save(modelzoo.lenet(), model)
    out = tmp_path / "lenet.neff"
    run = speed.run_child(sys.executable, speed._KAENA_CHILD, str(model), str(out), timeout=300)
    assert run["seconds"] > 0 and run["output_bytes"] == out.stat().st_size > 0
    failed = speed.run_child(sys.executable, speed._KAENA_CHILD, str(tmp_path / "missing.onnx"), str(out), 300)
    assert "missing.onnx: file not found" in failed["error"]
    row = {"model": "lenet", "kaena_s": run["seconds"], "tvm_s": None, "ratio": None, "kaena_peak_mib": 1.0,
           "memory_bar_mib": 2.0, "tvm_peak_mib": None, "weights_mib": 0.2, "kaena_out_mib": 0.1,
           "kaena_error": "", "tvm_error": "boom"}
    text = speed.table([row], markdown=True)
    assert text.startswith("| model | Kaena s | TVM s |") and "lenet: tvm: boom" in text


def test_targets_measure_pipeline_batching_and_instance_rows():
    """The pieces of ``run.py --targets`` on small models (the real rows take minutes)."""
    from kaena.target import INF1
    from kaena.testing import modelzoo

    targets = _runner().targets_module()
    pipe = targets.pipeline_figures(modelzoo.lenet(), 2)
    assert pipe["interval_cycles"] >= pipe["roofline_cycles"] > 0  # nothing beats the roofline
    assert len(pipe["stage_busy_cycles"]) == 2 and pipe["stage_spread"] >= 0
    batching = targets.batching_figures(lambda b: modelzoo.resnet50(batch=b, image=32), [1, 2], INF1.clock_hz)
    assert len(batching["per_core_per_s"]) == 2 and isinstance(batching["monotone"], bool)
    xlarge = targets.instance_figures(modelzoo.lenet(), "inf1.xlarge")
    assert xlarge["copies"] == 4 and xlarge["throughput_per_s"] > 0
    rows = [{"what": "LeNet", "goal": "x", "measured": "y", "met": True},
            {"what": "MLP", "goal": "x", "error": "boom"}]
    table = targets.format_rows(rows, markdown=True)
    assert "| LeNet | y | x | yes |" in table and "| MLP | boom | x | - |" in table
