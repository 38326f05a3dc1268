"""A fuzzing campaign against Kaena's IR tools: every mutant of a FileCheck input must end
in a result or one clean error, never a traceback, an internal error or a hang.

    python benchmarks/fuzz_ir.py --cases 5000 --workers 2
    python benchmarks/fuzz_ir.py --seconds 300
    python benchmarks/fuzz_ir.py --seed 0 --reproduce 1234 -o case.mlir   # write one case, rerun it

The seeds are every ``.mlir`` file under tests/filecheck, each with the kaena-opt options of
its RUN lines (``-p`` pipeline, ``--split-input-file``, ``--verify-diagnostics``...), plus
the files the lowering seeds become after allocation and semaphores (what kaena-translate
encodes). A case mutates one seed (line and token deletion, duplication and swaps, number,
type and attribute edits, value renames, truncation, random bytes, a line from another seed)
and runs ``kaena-opt`` with the seed's options and ``kaena-translate`` on it, in-process
(``run_opt`` / ``run_translate``, the tools' own entry points) under a per-case deadline
(SIGALRM). Workers are subprocesses with an address-space limit; one that dies or stalls
past three deadlines counts as a hang of its case. Case ``i`` of seed ``S`` is always the
same mutant. Prints cases tried and, per tool and per mutation, the accepted inputs, clean
errors, tracebacks, internal errors and hangs, then the distinct failures by signature;
exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field

from kaena.testing.fuzz_harness import CaseTimeout, HarnessBroken, Lost, add_arguments, announce, case_budget, deadline, \
    run_workers, worker_range

HERE = os.path.abspath(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))
FILECHECK = os.path.join(ROOT, "tests", "filecheck")
OUTCOMES = ("accepted", "clean error", "traceback", "internal error", "hang")
BAD = OUTCOMES[2:]
TOOLS = ("kaena-opt", "kaena-translate")

# --------------------------------------------------------------------------- seeds


@dataclass
class Seed:
    name: str  # path under tests/filecheck
    text: str
    configs: list[list[str]]  # kaena-opt options of each RUN line (the input file goes first)
    src_dir: str  # where its relative paths (weights, plugins) point


def _run_configs(text: str, src_dir: str) -> list[list[str]]:
    """kaena-opt's options in the file's RUN lines, for the commands that read the file itself."""
    keep_flags = {"--split-input-file", "--verify-diagnostics", "--parsing-diagnostics"}
    configs: list[list[str]] = []
    for line in text.splitlines():
        if "RUN:" not in line:
            continue
        for command in re.split(r"\|\||&&|\|", line.split("RUN:", 1)[1]):
            try:
                words = shlex.split(command)
            except ValueError:
                continue
            if words[:1] == ["not"]:
                words = words[1:]
            if words[:1] != ["kaena-opt"]:
                continue
            words = [w.replace("%S", src_dir).replace("%inputs", os.path.join(FILECHECK, "Inputs")) for w in words[1:]]
            inputs = [w for w in words if not w.startswith("-")]
            if not inputs or not (inputs[0] == "%s" or re.fullmatch(r"%t/\w+\.mlir", inputs[0])):
                continue  # reads stdin, another file or a directory
            config, i = [], 0
            while i < len(words):
                w = words[i]
                if w in ("-p", "--passes", "--load-pass-plugin") and i + 1 < len(words):
                    config += [w, words[i + 1]]
                    i += 1
                elif w in keep_flags:
                    config.append(w)
                i += 1
            if config not in configs:
                configs.append(config)
    return configs or [[]]


def filecheck_seeds() -> list[Seed]:
    seeds = []
    for dirpath, dirnames, filenames in os.walk(FILECHECK):
        dirnames[:] = sorted(d for d in dirnames if d not in ("Inputs", "Output"))
        for f in sorted(filenames):
            if f.endswith(".mlir"):
                with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                    text = fh.read()
                seeds.append(Seed(os.path.relpath(os.path.join(dirpath, f), FILECHECK), text,
                                  _run_configs(text, dirpath), dirpath))
    return seeds


def translate_seeds(seeds: list[Seed], workdir: str, limit: int | None = None) -> list[Seed]:
    """The lowering seeds taken on through allocation and semaphores: IR kaena-translate encodes."""
    from kaena.tools.kaena_opt_main import run_opt
    from kaena.tools.kaena_translate_main import run_translate

    out: list[Seed] = []
    for s in seeds:
        if limit is not None and len(out) >= limit:
            break
        passes = next((c[c.index("-p") + 1] for c in s.configs if "-p" in c
                       and c[c.index("-p") + 1].endswith("convert-tensor-to-inferentia")), None)
        if passes is None or "--split-input-file" in sum(s.configs, []):
            continue
        src, dst = _mirror_path(workdir, s, "seed"), _mirror_path(workdir, s, "lowered")
        with open(src, "w", encoding="utf-8") as f:
            f.write(s.text)
        quiet = io.StringIO()
        with redirect_stdout(quiet), redirect_stderr(quiet):
            ok = run_opt([src, "-p", passes + ",inf-allocate-sram,inf-insert-semaphores", "-o", dst]) == 0
            ok = ok and run_translate([dst, "-o", os.path.join(workdir, "seed.neff")]) == 0
        if ok:
            with open(dst, encoding="utf-8") as f:
                out.append(Seed(s.name + " (allocated)", f.read(), [[]], s.src_dir))
    return out


def _mirror_path(workdir: str, seed: Seed, stem: str) -> str:
    """A file beside links to everything the seed's directory holds, so relative paths resolve."""
    rel = os.path.relpath(seed.src_dir, FILECHECK)
    d = os.path.join(workdir, "mirror", rel)
    if not os.path.isdir(d):
        os.makedirs(d)
        for entry in os.listdir(seed.src_dir):
            if not entry.endswith(".mlir"):
                os.symlink(os.path.join(seed.src_dir, entry), os.path.join(d, entry))
    return os.path.join(d, f"__{stem}_{os.path.basename(seed.name).split(' ')[0]}")


