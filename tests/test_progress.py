"""The progress display of long runs: shown on a terminal after the delay, never otherwise."""

import io
import time

import kaena
from kaena.testing import modelzoo
from kaena.tools import progress as progress_mod
from kaena.tools.progress import StageProgress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_compile_shows_its_stage_on_a_terminal(monkeypatch):
    monkeypatch.setattr(progress_mod, "DELAY_S", 0.0)
    term = _Terminal()
    seen = []
    with StageProgress("kaena-compile", stream=term) as bar:
        time.sleep(0.2)  # the display starts on its timer thread

        def tell(stage, done, total):
            seen.append((stage, done, total))
            bar(stage, done, total)

        kaena.compile(modelzoo.mlp(batch=1), auto_cast="none", progress=tell)
    assert "kaena-compile" in term.getvalue()
    stages = [s for s, _, _ in seen]
    assert stages[0] == "import" and stages[-1] == "encode-neff" and "convert-tensor-to-inferentia" in stages
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)
    assert all(t == seen[0][2] for _, _, t in seen) and seen[-1][1] == seen[-1][2] - 1


def test_nothing_is_drawn_before_the_delay_or_off_a_terminal():
    term = _Terminal()
    with StageProgress("kaena-compile", stream=term) as bar:
        bar("import", 0, 3)
    assert term.getvalue() == ""
    plain = io.StringIO()
    with StageProgress("kaena-compile", stream=plain) as bar:
        bar("import", 0, 3)
    assert not bar.enabled and plain.getvalue() == ""
