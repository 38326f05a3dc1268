"""Layout: Reshape, Squeeze, ExpandDims, Transpose, Pad/PadV2/MirrorPad and
ConcatV2. A Transpose is never an op: it only changes the layout recorded with
the value (the permutation moves into the consumers' axes); pads and concats
work in the value's own layout with their axes permuted."""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects.builtin import TensorType

from kaena.dialects import framework as fw
from kaena.frontends.tensorflow.core import (
    Importer,
    Unsupported,
    attr,
    data_inputs,
    f32,
    permute_axis,
    result_perm,
)
from kaena.frontends.tensorflow.elementwise import result_layout


def _reshape_plain(imp: Importer, node, x_name: str, shape: list[int]) -> None:
    x = imp.plain(x_name)
    imp.define(node, imp.emit(fw.ReshapeOp(x, shape, TensorType(x.type.element_type, shape))))


def _reshape(imp: Importer, node) -> None:
    x_name, s_name = data_inputs(node)[:2]
    target = [int(d) for d in np.asarray(imp.const(s_name, "Reshape's shape")).ravel()]
    xs = imp.tf_shape(x_name)
    if target.count(-1) > 1 or any(d < -1 for d in target):
        raise Unsupported(f"invalid target shape {target}")
    if -1 in target:
        known = math.prod(d for d in target if d != -1)
        if known == 0 or math.prod(xs) % known:
            raise Unsupported(f"cannot reshape {list(xs)} to {target}")
        target[target.index(-1)] = math.prod(xs) // known
    _reshape_plain(imp, node, x_name, target)


def _squeeze(imp: Importer, node) -> None:
    x_name = data_inputs(node)[0]
    v = imp.value(x_name)
    xs = v.tf_shape
    dims = attr(node, "squeeze_dims", []) or [i for i, d in enumerate(xs) if d == 1]
    dims = {int(d) % len(xs) for d in dims}
    if any(xs[d] != 1 for d in dims):
        raise Unsupported(f"cannot squeeze dims {sorted(dims)} of shape {list(xs)}")
    kept = [a for a in range(len(xs)) if a not in dims]
    shape = [d for i, d in enumerate(fw.shape_of(v.ssa)) if v.perm[i] in kept]
    out = imp.emit(fw.ReshapeOp(v.ssa, shape, TensorType(v.ssa.type.element_type, shape)))
    imp.define(node, out, result_perm(v.perm, kept))


def _expand_dims(imp: Importer, node) -> None:
    x_name, a_name = data_inputs(node)[:2]
    shape = list(imp.tf_shape(x_name))
    axis = int(np.asarray(imp.const(a_name, "ExpandDims' axis")).ravel()[0])
    shape.insert(axis % (len(shape) + 1), 1)
    _reshape_plain(imp, node, x_name, shape)


def _transpose(imp: Importer, node) -> None:
    x_name, p_name = data_inputs(node)[:2]
    v = imp.value(x_name)
    t = [int(p) for p in np.asarray(imp.const(p_name, "Transpose's perm")).ravel()]
    if sorted(t) != list(range(len(v.perm))):
        raise Unsupported(f"perm {t} is not a permutation of rank {len(v.perm)}")
    # fw = transpose(tf_in, p) and out = transpose(tf_in, t): fw = transpose(out, [t.index(p_k)])
    imp.define(node, v.ssa, tuple(t.index(p) for p in v.perm))


def _pad(imp: Importer, node) -> None:
    ins = data_inputs(node)
    v = imp.value(ins[0])
    paddings = np.asarray(imp.const(ins[1], "the paddings")).reshape(-1, 2)
    rank = len(v.perm)
    if paddings.shape[0] != rank or paddings.min() < 0:
        raise Unsupported(f"paddings {paddings.tolist()} must be {rank} non-negative [begin, end] pairs")
    mode, value = "constant", 0.0
    if node.op == "MirrorPad":
        if attr(node, "mode", "REFLECT") != "REFLECT":
            raise Unsupported(f"mode '{attr(node, 'mode')}' is not supported (REFLECT is)")
        mode = "reflect"
    elif len(ins) > 2:
        cv = np.asarray(imp.const(ins[2], "the constant value"))
        value = float(cv.reshape(()))
    pads = [int(paddings[p][0]) for p in v.perm] + [int(paddings[p][1]) for p in v.perm]
    out = imp.emit(fw.PadOp(v.ssa, pads, mode, value, TensorType(f32, [1] * rank)))
    imp.define(node, out, v.perm)


def _concat(imp: Importer, node) -> None:
    ins = data_inputs(node)
    n = int(attr(node, "N", len(ins) - 1))
    names, axis_name = ins[:n], ins[n]
    perm = result_layout(imp, names)
    rank = len(perm)
    axis = int(np.asarray(imp.const(axis_name, "ConcatV2's axis")).reshape(())) % rank
    operands = [imp.in_layout(name, perm) for name in names]
    if len(operands) == 1:
        imp.define(node, imp.emit(fw.IdentityOp(operands[0])), perm)
        return
    out = imp.emit(fw.ConcatOp(operands, permute_axis(axis, perm), operands[0].type))
    imp.define(node, out, perm)


def _cast(imp: Importer, node) -> None:
    if attr(node, "SrcT") != attr(node, "DstT"):
        raise Unsupported("only a float32 -> float32 Cast is supported (Kaena computes in float32)")
    v = imp.value(data_inputs(node)[0])
    imp.define(node, v.ssa, v.perm)


CONVERTERS = {
    "Cast": _cast,
    "Reshape": _reshape,
    "Squeeze": _squeeze,
    "ExpandDims": _expand_dims,
    "Transpose": _transpose,
    "Pad": _pad,
    "PadV2": _pad,
    "MirrorPad": _pad,
    "ConcatV2": _concat,
}
NOTES = {
    "Cast": "float32 -> float32 only (a no-op)",
    "Reshape": "constant shape (or folded shape arithmetic)",
    "Transpose": "constant perm; folded into the layout (no data moves)",
    "Pad": "constant paddings, non-negative",
    "PadV2": "constant paddings and value",
    "MirrorPad": "REFLECT",
    "ConcatV2": "constant axis",
    "ExpandDims": "constant axis",
}