# --------------------------------------------------------------------------- mutations

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[%@^#!]?[A-Za-z_][\w.$-]*|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\S')
_NUMBER = re.compile(r"(?<![\w%@#.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")
_SHAPE = re.compile(r"(?<=<)(?:\d+x)*(?:f32|bf16|f16|f64|i1|i8|i32|i64)(?=[>,])")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_ATTR_ENTRY = re.compile(r"[\w.]+ = (?:\"[^\"\n]*\"|array<[^>]*>|[^,}\n]+)(?:, )?")
_VALUE = re.compile(r"%[\w.$-]+")
_NUMBERS = ["0", "1", "-1", "2", "3", "7", "127", "128", "129", "255", "256", "4096", "65536", "2147483647",
            "2147483648", "-2147483648", "9223372036854775807", "9223372036854775808", "18446744073709551616",
            "1e308", "-0.0", "0.5", "1.5", "3.4e38", "99999999999999999999"]
_ELEMENT_TYPES = ["f32", "bf16", "f16", "f64", "i1", "i8", "i32", "i64", "index"]
_DIMS = ["0", "1", "2", "3", "127", "128", "129", "512", "4096", "1000000", "99999999999"]


def _code_lines(text: str) -> list[int]:
    lines = text.split("\n")
    code = [i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("//")]
    return code or list(range(len(lines)))


def _matches(pattern: re.Pattern, text: str) -> list[re.Match]:
    """Matches outside ``//`` comments."""
    comments = [(m.start(), m.end()) for m in re.finditer(r"//[^\n]*", text)]
    return [m for m in pattern.finditer(text) if not any(a <= m.start() < b for a, b in comments)]


def _replace(text: str, m: re.Match, new: str) -> str:
    return text[:m.start()] + new + text[m.end():]


def _lines_op(kind: str, text: str, rng: random.Random, corpus: list[str]) -> str:
    lines = text.split("\n")
    code = _code_lines(text)
    i = rng.choice(code)
    if kind == "delete-line":
        del lines[i]
    elif kind == "duplicate-line":
        lines.insert(rng.choice(code), lines[i])
    elif kind == "swap-lines":
        j = rng.choice(code)
        lines[i], lines[j] = lines[j], lines[i]
    else:  # splice-line: a line of another seed
        lines.insert(i, rng.choice(corpus))
    return "\n".join(lines)


def _tokens_op(kind: str, text: str, rng: random.Random) -> str:
    toks = _matches(_TOKEN, text)
    if not toks:
        return text
    m = rng.choice(toks)
    if kind == "delete-token":
        return _replace(text, m, "")
    if kind == "duplicate-token":
        return text[:m.end()] + " " + m.group() + text[m.end():]
    n = rng.choice(toks)
    a, b = sorted((m, n), key=lambda x: x.start())
    if a.end() > b.start():
        return text
    return text[:a.start()] + b.group() + text[a.end():b.start()] + a.group() + text[b.end():]


def _edit_number(text: str, rng: random.Random) -> str:
    nums = _matches(_NUMBER, text)
    if not nums:
        return text
    m = rng.choice(nums)
    if rng.random() < 0.5 and "." not in m.group() and "e" not in m.group().lower():
        v = int(m.group())
        return _replace(text, m, str(rng.choice([v + 1, v - 1, -v, 2 * v, v // 2, v * 1000])))
    return _replace(text, m, rng.choice(_NUMBERS))


def _edit_type(text: str, rng: random.Random) -> str:
    shapes = _matches(_SHAPE, text)
    if not shapes:
        return _edit_number(text, rng)
    m = rng.choice(shapes)
    *dims, elem = m.group().split("x")
    r = rng.random()
    if r < 0.3:
        elem = rng.choice(_ELEMENT_TYPES)
    elif r < 0.7 and dims:
        dims[rng.randrange(len(dims))] = rng.choice(_DIMS)
    elif r < 0.85 and dims:
        del dims[rng.randrange(len(dims))]
    else:
        dims.insert(rng.randrange(len(dims) + 1), rng.choice(_DIMS))
    return _replace(text, m, "x".join([*dims, elem]))


def _edit_attribute(text: str, rng: random.Random, strings: list[str]) -> str:
    r = rng.random()
    if r < 0.5:
        found = _matches(_STRING, text)
        if found:
            new = rng.choice(strings + ['""', '"nonsense"', '"x" ', '"' + "a" * 300 + '"'])
            return _replace(text, rng.choice(found), new)
    if r < 0.8:
        entries = _matches(_ATTR_ENTRY, text)
        if entries:
            return _replace(text, rng.choice(entries), "")
    arrays = _matches(re.compile(r"(?<=array<i64: )[-\d, ]*(?=>)"), text)
    if arrays:
        values = ", ".join(rng.choice(_NUMBERS[:12] + ["-1", "-5"]) for _ in range(rng.randint(0, 6)))
        return _replace(text, rng.choice(arrays), values)
    return _edit_number(text, rng)


def _retype_all(text: str, rng: random.Random) -> str:
    """One shape or element type changed everywhere it occurs: the types stay consistent,
    so the mutant gets past the type checks to the shape rules and the passes."""
    shapes = sorted({m.group() for m in _matches(_SHAPE, text)})
    if not shapes:
        return _edit_number(text, rng)
    old = rng.choice(shapes)
    *dims, elem = old.split("x")
    if rng.random() < 0.35 or not dims:
        elem = rng.choice(_ELEMENT_TYPES[:8])
    else:
        k = rng.randrange(len(dims))
        dims[k] = str(max(1, int(dims[k]) + rng.choice([-1, 1, 2, 7]))) if rng.random() < 0.6 else rng.choice(_DIMS)
    new = "x".join([*dims, elem])
    return re.sub(rf"(?<=<){re.escape(old)}(?=[>,])", new, text)


def _swap_operands(text: str, rng: random.Random) -> str:
    """Two value names swapped on one line (operands of one op, or a result and an operand)."""
    lines = text.split("\n")
    candidates = [i for i in _code_lines(text) if len(set(_VALUE.findall(lines[i]))) >= 2]
    if not candidates:
        return _rename_value(text, rng)
    i = rng.choice(candidates)
    a, b = rng.sample(sorted(set(_VALUE.findall(lines[i]))), 2)
    lines[i] = re.sub(rf"{re.escape(a)}\b|{re.escape(b)}\b", lambda m: b if m.group() == a else a, lines[i])
    return "\n".join(lines)


def _rename_value(text: str, rng: random.Random) -> str:
    values = _matches(_VALUE, text)
    if not values:
        return text
    names = sorted({m.group() for m in values})
    new = rng.choice(names + ["%nope", "%0", "%" + "v" * 40])
    return _replace(text, rng.choice(values), new)


def _bytes_op(kind: str, data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    if kind == "truncate":
        return data[:rng.randrange(len(data))]
    at = rng.randrange(len(data))
    n = rng.randint(1, 16)
    if rng.random() < 0.7:
        junk = bytes(rng.choice(b" {}<>()[]%@#!:=,\"0123456789abcxyz-.\n") for _ in range(n))
    else:
        junk = bytes(rng.randrange(256) for _ in range(n))
    return data[:at] + junk + data[at + (n if rng.random() < 0.5 else 0):]


MUTATIONS = ("delete-line", "duplicate-line", "swap-lines", "splice-line", "delete-token", "duplicate-token",
             "swap-tokens", "number", "type", "retype-all", "attribute", "rename-value", "swap-operands",
             "truncate", "random-bytes")
# edits that keep the file parseable more often than not; a case may stack a second one
_SEMANTIC = {"number": _edit_number, "type": _edit_type, "retype-all": _retype_all,
             "rename-value": _rename_value, "swap-operands": _swap_operands}


@dataclass
class Corpus:
    seeds: list[Seed]
    lines: list[str] = field(default_factory=list)  # code lines of every seed, for splice-line
    strings: list[str] = field(default_factory=list)  # string literals of every seed

    def __post_init__(self):
        lines, strings = set(), set()
        for s in self.seeds:
            ls = s.text.split("\n")
            lines.update(ls[i] for i in _code_lines(s.text))
            strings.update(m.group() for m in _STRING.finditer(s.text))
        self.lines, self.strings = sorted(lines), sorted(strings)


def mutate(corpus: Corpus, seed: Seed, rng: random.Random, kind: str | None = None) -> tuple[str, bytes]:
    kind = kind or rng.choice(MUTATIONS)
    text = seed.text
    if kind in ("truncate", "random-bytes"):
        return kind, _bytes_op(kind, text.encode(), rng)
    if kind in ("delete-line", "duplicate-line", "swap-lines", "splice-line"):
        text = _lines_op(kind, text, rng, corpus.lines)
    elif kind in ("delete-token", "duplicate-token", "swap-tokens"):
        text = _tokens_op(kind, text, rng)
    elif kind == "attribute":
        text = _edit_attribute(text, rng, corpus.strings)
    else:
        text = _SEMANTIC[kind](text, rng)
    if rng.random() < 0.3:  # and sometimes a second, semantic edit
        text = _SEMANTIC[rng.choice(sorted(_SEMANTIC))](text, rng)
    return kind, text.encode()


# --------------------------------------------------------------------------- running a case


@dataclass
class Outcome:
    tool: str
    kind: str  # one of OUTCOMES
    detail: str = ""
    signature: str = ""


def _signature(e: BaseException) -> str:
    """The exception type and the innermost frames in Kaena's code and overall."""
    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if f.filename.startswith(ROOT)]
    where = [f"{os.path.relpath(f.filename, ROOT)}:{f.lineno} ({f.name})" for f in ours[-2:]]
    if frames and (not ours or frames[-1] is not ours[-1]):
        f = frames[-1]
        where.append(f"{os.path.basename(f.filename)}:{f.lineno} ({f.name})")
    return f"{type(e).__name__} at {' <- '.join(reversed(where)) or '?'}"  # innermost first


def _call(tool: str, argv: list[str], seconds: float) -> tuple[int | BaseException, str]:
    from kaena.tools.kaena_opt_main import run_opt
    from kaena.tools.kaena_translate_main import run_translate

    run = run_opt if tool == "kaena-opt" else run_translate
    err = io.StringIO()
    try:
        with deadline(seconds), redirect_stdout(io.StringIO()), redirect_stderr(err):
            return run(argv), err.getvalue()
    except CaseTimeout:
        raise
    except BaseException as e:  # noqa: BLE001 - an escaping exception is what we count
        return e, err.getvalue()


def invoke(tool: str, argv: list[str], seconds: float) -> Outcome:
    """One tool run, classified: a clean error is exit 1 with ``TOOL: error: ...`` on stderr."""
    try:
        rc, err = _call(tool, argv, seconds)
    except CaseTimeout as e:
        return Outcome(tool, "hang", str(e), f"{tool} hang")
    if isinstance(rc, BaseException):
        return Outcome(tool, "traceback", f"{type(rc).__name__}: {rc}", _signature(rc))
    if rc == 0:
        return Outcome(tool, "accepted")
    if rc == 1 and err.startswith(f"{tool}: error: ") and "Traceback (most recent call last)" not in err:
        return Outcome(tool, "clean error", err.strip())
    kind = "internal error" if "internal error" in err else "traceback"
    os.environ["KAENA_DEBUG"] = "1"  # again, letting the exception through to name where it came from
    try:
        again, _ = _call(tool, argv, seconds)
    except CaseTimeout:
        again = None
    finally:
        del os.environ["KAENA_DEBUG"]
    sig = _signature(again) if isinstance(again, BaseException) else err.strip().splitlines()[-1][:200]
    return Outcome(tool, kind, err.strip()[:2000], sig)


def run_case(workdir: str, seed: Seed, config: list[str], data: bytes, seconds: float) -> list[Outcome]:
    path = _mirror_path(workdir, seed, f"mutant{os.getpid()}")
    with open(path, "wb") as f:
        f.write(data)
    neff = os.path.join(workdir, f"mutant{os.getpid()}.neff")
    return [invoke("kaena-opt", [path, *config], seconds),
            invoke("kaena-translate", [path, "-o", neff], seconds)]


def case(corpus: Corpus, seed_no: int, i: int) -> tuple[Seed, list[str], str, bytes]:
    rng = random.Random(f"kaena-irfuzz-{seed_no}-{i}")
    seed = corpus.seeds[i % len(corpus.seeds)]
    config = rng.choice(seed.configs)
    kind, data = mutate(corpus, seed, rng)
    return seed, config, kind, data


def make_corpus(workdir: str, lowered: int | None = None) -> Corpus:
    seeds = filecheck_seeds()
    for s in seeds:  # every mirror directory made once, before any worker writes there
        _mirror_path(workdir, s, "seed")
    return Corpus(seeds + translate_seeds(seeds, workdir, lowered))


# --------------------------------------------------------------------------- campaigns


@dataclass
class Tally:
    """Outcomes by (tool, outcome) and (mutation, outcome), and the failures by signature."""

    cases: int = 0
    by_tool: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    failures: dict[str, list] = field(default_factory=dict)  # signature -> [count, first case, kind, detail]

    def add(self, i: int, kind: str, outcomes: list[Outcome]) -> None:
        self.cases += 1
        for o in outcomes:
            self.by_tool[(o.tool, o.kind)] += 1
            self.by_kind[(kind, o.kind)] += 1
            if o.kind in BAD:
                key = f"{o.tool}: {o.kind}: {o.signature}"
                entry = self.failures.setdefault(key, [0, i, kind, o.detail])
                entry[0] += 1

    def bad(self) -> int:
        return sum(n for (_, o), n in self.by_tool.items() if o in BAD)

    def report(self, header: str, seed_no: int) -> str:
        width = [18] + [len(o) + 2 for o in OUTCOMES]
        row = lambda name, counts: f"{name:<{width[0]}}" + "".join(  # noqa: E731
            f"{c:>{w}}" for c, w in zip(counts, width[1:], strict=True))
        lines = [header, row("tool", OUTCOMES)]
        lines += [row(t, [self.by_tool[(t, o)] for o in OUTCOMES]) for t in TOOLS]
        lines.append(row("mutation (both)", OUTCOMES))
        lines += [row(k, [self.by_kind[(k, o)] for o in OUTCOMES]) for k in MUTATIONS]
        lines.append(f"{len(self.failures)} distinct failure(s)")
        for sig, (n, i, kind, detail) in sorted(self.failures.items(), key=lambda x: -x[1][0]):
            lines.append(f"  {n:>5}x {sig}\n         first: case {i} ({kind}): {detail.splitlines()[0][:200] if detail else ''}"
                         f"  [python {os.path.relpath(HERE)} --seed {seed_no} --reproduce {i}]")
        return "\n".join(lines)


def run_cases(seed_no: int, cases: int, seconds: float = 10.0, lowered: int | None = None,
              start: int = 0, step: int = 1) -> Tally:
    """Cases start, start+step, ... < cases in this process (the test suite's short run)."""
    workdir = tempfile.mkdtemp(prefix="kaena-fuzz-ir-")
    try:
        corpus = make_corpus(workdir, lowered)
        tally = Tally()
        for i in range(start, cases, step):
            seed, config, kind, data = case(corpus, seed_no, i)
            tally.add(i, kind, run_case(workdir, seed, config, data, seconds))
        return tally
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def worker(cases: range, seed_no: int, seconds: float, corpus_file: str, workdir: str) -> None:
    """Run the worker's cases; one JSON line before and after each."""
    with open(corpus_file, encoding="utf-8") as f:
        corpus = Corpus([Seed(**s) for s in json.load(f)])
    for i in cases:
        seed, config, kind, data = case(corpus, seed_no, i)
        announce({"start": i, "kind": kind})
        outcomes = run_case(workdir, seed, config, data, seconds)
        announce({"done": i, "kind": kind, "outcomes": [o.__dict__ for o in outcomes]})


def campaign(args) -> int:
    workdir = tempfile.mkdtemp(prefix="kaena-fuzz-ir-")
    try:
        return _campaign(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _campaign(args, workdir: str) -> int:
    t0 = time.monotonic()
    corpus = make_corpus(workdir)
    corpus_file = os.path.join(workdir, "corpus.json")
    with open(corpus_file, "w", encoding="utf-8") as f:
        json.dump([s.__dict__ for s in corpus.seeds], f)
    tally = Tally()
    extra = [str(args.seed), str(args.deadline), corpus_file, workdir]
    try:
        for msg in run_workers(HERE, extra, workers=args.workers, cases=args.cases, seconds=args.seconds,
                               memory_mb=args.memory_mb, deadline=args.deadline):
            if isinstance(msg, Lost):  # the worker exited mid-case, or hung past what SIGALRM could break
                what = "hang" if msg.stalled else "traceback"
                tally.add(msg.case, msg.kind, [Outcome("worker", what, f"worker exit {msg.returncode}",
                                                       f"worker {what}")])
            else:
                tally.add(msg["done"], msg["kind"], [Outcome(**o) for o in msg["outcomes"]])
    except HarnessBroken as e:
        print(f"fuzz_ir: {e}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - t0
    print(tally.report(
        f"fuzz_ir: tried {tally.cases} cases ({2 * tally.cases} tool runs) in {elapsed:.0f} s, seed {args.seed}, "
        f"{len(corpus.seeds)} seed files, {args.workers} worker(s), memory limit {args.memory_mb} MiB, "
        f"deadline {args.deadline} s", args.seed))
    return 1 if tally.bad() else 0


def reproduce(seed_no: int, i: int, path: str) -> None:
    workdir = tempfile.mkdtemp(prefix="kaena-fuzz-ir-")
    try:
        corpus = make_corpus(workdir)
        seed, config, kind, data = case(corpus, seed_no, i)
        with open(path, "wb") as f:
            f.write(data)
        print(f"case {i}: {kind} mutant of {seed.name} -> {path}")
        print(f"  kaena-opt {path} {shlex.join(config)}\n  kaena-translate {path} -o case.neff"
              f"\n  (relative paths in it resolve against {seed.src_dir})")
        for o in run_case(workdir, seed, config, data, 60.0):
            print(f"  {o.tool}: {o.kind}: {o.signature or o.detail}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    if (job := worker_range(sys.argv)) is not None:
        cases, (seed_no, seconds, corpus_file, workdir) = job
        worker(cases, int(seed_no), float(seconds), corpus_file, workdir)
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, cases=5000, memory_mb=4096, deadline=20.0, output="case.mlir",
                  deadline_help="seconds one case's tool run may take")
    p.add_argument("--reproduce", type=int, metavar="CASE", help="write case CASE to -o and run it once")
    args = p.parse_args()
    if args.reproduce is not None:
        reproduce(args.seed, args.reproduce, args.output)
        return 0
    case_budget(args)
    return campaign(args)


if __name__ == "__main__":
    sys.exit(main())
