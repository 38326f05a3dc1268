"""The NEFF format, data and bytes only: ``model`` (variables, subgraphs,
specs), ``container`` (``Neff`` and its reader and writer, over ``schema``,
``archive`` and ``layout``), ``listing`` (the text form ``kaena-neff disasm``
writes), ``info`` (what ``kaena-neff info`` reports)."""

from kaena.neff.container import Neff
from kaena.neff.model import NEFF_VERSION, NO_SOURCE, Subgraph, TensorSpec, Variable

__all__ = ["NEFF_VERSION", "NO_SOURCE", "Neff", "Subgraph", "TensorSpec", "Variable"]
