"""What a matmul's PSUM drain can do on the way out instead of later ops doing it over DRAM:
scale by a constant, add a per-feature vector (the scalar engine's ``in * scale + bias``),
round to a narrower dtype, and write its tiles wherever a chain of reshapes and transposes
puts them (the result DMA's access pattern). ``ktensor-plan-epilogues`` records how long a
chain each matmul takes; the matmul families rebuild it here when they emit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import TensorType, f32
from xdsl.ir import Operation, SSAValue

from kaena.dialects import ktensor as kt

from . import decisions as d
from .planning import FunctionPlan
from .utils import broadcast_strides, ints, prod

FLOAT_TYPES = ("f32", "bf16", "f16")


@dataclass(frozen=True)
class OutLayout:
    """Where element (b, m, n) of a [B, M, N] matmul result lands in its destination:
    ``b * sb + m * sm + (n // D) * sh + (n % D) * sd`` (row-major: D = N, sd = 1)."""

    sb: int
    sm: int
    D: int
    sh: int
    sd: int

    @staticmethod
    def row_major(M: int, N: int) -> "OutLayout":
        return OutLayout(M * N, N, N, 0, 1)

    def fits(self, N: int, ntw: int, Nb: int) -> bool:
        """Whether output tiles of ``ntw`` features in blocks of ``Nb`` never straddle a
        group of D features (so one DMA writes a block with a fixed pattern)."""
        return self.D == N or (self.D % ntw == 0 and Nb % self.D == 0)


@dataclass(frozen=True)
class Epilogue:
    """The ops a matmul writes through, the constant scale and per-feature bias (a value
    of N elements) its drain applies, and where its tiles land."""

    ops: tuple[Operation, ...]
    scale: float | None
    bias: SSAValue | None
    layout: OutLayout


def _layout(index: np.ndarray, B: int, M: int, N: int) -> OutLayout | None:
    """The layout of a [B, M, N] result whose elements ``index`` (the chain's final array of
    the result's row-major positions) rearranges, None if no ``OutLayout`` describes it."""
    size = B * M * N
    addr = np.empty(size, np.int64)
    addr[index.ravel()] = np.arange(size)
    a = addr.reshape(B, M, N)
    sb = int(a[1, 0, 0]) if B > 1 else 0
    sm = int(a[0, 1, 0]) if M > 1 else 0
    row = a[0, 0, :]
    sd = int(row[1]) if N > 1 else 1
    n = np.arange(N)
    bad = np.nonzero(row != n * sd)[0]
    D = int(bad[0]) if len(bad) else N
    if N % D:
        return None
    sh = int(row[D]) if D < N else 0
    expect = (np.arange(B)[:, None, None] * sb + np.arange(M)[None, :, None] * sm
              + ((n // D) * sh + (n % D) * sd)[None, None, :])
    return OutLayout(sb, sm, D, sh, sd) if np.array_equal(a, expect) else None


def _scalar_constant(plan: FunctionPlan, v: SSAValue) -> float | None:
    """The value of a one-element f32 weight, None for anything else."""
    owner = v.owner
    if plan.store is None or not isinstance(owner, kt.WeightOp) or prod(v.type.get_shape()) != 1 \
            or v.type.element_type != f32:
        return None
    return float(np.asarray(plan.store[owner.weight_name.data]).reshape(-1)[0])


def _defined_before(plan: FunctionPlan, v: SSAValue, op: Operation) -> bool:
    owner = v.owner
    return not isinstance(owner, Operation) or (owner in plan.order and plan.order[owner] < plan.order[op])


def _drain_step(plan: FunctionPlan, op: Operation, user: kt.ElementwiseOp, v: SSAValue,
                scale: float | None, bias: SSAValue | None) -> tuple[float | None, SSAValue | None] | None:
    """(scale, bias) after folding ``user`` (an elementwise op on ``v``) into the drain, None
    if it does not fold: ``v / c`` or ``v * c`` before any bias, ``v + b`` with ``b`` one
    value per feature (broadcast over every other dim), defined before the matmul."""
    if user.activation.data != "none" or user.result.type.element_type != f32:
        return None
    lhs, rhs = user.lhs, user.rhs
    other = rhs if lhs is v else lhs
    if other is v:
        return None
    kind = user.kind.data
    if kind in ("mul", "div") and scale is None and bias is None and (kind == "mul" or lhs is v):
        c = _scalar_constant(plan, other)
        if c is None or c == 0.0:
            return None
        return (c if kind == "mul" else 1.0 / c), bias
    if kind == "add" and bias is None and isinstance(other.type, TensorType) \
            and other.type.element_type == f32 and _defined_before(plan, other, op):
        shape = tuple(v.type.get_shape())
        if tuple(user.result.type.get_shape()) != shape:
            return None
        strides = broadcast_strides(other.type.get_shape(), shape)
        if all(s == 0 for s in strides[:-1]) and strides[-1] == 1 and prod(other.type.get_shape()) == shape[-1]:
            return scale, other
    return None


def epilogue_of(plan: FunctionPlan, op: Operation, drain_math: bool, limit: int | None = None,
                fits=None) -> Epilogue:
    """The longest chain of single users after ``op`` (a [..., M, N] matmul result) that its
    drain can absorb, at most ``limit`` ops: reshapes and transposes while the result stays
    an ``OutLayout``, with ``drain_math`` a scale and a bias before them, then one float
    cast, last; never ending in a reshape (a view: nothing to save). ``fits(layout,
    element_type)`` says whether the op's tiles can write it."""
    shape = tuple(op.results[0].type.get_shape())
    *batch, M, N = shape
    B = prod(batch)
    index = np.arange(B * M * N).reshape(shape)
    row_major = OutLayout.row_major(M, N)
    best = Epilogue((), None, None, row_major)
    ops: list[Operation] = []
    scale, bias, moved, permuted, layout = None, None, False, False, row_major
    v = op.results[0]
    while limit is None or len(ops) < limit:
        if v in plan.direct or not v.has_one_use():
            break
        user = next(iter(v.uses)).operation
        if user not in plan.order or d.has_flag(user, d.FUSE_CAST_ATTR) or plan.family(user) is None:
            break
        if isinstance(user, kt.ReshapeOp):
            index, moved = index.reshape(user.result.type.get_shape()), True
        elif isinstance(user, kt.TransposeOp):
            index, moved, permuted = index.transpose(ints(user.perm)), True, True
        elif isinstance(user, kt.ElementwiseOp) and drain_math and not moved:
            step = _drain_step(plan, op, user, v, scale, bias)
            if step is None:
                break
            scale, bias = step
        elif isinstance(user, kt.CastOp) and str(user.result.type.element_type) in FLOAT_TYPES \
                and str(user.input.type.element_type) in FLOAT_TYPES:
            pass
        else:
            break
        if permuted:  # reshapes alone keep the row-major layout
            layout = _layout(index, B, M, N)
            if layout is None:
                break
        ops.append(user)
        v = user.results[0]
        if not isinstance(user, kt.ReshapeOp) and (fits is None or fits(layout, v.type.element_type)):
            best = Epilogue(tuple(ops), scale, bias, layout)
        if isinstance(user, kt.CastOp):
            break
    return best


def planned_epilogue(plan: FunctionPlan, op: Operation, drain_math: bool) -> Epilogue:
    """The epilogue ``ktensor-plan-epilogues`` recorded on ``op``."""
    n = d.get_int(op, d.EPILOGUE_ATTR) or 0
    ep = epilogue_of(plan, op, drain_math, limit=n)
    if len(ep.ops) != n:
        raise plan.error(op, f"{d.EPILOGUE_ATTR} = {n}, but only {len(ep.ops)} of its next users "
                             "can be written by its drain")
    return ep
