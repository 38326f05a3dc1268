"""Writing files so that nothing is ever half-written: the one atomic writer."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from kaena.errors import KaenaError


@contextmanager
def atomic_open(path: str) -> Iterator[BinaryIO]:
    """A binary file (readable, seekable) to write ``path`` through: a temp file in the
    same directory, renamed over ``path`` when the block ends without an exception, so
    readers see the old file or the whole new one, never a part, and a large output is
    streamed rather than built in memory. A missing directory or a failed write is a
    ``KaenaError`` naming ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise KaenaError(f"{path}: output directory does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise KaenaError(f"{path}: cannot write: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise KaenaError(f"{path}: cannot write: {e.strerror or e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (``atomic_open``)."""
    with atomic_open(path) as f:
        f.write(data)
