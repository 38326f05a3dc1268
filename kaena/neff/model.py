"""The parts of a NEFF in memory: variables, per-core subgraphs (one record
stream per engine) and the model's input/output specs. ``kaena.neff.container``
assembles them into a ``Neff`` and reads and writes its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kaena.isa import INSTR_DTYPE, DType, Engine

NEFF_VERSION = (1, 2)  # (major, minor) this build writes; it reads every minor of the major
# 1.2: neff.json "target"; per-subgraph source table and per-record source indices
PIPELINE_VERSION = (1, 3)  # what a NeuronCore Pipeline NEFF is written as (single-core ones stay 1.2)
# 1.3: neff.json "execution": "pipeline" (the subgraphs run concurrently, one per core, ordered by
# DMA records with flag NOTIFY), each subgraph's "chip"

NO_SOURCE = 0xFFFFFFFF
"""Source index of a record that implements no framework node (``sgNN/<engine>.src.bin``)."""
SOURCE_DTYPE = np.dtype("<u4")

VARIABLE_KINDS = ("input", "output", "file", "tmp-buf", "state-buffer")


@dataclass
class Variable:
    """A buffer a subgraph declares in ``def.json``.

    DRAM variables (``input``, ``output``, ``file``, ``tmp-buf``) are addressed
    by instructions through their index in ``Subgraph.variables``.
    ``state-buffer`` records the SBUF footprint for tools (not addressable).
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    dtype: str  # numpy name: "float32", "bfloat16", "float16", "int32"
    data: np.ndarray | None = None  # kind == "file": the constant, in hardware layout

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(_np_dtype(self.dtype)).itemsize


@dataclass
class Subgraph:
    """What one NeuronCore runs: its variables and one record stream per engine."""

    core: int
    variables: list[Variable] = field(default_factory=list)
    streams: dict[Engine, np.ndarray] = field(default_factory=dict)  # INSTR_DTYPE arrays
    sbuf_peak_bytes: int = 0
    psum_peak_bytes: int = 0
    # source locations: a table of the framework node-name sets the records implement
    # (one name, or several for a fused op), and per engine one index into ``sources``
    # per record (NO_SOURCE where none); absent = none known
    sources: list[tuple[str, ...]] = field(default_factory=list)
    source_ids: dict[Engine, np.ndarray] = field(default_factory=dict)
    chip: int = 0  # the Inferentia chip of ``core`` (pipeline NEFFs; cores_per_chip cores a chip)
    # the load-time program (1.3): DMA records a runtime runs once when it loads the model,
    # copying resident weights into SBUF (``kaena.neff.resident``); empty: none
    load_stream: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=INSTR_DTYPE))

    def stream(self, engine: Engine) -> np.ndarray:
        return self.streams.get(engine, np.zeros(0, dtype=INSTR_DTYPE))

    def stream_sources(self, engine: Engine) -> np.ndarray:
        """The source index of every record of ``engine``'s stream (uint32; NO_SOURCE where unknown)."""
        ids = self.source_ids.get(engine)
        if ids is None:
            return np.full(len(self.stream(engine)), NO_SOURCE, dtype=SOURCE_DTYPE)
        return ids

    def source_names(self, index: int) -> tuple[str, ...]:
        """The node names of table entry ``index`` (empty for NO_SOURCE)."""
        return () if index == NO_SOURCE or index >= len(self.sources) else self.sources[index]

    def variable_index(self, name: str) -> int:
        for i, v in enumerate(self.variables):
            if v.name == name:
                return i
        raise KeyError(name)


def source_label(names: tuple[str, ...]) -> str:
    """How reports name a source entry: its node, or its fused nodes joined by ' + '."""
    return " + ".join(names)


@dataclass(frozen=True)
class TensorSpec:
    """A model input or output as the user sees it."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"  # or "int32" (token ids, masks)
    # int32 inputs only: [lo, hi), the values a runtime accepts (e.g. a vocabulary's token ids)
    valid_range: tuple[int, int] | None = None


def _np_dtype(name: str) -> np.dtype:
    return DType.from_name(name).np
