"""Fold an inference BatchNormalization into the convolution before it.

``bn(conv(x, W) + b) = conv(x, W * m) + (b * m + a)`` with per-output-channel
``m = scale / sqrt(var + eps)`` and ``a = bias - mean * m`` (computed in
float64, rounded once): the batch norm costs nothing at run time. Only a
conv whose result feeds nothing else, with weights, qualifies; other batch
norms lower to a per-channel multiply-add."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from kaena.dialects import framework as fw
from kaena.dialects.attributes import KeepSources
from kaena.passes.transforms.fw.fw_dce import FwDeadCodeEliminationPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from kaena.weights import WeightStore, module_store


@dataclass
class FoldBatchNormIntoConv(RewritePattern):
    store: WeightStore

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.BatchNormOp, rewriter: PatternRewriter) -> None:
        conv = fw.sole_use_producer(op.input, fw.ConvOp)
        if conv is None or conv.activation_name() != "none":
            return
        w_name = fw.fw_weight(conv.weight)
        b_name = fw.fw_weight(conv.bias) if conv.bias is not None else None
        if w_name is None or (conv.bias is not None and b_name is None):
            return
        affine = fw.batch_norm_affine(self.store, op)
        if affine is None:
            return
        mul, add = (a.astype(np.float64) for a in affine)
        w = self.store[w_name].astype(np.float64) * mul[:, None, None, None]
        b = (self.store[b_name].astype(np.float64) if b_name else 0.0) * mul + add
        weight = fw.new_weight(self.store, w_name, w)
        bias = fw.new_weight(self.store, b_name or f"{w_name}.bn_bias", b)
        new_conv = fw.ConvOp(conv.input, weight.result, bias.result, op.result.type,
                             strides=fw.ints(conv.strides), pads=fw.ints(conv.pads),
                             dilations=fw.ints(conv.dilations), group=conv.group.value.data)
        new_conv.result.name_hint = op.result.name_hint
        rewriter.replace(op, [weight, bias, new_conv])
        rewriter.erase(conv)  # removed here, so the new conv keeps the conv's sources too


@dataclass(frozen=True)
class FoldBatchNormPass(ModulePass):
    name = "fw-fold-batchnorm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(KeepSources(FoldBatchNormIntoConv(module_store(op))),
                             apply_recursively=False).rewrite_module(op)
        FwDeadCodeEliminationPass().apply(ctx, op)
