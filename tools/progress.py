"""Progress for long runs: which stage a compile is in and how far it is, on a terminal only.

The display appears only once a run has taken ``DELAY_S`` (short runs print nothing
extra), goes to stderr, vanishes when the run ends, and never appears when stderr
is not a terminal or the tool was given ``-q``.
"""

from __future__ import annotations

import sys
import threading

DELAY_S = 2.0


class StageProgress:
    """A ``kaena.driver.Progress`` callback drawing a rich progress bar after ``DELAY_S``."""

    def __init__(self, description: str, *, enabled: bool | None = None, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.description = description
        self._state = ("", 0, 1)
        self._lock = threading.Lock()
        self._progress = None
        self._task = None
        self._timer: threading.Timer | None = None

    def __enter__(self) -> StageProgress:
        if self.enabled:
            self._timer = threading.Timer(DELAY_S, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self._state = (stage, done, total)
            if self._progress is not None:
                self._progress.update(self._task, description=self._label(stage), completed=done, total=total)

    def _label(self, stage: str) -> str:
        return f"{self.description}: {stage}"

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with self._lock:
            stage, done, total = self._state
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), console=Console(file=self.stream), transient=True)
            self._task = self._progress.add_task(self._label(stage), total=total, completed=done)
            self._progress.start()
