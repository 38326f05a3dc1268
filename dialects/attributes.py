"""The names of the discardable attributes Kaena's IR carries, in one place.

Module: ``kaena.weights`` (the weight store), ``kaena.target`` (the target),
``kaena.model_name``. Function arguments and results: ``kaena.name`` (the
model's input/output names). Ops: ``kaena.source`` (the framework nodes an op
implements), ``kaena.resident`` (an ``inf.alloc`` tile that stays in SBUF),
and on an ``inf.core`` the allocator's peaks.
"""

from kaena.target import TARGET_ATTR
from kaena.weights import WEIGHTS_ATTR

MODEL_NAME_ATTR = "kaena.model_name"
NAME_ATTR = "kaena.name"
SOURCE_ATTR = "kaena.source"
RESIDENT_ATTR = "kaena.resident"
SBUF_PEAK_ATTR = "kaena.sbuf_peak_bytes"
PSUM_PEAK_ATTR = "kaena.psum_peak_bytes"

__all__ = [
    "MODEL_NAME_ATTR",
    "NAME_ATTR",
    "PSUM_PEAK_ATTR",
    "RESIDENT_ATTR",
    "SBUF_PEAK_ATTR",
    "SOURCE_ATTR",
    "TARGET_ATTR",
    "WEIGHTS_ATTR",
]
