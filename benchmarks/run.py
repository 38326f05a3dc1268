"""Kaena's benchmark runner: compile, simulate and compare the model zoo, print one table.

    python benchmarks/run.py                         # every model, BF16 (default auto-cast)
    python benchmarks/run.py --models resnet50 --auto-cast none
    python benchmarks/run.py --markdown              # a table for docs/benchmarks.md
    python benchmarks/run.py --profiles out/         # also each model's stats, trace and estimate
    python benchmarks/run.py --targets               # the pipeline and batching targets (targets.py)

Each model runs in its own process so that its peak memory is its own. The
figures are measurements on this machine; tests never assert them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

# (name, modelzoo builder, builder kwargs)
MODELS: dict[str, tuple[str, dict]] = {
    "mlp": ("mlp", {"batch": 4}),
    "lenet": ("lenet", {"batch": 1}),
    "resnet50": ("resnet50", {}),
    "mobilenet_v2": ("mobilenet_v2", {}),
    "ssd": ("ssd_detector", {}),
    "bert_tiny": ("bert", {"layers": 2, "hidden": 128, "heads": 2, "seq": 64, "vocab": 1000}),
    "bert_base": ("bert", {"layers": 12, "hidden": 768, "heads": 12, "seq": 128, "vocab": 30522}),
    "vit": ("vit", {}),
    "translation": ("translation_transformer", {}),
}

COLUMNS = [
    ("model", "{}", "model"),
    ("auto_cast", "{}", "auto-cast"),
    ("compile_s", "{:.2f}", "compile s"),
    ("compile_peak_mib", "{:.0f}", "peak RSS MiB"),
    ("simulate_s", "{:.2f}", "simulate s"),
    ("ort_s", "{:.3f}", "onnxruntime s"),
    ("max_rel_err", "{:.2e}", "max err (rel. to max abs ref)"),
    ("bar", "{:.2e}", "bar"),
    ("latency_us", "{:.0f}", "sim latency us"),
    ("pe_utilization", "{:.1%}", "PE util"),
    ("roofline_ratio", "{:.2f}", "cycles/roofline"),
]


def run_one(model_name: str, auto_cast: str, profiles: str | None = None) -> dict:
    """Measure one model; runs in a child process. With ``profiles``, also write
    ``<model>-<auto_cast>.{stats,trace,estimate}.json`` there."""
    import kaena
    from kaena.testing import modelzoo
    from kaena.testing.reference import error_metrics, random_inputs, run_onnxruntime

    builder, kwargs = MODELS[model_name]
    model = getattr(modelzoo, builder)(**kwargs)
    inputs = random_inputs(model, seed=0)
    t0 = time.perf_counter()
    reference = run_onnxruntime(model, inputs)
    ort_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    neff = kaena.compile(model, auto_cast=auto_cast)
    compile_s = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = time.perf_counter()
    result = kaena.load(neff).simulate(inputs, profile=profiles is not None)
    simulate_s = time.perf_counter() - t0
    if profiles is not None:
        _write_profiles(profiles, f"{model_name}-{auto_cast}", neff, result)
    err = error_metrics(result.outputs, reference)
    if auto_cast == "none":
        bar = 1e-3  # issue 3: within 1e-3 of the largest output magnitude
    else:
        bar = 2 * error_metrics(run_onnxruntime(modelzoo.bf16_emulation(model), inputs), reference).max_rel
    row = {
        "model": model_name,
        "auto_cast": auto_cast,
        "compile_s": compile_s,
        "compile_peak_mib": peak_mib,
        "simulate_s": simulate_s,
        "ort_s": ort_s,
        "max_rel_err": err.max_rel,
        "bar": bar,
        "ok": err.max_rel <= bar,
        "cycles": int(result.cycles),
    }
    row.update(_timing_figures(neff, result))
    return row


def _write_profiles(directory: str, stem: str, neff, result) -> None:
    from kaena.reports.estimate import estimate_json
    from kaena.reports.profile import run_stats, write_chrome_trace

    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, stem)
    with open(f"{base}.stats.json", "w") as f:
        json.dump(run_stats(neff, result), f, indent=1, sort_keys=True, default=float)
    write_chrome_trace(f"{base}.trace.json", neff, result)
    with open(f"{base}.estimate.json", "w") as f:
        json.dump(estimate_json(neff, result), f, indent=1, sort_keys=True, default=float)


def _timing_figures(neff, result) -> dict:
    """Simulated latency, PE utilisation and the roofline ratio, from the run's statistics."""
    from kaena.target import INF1

    figures = {"latency_us": result.cycles / INF1.clock_hz * 1e6}
    try:
        from kaena.reports.profile import run_stats
    except ImportError:  # before the profiling module exists
        if hasattr(result, "pe_utilization"):
            figures["pe_utilization"] = result.pe_utilization()
        return figures
    stats = run_stats(neff, result)
    figures["pe_utilization"] = stats["pe_utilization"]
    if stats.get("roofline_cycles"):
        figures["roofline_ratio"] = stats["cycles"] / stats["roofline_cycles"]
    return figures


