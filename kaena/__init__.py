"""Kaena: an open-source compiler from trained neural networks to AWS Inferentia.

Python API: ``kaena.compile(model, **options) -> Neff``, ``Neff.save(path)``,
``kaena.load(path_or_neff).run({name: array}) -> {name: array}``, and
``kaena.register_pass`` / ``kaena.load_pass_plugin`` for your own passes;
``kaena.trace(module, example_inputs)`` for PyTorch (torch is imported only then).
"""

# Importing Kaena changes no process-wide setting: the simulator limits BLAS to
# one thread only while it runs (kaena.simulator.core.simulate).
from kaena.version import __version__
from kaena.driver import CompileOptions, CompileReport, compile
from kaena.errors import KaenaError
from kaena.neff import Neff
from kaena.registry import load_pass_plugin, register_pass
from kaena.runtime import LoadedModel, load

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
    "trace",
]


def __getattr__(name: str):
    # kaena.trace needs torch: `import kaena` never imports it.
    if name == "trace":
        from kaena.torch_trace import trace

        return trace
    raise AttributeError(f"module 'kaena' has no attribute '{name}'")
