"""``kaena-compile MODEL -o OUT.neff``: the whole pipeline, neuron-cc style options."""

from __future__ import annotations

import argparse
import os
import sys
import time

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
        if name in shapes:
            raise KaenaError(f"--input-shapes gives '{name}' twice; give each input once")
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


def default_output(model: str) -> str:
    """MODEL's NEFF beside it: ``net.onnx`` -> ``net.neff``, ``net-symbol.json`` -> ``net.neff``,
    a SavedModel directory ``net/`` -> ``net.neff``."""
    path = model.rstrip("/\\") or model
    if path.lower().endswith("-symbol.json"):
        return path[: -len("-symbol.json")] + ".neff"
    if os.path.isdir(path):
        return path + ".neff"
    return os.path.splitext(path)[0] + ".neff"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kaena-compile",
        description="Compile a trained model (ONNX, PyTorch, TensorFlow, MXNet) to a NEFF for AWS Inferentia (Inf1)",
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
    p.add_argument("--neuroncore-pipeline-cores", default="1", metavar="N",
                   help="NeuronCore Pipeline: cut the model into N stages, one per core (1 to 64, or 'auto')")
    p.add_argument("--batch-size", type=int, default=None, metavar="B",
                   help="re-batch the model: B inferences per run (each input's leading dimension)")
    p.add_argument("--time-passes", action="store_true", help="print each pass's time")
    p.add_argument("--neff-compression", default="none", choices=("none", "gzip"),
                   help="the NEFF's archive: none (fast loading, the default) or gzip (smaller, slower)")
    p.add_argument("--verify-each", action="store_true",
                   help="run the IR verifier after every pass (default: once, at the end)")
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


def pipeline_message(p: dict, cores: int) -> str:
    """What a pipeline compile keeps resident, what streams, and which core count would hold it all."""
    from kaena.reports.summary import format_bytes

    resident, streamed = sum(p["resident_weight_bytes"]), sum(p["streamed_weight_bytes"])
    line = (f"NeuronCore Pipeline: {cores} stages; weights resident in SBUF (loaded once at load): "
            f"{format_bytes(resident)}; streamed from DRAM per inference: {format_bytes(streamed)}")
    hold = p.get("cores_to_hold_weights")
    if streamed and hold:
        line += (f"; --neuroncore-pipeline-cores {max(hold, cores + 1)} or more would leave each stage's "
                 f"weights at most half its SBUF" if hold > cores else
                 "; every stage's weights fit half its SBUF, but its tiles are reused by later layers")
    elif streamed:
        line += "; one layer alone has more weights than half a core's SBUF: it streams at any core count"
    return line


def _cores_arg(value: str) -> int | str:
    """``--neuroncore-pipeline-cores``: a number (the driver checks its range), else as given
    (the driver names what it accepts)."""
    return int(value) if value.strip().isdigit() else value


def _main() -> int:
    parser = build_parser()
    args = parser.parse_args()
    if args.list_operators:
        print(list_operators(args.framework or "onnx"))
        return 0
    if args.model is None:
        parser.error("the following arguments are required: model")
    from kaena.driver import CompileReport
    from kaena.reports.summary import format_summary, neff_summary
    from kaena.tools.progress import StageProgress

    output = args.output or default_output(args.model)
    report = CompileReport()
    # The printed time is the wall time from model file to NEFF file on disk.
    start = time.perf_counter()
    with StageProgress("kaena-compile", enabled=None if not args.quiet else False) as progress:
        neff = _compile(args, report, progress)
        progress("write", 1, 1)
        t0 = time.perf_counter()
        neff.save(output, compress=args.neff_compression == "gzip")  # streamed to the file
        report.pass_seconds.append(("write-neff", time.perf_counter() - t0))
    wall = time.perf_counter() - start
    if not args.quiet:
        print(f"kaena-compile: wrote {output} ({neff.name}, {wall:.2f} s)")
        print(format_summary(neff_summary(neff)))
        for note in report.notes:
            print(note)
        if "pipeline" in neff.metadata:
            print(pipeline_message(neff.metadata["pipeline"], neff.num_cores))
    if args.time_passes:
        width = max(len(n) for n, _ in report.pass_seconds)
        for name, secs in report.pass_seconds:
            print(f"  {name:<{width}}  {secs * 1000:9.1f} ms")
        print(f"  {'total (wall)':<{width}}  {wall * 1000:9.1f} ms")
    return 0


def _compile(args, report, progress):
    import kaena

    return kaena.compile(
        args.model,
        report=report,
        progress=progress,
        auto_cast=args.auto_cast,
        auto_cast_type=args.auto_cast_type,
        target=args.target,
        input_shapes=parse_input_shapes(args.input_shapes),
        extra_passes=[args.passes] if args.passes else (),
        extra_passes_stage=args.passes_stage,
        pass_plugins=args.load_pass_plugin,
        framework=args.framework,
        verify_each=args.verify_each,
        pipeline_cores=_cores_arg(args.neuroncore_pipeline_cores),
        batch_size=args.batch_size,
    )


def main() -> None:
    sys.exit(run_tool("kaena-compile", _main))


if __name__ == "__main__":
    main()
