"""The NEFF simulator: executes a NEFF's instruction records on modelled
NeuronCore memories, with the target's timing and hazard detection.

``simulate(neff, inputs)`` -> ``SimResult``; semantics and costs: docs/isa.md.
"""

from kaena.simulator.core import SimResult, simulate

__all__ = ["SimResult", "simulate"]
