"""Arithmetic, comparisons, casts and the value-preserving ops (clone, alias, ``_to_copy``)."""

from __future__ import annotations

import torch
from xdsl.dialects.builtin import TensorType, i1

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Const, f32, Importer, Unsupported, element_type, passthrough, unary


SCALARS = (bool, int, float)


def _operands(imp: Importer, a, b, etype=None):
    """Two run-time operands of element type ``etype`` (cast if needed; torch promotes, fw does not);
    a Python scalar becomes a rank-0 weight."""
    if isinstance(a, SCALARS):
        y = imp.value(b)
        x = imp.value(a, y)
    else:
        x = imp.value(a)
        y = imp.value(b, x)
    if etype is not None:
        x, y = (v if v.type.element_type == etype else
                imp.emit(fw.CastOp(v, TensorType(etype, v.type.get_shape()))) for v in (x, y))
    return x, y


def _scaled(imp: Importer, b, alpha):
    if alpha == 1:
        return b
    if isinstance(b, SCALARS):
        return b * alpha
    v = imp.value(b)
    return imp.emit(fw.MulOp(v, imp.value(alpha, v), v.type))


def _binary(cls, with_alpha: bool = False):
    def conv(imp: Importer, node, args, kwargs):
        a, b = args[0], args[1]
        if with_alpha:
            b = _scaled(imp, b, kwargs.get("alpha", args[2] if len(args) > 2 else 1))
        out = imp.result_type(node)
        x, y = _operands(imp, a, b, out.element_type)
        return imp.emit(cls(x, y, out))
    return conv


def _rsub(imp: Importer, node, args, kwargs):
    """``other - alpha * self``."""
    a = _scaled(imp, args[0], kwargs.get("alpha", args[2] if len(args) > 2 else 1))
    out = imp.result_type(node)
    x, y = _operands(imp, args[1], a, out.element_type)
    return imp.emit(fw.SubOp(x, y, out))


def _div(imp: Importer, node, args, kwargs):
    if kwargs.get("rounding_mode", args[2] if len(args) > 2 else None) is not None:
        raise Unsupported("rounding_mode is not supported")
    out = imp.result_type(node)
    x, y = _operands(imp, args[0], args[1], out.element_type)
    return imp.emit(fw.DivOp(x, y, out))


def _compare(kind: str, negate: bool = False):
    def conv(imp: Importer, node, args, kwargs):
        x, y = _operands(imp, args[0], args[1])
        if x.type.element_type != y.type.element_type:  # int against float: compare as float
            x, y = _operands(imp, x, y, f32)
        out = imp.result_type(node)
        r = imp.emit(fw.CompareOp(kind, x, y, out))
        return imp.emit(fw.NotOp(r)) if negate else r
    return conv


def _where(imp: Importer, node, args, kwargs):
    out = imp.result_type(node)
    cond = imp.value(args[0])
    if cond.type.element_type != i1:
        raise Unsupported("the condition must be a bool tensor")
    x, y = _operands(imp, args[1], args[2], out.element_type)
    return imp.emit(fw.WhereOp(cond, x, y, out))


def _to_copy(imp: Importer, node, args, kwargs):
    """``tensor.to(dtype)`` (device and layout changes are no-ops here)."""
    x = imp.value(args[0])
    out = imp.result_type(node)
    if out.element_type == x.type.element_type:
        return x
    return imp.emit(fw.CastOp(x, out))


def _pow(imp: Importer, node, args, kwargs):
    exponent = args[1]
    if not isinstance(exponent, int | float):
        raise Unsupported("only a constant scalar exponent is supported")
    return imp.emit(fw.PowOp(imp.value(args[0]), float(exponent), imp.result_type(node)))


def _rsqrt(imp: Importer, node, args, kwargs):
    return imp.emit(fw.PowOp(imp.value(args[0]), -0.5, imp.result_type(node)))


