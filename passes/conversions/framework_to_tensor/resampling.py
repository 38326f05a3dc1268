"""fw.resample -> one ktensor.matmul by a constant per resampled axis.

Along axis ``a`` with matrix M [out, in]: the axis is moved last
(``ktensor.transpose``, unless it is last already), the tensor is seen as
[rows, in] and multiplied by the derived weight M^T [in, out] (the 2-D matmul
on the PE array, FP32 accumulation, in FP32 whatever the auto-cast), then moved back. The axes are taken in
the order that moves the fewest elements through transposes.
"""

from __future__ import annotations

import itertools
import math

from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.passes.conversions.framework_to_tensor.common import (
    Lowering,
    Shape,
    StorePattern,
    tensor,
    weight_name,
)
from xdsl.dialects.builtin import UnitAttr
from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import PatternRewriter, op_type_rewrite_pattern

from kaena.dialects.attributes import KEEP_FP32_ATTR, describe_op
from kaena.errors import CompileError


def _moved_elements(shape: Shape, order: list[tuple[int, int]]) -> int:
    """Elements the transposes of contracting ``(axis, out size)`` in ``order`` move."""
    shape, moved = list(shape), 0
    for axis, out in order:
        before = math.prod(shape)
        shape[axis] = out
        if axis != len(shape) - 1:
            moved += before + math.prod(shape)
    return moved


def _contract(low: Lowering, x: SSAValue, axis: int, matrix_t: SSAValue) -> SSAValue:
    """``x`` with ``axis`` contracted against ``matrix_t`` [in, out]."""
    shape = fw.shape_of(x)
    rank = len(shape)
    n_in, n_out = fw.shape_of(matrix_t)
    perm = [d for d in range(rank) if d != axis] + [axis]
    if axis != rank - 1:
        x = low.add(kt.TransposeOp(x, perm, tensor(tuple(shape[d] for d in perm), x)))
    moved = fw.shape_of(x)
    rows = math.prod(moved[:-1])
    matmul = kt.MatmulOp(low.reshape(x, (rows, n_in)), matrix_t, None, tensor((rows, n_out), x))
    # Resize is no contraction of the model: --auto-cast matmult keeps it FP32 (exact selection
    # for nearest, the interpolation weights as given), as a faithful BF16 emulation does.
    matmul.attributes[KEEP_FP32_ATTR] = UnitAttr()
    y = low.add(matmul)
    y = low.reshape(y, (*moved[:-1], n_out))
    if axis == rank - 1:
        return y
    inverse = [perm.index(d) for d in range(rank)]
    out_shape = tuple(fw.shape_of(y)[p] for p in inverse)
    return low.add(kt.TransposeOp(y, inverse, tensor(out_shape, y)))


class LowerResample(StorePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.ResampleOp, rewriter: PatternRewriter) -> None:
        low = Lowering(self.store)
        names = [weight_name(m) for m in op.matrices]
        if None in names:
            raise CompileError(f"{describe_op(op)}: the interpolation matrices must be constants")
        steps = [(a, fw.shape_of(m)[0], n) for a, m, n in zip(fw.ints(op.axes), op.matrices, names)]
        shape = fw.shape_of(op.input)
        order = min(itertools.permutations(steps),
                    key=lambda o: _moved_elements(shape, [(a, n) for a, n, _ in o]))
        value = op.input
        for axis, _, name in order:
            value = _contract(low, value, axis, low.weight(f"{name}.t", self.store[name].T))
        rewriter.replace(op, low.ops, [value])
