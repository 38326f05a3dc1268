"""Fold bias adds and activations into the ``ktensor`` op that produces their input.

On Inferentia a contraction's bias and activation are applied for free while
results leave PSUM (the activation engine reads PSUM), so ``matmul -> add bias
-> relu`` must become one ``ktensor.matmul ... bias ... {activation = "relu"}``,
also through the reshape a Linear layer on [B, S, H] activations lowers to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import KeepSources
from kaena.dialects.utils import ints, shape_of
from kaena.weights import WeightStore, module_store


def rebuild(op: kt.MatmulOp | kt.Conv2dOp | kt.ElementwiseOp, *, bias: SSAValue | None = None,
            activation: str | None = None) -> Operation:
    """A copy of ``op`` with a bias and/or activation set (other properties kept)."""
    act = activation or op.activation.data
    if isinstance(op, kt.MatmulOp):
        new = kt.MatmulOp(op.lhs, op.rhs, bias if bias is not None else op.bias, op.result.type, act)
    elif isinstance(op, kt.Conv2dOp):
        new = kt.Conv2dOp(op.input, op.weight, bias if bias is not None else op.bias, op.result.type,
                          strides=ints(op.strides), pads=ints(op.pads),
                          dilations=ints(op.dilations), groups=op.groups.value.data,
                          activation=act)
    else:
        new = kt.ElementwiseOp(op.kind.data, op.lhs, op.rhs, op.result.type, act)
    if (tile := op.properties.get("tile")) is not None:
        new.properties["tile"] = tile
    new.attributes.update(op.attributes)
    return new


def _sole_producer(value: SSAValue, types: tuple[type, ...]) -> Operation | None:
    owner = value.owner
    if isinstance(owner, types) and value.has_one_use():
        return owner
    return None


@dataclass
class FuseBias(RewritePattern):
    """``add(matmul/conv2d, bias-shaped weight)`` -> the contraction's bias operand."""

    store: WeightStore

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: kt.ElementwiseOp, rewriter: PatternRewriter) -> None:
        if op.kind.data != "add" or op.activation.data != "none":
            return
        for prod_val, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            producer = _sole_producer(prod_val, (kt.MatmulOp, kt.Conv2dOp))
            name = kt.weight_name(other)
            if producer is None or name is None or producer.bias is not None:
                continue
            if producer.activation.data != "none" or shape_of(op.result) != shape_of(prod_val):
                continue
            out = shape_of(prod_val)
            channels = out[1] if isinstance(producer, kt.Conv2dOp) else out[-1]
            shape = shape_of(other)
            if isinstance(producer, kt.Conv2dOp):
                ok = shape in ((channels, 1, 1), (1, channels, 1, 1))
            else:
                ok = shape in ((channels,), (1, channels))
            if not (ok or int(np.prod(shape)) == 1):
                continue
            new_ops: list[Operation] = []
            bias = other
            if shape != (channels,):
                arr = np.broadcast_to(self.store[name].reshape(-1), (channels,))
                derived = self.store.add_derived(name, arr)
                etype = other.type.element_type
                new_ops.append(kt.WeightOp(derived, TensorType(etype, (channels,))))
                bias = new_ops[-1].result
                bias.name_hint = other.name_hint
            new_ops.append(rebuild(producer, bias=bias))
            rewriter.replace(op, new_ops, [new_ops[-1].results[0]])
            rewriter.erase(producer)
            return


class FuseActivation(RewritePattern):
    """``activation(matmul/conv2d/elementwise with activation none)`` -> fused activation."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: kt.ActivationOp, rewriter: PatternRewriter) -> None:
        if op.func.data not in kt.ACTIVATIONS:
            return  # parametrised or standalone-only functions (leaky_relu, erf, rsqrt...)
        producer = _sole_producer(op.input, (kt.MatmulOp, kt.Conv2dOp, kt.ElementwiseOp))
        if producer is None or producer.activation.data != "none":
            return
        if producer.result.type != op.result.type:
            return
        new = rebuild(producer, activation=op.func.data)
        rewriter.replace(op, new)
        rewriter.erase(producer)


def _through_reshape(value: SSAValue, last: int | None = None) -> tuple[kt.ReshapeOp, kt.MatmulOp] | None:
    """(reshape, matmul) for ``reshape(matmul)``, each used once, the reshape
    keeping the matmul's last dim N (a Linear layer on [B, S, H] -> [B, S, N])."""
    reshape = _sole_producer(value, (kt.ReshapeOp,))
    if reshape is None:
        return None
    mm = _sole_producer(reshape.input, (kt.MatmulOp,))
    if mm is None or mm.activation.data != "none":
        return None
    n = shape_of(mm.result)[1]
    if shape_of(reshape.result)[-1:] != (n,):
        return None
    return reshape, mm


@dataclass
class FuseBiasThroughReshape(RewritePattern):
    """``add(reshape(matmul), bias[N])`` -> ``reshape(matmul with bias)``: MatMul by a
    weight on 3-D activations lowers to a 2-D matmul between reshapes, its bias add
    follows the reshape."""

    store: WeightStore

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: kt.ElementwiseOp, rewriter: PatternRewriter) -> None:
        if op.kind.data != "add" or op.activation.data != "none":
            return
        for val, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            found = _through_reshape(val)
            name = kt.weight_name(other)
            if found is None or name is None or shape_of(op.result) != shape_of(val):
                continue
            reshape, mm = found
            n = shape_of(mm.result)[1]
            shape = shape_of(other)
            if mm.bias is not None or not (shape[-1:] == (n,) and int(np.prod(shape)) == n):
                continue
            new_ops: list[Operation] = []
            bias = other
            if shape != (n,):
                derived = self.store.add_derived(name, self.store[name].reshape(n))
                new_ops.append(kt.WeightOp(derived, TensorType(other.type.element_type, (n,))))
                bias = new_ops[-1].result
                bias.name_hint = other.name_hint
            new_ops.append(rebuild(mm, bias=bias))
            new_ops.append(kt.ReshapeOp(new_ops[-1].results[0], reshape.result.type))
            rewriter.replace(op, new_ops, [new_ops[-1].results[0]])
            rewriter.erase(reshape)
            rewriter.erase(mm)
            return


class FuseActivationThroughReshape(RewritePattern):
    """``activation(reshape(matmul))`` -> ``reshape(matmul {activation})``
    (a pointwise function commutes with a reshape)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: kt.ActivationOp, rewriter: PatternRewriter) -> None:
        if op.func.data not in kt.ACTIVATIONS:
            return
        found = _through_reshape(op.input)
        if found is None or op.result.type.element_type != op.input.type.element_type:
            return
        reshape, mm = found
        new = rebuild(mm, activation=op.func.data)
        rewriter.replace(op, [new, kt.ReshapeOp(new.results[0], reshape.result.type)])
        rewriter.erase(reshape)
        rewriter.erase(mm)


@dataclass(frozen=True)
class FuseBiasActivationPass(ModulePass):
    """Fuse bias adds, then activations, into matmul/conv2d/elementwise producers."""

    name = "ktensor-fuse-bias-activation"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            # KeepSources: the fused op names the producer's nodes, then the add's, the activation's.
            KeepSources(GreedyRewritePatternApplier([
                FuseBias(module_store(op)), FuseBiasThroughReshape(module_store(op)),
                FuseActivation(), FuseActivationThroughReshape(),
            ]))
        ).rewrite_module(op)
        kt.erase_dead_weights(op)
