"""A model fuzzing campaign: mutated ONNX protobufs and random small graphs
through ``kaena.compile``, the simulator and onnxruntime (kaena/testing/model_fuzz.py).

    python benchmarks/fuzz_models.py --cases 2000                 # 1000 of each generator
    python benchmarks/fuzz_models.py --seconds 600 --workers 2
    python benchmarks/fuzz_models.py --reproduce graph:17 -o case.onnx   # write one case and run it

Cases alternate in pairs between the generators (half of each); a failure is
reproducible from the seed and its generator's case number (``--reproduce graph:17``). Each worker is a subprocess with an
address-space limit (--memory-mb) running cases under a per-case deadline; one
that dies or stalls past three deadlines is counted as a crash or a hang of the
case it was on and restarted after it. Prints the cases tried, the clean
rejections by category, compiled-and-matched, mismatches, tracebacks, internal
errors and hangs per generator, and the failures grouped by signature; exits 1
if anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict

from kaena.testing.fuzz_harness import HarnessBroken, Lost, add_arguments, announce, case_budget, run_workers, \
    worker_range

HERE = os.path.abspath(__file__)
GENERATORS = ("mutation", "graph")
COLUMNS = ("rejected", "matched", "accepted", "skipped", "mismatch", "traceback", "internal", "timeout", "crash")


def generator_of(i: int) -> tuple[str, int]:
    """Case i -> (generator, its case number): pairs alternate, so two workers share both."""
    return GENERATORS[(i // 2) % 2], (i // 4) * 2 + i % 2


def worker(cases: range, seed: int, deadline: float) -> None:
    """Run the worker's cases; one JSON line before and after each, a mark before the reference."""
    from kaena.testing import model_fuzz
    from kaena.testing.model_fuzz import make_case, run_case

    model_fuzz.on_reference = lambda: announce({"mark": "reference"})
    for i in cases:
        gen, k = generator_of(i)
        announce({"start": i, "kind": gen})
        t0 = time.monotonic()
        try:
            case = make_case(gen, seed, k)
        except Exception as e:  # noqa: BLE001 - a generator bug is reported, not fatal
            announce({"done": i, "gen": gen, "kind": "generator", "outcome": "traceback", "category": "",
                      "detail": f"generator: {type(e).__name__}: {e}", "notes": []})
            continue
        out = run_case(case, seed, deadline)
        announce({"done": i, "gen": gen, "kind": case.kind, "outcome": out.kind, "category": out.category,
                  "detail": out.detail[:3000], "notes": out.notes, "seconds": round(time.monotonic() - t0, 3)})


def reproduce(seed: int, which: str, path: str) -> None:
    from kaena.testing.model_fuzz import make_case, run_case

    gen, k = which.split(":")
    case = make_case(gen, seed, int(k))
    with open(path, "wb") as f:
        f.write(case.data)
    out = run_case(case, seed)
    print(f"{gen} case {k} ({case.kind}) -> {path}: {out.kind} {out.category}: {out.detail}")


def lost_message(lost: Lost) -> dict:
    """A case that killed or hung its worker; Kaena is not at fault if onnxruntime, the reference, was running."""
    what = "timeout" if lost.stalled else "crash"
    detail = "hung past the hard deadline" if lost.stalled else f"worker died (exit {lost.returncode})"
    if "reference" in lost.marks:  # Kaena compiled it; onnxruntime died on it
        what, detail = "accepted", f"onnxruntime {what}: {detail}"
    return {"done": lost.case, "gen": generator_of(lost.case)[0], "kind": "?", "outcome": what, "category": "",
            "detail": detail, "notes": []}


def campaign(args) -> int:
    from kaena.testing.model_fuzz import FAILURES, signature

    outcomes: Counter = Counter()
    categories: Counter = Counter()
    notes: Counter = Counter()
    groups: dict[str, list[dict]] = defaultdict(list)
    t0 = time.monotonic()
    try:
        for msg in run_workers(HERE, [str(args.seed), str(args.deadline)], workers=args.workers, cases=args.cases,
                               seconds=args.seconds, memory_mb=args.memory_mb, deadline=args.deadline):
            msg = lost_message(msg) if isinstance(msg, Lost) else msg
            outcomes[(msg["gen"], msg["outcome"])] += 1
            if msg["outcome"] == "rejected":
                categories[(msg["gen"], msg["category"])] += 1
            for n in msg.get("notes", []):
                notes[(msg["gen"], n)] += 1
            if msg["outcome"] in FAILURES:
                groups[signature(msg["outcome"], msg["detail"])].append(msg)
            if args.log:
                with open(args.log, "a") as f:
                    f.write(json.dumps(msg) + "\n")
    except HarnessBroken as e:
        print(f"fuzz_models: {e}", file=sys.stderr)
        return 2
    report(args, sum(outcomes.values()), time.monotonic() - t0, outcomes, categories, notes, groups)
    return 1 if groups else 0


def report(args, tried, elapsed, outcomes, categories, notes, groups) -> None:
    print(f"fuzz_models: tried {tried} cases in {elapsed:.0f} s, seed {args.seed}, {args.workers} worker(s), "
          f"memory limit {args.memory_mb} MiB, deadline {args.deadline} s")
    print(f"{'generator':<10}{'cases':>7}" + "".join(f"{c:>10}" for c in COLUMNS))
    for gen in GENERATORS:
        row = [outcomes[(gen, c)] for c in COLUMNS]
        print(f"{gen:<10}{sum(row):>7}" + "".join(f"{n:>10}" for n in row))
    print("clean rejections by category:")
    for gen in GENERATORS:
        cats = sorted(((c, n) for (g, c), n in categories.items() if g == gen), key=lambda x: -x[1])
        if cats:
            print(f"  {gen}: " + ", ".join(f"{c} {n}" for c, n in cats))
    for (gen, note), n in sorted(notes.items()):
        print(f"  note ({gen}): {note}: {n}")
    for sig, msgs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        first = msgs[0]
        gen, k = generator_of(first["done"])
        print(f"FAIL x{len(msgs)} {sig}\n    e.g. {gen}:{k} ({first['kind']}): "
              f"{first['detail'].splitlines()[0] if first['detail'] else ''}\n"
              f"    [reproduce: python {os.path.relpath(HERE)} --seed {args.seed} --reproduce {gen}:{k}]")


def main() -> int:
    if (job := worker_range(sys.argv)) is not None:
        cases, (seed, deadline) = job
        worker(cases, int(seed), float(deadline))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, cases=2000, memory_mb=6144, deadline=60.0, output="case.onnx")
    p.add_argument("--log", help="append every case's outcome to this file (JSON lines)")
    p.add_argument("--reproduce", metavar="GEN:K", help="write case K of GEN (mutation or graph) to -o and run it")
    args = p.parse_args()
    if args.reproduce is not None:
        reproduce(args.seed, args.reproduce, args.output)
        return 0
    case_budget(args)
    return campaign(args)


if __name__ == "__main__":
    sys.exit(main())
