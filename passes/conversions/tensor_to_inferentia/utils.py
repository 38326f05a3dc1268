"""Small shape and expression helpers the op families share."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from xdsl.dialects.builtin import i1
from xdsl.ir import Attribute

from kaena.dialects import ktensor as kt
from kaena.dialects.inferentia import AffineExpr
from kaena.isa import AP_DTYPE

E = AffineExpr

# DRAM rows one DMA access pattern can address (the ISA's num_partitions field).
MAX_DMA_ROWS = int(np.iinfo(AP_DTYPE["num_partitions"]).max)


# i1 storage: a mask (i1 tensor) is stored as the ktensor dialect says, f32 0.0 / 1.0, in
# DRAM and SBUF alike (see masks.py): every DRAM variable of an i1 value has this type.
MASK_STORAGE: Attribute = kt.MASK_STORAGE


def storage_type(t: Attribute) -> Attribute:
    """The element type a ktensor element type is stored in (i1 -> ``MASK_STORAGE``)."""
    return MASK_STORAGE if t == i1 else t


def ints(attr) -> tuple[int, ...]:
    """The values of a dense i64 array property (strides, pads, ...)."""
    return tuple(int(v) for v in attr.get_values())


def prod(xs: Sequence[int]) -> int:
    return int(math.prod(xs))


def row_major_strides(shape: Sequence[int]) -> tuple[int, ...]:
    strides, acc = [], 1
    for d in reversed(shape):
        strides.append(acc)
        acc *= d
    return tuple(reversed(strides))


def hint(name: str) -> str:
    """A valid SSA name hint from a variable name."""
    h = re.sub(r"[^\w$.-]", "_", name)
    return h if re.match(r"[A-Za-z_$.-]", h) else f"v{h}"


def accumulate(expr: AffineExpr) -> AffineExpr | None:
    """A matmul's accumulate flag; absent when it always overwrites."""
    return None if expr == E(0) else expr


def div_exact(e: AffineExpr, k: int) -> AffineExpr:
    """``e / k`` for an affine expression whose every term is a multiple of ``k``."""
    assert e.const % k == 0 and all(c % k == 0 for c in e.coeffs), (e, k)
    return AffineExpr(e.const // k, tuple(c // k for c in e.coeffs))


def coalesce(shape: Sequence[int], strides: Sequence[Sequence[int]]
             ) -> tuple[list[int], list[list[int]]]:
    """Drop unit dims and merge neighbours every stride list walks contiguously."""
    dims: list[int] = []
    out: list[list[int]] = [[] for _ in strides]
    for i, d in enumerate(shape):
        if d == 1:
            continue
        if dims and all(s[-1] == st[i] * d for s, st in zip(out, strides)):
            dims[-1] *= d
            for s, st in zip(out, strides):
                s[-1] = st[i]
            continue
        dims.append(d)
        for s, st in zip(out, strides):
            s.append(st[i])
    return dims, out


def broadcast_strides(shape: Sequence[int], out_shape: Sequence[int]) -> tuple[int, ...]:
    """Element strides of a row-major ``shape`` broadcast to ``out_shape`` (0 on broadcast dims)."""
    own = row_major_strides(shape)
    pad = len(out_shape) - len(shape)
    return tuple(
        0 if i < pad or shape[i - pad] == 1 else own[i - pad] for i in range(len(out_shape))
    )
