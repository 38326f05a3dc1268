"""Contractions: addmm, mm, bmm, matmul, linear, and scaled_dot_product_attention
(kept whole by the decomposition: matmul, scale, mask, softmax, matmul)."""

from __future__ import annotations

import math

import torch
from xdsl.dialects.builtin import TensorType, i1

from kaena.dialects import framework as fw
from kaena.frontends.torch.core import Const, Importer, Unsupported, reshape, shape


def _addmm(imp: Importer, node, args, kwargs):
    """``beta * bias + alpha * (a @ b)`` as fw.gemm (bias broadcast to [M, N])."""
    beta = kwargs.get("beta", 1)
    alpha = kwargs.get("alpha", 1)
    bias, a, b = (imp.value(v) for v in args[:3])
    return imp.emit(fw.GemmOp(a, b, bias, imp.result_type(node), alpha=float(alpha), beta=float(beta)))


def _matmul(imp: Importer, node, args, kwargs):
    a, b = imp.value(args[0]), imp.value(args[1])
    return imp.emit(fw.MatmulOp(a, b, imp.result_type(node)))


def _linear(imp: Importer, node, args, kwargs):
    """``x @ w.T + b`` as fw.gemm with trans_b (the weight as stored, no transposed copy);
    leading dims of ``x`` are flattened around it."""
    x, w = imp.value(args[0]), imp.value(args[1])
    b = args[2] if len(args) > 2 else kwargs.get("bias")
    xs, ws = shape(x), shape(w)
    if len(ws) != 2:
        raise Unsupported(f"the weight must be 2-D, got {list(ws)}")
    out = imp.result_type(node)
    x2 = reshape(imp, x, (math.prod(xs[:-1]), xs[-1]))
    y = imp.emit(fw.GemmOp(x2, w, imp.value(b) if b is not None else None,
                           TensorType(out.element_type, [shape(x2)[0], ws[0]]), trans_b=True))
    return reshape(imp, y, out.get_shape())


def _swap_last(imp: Importer, v):
    s = shape(v)
    perm = [*range(len(s) - 2), len(s) - 1, len(s) - 2]
    return imp.emit(fw.TransposeOp(v, perm, TensorType(v.type.element_type, [s[p] for p in perm])))


def _sdpa(imp: Importer, node, args, kwargs):
    """``softmax(q @ k^T * scale + mask) @ v``; a bool mask keeps where True."""
    q, k, v = (imp.value(a) for a in args[:3])
    mask = args[3] if len(args) > 3 else kwargs.get("attn_mask")
    dropout = args[4] if len(args) > 4 else kwargs.get("dropout_p", 0.0)
    causal = args[5] if len(args) > 5 else kwargs.get("is_causal", False)
    scale = kwargs.get("scale")
    if dropout:
        raise Unsupported("dropout_p must be 0 (inference)")
    if kwargs.get("enable_gqa"):
        raise Unsupported("enable_gqa is not supported: repeat the key/value heads in the model")
    qs, ks = shape(q), shape(k)
    if qs[:-2] != ks[:-2]:
        raise Unsupported(f"query {list(qs)} and key {list(ks)} must share the batch and head dims")
    scale = 1 / math.sqrt(qs[-1]) if scale is None else float(scale)
    s_type = TensorType(q.type.element_type, [*qs[:-1], ks[-2]])
    scores = imp.emit(fw.MatmulOp(q, _swap_last(imp, k), s_type))
    scores = imp.emit(fw.MulOp(scores, imp.value(float(scale), scores), s_type))
    if causal:
        mask = Const(f"{node.name}.causal", torch.ones(qs[-2], ks[-2], dtype=torch.bool).tril())
    if isinstance(mask, Const) and bool((mask.tensor == (1 if mask.tensor.dtype == torch.bool else 0)).all()):
        mask = None  # a mask that keeps everything (HF builds one when no attention_mask is given)
    if mask is not None:
        m = imp.value(mask)
        if m.type.element_type == i1:
            low = imp.value(Const("float32_min", torch.tensor(torch.finfo(torch.float32).min)))
            scores = imp.emit(fw.WhereOp(m, scores, low, s_type))
        else:
            scores = imp.emit(fw.AddOp(scores, m, s_type))
    probs = imp.emit(fw.SoftmaxOp(scores, -1, s_type))
    return imp.emit(fw.MatmulOp(probs, v, imp.result_type(node)))


CONVERTERS = {
    "aten.addmm": _addmm,
    "aten.mm": _matmul,
    "aten.bmm": _matmul,
    "aten.matmul": _matmul,
    "aten.linear": _linear,
    "aten.scaled_dot_product_attention": _sdpa,
}
NOTES = {
    "aten.addmm": "any alpha, beta (fw.gemm)",
    "aten.linear": "a 2-D weight, optional bias (fw.gemm with trans_b; leading dims flattened)",
    "aten.matmul": "numpy.matmul semantics",
    "aten.scaled_dot_product_attention": "bool or additive attn_mask, is_causal, scale; dropout_p 0; no enable_gqa",
}
