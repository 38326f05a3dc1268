"""The throughput targets of the NeuronCore Pipeline and batching issue, each measured in the
simulator (timing only) and set beside its goal.

    python benchmarks/run.py --targets                   # every target, one table
    python benchmarks/run.py --targets --markdown        # for docs/benchmarks.md
    python benchmarks/targets.py --one bert_base_pipeline16   # one target's row as JSON

- ``*_pipeline16``: the model in BF16 pipelined on 16 cores (inf1.6xlarge), batch 1: the
  steady-state interval of 4 streamed requests (``stream_requests``) against the pipeline's
  honest roofline (``ktensor-partition-pipeline``'s ``roofline_cycles``, in the NEFF's
  metadata), and the spread of the stages' busy cycles (``core_busy_cycles``: slowest over
  fastest less one; the goal is 15%). BERT-base also against AWS's 2,009 sequences/s.
- ``resnet50_batching``: ResNet-50 224 px BF16 on one core at batch 1..8 (``--batch-size``):
  images per second per core, which must never fall as the batch grows.
- ``resnet50_xlarge``: ResNet-50 224 px BF16 at batch 8, as ``kaena-estimate`` serves it on
  inf1.xlarge (four copies, each chip's DRAM bandwidth shared as the target says), against
  AWS's published 2,207 images/s (batch 10, FP16).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

# name -> (what, goal)
TARGETS: dict[str, tuple[str, str]] = {
    "resnet50_pipeline16": ("ResNet-50 224 px, BF16, 16 pipeline cores, batch 1",
                            "interval <= 1.3x roofline, stages within 15%"),
    "bert_base_pipeline16": ("BERT-base S=128, BF16, 16 pipeline cores, batch 1",
                             "interval <= 1.5x roofline, stages within 15%, > 2,009 sequences/s"),
    "resnet50_batching": ("ResNet-50 224 px, BF16, one core, batch 1..8",
                          "images/s per core never falls as the batch grows"),
    "resnet50_xlarge": ("ResNet-50 224 px, BF16, batch 8, inf1.xlarge (4 copies)",
                        ">= 2,207 images/s"),
}

AWS_BERT_BASE_PIPELINE16 = 2009  # sequences/s, BERT-base pipelined on inf1.6xlarge, batch 1
AWS_RESNET50_XLARGE = 2207  # images/s, inf1.xlarge, batch 10, FP16


def pipeline_figures(model, cores: int, requests: int = 4) -> dict:
    """Compile ``model`` (BF16) for ``cores`` pipeline cores and stream ``requests`` through it."""
    import kaena
    from kaena.simulator.pipeline import core_busy_cycles, stream_requests

    t0 = time.perf_counter()
    neff = kaena.compile(model, auto_cast="matmult", pipeline_cores=cores)
    compile_s = time.perf_counter() - t0
    timing = stream_requests(neff, requests)
    busy = core_busy_cycles(neff)
    plan = neff.metadata.get("pipeline", {}) if isinstance(neff.metadata, dict) else {}
    roof = plan.get("roofline_cycles")
    return {
        "compile_s": compile_s,
        "interval_cycles": timing.interval,
        "latency_us": timing.latency_us,
        "throughput_per_s": timing.throughput,
        "roofline_cycles": roof,
        "roofline_ratio": timing.interval / roof if roof else None,
        "stage_busy_cycles": busy,
        "stage_spread": max(busy) / min(busy) - 1 if busy and min(busy) else None,
    }


def batching_figures(model_of, batches, clock_hz: float) -> dict:
    """Images per second per core of ``model_of(batch)`` (BF16, one core) at each batch."""
    import kaena
    from kaena.simulator import simulate

    per_s = []
    for batch in batches:
        neff = kaena.compile(model_of(batch), auto_cast="matmult")
        cycles = simulate(neff, {}, timing_only=True, check_hazards=False).cycles
        per_s.append(batch * clock_hz / cycles)
    return {"batches": list(batches), "per_core_per_s": per_s,
            "monotone": all(b >= a for a, b in zip(per_s, per_s[1:]))}


def instance_figures(model, instance: str) -> dict:
    """``kaena-estimate``'s row for ``instance`` of ``model`` compiled in BF16 for one core."""
    import kaena
    from kaena.reports.estimate import estimate

    neff = kaena.compile(model, auto_cast="matmult")
    row = next(r for r in estimate(neff) if r.instance == instance)
    return {"copies": row.copies, "throughput_per_s": row.throughput_per_s, "latency_us": row.latency_us,
            "bound": row.bound, "config": row.config}


def measure(name: str) -> dict:
    """One target's figures, the sentence that reports them and whether its goal is met."""
    from kaena.target import INF1
    from kaena.testing import modelzoo

    what, goal = TARGETS[name]
    row: dict = {"target": name, "what": what, "goal": goal}
    if name.endswith("_pipeline16"):
        model = (modelzoo.resnet50() if name.startswith("resnet50")
                 else modelzoo.bert(layers=12, hidden=768, heads=12, seq=128, vocab=30522))
        f = pipeline_figures(model, 16)
        bar = 1.3 if name.startswith("resnet50") else 1.5
        ratio, spread = f["roofline_ratio"], f["stage_spread"]
        met = ratio is not None and ratio <= bar and spread is not None and spread <= 0.15
        measured = (f"interval {f['interval_cycles']:,} cycles ({f['throughput_per_s']:,.0f}/s), "
                    f"{ratio:.2f}x the roofline ({f['roofline_cycles']:,}), stages within {spread:.0%}, "
                    f"latency {f['latency_us']:,.0f} us")
        if name.startswith("bert"):
            met = met and f["throughput_per_s"] > AWS_BERT_BASE_PIPELINE16
        row.update(f, measured=measured, met=met)
    elif name == "resnet50_batching":
        f = batching_figures(lambda b: modelzoo.resnet50(batch=b), range(1, 9), INF1.clock_hz)
        row.update(f, measured="images/s per core " + ", ".join(f"{v:,.0f}" for v in f["per_core_per_s"]),
                   met=f["monotone"])
    elif name == "resnet50_xlarge":
        f = instance_figures(modelzoo.resnet50(batch=8), "inf1.xlarge")
        row.update(f, measured=f"{f['throughput_per_s']:,.0f} images/s ({f['config']}, {f['bound']}-bound)",
                   met=f["throughput_per_s"] >= AWS_RESNET50_XLARGE)
    return row


def format_rows(rows: list[dict], markdown: bool) -> str:
    head = ("target", "measured", "goal", "met")
    cells = [(r["what"], r.get("measured", r.get("error", "-")), r["goal"],
              "-" if "met" not in r else ("yes" if r["met"] else "no")) for r in rows]
    if markdown:
        return "\n".join(["| " + " | ".join(head) + " |", "|---|---|---|---|"]
                         + ["| " + " | ".join(c) + " |" for c in cells])
    return "\n".join(f"{c[0]}\n  {c[1]}\n  goal: {c[2]}; met: {c[3]}" for c in cells)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--one", required=True, choices=sorted(TARGETS))
    args = p.parse_args()
    print(json.dumps(measure(args.one), default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
