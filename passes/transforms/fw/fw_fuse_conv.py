"""Fuse a convolution's bias add and activation into the ``fw.conv``.

``relu(conv(x, W) + c)`` with a per-channel constant ``c`` ([C,1,1] or
[1,C,1,1]) becomes ``conv(x, W, b + c) {activation = "relu"}``: one op the
lowering maps onto one ktensor.conv2d whose bias and activation Inferentia
applies while results leave PSUM. Clip(0, 6) fuses as relu6."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from kaena.dialects import framework as fw
from kaena.dialects.attributes import KeepSources
from kaena.passes.transforms.fw.fw_dce import FwDeadCodeEliminationPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
)

from kaena.weights import WeightStore, module_store


def _rebuild(conv: fw.ConvOp, bias: SSAValue | None, activation: str) -> fw.ConvOp:
    return fw.ConvOp(conv.input, conv.weight, bias, conv.result.type,
                     strides=fw.ints(conv.strides), pads=fw.ints(conv.pads),
                     dilations=fw.ints(conv.dilations), group=conv.group.value.data,
                     activation=activation)


def fusable_activation(op: Operation) -> str | None:
    """The conv activation equal to ``op``, if it is one."""
    if isinstance(op, fw.ReluOp):
        return "relu"
    if isinstance(op, fw.SigmoidOp):
        return "sigmoid"
    if isinstance(op, fw.TanhOp):
        return "tanh"
    if isinstance(op, fw.ClipOp):
        return op.fusable_activation()
    return None


@dataclass
class FuseConvBias(RewritePattern):
    """``add(conv, c)`` with per-channel weight ``c`` -> conv bias (summed with any bias)."""

    store: WeightStore

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, fw.AddOp):
            return
        for conv_val, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            conv = fw.sole_use_producer(conv_val, fw.ConvOp)
            name = fw.fw_weight(other)
            if conv is None or name is None or conv.activation_name() != "none":
                continue
            channels = fw.shape_of(conv.result)[1]
            if fw.shape_of(other) not in ((channels, 1, 1), (1, channels, 1, 1)):
                continue
            if conv.bias is not None and fw.fw_weight(conv.bias) is None:
                continue
            add = self.store[name].reshape(channels).astype(np.float64)
            if conv.bias is not None:
                add = add + self.store[fw.fw_weight(conv.bias)].astype(np.float64)
            bias = fw.new_weight(self.store, fw.fw_weight(conv.bias) or name, add)
            new = _rebuild(conv, bias.result, "none")
            new.result.name_hint = op.result.name_hint
            rewriter.replace(op, [bias, new])
            rewriter.erase(conv)  # fused: the new conv keeps the conv's sources and the add's
            return


class FuseConvActivation(RewritePattern):
    """``act(conv)`` -> ``conv {activation = act}`` when the conv has no other use."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        act = fusable_activation(op)
        if act is None:
            return
        conv = fw.sole_use_producer(op.operands[0], fw.ConvOp)
        if conv is None or conv.activation_name() != "none":
            return
        new = _rebuild(conv, conv.bias, act)
        new.result.name_hint = op.results[0].name_hint
        rewriter.replace(op, new)
        rewriter.erase(conv)


@dataclass(frozen=True)
class FwFuseConvPass(ModulePass):
    name = "fw-fuse-conv"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        store = module_store(op)
        PatternRewriteWalker(
            KeepSources(GreedyRewritePatternApplier([FuseConvBias(store), FuseConvActivation()])),
        ).rewrite_module(op)
        FwDeadCodeEliminationPass().apply(ctx, op)
