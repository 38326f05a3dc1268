"""Compile speed side by side: Kaena against TVM, model file to compiled file on disk.

    python benchmarks/compile_speed.py                      # resnet50, mobilenet_v2; median of 3
    python benchmarks/compile_speed.py --models resnet50 --repeats 5
    python benchmarks/compile_speed.py --markdown           # a table for docs/benchmarks.md
    python benchmarks/compile_speed.py --layers             # BERT at 2..24 layers: time and memory per layer
    python benchmarks/compile_speed.py --layers --hidden 1024   # BERT-large's width (24 layers: BERT-large)

TVM (``apache-tvm==0.27.0.post1``) is installed by this script in a venv of its
own (``build/bench-venv-tvm``; the first run takes a minute), so it never meets
Kaena's dependencies. Both compilers run in fresh processes, interleaved
(Kaena, TVM, Kaena, TVM, ...) so that this noisy 2-core machine slows both
alike, and the median of the repeats is printed. The clock starts after each
process has imported its compiler (process start-up excluded for all) and stops
when the compiled file is on disk:

- Kaena: ``kaena.compile(path)`` then ``Neff.save`` (the default BF16 auto-cast);
- TVM: ``onnx.load``, ``relax.frontend.onnx.from_onnx``, ``tvm.compile(target="llvm")``
  untuned, then ``export_library`` to a shared object.

Peak memory is each child's peak RSS (``VmHWM``, imports included). Kaena's
baseline is the peak of a child that compiles a one-operator model: the
interpreter, numpy, onnx, xDSL and the compiler's own modules, before any
weight; it is printed beside the peak, and the issue's bar (twice the model's
weight bytes plus the NEFF's) is printed as it is, baseline not subtracted.

    python benchmarks/compile_speed.py --stages resnet50     # where the memory goes, stage by stage

The figures are measurements on this machine; tests never assert them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TVM_VENV = os.path.join(ROOT, "build", "bench-venv-tvm")
TVM_REQUIREMENTS = ["apache-tvm==0.27.0.post1", "onnx"]

# (name, modelzoo builder, builder kwargs)
MODELS: dict[str, tuple[str, dict]] = {
    "resnet50": ("resnet50", {}),
    "mobilenet_v2": ("mobilenet_v2", {}),
    "ssd": ("ssd_detector", {}),
    "bert_base": ("bert", {"layers": 12, "hidden": 768, "heads": 12, "seq": 128, "vocab": 30522}),
}

# --layers: BERT at these depths (Kaena only), for the cost per layer; H=1024 is BERT-large's width.
SCALING_LAYERS = (2, 4, 8, 12, 24)

# The child's own peak RSS. Not ru_maxrss: Linux carries it across fork and exec, so every
# child would report at least this (large) parent's peak.
_PEAK = r"""
def PEAK_MIB():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
"""

_KAENA_CHILD = _PEAK + r"""
import json, os, sys, time
import kaena
path, out = sys.argv[1], sys.argv[2]
imports_mib = PEAK_MIB()
t0 = time.perf_counter()
kaena.compile(path).save(out)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_mib": PEAK_MIB(), "imports_mib": imports_mib,
                  "output_bytes": os.path.getsize(out)}))
"""

# --stages: the peak RSS within each stage of one compile (import, each pass, verify,
# encode, save): sampled every 2 ms from a thread, or VmHWM when it rose during the stage
# (a peak too brief for the sampler); and the RSS when the stage ends.
_STAGES_CHILD = _PEAK + r"""
import json, sys, threading, time
def RSS_MIB():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
import kaena
path, out = sys.argv[1], sys.argv[2]
rows = [["imports", PEAK_MIB(), RSS_MIB()]]
hwm = [PEAK_MIB()]
done = threading.Event()
def sample():
    while not done.is_set():
        rows[-1][1] = max(rows[-1][1], RSS_MIB())
        time.sleep(0.002)
def stage(name, *_):
    rss, peak = RSS_MIB(), PEAK_MIB()
    rows[-1][1], rows[-1][2] = max(rows[-1][1], rss, peak if peak > hwm[0] else 0), rss
    hwm[0] = peak
    rows.append([name, rss, rss])
threading.Thread(target=sample, daemon=True).start()
neff = kaena.compile(path, progress=stage)
stage("save")
neff.save(out)
stage("end")
done.set()
print(json.dumps({"stages": rows[:-1], "peak_mib": PEAK_MIB()}))
"""

_TVM_CHILD = _PEAK + r"""
import json, os, sys, time
import onnx
import tvm
from tvm import relax
from tvm.relax.frontend.onnx import from_onnx
path, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
mod = from_onnx(onnx.load(path))
ex = tvm.compile(mod, target="llvm")
ex.export_library(out)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_mib": PEAK_MIB(),
                  "output_bytes": os.path.getsize(out)}))
