"""User-facing errors: each carries one line that names the file or node, says
why, and what to do. The command-line tools print it and exit non-zero, never a
traceback."""

from __future__ import annotations


class KaenaError(Exception):
    """A user error: bad input, unsupported model, an allocation that cannot fit."""

    exit_code: int = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ModelImportError(KaenaError):
    """The model file cannot be read or uses something Kaena does not support."""


class UnsupportedOperatorError(ModelImportError):
    """One or more graph nodes are unsupported; ``nodes`` lists all of them."""

    def __init__(self, source: str, nodes: list[tuple[str, str, str]]):
        # nodes: (node name, op type, reason)
        self.nodes = nodes
        listed = "; ".join(f"'{name}' ({op}): {why}" for name, op, why in nodes)
        super().__init__(
            f"{source}: {len(nodes)} unsupported node(s): {listed}. "
            "Replace these operators or partition the model so they run on the host "
            "(see `kaena-compile --list-operators`)"
        )


class CompileError(KaenaError):
    """A pass cannot compile valid input (e.g. a tile that cannot fit in SRAM)."""


class AllocationError(CompileError):
    """SBUF or PSUM cannot hold what the schedule needs."""


class NeffError(KaenaError):
    """A NEFF file is corrupt, truncated or of an unsupported version."""


class SimulationError(KaenaError):
    """The simulated program did something the hardware contract forbids."""


class HazardError(SimulationError):
    """A read or write is not ordered after the access it depends on."""
