"""``kaena-estimate MODEL --latency-budget MS``: the configuration (pipeline cores, batch,
copies) that serves the most inferences per second on each Inf1 instance size within a
latency budget, found by compiling and timing each candidate; neuron-cc's users find it
by trial and error.

A candidate is one compile (``--neuroncore-pipeline-cores N --batch-size B``), timed by the
simulator like ``kaena-estimate`` times a NEFF (``kaena.reports.estimate``); on each
instance it runs as many copies as fit. A NEFF given instead of a model is its own only
candidate (only the copies vary).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from kaena.errors import KaenaError
from kaena.neff import Neff
from kaena.reports.estimate import InstanceEstimate, ModelCosts, batch_of, instance_estimate, model_costs
from kaena.target import NeuronCoreTarget
from kaena.target.costmodel import CostModel

DEFAULT_CORES = (1, 2, 4, 8, 16)
DEFAULT_BATCHES = (1, 2, 4, 8)


@dataclass(frozen=True)
class Candidate:
    pipeline_cores: int
    batch: int
    costs: ModelCosts | None  # None: it did not compile (``note`` says why)
    note: str = ""
    compiled_here: bool = True  # False: a NEFF the user gave (only its copies can change)


@dataclass(frozen=True)
class Choice:
    """The best candidate on one instance size within the budget (None: none meets it)."""

    instance: str
    candidate: Candidate | None
    estimate: InstanceEstimate | None
    note: str = ""

    def flags(self, model: str = "MODEL") -> str:
        """The compile and run commands that give this configuration."""
        if self.candidate is None or self.estimate is None:
            return ""
        c = self.candidate
        run = f"kaena-run --copies {self.estimate.copies}"
        if not c.compiled_here:
            return run
        return f"kaena-compile {model} --neuroncore-pipeline-cores {c.pipeline_cores} --batch-size {c.batch}; {run}"


def neff_candidate(neff: Neff, target: NeuronCoreTarget | None = None) -> Candidate:
    """A compiled NEFF as the one candidate (its cores and batch as compiled)."""
    costs = model_costs(neff, target=target)
    return Candidate(max(1, neff.num_cores), batch_of(neff), costs, compiled_here=False)


def compile_candidates(model, *, cores: Sequence[int] = DEFAULT_CORES, batches: Sequence[int] = DEFAULT_BATCHES,
                       options: dict | None = None,
                       progress: Callable[[str, int, int], None] | None = None) -> list[Candidate]:
    """Compile and time ``model`` at every (pipeline cores, batch); a batch the model cannot
    be re-batched to, or a core count it cannot be cut into, becomes a candidate with a note."""
    from kaena.driver import compile as compile_model

    options = dict(options or {})
    grid = [(n, b) for b in sorted(set(batches)) for n in sorted(set(cores))]
    out: list[Candidate] = []
    refused_batches: dict[int, str] = {}
    for k, (n, b) in enumerate(grid):
        if progress is not None:
            progress(f"candidate {n} core(s), batch {b}", k, len(grid))
        if b in refused_batches:
            out.append(Candidate(n, b, None, refused_batches[b]))
            continue
        try:
            neff = compile_model(model, pipeline_cores=n, batch_size=b, **options)
        except KaenaError as e:
            note = str(e)
            if "--batch-size" in note:
                refused_batches[b] = note
            out.append(Candidate(n, b, None, note))
            continue
        out.append(Candidate(n, b, model_costs(neff)))
    return out


def choose(candidates: Sequence[Candidate], target: NeuronCoreTarget, latency_budget_us: float = math.inf,
           host_link: str = "chip") -> list[Choice]:
    """Per instance size, the candidate with the most inferences per second whose latency
    is within the budget (ties: fewer cores per copy, then the smaller batch)."""
    choices = []
    for inst in target.instances:
        rows = [(c, instance_estimate(c.costs, inst, target, host_link)) for c in candidates if c.costs is not None]
        rows = [(c, r) for c, r in rows if r.copies > 0]
        within = [(c, r) for c, r in rows if r.latency_us <= latency_budget_us]
        if within:
            c, r = max(within, key=lambda cr: (cr[1].throughput_per_s, -cr[0].pipeline_cores, -cr[0].batch))
            choices.append(Choice(inst.name, c, r))
        elif rows:
            c, r = min(rows, key=lambda cr: cr[1].latency_us)
            choices.append(Choice(inst.name, None, None,
                                  f"no candidate meets {latency_budget_us / 1000:.3f} ms; the lowest latency is "
                                  f"{r.latency_us / 1000:.3f} ms ({c.pipeline_cores} core(s), batch {c.batch})"))
        else:
            choices.append(Choice(inst.name, None, None, "no candidate fits this instance"))
    return choices


def recommendation_json(model_name: str, candidates: Sequence[Candidate], choices: Sequence[Choice],
                        latency_budget_us: float, target: NeuronCoreTarget) -> dict:
    cm = CostModel(target)
    return {
        "model": model_name,
        "latency_budget_us": None if math.isinf(latency_budget_us) else latency_budget_us,
        "candidates": [
            {"pipeline_cores": c.pipeline_cores, "batch": c.batch, "note": c.note,
             **({} if c.costs is None else {"latency_us": cm.cycles_to_us(c.costs.latency_cycles),
                                             "interval_us": cm.cycles_to_us(c.costs.interval_cycles)})}
            for c in candidates
        ],
        "instances": [
            {"instance": ch.instance, "note": ch.note, "flags": ch.flags(model_name),
             **({} if ch.candidate is None else {"pipeline_cores": ch.candidate.pipeline_cores,
                                                  "batch": ch.candidate.batch}),
             **({} if ch.estimate is None else {k: v for k, v in asdict(ch.estimate).items()
                                                 if k in ("copies", "latency_us", "throughput_per_s", "bound")})}
            for ch in choices
        ],
    }


def format_recommendation(doc: dict) -> str:
    budget = doc["latency_budget_us"]
    lines = [f"{doc['model']}: the most inferences per second "
             + (f"within {budget / 1000:.3f} ms of latency" if budget is not None else "at any latency")
             + f", from {sum(1 for c in doc['candidates'] if 'latency_us' in c)} compiled candidate(s)", ""]
    lines.append(f"  {'instance':<14} {'cores/copy':>10} {'batch':>5} {'copies':>6} {'latency us':>11} "
                 f"{'inferences/s':>13}  flags")
    for r in doc["instances"]:
        if "copies" not in r:
            lines.append(f"  {r['instance']:<14} {r['note']}")
            continue
        lines.append(f"  {r['instance']:<14} {r['pipeline_cores']:>10} {r['batch']:>5} {r['copies']:>6} "
                     f"{r['latency_us']:>11.1f} {r['throughput_per_s']:>13.0f}  {r['flags']}")
    skipped = sorted({c["note"] for c in doc["candidates"] if c["note"]})
    if skipped:
        lines += ["", "candidates that did not compile:"] + [f"  {n}" for n in skipped]
    return "\n".join(lines)
