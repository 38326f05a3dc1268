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
