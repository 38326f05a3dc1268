"""pytest collects every FileCheck test under tests/filecheck as its own item
and runs it through lit, so one `pytest` runs the whole suite."""

from __future__ import annotations

import os

# Before anything imports numpy: the simulator's small matmuls run faster on one BLAS thread.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FILECHECK_DIR = Path(__file__).parent / "filecheck"


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix == ".mlir" and FILECHECK_DIR in file_path.parents and not {"Inputs", "Output"} & set(file_path.parts):
        return LitFile.from_parent(parent, path=file_path)
    return None


class LitFile(pytest.File):
    def collect(self):
        yield LitItem.from_parent(self, name=self.path.name)


class LitItem(pytest.Item):
    def runtest(self) -> None:
        lit = shutil.which("lit") or f"{sys.executable} -m lit"
        proc = subprocess.run(
            [*lit.split(), "-v", "--no-progress-bar", str(self.path)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise LitFailure(proc.stdout + proc.stderr)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, LitFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"lit: {self.path.relative_to(FILECHECK_DIR)}"


class LitFailure(Exception):
    pass


# --- every NEFF a test compiles must survive disasm -> asm byte for byte --------------------
# Wrapped at import time (before test modules are collected) so `from kaena import compile`
# sees the wrapper too. Set KAENA_SKIP_LISTING_CHECK=1 to turn it off.


def _install_listing_round_trip_check() -> None:
    import functools

    import kaena
    import kaena.driver
    from kaena.neff.listing import assemble, disassemble, neff_weights, streams_equal

    original = kaena.driver.compile
    if getattr(original, "_listing_checked", False):
        return

    import hashlib

    seen: set[bytes] = set()

    @functools.wraps(original)
    def compile_and_check(*args, **kwargs):
        neff = original(*args, **kwargs)
        text = disassemble(neff)
        key = hashlib.sha256(text.encode()).digest()
        _LISTING_CHECKS.append(neff.name)
        if key in seen:  # the same program again (tests recompile models): checked already
            return neff
        seen.add(key)
        _check_allocation_table(neff)
        back = assemble(text, neff_weights(neff), source=f"<listing of {neff.name}>")
        diff = streams_equal(neff, back)
        assert diff is None, f"disasm -> asm changed the instruction streams of '{neff.name}': {diff}"
        assert disassemble(back) == text, f"disasm -> asm -> disasm of '{neff.name}' is not stable"
        return neff

    compile_and_check._listing_checked = True  # type: ignore[attr-defined]
    kaena.driver.compile = compile_and_check
    kaena.compile = compile_and_check


def _check_allocation_table(neff) -> None:
    """Every NEFF the suite compiles carries an allocation table that covers each on-chip
    operand (so every simulation of it runs the allocation check); small programs are also
    replayed without numbers here (kaena.simulator.allocation), the larger ones are
    checked by the simulations that compare their numbers."""
    from kaena.isa import Engine
    from kaena.neff.allocation import allocation_tables, stream_name
    from kaena.simulator.allocation import check_allocation

    tables = allocation_tables(neff)
    assert tables is not None, f"'{neff.name}' has no allocation table"
    for k, (sg, table) in enumerate(zip(neff.subgraphs, tables)):
        for e in Engine:
            table.stream_tiles(sg.stream(e), stream_name(k, e))
    if sum(len(sg.stream(e)) for sg in neff.subgraphs for e in Engine) <= _REPLAY_RECORDS:
        check_allocation(neff)
        _ALLOCATION_REPLAYS.append(neff.name)


_REPLAY_RECORDS = 4000
_ALLOCATION_REPLAYS: list[str] = []
_LISTING_CHECKS: list[str] = []  # names of the models checked, for tests of this hook
if not os.environ.get("KAENA_SKIP_LISTING_CHECK"):
    _install_listing_round_trip_check()
