"""The ONNX node-test accounting for docs/onnx-backend.md, per operator.

    python benchmarks/onnx_node_suite.py > /tmp/rates.md

Counts every node test of every supported operator (``_expanded`` variants
included) the way ``tests/test_onnx_backend.py`` sorts them: run (they must
pass: run the test file for that), integer-typed (exact or refused cleanly),
excluded with a reason (refused cleanly). It reads the test module's lists, so
the table and the suite cannot disagree.
"""

from __future__ import annotations

import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

import test_onnx_backend as suite  # noqa: E402


def main() -> int:
    rows: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    excluded: list[tuple[str, str, str]] = []
    counted = set(suite.SUITE_OPERATORS) | suite.WITHOUT_NODE_TESTS
    for case in suite.CASES:
        op = suite.operator_of(case.name)
        if op not in counted:
            continue
        reason = suite.exclusion(case)
        if case.name in suite.INCLUDED:
            rows[op][0] += 1
        elif reason:
            rows[op][2] += 1
            excluded.append((case.name, op, reason))
        else:
            rows[op][1] += 1
    run, integer, excl = (sum(r[i] for r in rows.values()) for i in range(3))
    total = run + integer + excl
    print(f"Result: **{run} of {total} node tests of the supported operators run and pass "
          f"({run / total:.1%})**; {integer} integer-typed variants are run exactly or refused cleanly, "
          f"{excl} excluded variants are refused cleanly (over the float variants alone: "
          f"{run / (run + excl):.1%}).\n")
    print("| Operator | node tests run (all pass) | integer variants | excluded (refused) |")
    print("|---|---|---|---|")
    for op in sorted(rows):
        print(f"| {op} | {rows[op][0]} | {rows[op][1]} | {rows[op][2]} |")
    print(f"| **total** | **{run}** | {integer} | {excl} |\n")
    print("## Excluded variants and why\n")
    for name, op, reason in excluded:
        print(f"- `{name}` ({op}): {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
