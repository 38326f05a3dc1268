"""Kaena: an open-source compiler from trained neural networks to AWS Inferentia.

Python API: ``kaena.compile(model, **options) -> Neff``, ``Neff.save(path)``,
``kaena.load(path_or_neff).run({name: array}) -> {name: array}``, and
``kaena.register_pass`` / ``kaena.load_pass_plugin`` for your own passes.
"""

import os as _os

# The simulator runs many small matmuls; a multi-threaded BLAS spends more time
# synchronising its threads than computing them (10x slower on 2 cores under
# load). Users can still choose by setting the variable before importing Kaena.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

from kaena.version import __version__  # noqa: E402
from kaena.driver import CompileOptions, CompileReport, compile  # noqa: E402
from kaena.errors import KaenaError  # noqa: E402
from kaena.neff import Neff  # noqa: E402
from kaena.registry import load_pass_plugin, register_pass  # noqa: E402
from kaena.runtime import LoadedModel, load  # noqa: E402

__all__ = [
    "CompileOptions",
    "CompileReport",
    "KaenaError",
    "LoadedModel",
    "Neff",
    "__version__",
    "compile",
    "load",
    "load_pass_plugin",
    "register_pass",
]