"""


def tvm_python() -> str:
    """The TVM venv's interpreter, creating the venv on first use."""
    python = os.path.join(TVM_VENV, "bin", "python")
    if not os.path.exists(python):
        print(f"installing {TVM_REQUIREMENTS[0]} into {TVM_VENV} ...", file=sys.stderr)
        venv.create(TVM_VENV, with_pip=True)
        proc = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                               *TVM_REQUIREMENTS], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"compile_speed: installing TVM failed:\n{proc.stderr[-2000:]}")
    return python


def run_child(python: str, code: str, model_path: str, out_path: str, timeout: float) -> dict:
    proc = subprocess.run([python, "-c", code, model_path, out_path], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def baseline_mib(timeout: float) -> float:
    """Kaena's fixed cost: the peak RSS of compiling a one-operator model (no weights to speak of)."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "relu.onnx")
        onnx.save(model, path)
        r = run_child(sys.executable, _KAENA_CHILD, path, os.path.join(tmp, "relu.neff"), timeout)
    return r.get("peak_mib", float("nan"))


def weight_bytes(model) -> int:
    from onnx import numpy_helper

    return sum(numpy_helper.to_array(t).nbytes for t in model.graph.initializer)


def measure(models: list[str], repeats: int, timeout: float) -> list[dict]:
    import onnx

    from kaena.testing import modelzoo

    python = tvm_python()
    baseline = baseline_mib(timeout)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name in models:
            builder, kwargs = MODELS[name]
            model = getattr(modelzoo, builder)(**kwargs)
            paths[name] = os.path.join(tmp, f"{name}.onnx")
            onnx.save(model, paths[name])
            rows.append({"model": name, "weights_mib": weight_bytes(model) / 2**20, "kaena": [], "tvm": []})
        for rep in range(repeats):
            for row in rows:
                name = row["model"]
                print(f"  {name}: repeat {rep + 1}/{repeats}", file=sys.stderr)
                row["kaena"].append(run_child(sys.executable, _KAENA_CHILD, paths[name],
                                              os.path.join(tmp, f"{name}.neff"), timeout))
                row["tvm"].append(run_child(python, _TVM_CHILD, paths[name],
                                            os.path.join(tmp, f"{name}.so"), timeout))
    for row in rows:
        for who in ("kaena", "tvm"):
            runs = [r for r in row[who] if "error" not in r]
            row[f"{who}_s"] = statistics.median(r["seconds"] for r in runs) if runs else None
            row[f"{who}_peak_mib"] = max(r["peak_mib"] for r in runs) if runs else None
            row[f"{who}_out_mib"] = runs[-1]["output_bytes"] / 2**20 if runs else None
            row[f"{who}_error"] = next((r["error"] for r in row[who] if "error" in r), "")
        k, t = row["kaena_s"], row["tvm_s"]
        row["ratio"] = k / t if k and t else None
        # the memory bar: at most twice the weights plus the NEFF (the baseline counted)
        row["memory_bar_mib"] = 2 * row["weights_mib"] + (row["kaena_out_mib"] or 0)
        row["baseline_mib"] = baseline
        peak = row["kaena_peak_mib"]
        row["above_baseline_mib"] = peak - baseline if peak is not None else None
        row["bar_met"] = ("yes" if peak <= row["memory_bar_mib"] else "no") if peak is not None else None
    return rows


COLUMNS = [
    ("model", "{}", "model"),
    ("kaena_s", "{:.2f}", "Kaena s"),
    ("tvm_s", "{:.2f}", "TVM s"),
    ("ratio", "{:.2f}", "Kaena/TVM"),
    ("kaena_peak_mib", "{:.0f}", "Kaena peak MiB"),
    ("memory_bar_mib", "{:.0f}", "2x weights + NEFF MiB"),
    ("bar_met", "{}", "bar met"),
    ("baseline_mib", "{:.0f}", "Kaena baseline MiB"),
    ("above_baseline_mib", "{:.0f}", "peak - baseline MiB"),
    ("tvm_peak_mib", "{:.0f}", "TVM peak MiB"),
    ("weights_mib", "{:.1f}", "weights MiB"),
    ("kaena_out_mib", "{:.1f}", "NEFF MiB"),
]


def table(rows: list[dict], markdown: bool) -> str:
    cells = [[("-" if r.get(k) is None else fmt.format(r[k])) for k, fmt, _ in COLUMNS] for r in rows]
    heads = [h for _, _, h in COLUMNS]
    if markdown:
        lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
    else:
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(heads, widths)),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.rjust(w) for c, w in zip(cs, widths)) for cs in cells]
    errors = [f"{r['model']}: {who}: {r[who + '_error']}" for r in rows for who in ("kaena", "tvm")
              if r[who + "_error"]]
    return "\n".join(lines + errors)


def measure_layers(hidden: int, layers: tuple[int, ...], timeout: float) -> list[dict]:
    """Kaena's compile of BERT at each depth, and the slope between depths (the per-layer cost)."""
    import onnx

    from kaena.testing import modelzoo

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in layers:
            model = modelzoo.bert(layers=n, hidden=hidden, heads=hidden // 64, seq=128, vocab=30522)
            path = os.path.join(tmp, f"bert{n}.onnx")
            onnx.save(model, path)
            weights = weight_bytes(model) / 2**20
            del model
            print(f"  bert H={hidden}: {n} layers", file=sys.stderr)
            r = run_child(sys.executable, _KAENA_CHILD, path, os.path.join(tmp, "out.neff"), timeout)
            rows.append({"layers": n, "weights_mib": weights, **r})
    for prev, row in zip(rows, rows[1:]):
        if "error" not in prev and "error" not in row:
            dl = row["layers"] - prev["layers"]
            row["s_per_layer"] = (row["seconds"] - prev["seconds"]) / dl
            row["mib_per_layer"] = (row["peak_mib"] - prev["peak_mib"]) / dl
    return rows


def layers_table(rows: list[dict], hidden: int) -> str:
    lines = [f"BERT H={hidden}, S=128, BF16: Kaena compile, model file to NEFF on disk",
             "| layers | weights MiB | compile s | peak MiB | s / layer | MiB / layer |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['layers']} | {r['weights_mib']:.0f} | {r['error']} | | | |")
            continue
        slope = (f"{r['s_per_layer']:.2f} | {r['mib_per_layer']:.0f}" if "s_per_layer" in r else "- | -")
        lines.append(f"| {r['layers']} | {r['weights_mib']:.0f} | {r['seconds']:.2f} | {r['peak_mib']:.0f} | {slope} |")
    return "\n".join(lines)


def measure_stages(name: str, timeout: float) -> dict:
    """One Kaena compile of ``name`` with the peak and final RSS of each stage."""
    import onnx

    from kaena.testing import modelzoo

    builder, kwargs = MODELS[name]
    with tempfile.TemporaryDirectory() as tmp:
        model = getattr(modelzoo, builder)(**kwargs)
        path = os.path.join(tmp, f"{name}.onnx")
        onnx.save(model, path)
        weights = weight_bytes(model) / 2**20
        del model
        r = run_child(sys.executable, _STAGES_CHILD, path, os.path.join(tmp, f"{name}.neff"), timeout)
        r["neff_mib"] = os.path.getsize(os.path.join(tmp, f"{name}.neff")) / 2**20 if "error" not in r else None
    return {"model": name, "weights_mib": weights, **r}


def stages_table(result: dict) -> str:
    if "error" in result:
        return f"{result['model']}: {result['error']}"
    lines = [f"{result['model']}: weights {result['weights_mib']:.1f} MiB, NEFF {result['neff_mib']:.1f} MiB, "
             f"peak {result['peak_mib']:.0f} MiB (VmHWM)",
             "| stage | peak RSS MiB | RSS after MiB |", "|---|---|---|"]
    lines += [f"| {n} | {peak:.0f} | {after:.0f} |" for n, peak, after in result["stages"]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet50,mobilenet_v2",
                        help=f"comma-separated: {', '.join(MODELS)}")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per compile")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", action="store_true", help="the raw measurements")
    parser.add_argument("--layers", action="store_true",
                        help=f"compile BERT at {', '.join(map(str, SCALING_LAYERS))} layers instead (Kaena only)")
    parser.add_argument("--hidden", type=int, default=768, help="BERT width for --layers (1024: BERT-large)")
    parser.add_argument("--stages", metavar="MODEL", choices=list(MODELS),
                        help="Kaena only: the peak RSS of each stage of one compile of MODEL")
    args = parser.parse_args()
    if args.stages:
        result = measure_stages(args.stages, args.timeout)
        print(json.dumps(result, indent=1) if args.json else stages_table(result))
        return 0
    if args.layers:
        rows = measure_layers(args.hidden, SCALING_LAYERS, args.timeout)
        print(json.dumps(rows, indent=1) if args.json else layers_table(rows, args.hidden))
        return 0
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        parser.error(f"unknown models: {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    rows = measure(models, args.repeats, args.timeout)
    print(json.dumps(rows, indent=1) if args.json else table(rows, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
