"""``kaena-estimate MODEL.neff [--json]``: latency and throughput of a compiled
model on every Inf1 instance size, as many copies as fit running in parallel,
host transfers included (the model: ``kaena.reports.estimate``, docs/profiling.md).
``--latency-budget MS`` recommends, per instance size, the pipeline cores, batch and
copies that serve the most inferences per second within MS; given a model file rather
than a NEFF it compiles and times each candidate (``kaena.reports.recommend``)."""

from __future__ import annotations

import argparse
import json
import math
import sys

from kaena.tools.cli import run_tool


def _counts(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of positive numbers, e.g. 1,2,4")
    return values


def _budget(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive latency in milliseconds")
    return value


def _parser() -> argparse.ArgumentParser:
    from kaena.driver import AUTO_CAST_MODES
    from kaena.frontends import FRAMEWORKS

    p = argparse.ArgumentParser(
        prog="kaena-estimate",
        description="Estimate latency and throughput of a NEFF on inf1.xlarge, 2xlarge, 6xlarge and 24xlarge; "
                    "with --latency-budget, recommend a configuration per instance size",
    )
    p.add_argument("model", metavar="MODEL", help="compiled model (.neff), or with --latency-budget a model file "
                   "whose candidate compiles are timed")
    p.add_argument("--json", action="store_true", help="print the estimate as JSON instead of a table")
    p.add_argument("--host-link", choices=("instance", "chip"), default="chip",
                   help="PCIe links the copies share: one per chip (default) or one per instance (pessimistic)")
    p.add_argument("--latency-budget", type=_budget, metavar="MS",
                   help="recommend the configuration with the most inferences/s whose latency is at most MS")
    p.add_argument("--pipeline-cores", type=_counts, default=None, metavar="N,N,...",
                   help="pipeline core counts to try for a model file (default: 1,2,4,8,16)")
    p.add_argument("--batch-sizes", type=_counts, default=None, metavar="B,B,...",
                   help="batch sizes to try for a model file (default: 1,2,4,8)")
    p.add_argument("--auto-cast", default="matmult", choices=AUTO_CAST_MODES, help="as kaena-compile's (model file)")
    p.add_argument("--framework", default=None, choices=FRAMEWORKS, help="as kaena-compile's (model file)")
    p.add_argument("--input-shapes", action="append", default=[], metavar="NAME:D0xD1...",
                   help="as kaena-compile's (model file)")
    return p


def _recommend(args) -> int:
    from kaena.errors import KaenaError
    from kaena.neff import Neff
    from kaena.reports import recommend as rec
    from kaena.target import get_target
    from kaena.tools.kaena_compile_main import parse_input_shapes

    budget_us = args.latency_budget * 1000 if args.latency_budget else math.inf
    if args.model.endswith(".neff"):
        if args.pipeline_cores or args.batch_sizes:
            raise KaenaError(f"{args.model}: --pipeline-cores and --batch-sizes need a model file to compile; "
                             "a NEFF's cores and batch are fixed")
        neff = Neff.load(args.model)
        target, name = neff.target_description, neff.name
        candidates = [rec.neff_candidate(neff)]
    else:
        from kaena.tools.progress import StageProgress

        target, name = get_target("inf1"), args.model
        with StageProgress("kaena-estimate", enabled=None if not args.json else False) as progress:
            candidates = rec.compile_candidates(
                args.model, cores=args.pipeline_cores or rec.DEFAULT_CORES,
                batches=args.batch_sizes or rec.DEFAULT_BATCHES, progress=progress,
                options={"auto_cast": args.auto_cast, "framework": args.framework,
                         "input_shapes": parse_input_shapes(args.input_shapes)})
        if all(c.costs is None for c in candidates):
            raise KaenaError(f"{args.model}: no candidate compiled: {candidates[0].note}")
    doc = rec.recommendation_json(name, candidates, rec.choose(candidates, target, budget_us, args.host_link),
                                  budget_us, target)
    print(json.dumps(doc, indent=2) if args.json else rec.format_recommendation(doc))
    return 0


def _main() -> int:
    args = _parser().parse_args()
    if args.latency_budget is not None or not args.model.endswith(".neff"):
        return _recommend(args)

    from kaena.reports.estimate import estimate_json, format_estimate
    from kaena.neff import Neff
    from kaena.simulator import simulate

    neff = Neff.load(args.model)
    result = simulate(neff, {}, timing_only=True, check_hazards=False)
    doc = estimate_json(neff, result, host_link=args.host_link)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(format_estimate(doc))
    return 0


def main() -> None:
    sys.exit(run_tool("kaena-estimate", _main))


if __name__ == "__main__":
    main()
