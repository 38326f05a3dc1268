"""The NEFF container: model (in memory), writer and hardened reader."""

from kaena.neff.model import NEFF_VERSION, Neff, Subgraph, TensorSpec, Variable

__all__ = ["NEFF_VERSION", "Neff", "Subgraph", "TensorSpec", "Variable"]
