"""Fold ``fw`` ops whose operands are all weights into one derived weight.

Exported graphs compute constants at run time (reshaped or transposed
weights, scaled biases, ``Pad`` of a constant); folding them here means the
hardware never does, and later rewrites (BatchNorm folding, bias fusion) see
plain weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from kaena.dialects import framework as fw
from kaena.dialects.attributes import KeepSources
from kaena.passes.transforms.fw.fw_dce import FwDeadCodeEliminationPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern

from kaena.weights import WeightStore, module_store


def _pad(op: fw.PadOp, x: np.ndarray) -> np.ndarray:
    p = fw.ints(op.pads)
    width = [(p[i], p[i + x.ndim]) for i in range(x.ndim)]
    if op.mode.data == "constant":
        return np.pad(x, width, constant_values=op.value.value.data)
    return np.pad(x, width, mode=op.mode.data)


def _clip(op: fw.ClipOp, x: np.ndarray) -> np.ndarray:
    lo, hi = op.bounds()
    return np.minimum(np.maximum(x, lo), hi)


# op class -> numpy evaluation from (op, operand arrays)
FOLDERS: dict[type, Callable[..., np.ndarray]] = {
    fw.AddOp: lambda op, a, b: a + b,
    fw.SubOp: lambda op, a, b: a - b,
    fw.MulOp: lambda op, a, b: a * b,
    fw.DivOp: lambda op, a, b: a / b,
    fw.MaxOp: lambda op, a, b: np.maximum(a, b),
    fw.MinOp: lambda op, a, b: np.minimum(a, b),
    fw.ReluOp: lambda op, a: np.maximum(a, 0),
    fw.SigmoidOp: lambda op, a: 1 / (1 + np.exp(-a)),
    fw.TanhOp: lambda op, a: np.tanh(a),
    fw.IdentityOp: lambda op, a: a,
    fw.LeakyReluOp: lambda op, a: np.where(a >= 0, a, op.alpha.value.data * a),
    fw.ClipOp: _clip,
    fw.ReshapeOp: lambda op, a: a.reshape(fw.ints(op.shape)),
    fw.FlattenOp: lambda op, a: a.reshape(fw.shape_of(op.result)),
    fw.TransposeOp: lambda op, a: a.transpose(fw.ints(op.perm)),
    fw.ConcatOp: lambda op, *xs: np.concatenate(xs, axis=op.axis.value.data),
    fw.PadOp: _pad,
}


@dataclass
class FoldConstantOp(RewritePattern):
    store: WeightStore

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        folder = FOLDERS.get(type(op))
        if folder is None or not op.operands:
            return
        names = [fw.fw_weight(v) for v in op.operands]
        if any(n is None for n in names):
            return
        value = folder(op, *(self.store[n].astype(np.float32) for n in names))
        value = np.asarray(value, np.float32).reshape(fw.shape_of(op.results[0]))
        base = op.results[0].name_hint or names[0]
        rewriter.replace(op, fw.new_weight(self.store, base, value))


@dataclass(frozen=True)
class FwConstantFoldPass(ModulePass):
    name = "fw-constant-fold"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(KeepSources(FoldConstantOp(module_store(op)))).rewrite_module(op)
        FwDeadCodeEliminationPass().apply(ctx, op)
