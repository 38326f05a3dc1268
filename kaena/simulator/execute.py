"""The arithmetic of each opcode on fp32 tiles (docs/isa.md, "Opcodes").

Operands arrive as float32 arrays [partitions, elements]; results are float32
and are rounded (nearest even) to the destination dtype by the caller's write.
"""

from __future__ import annotations

import numpy as np

from kaena.isa import ActFunc, AluOp

F32 = np.float32


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float64 (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7: below fp32 resolution
    for the GELU it feeds); numpy has no erf and scipy is not a dependency."""
    x = x.astype(np.float64)
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-a * a)
    return s * y


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
    raise AssertionError(o)


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
