"""Throughput per core as the batch grows: a model compiled at batch 1..N with
``--batch-size``, simulated (timing only), cycles and images per second per core.

    python benchmarks/batching.py                        # ResNet-50 224 x 224, BF16, batch 1..8
    python benchmarks/batching.py --batches 1,2,4 --image 160 --auto-cast none
    python benchmarks/batching.py --markdown             # a table for docs/pipeline-parallel.md

Each row also shows the plan ``ktensor-split-batch`` chose (``kaena.plan.batch_groups``:
the group size of each stretch, growing along the program, the last the whole batch; none
when the batch is not split). Cycles are the simulator's; they do not depend on this
machine's load, so one run is enough.
"""

from __future__ import annotations

import argparse
import time

import kaena
from kaena import driver
from kaena.registry import make_context
from kaena.simulator import simulate
from kaena.testing import modelzoo


def split_plan(model, auto_cast: str) -> list[int]:
    """The group sizes ``ktensor-split-batch`` recorded on the function (empty: not split)."""
    from kaena.passes.transforms.ktensor.ktensor_split_batch import PLAN_ATTR

    options = driver.CompileOptions(auto_cast=auto_cast)
    module = driver.import_model(model, options)
    specs = driver.pipeline_specs(options)
    ctx = make_context()
    for p in driver._build_passes(specs["framework"] + specs["tensor"]):
        p.apply(ctx, module)
    fn = next(op for op in module.walk() if op.name == "func.func")
    plan = fn.attributes.get(PLAN_ATTR)
    return list(plan.get_values()) if plan is not None else []


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", default="1,2,3,4,5,6,7,8")
    p.add_argument("--image", type=int, default=224)
    p.add_argument("--auto-cast", default="matmult")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args()
    rows = []
    for batch in (int(b) for b in args.batches.split(",")):
        model = modelzoo.resnet50(batch=batch, image=args.image)
        t0 = time.perf_counter()
        neff = kaena.compile(model, auto_cast=args.auto_cast)
        compile_s = time.perf_counter() - t0
        cycles = simulate(neff, {}, timing_only=True, check_hazards=False).cycles
        rows.append((batch, cycles, split_plan(model, args.auto_cast), compile_s,
                     neff.target_description.clock_hz))
        print(f"batch {batch}: {cycles:,} cycles, {cycles / batch:,.0f} per image", flush=True)
    head = "| batch | cycles | cycles per image | images/s per core | group sizes | compile s |"
    print()
    print(head if args.markdown else head.replace("|", " ").strip())
    if args.markdown:
        print("|---|---|---|---|---|---|")
    for batch, cycles, groups, compile_s, clock_hz in rows:
        per_s = batch * clock_hz / cycles
        cells = [str(batch), f"{cycles:,}", f"{cycles / batch:,.0f}", f"{per_s:,.0f}",
                 ", ".join(map(str, groups)) or "-", f"{compile_s:.1f}"]
        print("| " + " | ".join(cells) + " |" if args.markdown else "  ".join(cells))


if __name__ == "__main__":
    main()
