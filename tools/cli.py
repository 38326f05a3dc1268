"""Shared command-line plumbing: one-line errors, non-zero exits, no tracebacks."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from kaena.errors import KaenaError

DEBUG_ENV = "KAENA_DEBUG"


def run_tool(prog: str, main: Callable[[], int | None]) -> int:
    """Run ``main``; a KaenaError becomes ``prog: error: <message>`` and exit 1.

    Anything else is a Kaena bug: still one line (set KAENA_DEBUG=1 for the traceback)."""
    try:
        return main() or 0
    except KaenaError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # noqa: BLE001 - the last line of defence for users
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"{prog}: internal error: {type(e).__name__}: {e} "
            f"(this is a Kaena bug; rerun with {DEBUG_ENV}=1 for a traceback and report it)",
            file=sys.stderr,
        )
        return 70


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write via a temp file in the same directory and rename: never half-written."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise KaenaError(f"{path}: output directory does not exist")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        raise KaenaError(f"{path}: cannot write: {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
