"""``kaena.load(...).run(...)``: execute a NEFF on the simulator, the way a
user would call the Neuron runtime."""

from __future__ import annotations

import os

import numpy as np

from kaena.neff import Neff


class LoadedModel:
    """A NEFF ready to run; ``run`` returns the outputs by name."""

    def __init__(self, neff: Neff):
        self.neff = neff
        self.last_result = None

    @property
    def inputs(self):
        return self.neff.inputs

    @property
    def outputs(self):
        return self.neff.outputs

    def simulate(self, inputs: dict[str, np.ndarray], *, timing_only: bool = False,
                 check_hazards: bool = True, profile: bool = False):
        """Run and return the simulator's full result (outputs, cycles, engine statistics;
        with ``profile``, when every instruction ran: see ``kaena.reports.profile``)."""
        from kaena.simulator import simulate

        self.last_result = simulate(
            self.neff, inputs, timing_only=timing_only, check_hazards=check_hazards, profile=profile
        )
        return self.last_result

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.simulate(inputs).outputs


def load(path_or_neff: str | os.PathLike | Neff | bytes) -> LoadedModel:
    """Load a NEFF from a path, bytes, or a ``Neff`` returned by ``kaena.compile``."""
    if isinstance(path_or_neff, Neff):
        return LoadedModel(path_or_neff)
    if isinstance(path_or_neff, bytes | bytearray):
        return LoadedModel(Neff.from_bytes(bytes(path_or_neff)))
    return LoadedModel(Neff.load(os.fspath(path_or_neff)))
