"""MatMul, BatchMatMul/BatchMatMulV2 and two-operand Einsum. A weight operand
is transposed at import; an Einsum is a (batched) matmul of its operands laid
out [batch.., free.., contracted..] x [batch.., contracted.., free..], its
result's dim order recorded as the value's layout (no transpose of the output)."""

from __future__ import annotations

import math

from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.tensorflow.core import Importer, Unsupported, attr, data_inputs, f32


def _swap_last(rank: int) -> tuple[int, ...]:
    return (*range(rank - 2), rank - 1, rank - 2)


def _operand(imp: Importer, name: str, transpose: bool):
    rank = len(imp.tf_shape(name))
    if transpose and rank < 2:
        raise Unsupported("a transposed operand must have rank >= 2")
    return imp.in_layout(name, _swap_last(rank)) if transpose else imp.plain(name)


def _matmul(imp: Importer, node) -> None:
    a, b = data_inputs(node)[:2]
    ta, tb = ("transpose_a", "transpose_b") if node.op == "MatMul" else ("adj_x", "adj_y")
    lhs = _operand(imp, a, bool(attr(node, ta, False)))
    rhs = _operand(imp, b, bool(attr(node, tb, False)))
    imp.define(node, imp.emit(fw.MatmulOp(lhs, rhs, lhs.type)))


def _reshape(imp: Importer, x, shape):
    shape = list(shape)
    if list(fw.shape_of(x)) == shape:
        return x
    return imp.emit(fw.ReshapeOp(x, shape, TensorType(f32, shape)))


def _einsum(imp: Importer, node) -> None:
    eq = attr(node, "equation", "").replace(" ", "")
    ins = data_inputs(node)
    if "..." in eq or "->" not in eq or len(ins) != 2:
        raise Unsupported(f"equation '{eq}': only two operands with explicit output letters are supported")
    lhs_s, out_s = eq.split("->")
    a_s, b_s = lhs_s.split(",")
    if any(len(set(s)) != len(s) for s in (a_s, b_s, out_s)):
        raise Unsupported(f"equation '{eq}': a repeated letter (a trace or diagonal) is not supported")
    batch = [c for c in out_s if c in a_s and c in b_s]
    a_free = [c for c in out_s if c in a_s and c not in b_s]
    b_free = [c for c in out_s if c in b_s and c not in a_s]
    contract = [c for c in a_s if c in b_s and c not in out_s]
    if sorted(a_s) != sorted(batch + a_free + contract) or sorted(b_s) != sorted(batch + b_free + contract):
        raise Unsupported(f"equation '{eq}': a letter summed over one operand only is not supported")
    sa, sb = imp.tf_shape(ins[0]), imp.tf_shape(ins[1])
    size = {**dict(zip(a_s, sa)), **dict(zip(b_s, sb))}
    if any(size[c] != d for c, d in zip(b_s, sb)):
        raise Unsupported(f"equation '{eq}': operand dims {list(sa)} and {list(sb)} disagree")
    a = imp.in_layout(ins[0], [a_s.index(c) for c in batch + a_free + contract])
    b = imp.in_layout(ins[1], [b_s.index(c) for c in batch + contract + b_free])

    def dims(cs):
        return math.prod(size[c] for c in cs)

    m, k, n = dims(a_free), dims(contract), dims(b_free)
    if batch:
        a = _reshape(imp, a, [dims(batch), m, k])
        b = _reshape(imp, b, [dims(batch), k, n])
    else:
        a, b = _reshape(imp, a, [m, k]), _reshape(imp, b, [k, n])
    out = imp.emit(fw.MatmulOp(a, b, a.type))
    letters = batch + a_free + b_free
    out = _reshape(imp, out, [size[c] for c in letters])
    imp.define(node, out, tuple(out_s.index(c) for c in letters))


CONVERTERS = {
    "MatMul": _matmul,
    "BatchMatMul": _matmul,
    "BatchMatMulV2": _matmul,
    "BatchMatMulV3": _matmul,
    "Einsum": _einsum,
}
NOTES = {
    "MatMul": "transpose_a/transpose_b (of a weight: at import)",
    "BatchMatMulV2": "numpy broadcasting, adj_x/adj_y; by a weight a 2-D matmul, two activations a batched one",
    "Einsum": "two operands, explicit output; batch, free and contracted letters (no trace, no ...)",
}

