"""``kaena-estimate MODEL.neff [--json]``: latency and throughput of a compiled
model on every Inf1 instance size, as many copies as fit running in parallel,
host transfers included (the model: ``kaena.reports.estimate``, docs/profiling.md)."""

from __future__ import annotations

import argparse
import json
import sys

from kaena.tools.cli import run_tool


def _main() -> int:
    p = argparse.ArgumentParser(
        prog="kaena-estimate",
        description="Estimate latency and throughput of a NEFF on inf1.xlarge, 2xlarge, 6xlarge and 24xlarge",
    )
    p.add_argument("neff", help="compiled model (.neff)")
    p.add_argument("--json", action="store_true", help="print the estimate as JSON instead of a table")
    p.add_argument("--host-link", choices=("instance", "chip"), default="chip",
                   help="PCIe links the copies share: one per chip (default) or one per instance (pessimistic)")
    args = p.parse_args()

    from kaena.reports.estimate import estimate_json, format_estimate
    from kaena.neff import Neff
    from kaena.simulator import simulate

    neff = Neff.load(args.neff)
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
