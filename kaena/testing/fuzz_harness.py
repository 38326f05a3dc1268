"""The worker loop the fuzzing campaigns share (benchmarks/fuzz_{neff,ir,models}.py).

A campaign runs its cases in worker subprocesses, each under an address-space limit, so
a case that exhausts memory, kills the interpreter or hangs past what an in-process
deadline can break costs one case, not the campaign. A worker prints one JSON line
before each case (``{"start": i, "kind": k}``), may mark stages of it
(``{"mark": name}``), and prints one line when it is done (``{"done": i, ...}``).
Worker ``w`` of ``W`` runs cases ``w, w+W, w+2W...``; one that dies or stalls is
restarted after the case it was on, which is reported lost with what was marked.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

WORKER_FLAG = "--worker"
STALL_FACTOR = 3  # a worker silent for this many case deadlines is hung past SIGALRM's reach


@dataclass(frozen=True)
class Lost:
    """A case whose worker died (``stalled`` false) or was killed for hanging."""
    case: int
    kind: str
    stalled: bool
    returncode: int
    marks: frozenset[str] = field(default_factory=frozenset)


class CaseTimeout(BaseException):
    """A case ran past its deadline; a BaseException so the tools' last line of defence
    (``except Exception``) cannot turn it into an internal error."""


@contextmanager
def deadline(seconds: float):
    """Raise CaseTimeout in the main thread after ``seconds`` (SIGALRM)."""
    def fire(signum, frame):
        raise CaseTimeout(f"no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class HarnessBroken(Exception):
    """A worker exited with an error between cases: the harness itself is at fault."""


def add_arguments(p: argparse.ArgumentParser, *, cases: int, memory_mb: int, deadline: float,
                  output: str, deadline_help: str = "seconds one case may take") -> None:
    """The options every campaign takes (the reproducer's own option is the script's)."""
    p.add_argument("--cases", type=int, default=0, help=f"number of cases (default: {cases} unless --seconds)")
    p.add_argument("--seconds", type=float, default=0, help="stop after this many seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--memory-mb", type=int, default=memory_mb, help="address-space limit of each worker")
    p.add_argument("--deadline", type=float, default=deadline, help=deadline_help)
    p.add_argument("-o", "--output", default=output)
    p.set_defaults(default_cases=cases)


def case_budget(args: argparse.Namespace) -> None:
    """Neither --cases nor --seconds: the campaign's default number of cases."""
    if not args.cases and not args.seconds:
        args.cases = args.default_cases


def worker_range(argv: Sequence[str]) -> tuple[range, list[str]] | None:
    """``script --worker START STEP STOP EXTRA...``: the worker's cases and its extra words,
    or None when this process is the campaign itself."""
    if len(argv) < 5 or argv[1] != WORKER_FLAG:
        return None
    start, step, stop = (int(a) for a in argv[2:5])
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    return range(start, stop, step), list(argv[5:])


def announce(message: dict) -> None:
    print(json.dumps(message), flush=True)


def _limit(memory_bytes: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    return apply


@dataclass
class _Worker:
    proc: subprocess.Popen
    case: tuple[int, str, float] | None = None  # (case, kind, when it started)
    marks: set[str] = field(default_factory=set)
    pending: bytes = b""  # read from the pipe, not yet a whole line
    eof: bool = False

    def read(self) -> list[dict]:
        """The whole lines the pipe holds now (read raw: a buffered reader would hide lines from select)."""
        chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
        self.eof = not chunk
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]


def run_workers(script: str, extra: Sequence[str], *, workers: int, cases: int, seconds: float,
                memory_mb: int, deadline: float) -> Iterator[dict | Lost]:
    """Run the campaign's workers and yield each finished case's message, or a Lost.

    Stops when every worker finished its share, or after ``seconds`` (0: no limit).
    Raises HarnessBroken when a worker fails outside any case (e.g. too little memory
    to import Kaena)."""
    t_end = time.monotonic() + seconds if seconds else None
    stop = cases or 1 << 62
    next_case = list(range(workers))

    def spawn(w: int) -> _Worker:
        cmd = [sys.executable, script, WORKER_FLAG, str(next_case[w]), str(workers), str(stop), *extra]
        return _Worker(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
                                        preexec_fn=_limit(memory_mb << 20)))

    pool = {w: spawn(w) for w in range(workers)}
    try:
        while pool and (t_end is None or time.monotonic() < t_end):
            ready, _, _ = select.select([k.proc.stdout for k in pool.values()], [], [], 1.0)
            for w, k in list(pool.items()):
                for msg in k.read() if k.proc.stdout in ready else ():
                    if "start" in msg:
                        k.case, k.marks = (msg["start"], msg.get("kind", ""), time.monotonic()), set()
                    elif "mark" in msg:
                        k.marks.add(msg["mark"])
                    else:
                        next_case[w] = msg["done"] + workers
                        k.case = None
                        yield msg
                stalled = k.case is not None and time.monotonic() - k.case[2] > deadline * STALL_FACTOR
                if not k.eof and not stalled:
                    continue
                if stalled:
                    k.proc.kill()
                k.proc.wait()
                if k.case is not None:
                    i, kind, _ = k.case
                    next_case[w] = i + workers
                    pool[w] = spawn(w)
                    yield Lost(i, kind, stalled, k.proc.returncode, frozenset(k.marks))
                elif k.proc.returncode != 0:
                    raise HarnessBroken(f"worker {w} exited with {k.proc.returncode} outside any case "
                                        f"(is --memory-mb {memory_mb} enough to import Kaena?)")
                else:
                    del pool[w]  # finished its share
    finally:
        for k in pool.values():
            k.proc.kill()
            k.proc.wait()
