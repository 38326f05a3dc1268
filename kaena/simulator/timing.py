"""Instruction costs for the simulator: a thin user of ``kaena.target.costmodel``.

The compiler's scheduling and the simulator price instructions with the same
``CostModel`` (docs/isa.md, "Costs"); this module only adapts the simulator's
per-stream operand facts to it.
"""

from __future__ import annotations

import numpy as np

from kaena.target.costmodel import CostModel, StreamCosts
from kaena.isa import Engine
from kaena.simulator.memory import StreamFacts
from kaena.target import NeuronCoreTarget


def stream_costs(engine: Engine, rec: np.ndarray, facts: StreamFacts, target: NeuronCoreTarget) -> StreamCosts:
    """Per record: occupancy and drain cycles, DMA bytes, MACs and PE-weighted MACs (int64)."""
    return CostModel(target).stream_costs(engine, rec, facts)
