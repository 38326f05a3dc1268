"""``kaena-run MODEL.neff --inputs IN.npz --output OUT.npz [--stats STATS.json]
[--profile TRACE.json]``: execute a NEFF on the simulator; npz keys are the
model's input and output names. Prints a summary of where the cycles went
(docs/profiling.md); ``--timing-only`` skips the arithmetic for a quick count."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import zipfile

import numpy as np

from kaena.errors import KaenaError
from kaena.files import atomic_write
from kaena.tools.cli import run_tool


def read_inputs(path: str) -> dict[str, np.ndarray]:
    if os.path.isdir(path):
        raise KaenaError(f"{path}: is a directory; give an .npz archive with one array per model input")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):  # a .npy: one unnamed array
            raise KaenaError(f"{path}: holds a single unnamed array; save the inputs by name with "
                             "np.savez(path, **{input_name: array})")
        with data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise KaenaError(f"{path}: no such input file") from None
    except KaenaError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise KaenaError(f"{path}: not a readable .npz file ({e})") from None


def check_writable(path: str) -> None:
    """Refuse an output path the run could not write, before the run."""
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise KaenaError(f"{path}: is a directory; give a file name")
    if not os.path.isdir(parent):
        raise KaenaError(f"{path}: output directory does not exist")
    import tempfile

    try:  # what atomic_write will do: a temporary file beside the target, then a rename
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".kaena-run-check-"):
            pass
    except OSError as e:
        raise KaenaError(f"{path}: cannot write there ({e.strerror})") from None


def _main() -> int:
    p = argparse.ArgumentParser(prog="kaena-run", description="Run a NEFF on Kaena's Inferentia simulator")
    p.add_argument("neff", help="compiled model (.neff)")
    p.add_argument("--inputs", help=".npz with one array per model input name (required unless --timing-only)")
    p.add_argument("--output", help=".npz to write, one array per model output name (required unless --timing-only)")
    p.add_argument("--stats", metavar="STATS.json", help="write run statistics as JSON (docs/profiling.md)")
    p.add_argument("--profile", metavar="TRACE.json",
                   help="write a Chrome-trace/Perfetto profile: open it in ui.perfetto.dev or chrome://tracing")
    p.add_argument("--timing-only", action="store_true",
                   help="count cycles without computing values (inputs optional, no output written)")
    p.add_argument("--no-hazard-check", action="store_true",
                   help="skip the check that every cross-engine access is ordered by semaphores")
    p.add_argument("--copies", type=int, default=1, metavar="K",
                   help="data parallel: K copies of the model, each on its own cores")
    p.add_argument("--requests", type=int, default=0, metavar="R",
                   help="also stream R requests through one copy (timing only): steady-state interval, "
                        "latency, each core's busy share, and the K copies' throughput")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    args = p.parse_args()
    if args.requests == 1 or args.requests < 0:
        p.error("--requests streams at least 2 requests")
    if not args.timing_only and (args.inputs is None or args.output is None):
        p.error("--inputs and --output are required (or pass --timing-only)")
    if args.timing_only and args.output is not None:
        p.error("--timing-only computes no values: drop --output")

    for path in (args.output, args.stats, args.profile):  # fail before a long run, not after
        if path is not None:
            check_writable(path)

    import kaena
    from kaena.reports.profile import chrome_trace, format_summary, run_stats

    model = kaena.load(args.neff, copies=args.copies)
    inputs = read_inputs(args.inputs) if args.inputs is not None else {}
    profile = bool(args.profile or args.stats or not args.quiet)
    result = model.simulate(inputs, timing_only=args.timing_only, check_hazards=not args.no_hazard_check,
                            profile=profile)
    stats = run_stats(model.neff, result)
    # Everything is rendered before anything is written: a failure leaves no file half done.
    files: list[tuple[str, bytes]] = []
    if args.output is not None:
        buf = io.BytesIO()
        np.savez(buf, **{k: result.outputs[k] for k in sorted(result.outputs)})
        files.append((args.output, buf.getvalue()))
    if args.stats:
        files.append((args.stats, (json.dumps(stats, indent=2, sort_keys=True) + "\n").encode()))
    if args.profile:
        files.append((args.profile, json.dumps(chrome_trace(model.neff, result), separators=(",", ":")).encode()))
    for path, data in files:
        atomic_write(path, data)
    if not args.quiet:
        wrote = [f for f in (args.output, args.stats, args.profile) if f]
        print(f"kaena-run: {model.neff.name}: {stats['cycles']} cycles, "
              f"{stats['latency_us']:.1f} us simulated" + (f"; wrote {', '.join(wrote)}" if wrote else ""))
        print(format_summary(stats))
    if args.requests:
        t = model.timing(args.requests)
        copies = model.copies
        busy = ", ".join(f"core {k} {b:.0%}" for k, b in enumerate(t.core_busy))
        plan = model.neff.metadata.get("pipeline") if isinstance(model.neff.metadata, dict) else None
        roof = plan.get("roofline_cycles") if isinstance(plan, dict) else None
        vs = f" ({t.interval / roof:.2f}x the pipeline's roofline, {roof} cycles)" if roof else ""
        print(f"kaena-run: {args.requests} requests through {model.neff.num_cores} core(s): steady-state interval "
              f"{t.interval_us:.1f} us{vs}, latency {t.latency_us:.1f} us; busy: {busy}")
        print(f"kaena-run: {copies} cop{'y' if copies == 1 else 'ies'} x {model.neff.num_cores} core(s): "
              f"{copies * t.throughput:.0f} inferences/s (each run of the NEFF counts as one)")
    return 0


def main() -> None:
    sys.exit(run_tool("kaena-run", _main))


if __name__ == "__main__":
    main()
