"""Static checks over the whole tree: pyflakes (no unused imports, no undefined
names) and the import-linter contract in pyproject.toml (imports go one way,
down the pipeline; the library never imports the tools)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# top-level folders that install inside the kaena package (pyproject's package-dir)
MAPPED = {"dialects": "dialects", "passes": "passes", "tools": "tools"}


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed with the test extras")
def test_ruff_pyflakes_is_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", str(ROOT)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_contracts_hold(tmp_path):
    """lint-imports over the package as it installs: dialects/, passes/ and
    tools/ copied under kaena/, so import-linter sees one tree."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    pkg = tmp_path / "kaena"
    shutil.copytree(ROOT / "kaena", pkg, ignore=ignore)
    for sub, folder in MAPPED.items():
        shutil.copytree(ROOT / folder, pkg / sub, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
         "sys.exit(lint_imports_command())", "--no-cache"],
        capture_output=True, text=True, cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "0 broken" in proc.stdout, proc.stdout[-3000:]
