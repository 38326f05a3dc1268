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
import os
import random
import sys
import time
from collections import Counter

from kaena.testing.fuzz_harness import HarnessBroken, Lost, add_arguments, announce, case_budget, run_workers, \
    worker_range

HERE = os.path.abspath(__file__)


def case_rng(seed: int, i: int) -> random.Random:
    return random.Random(f"kaena-fuzz-{seed}-{i}")


def worker(cases: range, seed: int, deadline: float) -> None:
    """Run the worker's cases; one JSON line before and after each."""
    from kaena.testing.neff_fuzz import default_seeds, mutate, run_case

    seeds = default_seeds()
    for i in cases:
        s = seeds[i % len(seeds)]
        kind, data = mutate(s, case_rng(seed, i))
        announce({"start": i, "kind": kind})
        out = run_case(data, s.inputs, deadline)
        announce({"done": i, "kind": kind, "outcome": out.kind, "detail": out.detail[:2000]})


def reproduce(seed: int, i: int, path: str) -> None:
    from kaena.testing.neff_fuzz import default_seeds, mutate, run_case

    seeds = default_seeds()
    s = seeds[i % len(seeds)]
    kind, data = mutate(s, case_rng(seed, i))
    with open(path, "wb") as f:
        f.write(data)
    out = run_case(data, s.inputs)
    print(f"case {i} ({kind}) -> {path}: {out.kind}: {out.detail}")


def campaign(args) -> int:
    outcomes: Counter = Counter()
    failures: list[dict] = []
    t0 = time.monotonic()
    try:
        for msg in run_workers(HERE, [str(args.seed), str(args.deadline)], workers=args.workers, cases=args.cases,
                               seconds=args.seconds, memory_mb=args.memory_mb, deadline=args.deadline):
            if isinstance(msg, Lost):  # the case killed or hung its worker
                outcome = "timeout" if msg.stalled else "crash"
                detail = "timeout" if msg.stalled else f"worker died (exit {msg.returncode})"
                msg = {"done": msg.case, "kind": msg.kind, "outcome": outcome, "detail": detail}
            outcomes[(msg["kind"], msg["outcome"])] += 1
            if msg["outcome"] not in ("accepted", "rejected"):
                failures.append(msg)
    except HarnessBroken as e:
        print(f"fuzz_neff: {e}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - t0
    tried = sum(outcomes.values())
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
    if (job := worker_range(sys.argv)) is not None:
        cases, (seed, deadline) = job
        worker(cases, int(seed), float(deadline))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, cases=5000, memory_mb=4096, deadline=10.0, output="case.neff")
    p.add_argument("--reproduce", type=int, metavar="CASE", help="write case CASE to -o and run it once")
    args = p.parse_args()
    if args.reproduce is not None:
        reproduce(args.seed, args.reproduce, args.output)
        return 0
    case_budget(args)
    return campaign(args)


if __name__ == "__main__":
    sys.exit(main())