def _child(model: str, auto_cast: str, timeout: float, profiles: str | None) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--one", model, "--auto-cast", auto_cast]
    if profiles is not None:
        cmd += ["--profiles", os.path.abspath(profiles)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"model": model, "auto_cast": auto_cast, "error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"model": model, "auto_cast": auto_cast, "error": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


TARGETS_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets.py")


def targets_module():
    """``benchmarks/targets.py`` (a script beside this one, not a package module)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("kaena_benchmarks_targets", TARGETS_SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _target_child(name: str, timeout: float) -> dict:
    """One target of ``targets.py``, measured in its own process."""
    what, goal = targets_module().TARGETS[name]
    cmd = [sys.executable, TARGETS_SCRIPT, "--one", name]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"target": name, "what": what, "goal": goal, "error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"target": name, "what": what, "goal": goal, "error": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def format_table(rows: list[dict], markdown: bool) -> str:
    headers = [h for _, _, h in COLUMNS]
    body = []
    notes = []
    for r in rows:
        if "error" in r:
            notes.append(f"{r['model']} ({r['auto_cast']}): {r['error']}")
        body.append([fmt.format(r[key]) if key in r else "-" for key, fmt, _ in COLUMNS])
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines + [""] + notes)
    widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in body]
    return "\n".join(lines + notes)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated: " + ", ".join(MODELS))
    p.add_argument("--auto-cast", default="matmult", choices=("none", "matmult", "all", "both"),
                   help="'both' runs none and matmult")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per model")
    p.add_argument("--markdown", action="store_true")
    p.add_argument("--profiles", metavar="DIR",
                   help="write each model's stats.json, Perfetto trace.json and estimate.json to DIR")
    p.add_argument("--targets", action="store_true",
                   help="measure the pipeline and batching targets (benchmarks/targets.py) instead")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.auto_cast, args.profiles)))
        return 0
    if args.targets:
        targets = targets_module()
        rows = []
        for name in targets.TARGETS:
            rows.append(_target_child(name, args.timeout))
            print(f"  {name}: done", file=sys.stderr)
        print(targets.format_rows(rows, args.markdown))
        return 0 if all("met" in r for r in rows) else 1
    casts = ("none", "matmult") if args.auto_cast == "both" else (args.auto_cast,)
    rows = []
    for model in args.models.split(","):
        if model not in MODELS:
            p.error(f"unknown model '{model}' (choose from {', '.join(MODELS)})")
        for cast in casts:
            rows.append(_child(model, cast, args.timeout, args.profiles))
            print(f"  {model} ({cast}): done", file=sys.stderr)
    print(format_table(rows, args.markdown))
    return 0 if all(r.get("ok") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
