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