def _full_like(imp: Importer, node, args, kwargs):
    """Only the shape of the input matters: a constant."""
    val = node.meta["val"]
    element_type(val.dtype, "the result")
    return Const(node.name, torch.full(tuple(val.shape), args[1], dtype=val.dtype))


def _zeros_like(fill: float):
    def conv(imp: Importer, node, args, kwargs):
        val = node.meta["val"]
        return Const(node.name, torch.full(tuple(val.shape), fill, dtype=val.dtype))
    return conv


def _logical(kind: str):
    """Logical and/or of bool tensors, as where(a, b, false) / where(a, true, b)."""
    def conv(imp: Importer, node, args, kwargs):
        out = imp.result_type(node)
        if out.element_type != i1:
            raise Unsupported("only bool operands are supported (bitwise ops on integers are not)")
        a, b = _operands(imp, args[0], args[1])
        if kind == "and":
            return imp.emit(fw.WhereOp(a, b, imp.value(Const("false", torch.tensor(False))), out))
        return imp.emit(fw.WhereOp(a, imp.value(Const("true", torch.tensor(True))), b, out))
    return conv


def _assertion(imp: Importer, node, args, kwargs):
    """A check torch.export records (``_assert_tensor_metadata``): true by construction here."""
    return None


CONVERTERS = {
    "aten.add": _binary(fw.AddOp, with_alpha=True),
    "aten.sub": _binary(fw.SubOp, with_alpha=True),
    "aten.rsub": _rsub,
    "aten.mul": _binary(fw.MulOp),
    "aten.div": _div,
    "aten.maximum": _binary(fw.MaxOp),
    "aten.minimum": _binary(fw.MinOp),
    "aten.neg": unary(fw.NegOp),
    "aten.exp": unary(fw.ExpOp),
    "aten.log": unary(fw.LogOp),
    "aten.sqrt": unary(fw.SqrtOp),
    "aten.rsqrt": _rsqrt,
    "aten.reciprocal": unary(fw.ReciprocalOp),
    "aten.erf": unary(fw.ErfOp),
    "aten.pow": _pow,
    "aten.eq": _compare("equal"),
    "aten.ne": _compare("equal", negate=True),
    "aten.lt": _compare("less"),
    "aten.le": _compare("less_equal"),
    "aten.gt": _compare("greater"),
    "aten.ge": _compare("greater_equal"),
    "aten.logical_not": unary(fw.NotOp),
    "aten.where": _where,
    "aten.__and__": _logical("and"),
    "aten.logical_and": _logical("and"),
    "aten.bitwise_and": _logical("and"),
    "aten.__or__": _logical("or"),
    "aten.logical_or": _logical("or"),
    "aten.bitwise_or": _logical("or"),
    "aten._assert_tensor_metadata": _assertion,
    "aten._to_copy": _to_copy,
    "aten.to": _to_copy,
    "aten.clone": passthrough,
    "aten.alias": passthrough,
    "aten.detach": passthrough,
    "aten.contiguous": passthrough,
    "aten.lift_fresh_copy": passthrough,
    "aten.dropout": passthrough,
    "aten.full_like": _full_like,
    "aten.zeros_like": _zeros_like(0.0),
    "aten.ones_like": _zeros_like(1.0),
}
NOTES = {
    "aten.add": "Tensor and Scalar overloads, any alpha; numpy broadcasting",
    "aten.sub": "Tensor and Scalar overloads, any alpha",
    "aten.div": "no rounding_mode",
    "aten.pow": "a constant scalar exponent (the lowering takes 1, 2, 0.5, -0.5, -1)",
    "aten.rsqrt": "as pow(x, -0.5)",
    "aten.ne": "as not(equal)",
    "aten._to_copy": "dtype changes between float32, int32/int64 and bool; device/layout ignored",
    "aten.dropout": "inference: the identity",
    "aten.full_like": "a constant of the input's shape",
    "aten.__and__": "bool tensors (masks)",
    "aten.__or__": "bool tensors (masks)",
    "aten._assert_tensor_metadata": "a no-op (shapes and dtypes are static)",
}
