"""``kaena-run MODEL.neff --inputs IN.npz --output OUT.npz``: execute a NEFF on
the simulator; npz keys are the model's input and output names."""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile

import numpy as np

from kaena.errors import KaenaError
from kaena.tools.cli import atomic_write_bytes, run_tool


def read_inputs(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise KaenaError(f"{path}: expected an .npz archive of named arrays, got a single array")
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise KaenaError(f"{path}: no such input file") from None
    except KaenaError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise KaenaError(f"{path}: not a readable .npz file ({e})") from None


def _main() -> int:
    p = argparse.ArgumentParser(prog="kaena-run", description="Run a NEFF on Kaena's Inferentia simulator")
    p.add_argument("neff", help="compiled model (.neff)")
    p.add_argument("--inputs", required=True, help=".npz with one array per model input name")
    p.add_argument("--output", required=True, help=".npz to write, one array per model output name")
    p.add_argument("--stats", metavar="STATS.json", help="write run statistics as JSON")
    p.add_argument("--no-hazard-check", action="store_true",
                   help="skip the check that every cross-engine access is ordered by semaphores")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args()

    import kaena

    model = kaena.load(args.neff)
    inputs = read_inputs(args.inputs)
    result = model.simulate(inputs, check_hazards=not args.no_hazard_check)
    buf = io.BytesIO()
    np.savez(buf, **{k: result.outputs[k] for k in sorted(result.outputs)})
    atomic_write_bytes(args.output, buf.getvalue())
    stats = run_stats(result)
    if args.stats:
        atomic_write_bytes(args.stats, (json.dumps(stats, indent=2, sort_keys=True) + "\n").encode())
    if not args.quiet:
        print(f"kaena-run: {model.neff.name}: {stats['cycles']} cycles, "
              f"{stats['latency_us']:.1f} us simulated; wrote {args.output}")
    return 0


def run_stats(result) -> dict:
    from kaena.target import INF1

    stats = {"cycles": int(result.cycles), "latency_us": result.cycles / INF1.clock_hz * 1e6}
    for key in ("macs", "dma_bytes"):
        if hasattr(result, key):
            stats[key] = int(getattr(result, key))
    return stats


def main() -> None:
    sys.exit(run_tool("kaena-run", _main))


if __name__ == "__main__":
    main()
