"""A longer fuzzing campaign against the NEFF reader and the runtime.

    python benchmarks/fuzz_neff.py --seconds 300            # as many cases as fit in 5 minutes
    python benchmarks/fuzz_neff.py --cases 20000 --workers 2
    python benchmarks/fuzz_neff.py --reproduce 1234 -o case.neff   # write one case to disk

Each worker is a subprocess with an address-space limit (RLIMIT_AS, --memory-mb)
that mutates the seed NEFFs (kaena/testing/neff_fuzz.py) and runs every mutant through
``kaena-neff info``'s and ``kaena-run``'s code under a per-case deadline. A
worker that dies (out of memory, a signal) or stalls past the hard deadline
is counted as a crash of the case it was on and restarted after it. Case ``i``
of seed ``S`` is always the same file, so any failure is reproducible.
Prints how many cases it tried and the outcomes by mutation kind; exits 1 if
any case crashed or hung.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import select
import subprocess
import sys
import time
from collections import Counter

HERE = os.path.abspath(__file__)


def case_rng(seed: int, i: int) -> random.Random:
    return random.Random(f"kaena-fuzz-{seed}-{i}")


def worker(seed: int, start: int, step: int, stop: int, deadline: float) -> None:
    """Run cases start, start+step, ... < stop; one JSON line before and after each."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from kaena.testing.neff_fuzz import default_seeds, mutate, run_case

    seeds = default_seeds()
    for i in range(start, stop, step):
        rng = case_rng(seed, i)
        s = seeds[i % len(seeds)]
        kind, data = mutate(s, rng)
        print(json.dumps({"start": i, "kind": kind}), flush=True)
        out = run_case(data, s.inputs, deadline)
        print(json.dumps({"done": i, "kind": kind, "outcome": out.kind, "detail": out.detail[:2000]}), flush=True)


def reproduce(seed: int, i: int, path: str) -> None:
    from kaena.testing.neff_fuzz import default_seeds, mutate, run_case

    seeds = default_seeds()
    s = seeds[i % len(seeds)]
    kind, data = mutate(s, case_rng(seed, i))
    with open(path, "wb") as f:
        f.write(data)
    out = run_case(data, s.inputs)
    print(f"case {i} ({kind}) -> {path}: {out.kind}: {out.detail}")


def _limit(memory_bytes: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    return apply


def campaign(args) -> int:
    t_end = time.monotonic() + args.seconds if args.seconds else None
    stop = args.cases if args.cases else 1 << 62
    outcomes: Counter = Counter()
    failures: list[dict] = []
    tried = 0
    next_case = list(range(args.workers))  # worker w runs w, w+W, w+2W, ...

    def spawn(w: int) -> subprocess.Popen:
        cmd = [sys.executable, HERE, "--worker", str(args.seed), str(next_case[w]), str(args.workers), str(stop),
               str(args.deadline)]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
                                preexec_fn=_limit(args.memory_mb << 20))

    procs = {w: spawn(w) for w in range(args.workers)}
    current: dict[int, tuple[int, str, float]] = {}
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
                    if "start" in msg:
                        current[w] = (msg["start"], msg["kind"], now)
                    else:
                        tried += 1
                        outcomes[(msg["kind"], msg["outcome"])] += 1
                        if msg["outcome"] not in ("accepted", "rejected"):
                            failures.append(msg)
                        next_case[w] = msg["done"] + args.workers
                        current.pop(w, None)
                    continue
            dead = eof  # EOF comes after every line the worker wrote
            stalled = w in current and now - current[w][2] > args.deadline * 3
            if dead or stalled:
                if stalled:
                    p.kill()
                p.wait()
                if w in current:  # the case it was on killed or hung it
                    i, kind, _ = current.pop(w)
                    tried += 1
                    what = "timeout" if stalled else f"worker died (exit {p.returncode})"
                    outcomes[(kind, "crash" if not stalled else "timeout")] += 1
                    failures.append({"done": i, "kind": kind, "outcome": what, "detail": ""})
                    next_case[w] = i + args.workers
                    procs[w] = spawn(w)
                elif p.returncode != 0:  # died between cases: the harness itself is broken
                    for q in procs.values():
                        q.kill()
                    print(f"fuzz_neff: worker {w} exited with {p.returncode} outside any case "
                          f"(is --memory-mb {args.memory_mb} enough to import Kaena?)", file=sys.stderr)
                    return 2
                else:
                    del procs[w]  # finished its share
    for p in procs.values():
        p.kill()
        p.wait()
    elapsed = time.monotonic() - t0
    kinds = sorted({k for k, _ in outcomes})
    print(f"fuzz_neff: tried {tried} cases in {elapsed:.1f} s ({tried / max(elapsed, 1e-9):.0f}/s), "
          f"seed {args.seed}, {args.workers} worker(s), memory limit {args.memory_mb} MiB, deadline {args.deadline} s")
    print(f"{'mutation':<18}{'accepted':>10}{'rejected':>10}{'crash':>8}{'timeout':>9}")
    for k in kinds:
        print(f"{k:<18}" + "".join(f"{outcomes[(k, o)]:>{w}}" for o, w in
                                   (("accepted", 10), ("rejected", 10), ("crash", 8), ("timeout", 9))))
    for f in failures[:20]:
        print(f"FAIL case {f['done']} ({f['kind']}): {f['outcome']} {f['detail'].splitlines()[0] if f['detail'] else ''}"
              f"  [reproduce: python {os.path.relpath(HERE)} --seed {args.seed} --reproduce {f['done']} -o case.neff]")
    return 1 if failures else 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        seed, start, step, stop, deadline = sys.argv[2:7]
        worker(int(seed), int(start), int(step), int(stop), float(deadline))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=0, help="number of cases (default: 5000 unless --seconds)")
    p.add_argument("--seconds", type=float, default=0, help="stop after this many seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--memory-mb", type=int, default=4096, help="address-space limit of each worker")
    p.add_argument("--deadline", type=float, default=10.0, help="seconds one case may take")
    p.add_argument("--reproduce", type=int, metavar="CASE", help="write case CASE to -o and run it once")
    p.add_argument("-o", "--output", default="case.neff")
    args = p.parse_args()
    if args.reproduce is not None:
        reproduce(args.seed, args.reproduce, args.output)
        return 0
    if not args.cases and not args.seconds:
        args.cases = 5000
    return campaign(args)


if __name__ == "__main__":
    sys.exit(main())
