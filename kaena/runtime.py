"""``kaena.load(...).run(...)``: execute a NEFF on the simulator, the way a
user would call the Neuron runtime."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from kaena.errors import KaenaError
from kaena.neff import Neff


class LoadedModel:
    """A NEFF ready to run; ``run`` returns the outputs by name. With ``copies`` K, K
    copies of it are loaded on K x (its cores) NeuronCores (data parallel): ``run_requests``
    spreads requests over them."""

    def __init__(self, neff: Neff, copies: int = 1):
        most = max(inst.neuron_cores for inst in neff.target_description.instances)
        if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1 \
                or copies * neff.num_cores > most:
            raise KaenaError(
                f"{neff.name}: copies={copies!r}: {neff.num_cores} core(s) per copy, the largest instance has "
                f"{most} cores: use 1 to {most // neff.num_cores} copies"
            )
        self.neff = neff
        self.copies = copies
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

    def timing(self, requests: int = 4):
        """Stream ``requests`` requests through one copy (timing only): its steady-state
        interval, latency and per-core busy share (``kaena.simulator.pipeline``); the K
        copies serve K times its throughput."""
        from kaena.simulator.pipeline import stream_requests

        return stream_requests(self.neff, requests)

    def run_requests(self, requests: list[dict[str, np.ndarray]]) -> "CopiesRun":
        """Run each request on one of the copies (request i on copy i mod K), the copies
        in parallel, each copy's requests in turn; outputs in request order. Copies are
        independent: each core has its own share of its chip's DRAM bandwidth (the
        hardware contract), so a copy's requests take what one copy alone takes."""
        from kaena.simulator import simulate

        outputs, per_copy = [], [0] * self.copies
        for i, inputs in enumerate(requests):
            result = simulate(self.neff, inputs)
            outputs.append(result.outputs)
            per_copy[i % self.copies] += result.cycles
            self.last_result = result
        return CopiesRun(outputs, max(per_copy, default=0), per_copy, self.neff.target_description.clock_hz)


@dataclass(frozen=True)
class CopiesRun:
    """What ``LoadedModel.run_requests`` did: outputs per request and the simulated time."""

    outputs: list[dict[str, np.ndarray]]
    cycles: int  # until the last copy is done (copies run in parallel)
    copy_cycles: list[int]
    clock_hz: float

    @property
    def inferences_per_s(self) -> float:
        return len(self.outputs) * self.clock_hz / self.cycles if self.cycles else 0.0


def load(path_or_neff: str | os.PathLike | Neff | bytes, copies: int = 1) -> LoadedModel:
    """Load a NEFF from a path, bytes, or a ``Neff`` returned by ``kaena.compile``;
    ``copies``: data-parallel copies, each on its own cores."""
    if isinstance(path_or_neff, Neff):
        return LoadedModel(path_or_neff, copies)
    if isinstance(path_or_neff, bytes | bytearray):
        return LoadedModel(Neff.from_bytes(bytes(path_or_neff)), copies)
    return LoadedModel(Neff.load(os.fspath(path_or_neff)), copies)
