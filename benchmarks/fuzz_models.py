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
import resource
import select
import subprocess
import sys
import time
from collections import Counter, defaultdict

HERE = os.path.abspath(__file__)
GENERATORS = ("mutation", "graph")
COLUMNS = ("rejected", "matched", "accepted", "skipped", "mismatch", "traceback", "internal", "timeout", "crash")


def generator_of(i: int) -> tuple[str, int]:
    """Case i -> (generator, its case number): pairs alternate, so two workers share both."""
    return GENERATORS[(i // 2) % 2], (i // 4) * 2 + i % 2


def worker(seed: int, start: int, step: int, stop: int, deadline: float) -> None:
    """Run cases start, start+step, ... < stop; one JSON line before and after each."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from kaena.testing import model_fuzz
    from kaena.testing.model_fuzz import make_case, run_case

    model_fuzz.on_reference = lambda: print(json.dumps({"reference": True}), flush=True)
    for i in range(start, stop, step):
        gen, k = generator_of(i)
        print(json.dumps({"start": i, "kind": gen}), flush=True)
        t0 = time.monotonic()
        try:
            case = make_case(gen, seed, k)
        except Exception as e:  # noqa: BLE001 - a generator bug is reported, not fatal
            print(json.dumps({"done": i, "gen": gen, "kind": "generator", "outcome": "traceback",
                              "category": "", "detail": f"generator: {type(e).__name__}: {e}", "notes": []}),
                  flush=True)
            continue
        out = run_case(case, seed, deadline)
        print(json.dumps({"done": i, "gen": gen, "kind": case.kind, "outcome": out.kind, "category": out.category,
                          "detail": out.detail[:3000], "notes": out.notes,
                          "seconds": round(time.monotonic() - t0, 3)}), flush=True)


def reproduce(seed: int, which: str, path: str) -> None:
    from kaena.testing.model_fuzz import make_case, run_case

    gen, k = which.split(":")
    case = make_case(gen, seed, int(k))
    with open(path, "wb") as f:
        f.write(case.data)
    out = run_case(case, seed)
    print(f"{gen} case {k} ({case.kind}) -> {path}: {out.kind} {out.category}: {out.detail}")


def _limit(memory_bytes: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    return apply


def campaign(args) -> int:
    from kaena.testing.model_fuzz import FAILURES, signature

    t_end = time.monotonic() + args.seconds if args.seconds else None
    stop = args.cases if args.cases else 1 << 62
    outcomes: Counter = Counter()
    categories: Counter = Counter()
    notes: Counter = Counter()
    groups: dict[str, list[dict]] = defaultdict(list)
    tried = 0
    next_case = list(range(args.workers))

    def spawn(w: int) -> subprocess.Popen:
        cmd = [sys.executable, HERE, "--worker", str(args.seed), str(next_case[w]), str(args.workers), str(stop),
               str(args.deadline)]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
                                preexec_fn=_limit(args.memory_mb << 20))

    def record(msg: dict) -> None:
        nonlocal tried
        tried += 1
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

    procs = {w: spawn(w) for w in range(args.workers)}
    current: dict[int, tuple[int, float]] = {}
    in_reference: set[int] = set()
    t0 = time.monotonic()
    while procs:
        if t_end is not None and time.monotonic() > t_end:
            break
        ready, _, _ = select.select([p.stdout for p in procs.values()], [], [], 1.0)
        now = time.monotonic()
        for w, p in list(procs.items()):
            eof = False
            if p.stdout in ready:
                line = p.stdout.readline()
                eof = not line
                if line:
                    msg = json.loads(line)
                    if "reference" in msg:
                        in_reference.add(w)
                    elif "start" in msg:
                        current[w] = (msg["start"], now)
                        in_reference.discard(w)
                    else:
                        record(msg)
                        next_case[w] = msg["done"] + args.workers
                        current.pop(w, None)
                    continue
            stalled = w in current and now - current[w][1] > args.deadline * 3
            if eof or stalled:
                if stalled:
                    p.kill()
                p.wait()
                if w in current:
                    i, _ = current.pop(w)
                    gen, _ = generator_of(i)
                    what = "timeout" if stalled else "crash"
                    detail = "hung past the hard deadline" if stalled else f"worker died (exit {p.returncode})"
                    if w in in_reference:  # Kaena compiled it; onnxruntime, the reference, died on it
                        what, detail = "accepted", f"onnxruntime {what}: {detail}"
                    record({"done": i, "gen": gen, "kind": "?", "outcome": what, "category": "",
                            "detail": detail, "notes": []})
                    next_case[w] = i + args.workers
                    procs[w] = spawn(w)
                elif p.returncode != 0:
                    for q in procs.values():
                        q.kill()
                    print(f"fuzz_models: worker {w} exited with {p.returncode} outside any case "
                          f"(is --memory-mb {args.memory_mb} enough to import Kaena?)", file=sys.stderr)
                    return 2
                else:
                    del procs[w]
    for p in procs.values():
        p.kill()
        p.wait()
    report(args, tried, time.monotonic() - t0, outcomes, categories, notes, groups)
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
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        seed, start, step, stop, deadline = sys.argv[2:7]
        worker(int(seed), int(start), int(step), int(stop), float(deadline))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=0, help="number of cases, half of each generator (default 2000)")
    p.add_argument("--seconds", type=float, default=0, help="stop after this many seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--memory-mb", type=int, default=6144, help="address-space limit of each worker")
    p.add_argument("--deadline", type=float, default=60.0, help="seconds one case may take")
    p.add_argument("--log", help="append every case's outcome to this file (JSON lines)")
    p.add_argument("--reproduce", metavar="GEN:K", help="write case K of GEN (mutation or graph) to -o and run it")
    p.add_argument("-o", "--output", default="case.onnx")
    args = p.parse_args()
    if args.reproduce is not None:
        reproduce(args.seed, args.reproduce, args.output)
        return 0
    if not args.cases and not args.seconds:
        args.cases = 2000
    return campaign(args)


if __name__ == "__main__":
    sys.exit(main())
