"""lit configuration for Kaena's FileCheck tests (`lit -v tests/filecheck`)."""
# ruff: noqa: F821  (lit injects config and lit_config)

import os
import shutil

import lit.formats

config.name = "Kaena"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
# Scratch files (%t) go to build/, not beside the tests.
config.test_exec_root = os.path.join(os.path.dirname(__file__), "..", "..", "build", "lit")
config.excludes = ["lit.cfg.py", "Inputs", "Output"]

# Tools come from the installed package; run from the test's own directory.
for var in ("PATH", "PYTHONPATH", "HOME", "KAENA_DEBUG"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

missing = [t for t in ("kaena-opt", "kaena-translate", "filecheck") if shutil.which(t) is None]
if missing:
    lit_config.fatal(f"not on PATH: {', '.join(missing)} (pip install -e '.[test]')")
config.substitutions.append(("%inputs", os.path.join(os.path.dirname(__file__), "Inputs")))
