"""The arithmetic of each opcode on fp32 tiles (docs/isa.md, "Opcodes").

Operands arrive as float32 arrays [partitions, elements] (int32 sources are
converted, exact below 2^24); results are float32 and are rounded (nearest even)
to the destination dtype by the caller's write. SELECT and the int32 moves
(BYPASS, TRANSPOSE) see the values in their own dtype.
"""

from __future__ import annotations

import math

import numpy as np

from kaena.isa import ActFunc, AluOp

F32 = np.float32


_ERF = np.frompyfunc(math.erf, 1, 1)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float64 (libm's ``math.erf``, correctly rounded to within 1 ulp of float64, so
    the float32 result is within an ulp of onnxruntime's); numpy has no erf and scipy is not
    a dependency. ~0.15 us per element: 400K elements take ~60 ms."""
    x = np.asarray(x, dtype=np.float64)
    return _ERF(x).astype(np.float64) if x.size else x


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def activation(func: int, x: np.ndarray) -> np.ndarray:
    f = ActFunc(func)
    if f == ActFunc.IDENTITY:
        return x
    if f == ActFunc.RELU:
        return np.maximum(x, F32(0))
    if f == ActFunc.GELU:
        x64 = x.astype(np.float64)
        return (0.5 * x64 * (1.0 + _erf(x64 / np.sqrt(2.0)))).astype(F32)
    if f == ActFunc.TANH:
        return np.tanh(x)
    if f == ActFunc.SIGMOID:
        return F32(1) / (F32(1) + np.exp(-x))
    if f == ActFunc.EXP:
        return np.exp(x)
    if f == ActFunc.SQRT:
        return np.sqrt(x)
    if f == ActFunc.RECIPROCAL:
        return F32(1) / x
    if f == ActFunc.SQUARE:
        return x * x
    if f == ActFunc.RSQRT:
        return F32(1) / np.sqrt(x)
    if f == ActFunc.NEG:
        return -x
    if f == ActFunc.ERF:
        return _erf(x).astype(F32)
    if f == ActFunc.GELU_TANH:
        x64 = x.astype(np.float64)
        return (0.5 * x64 * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x64 + 0.044715 * x64 * x64 * x64)))).astype(F32)
    if f == ActFunc.LOG:
        return np.log(x)
    raise AssertionError(f)  # stream_errors rejects unknown functions


def alu(op: int, a: np.ndarray, b: np.ndarray | np.float32) -> np.ndarray:
    o = AluOp(op)
    if o == AluOp.ADD:
        return a + b
    if o == AluOp.SUB:
        return a - b
    if o == AluOp.MUL:
        return a * b
    if o == AluOp.MAX:
        return np.maximum(a, b)
    if o == AluOp.MIN:
        return np.minimum(a, b)
    if o == AluOp.DIV:
        return a / b
    if o == AluOp.BYPASS:
        return a
    if o == AluOp.EQUAL:
        return (a == b).astype(F32)
    if o == AluOp.LESS:
        return (a < b).astype(F32)
    if o == AluOp.GREATER:
        return (a > b).astype(F32)
    raise AssertionError(o)


def select(pred: np.ndarray, on_true: np.ndarray, on_false: np.ndarray) -> np.ndarray:
    """SELECT: ``on_true`` where ``pred != 0``, else ``on_false`` (values move unconverted)."""
    return np.where(pred != 0, on_true, on_false)


def reduce(op: int, x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    o = AluOp(op)
    if o == AluOp.ADD:
        return np.sum(x, axis=axes, dtype=F32)
    if o == AluOp.MAX:
        return np.max(x, axis=axes)
    if o == AluOp.MIN:
        return np.min(x, axis=axes)
    raise AssertionError(o)


def matmul(stationary_t: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """out[m, n] = sum_k stationary[k, m] * moving[k, n], fp32 products and sums.
    ``stationary_t`` is the stationary operand transposed, C-contiguous [M, K]
    (made once per LOAD_STATIONARY), so this is one fast float32 BLAS sgemm."""
    return stationary_t @ moving
