"""``kaena-compile MODEL -o OUT.neff``: the whole pipeline, neuron-cc style options."""

from __future__ import annotations

import argparse
import os
import sys

from kaena.driver import AUTO_CAST_MODES, AUTO_CAST_TYPES, PASS_STAGES
from kaena.errors import KaenaError
from kaena.frontends import FRAMEWORKS
from kaena.target import TARGETS
from kaena.tools.cli import run_tool


def parse_input_shapes(specs: list[str]) -> dict[str, list[int]] | None:
    """``name:1x3x224x224`` (repeatable) -> {name: [1, 3, 224, 224]}."""
    if not specs:
        return None
    shapes: dict[str, list[int]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition(":")
        try:
            if not sep or not name:
                raise ValueError
            shapes[name] = [int(d) for d in dims.split("x")]
            if any(d < 1 for d in shapes[name]):
                raise ValueError
        except ValueError:
            raise KaenaError(
                f"--input-shapes '{spec}': expected NAME:D0xD1x... with positive dims, e.g. input:1x3x224x224"
            ) from None
    return shapes


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kaena-compile",
        description="Compile a trained model (ONNX) to a NEFF for AWS Inferentia (Inf1)",
    )
    p.add_argument("model", nargs="?",
                   help="model file: .onnx, .pt2, a TensorFlow SavedModel directory, .pb, .keras, "
                        "or an MXNet NAME-symbol.json")
    p.add_argument("--list-operators", action="store_true",
                   help="print the operators Kaena supports (for --framework) and exit")
    p.add_argument("--framework", default=None, choices=FRAMEWORKS,
                   help="the framework the model comes from (default: told by the file), and the one "
                        "--list-operators describes (default: onnx)")
    p.add_argument("-o", "--output", help="NEFF file to write (default: MODEL with .neff)")
    p.add_argument("--auto-cast", default="matmult", choices=AUTO_CAST_MODES,
                   help="which FP32 ops compute in the --auto-cast-type (default: matmult; "
                        "none computes in FP32)")
    p.add_argument("--auto-cast-type", default="bf16", choices=AUTO_CAST_TYPES)
    p.add_argument("--target", default="inf1", choices=sorted(TARGETS))
    p.add_argument("--input-shapes", action="append", default=[], metavar="NAME:D0xD1...",
                   help="static shape for an input with dynamic dims (repeatable)")
    p.add_argument("--load-pass-plugin", action="append", default=[], metavar="FILE.py",
                   help="register the passes a Python file defines (repeatable)")
    p.add_argument("--passes", default="", metavar="PIPELINE",
                   help="extra passes, kaena-opt syntax: 'my-pass,other{opt=1}'")
    p.add_argument("--passes-stage", default="tensor", choices=PASS_STAGES,
                   help="where --passes run: on the framework, tensor or Inferentia dialect")
    p.add_argument("--time-passes", action="store_true", help="print each pass's time")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    return p


def list_operators(framework: str) -> str:
    """neuron-cc style operator list: one operator per line, with its limits."""
    from kaena.frontends import list_operators as framework_operators

    rows = framework_operators(framework)
    width = max(len(op) for op, _ in rows)
    lines = [f"# {framework} operators supported by kaena-compile ({len(rows)})"]
    lines += [f"{op:<{width}}  {note}".rstrip() for op, note in rows]
    return "\n".join(lines)


def _main() -> int:
    parser = build_parser()
    args = parser.parse_args()
    if args.list_operators:
        print(list_operators(args.framework or "onnx"))
        return 0
    if args.model is None:
        parser.error("the following arguments are required: model")
    import kaena
    from kaena.driver import CompileReport
    from kaena.reports.summary import format_summary, neff_summary
    from kaena.files import atomic_write

    # normpath: a SavedModel directory given as "dir/" compiles to dir.neff, not dir/.neff
    output = args.output or os.path.splitext(os.path.normpath(args.model))[0] + ".neff"
    report = CompileReport()
    neff = kaena.compile(
        args.model,
        report=report,
        auto_cast=args.auto_cast,
        auto_cast_type=args.auto_cast_type,
        target=args.target,
        input_shapes=parse_input_shapes(args.input_shapes),
        extra_passes=[args.passes] if args.passes else (),
        extra_passes_stage=args.passes_stage,
        pass_plugins=args.load_pass_plugin,
        framework=args.framework,
    )
    atomic_write(output, neff.to_bytes())
    if not args.quiet:
        total = sum(s for _, s in report.pass_seconds)
        print(f"kaena-compile: wrote {output} ({neff.name}, {total:.2f} s)")
        print(format_summary(neff_summary(neff)))
    if args.time_passes:
        width = max(len(n) for n, _ in report.pass_seconds)
        for name, secs in report.pass_seconds:
            print(f"  {name:<{width}}  {secs * 1000:9.1f} ms")
    return 0


def main() -> None:
    sys.exit(run_tool("kaena-compile", _main))


if __name__ == "__main__":
    main()
