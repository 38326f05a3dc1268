"""Lower the framework dialect (``fw``) to the tensor dialect (``ktensor``).

Framework conveniences are resolved here so the backend sees few op forms:
Gemm's transposes and scales on weights are folded into derived weights (no
runtime work), Gemm's C becomes a matmul bias when it is bias-shaped, N-D
matmuls become 2-D ones between reshapes, identities disappear, and negative
axes are normalised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import Float32Type, IntegerAttr, ModuleOp, TensorType, i64
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import KeepSources, describe_op
from kaena.errors import CompileError
from kaena.weights import WeightStore, module_store

Shape = tuple[int, ...]


def _weight_name(value: SSAValue) -> str | None:
    """The store name behind ``value`` if it is a weight (fw or ktensor level)."""
    owner = value.owner
    if isinstance(owner, fw.WeightOp | kt.WeightOp):
        return owner.weight_name.data
    return None


def _tensor(shape: Shape, like: SSAValue) -> TensorType:
    return TensorType(like.type.element_type, shape)


class _Lowering:
    """Collects the ops one fw op lowers to, folding weight rewrites into the store."""

    def __init__(self, store: WeightStore):
        self.store = store
        self.ops: list[Operation] = []

    def add(self, op: Operation) -> SSAValue:
        self.ops.append(op)
        return op.results[0]

    def weight(self, base: str, array: np.ndarray) -> SSAValue:
        array = np.ascontiguousarray(array, dtype=np.float32)
        name = self.store.add_derived(base, array)
        value = self.add(kt.WeightOp(name, TensorType(Float32Type(), array.shape)))
        if SSAValue.is_valid_name(base):
            value.name_hint = base
        return value

    def scalar(self, base: str, value: float) -> SSAValue:
        return self.weight(base, np.array([value], np.float32))

    def transpose(self, value: SSAValue) -> SSAValue:
        """2-D transpose: folded into a derived weight when ``value`` is one."""
        if (name := _weight_name(value)) is not None:
            return self.weight(name, self.store[name].T)
        shape = fw.shape_of(value)
        return self.add(kt.TransposeOp(value, (1, 0), _tensor((shape[1], shape[0]), value)))

    def reshape(self, value: SSAValue, shape: Shape) -> SSAValue:
        if fw.shape_of(value) == tuple(shape):
            return value
        if (name := _weight_name(value)) is not None:
            return self.weight(name, self.store[name].reshape(shape))
        return self.add(kt.ReshapeOp(value, _tensor(shape, value)))

    def elementwise(self, kind: str, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        shape = tuple(np.broadcast_shapes(fw.shape_of(lhs), fw.shape_of(rhs)))
        return self.add(kt.ElementwiseOp(kind, lhs, rhs, _tensor(shape, lhs)))


@dataclass
class _StorePattern(RewritePattern):
    store: WeightStore


class LowerWeight(_StorePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.WeightOp, rewriter: PatternRewriter) -> None:
        rewriter.replace(op, kt.WeightOp(op.weight_name.data, op.result.type))


class LowerGemm(_StorePattern):
    """``alpha * op(A) @ op(B) + beta * C``: scales and transposes go into weights."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.GemmOp, rewriter: PatternRewriter) -> None:
        low = _Lowering(self.store)
        alpha, beta = op.alpha.value.data, op.beta.value.data
        a = low.transpose(op.a) if op.trans_a.value.data else op.a
        b = op.b
        if op.trans_b.value.data:
            b = low.transpose(b)
        if alpha != 1.0 and (name := _weight_name(b)) is not None:
            b, alpha = low.weight(name, self.store[name] * np.float32(alpha)), 1.0
        elif alpha != 1.0 and (name := _weight_name(a)) is not None:
            a, alpha = low.weight(name, self.store[name] * np.float32(alpha)), 1.0
        m, n = fw.shape_of(a)[0], fw.shape_of(b)[1]

        bias: SSAValue | None = None
        addend: SSAValue | None = None
        c = op.c if beta != 0.0 else None
        if c is not None and (name := _weight_name(c)) is not None:
            arr = self.store[name]
            if beta != 1.0:
                arr = arr * np.float32(beta)
            if arr.shape in ((n,), (1, n)) or arr.size == 1:
                arr = np.broadcast_to(arr.reshape(-1), (n,))
                if alpha == 1.0:
                    bias = op.c if arr.shape == fw.shape_of(op.c) and beta == 1.0 else low.weight(name, arr)
                else:
                    addend = low.weight(name, arr)
            else:
                addend = op.c if beta == 1.0 else low.weight(name, arr)
        elif c is not None:
            addend = c if beta == 1.0 else low.elementwise("mul", c, low.scalar("gemm.beta", beta))

        result = low.add(kt.MatmulOp(a, b, bias, _tensor((m, n), a)))
        if alpha != 1.0:
            result = low.elementwise("mul", result, low.scalar("gemm.alpha", alpha))
        if addend is not None:
            result = low.elementwise("add", result, addend)
        rewriter.replace(op, low.ops, [result])


class LowerMatmul(_StorePattern):
    """numpy matmul -> 2-D ktensor.matmul between reshapes. A batched right
    operand becomes a broadcast product [.., M, K, N] summed over K by a matmul
    with ones: correct for any batch, but O(B*M*K*N) memory (fine for small heads)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.MatmulOp, rewriter: PatternRewriter) -> None:
        a, b, r = fw.shape_of(op.lhs), fw.shape_of(op.rhs), fw.shape_of(op.result)
        low = _Lowering(self.store)
        k = a[-1]
        n = 1 if len(b) == 1 else b[-1]
        if len(b) > 2 and math.prod(b[:-2]) != 1:
            a2 = (1, k) if len(a) == 1 else a
            m = a2[-2]
            lhs = low.reshape(op.lhs, (*a2[:-2], m, k, 1))
            rhs = low.reshape(op.rhs, (*b[:-2], 1, k, n))
            prod = low.elementwise("mul", lhs, rhs)
            shape = fw.shape_of(prod)
            nb = len(shape) - 3
            perm = (*range(nb), nb, nb + 2, nb + 1)
            moved = low.add(kt.TransposeOp(prod, perm, _tensor(tuple(shape[p] for p in perm), prod)))
            flat = low.reshape(moved, (math.prod(shape) // k, k))
            ones = low.weight("matmul.ones", np.ones((k, 1), np.float32))
            mm = low.add(kt.MatmulOp(flat, ones, None, _tensor((fw.shape_of(flat)[0], 1), flat)))
            rewriter.replace(op, low.ops, [low.reshape(mm, r)])
            return
        lhs = low.reshape(op.lhs, (math.prod(a[:-1]), k))
        rhs = low.reshape(op.rhs, (k, n))
        mm = low.add(kt.MatmulOp(lhs, rhs, None, _tensor((fw.shape_of(lhs)[0], n), lhs)))
        rewriter.replace(op, low.ops, [low.reshape(mm, r)])


class LowerBinary(RewritePattern):
    KINDS: ClassVar[dict[type, str]] = {
        fw.AddOp: "add", fw.SubOp: "sub", fw.MulOp: "mul", fw.DivOp: "div",
        fw.MaxOp: "max", fw.MinOp: "min",
    }

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        kind = self.KINDS.get(type(op))
        if kind is not None:
            rewriter.replace(op, kt.ElementwiseOp(kind, op.operands[0], op.operands[1],
                                                  op.results[0].type))


class LowerUnary(RewritePattern):
    FUNCS: ClassVar[dict[type, str]] = {
        fw.ReluOp: "relu", fw.SigmoidOp: "sigmoid", fw.TanhOp: "tanh", fw.HardSwishOp: "hard_swish",
    }

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, fw.IdentityOp):
            rewriter.replace(op, [], [op.input])
        elif (func := self.FUNCS.get(type(op))) is not None:
            rewriter.replace(op, kt.ActivationOp(func, op.operands[0], op.results[0].type))
        elif isinstance(op, fw.LeakyReluOp):
            rewriter.replace(op, kt.ActivationOp("leaky_relu", op.input, op.result.type,
                                                 alpha=op.alpha.value.data))
        elif isinstance(op, fw.HardSigmoidOp):
            rewriter.replace(op, kt.ActivationOp("hard_sigmoid", op.input, op.result.type,
                                                 alpha=op.alpha.value.data, beta=op.beta.value.data))


@dataclass
class LowerClip(_StorePattern):
    """relu/relu6 when it is one (fusable), clip when bounded both sides, else max/min by a scalar."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.ClipOp, rewriter: PatternRewriter) -> None:
        lo, hi = op.bounds()
        if (act := op.fusable_activation()) is not None:
            rewriter.replace(op, kt.ActivationOp(act, op.input, op.result.type))
        elif math.isfinite(lo) and math.isfinite(hi):
            rewriter.replace(op, kt.ActivationOp("clip", op.input, op.result.type, alpha=lo, beta=hi))
        elif math.isfinite(lo) or math.isfinite(hi):
            low = _Lowering(self.store)
            kind, bound = ("max", lo) if math.isfinite(lo) else ("min", hi)
            low.elementwise(kind, op.input, low.scalar(f"clip.{kind}", bound))
            rewriter.replace(op, low.ops)
        else:
            rewriter.replace(op, [], [op.input])


@dataclass
class LowerBatchNorm(_StorePattern):
    """A batch norm not folded into a conv: a per-channel mul and add by derived weights."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.BatchNormOp, rewriter: PatternRewriter) -> None:
        affine = fw.batch_norm_affine(self.store, op, _weight_name)
        if affine is None:
            raise CompileError(
                f"{describe_op(op)}: BatchNormalization needs constant scale, bias, mean and var "
                "(initializers); export the model in inference mode with its parameters"
            )
        x = fw.shape_of(op.input)
        shape = (x[1],) + (1,) * (len(x) - 2)
        base = _weight_name(op.scale) or "bn"
        low = _Lowering(self.store)
        scaled = low.elementwise("mul", op.input, low.weight(f"{base}.bn_mul", affine[0].reshape(shape)))
        low.elementwise("add", scaled, low.weight(f"{base}.bn_add", affine[1].reshape(shape)))
        rewriter.replace(op, low.ops)


class LowerConv(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.ConvOp, rewriter: PatternRewriter) -> None:
        rewriter.replace(op, kt.Conv2dOp(
            op.input, op.weight, op.bias, op.result.type,
            strides=fw.ints(op.strides), pads=fw.ints(op.pads),
            dilations=fw.ints(op.dilations), groups=op.group.value.data,
            activation=op.activation_name(),
        ))


class LowerPool(RewritePattern):
    """Max/average pool -> pool2d. ceil_mode becomes extra end padding; an average
    that counts the explicit pads but not the ceil_mode overhang pads explicitly
    with zeros first and then counts only in-bounds elements."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, fw.GlobalAveragePoolOp):
            x = fw.shape_of(op.input)
            if len(x) != 4:
                raise CompileError(f"{describe_op(op)}: only 4-D NCHW global average pooling is supported")
            rewriter.replace(op, kt.Pool2dOp("avg", op.input, op.result.type, x[2:], (1, 1),
                                             (0, 0, 0, 0)))
            return
        if not isinstance(op, fw.MaxPoolOp | fw.AveragePoolOp):
            return
        x, out = fw.shape_of(op.input), fw.shape_of(op.result)
        k, s, p = fw.ints(op.kernel_shape), fw.ints(op.strides), fw.ints(op.pads)
        # ceil_mode: pad the end so the floor rule gives the ceil output size
        extra = [max(0, (out[2 + i] - 1) * s[i] + k[i] - (x[2 + i] + p[i] + p[i + 2]))
                 for i in range(2)]
        pads = [p[0], p[1], p[2] + extra[0], p[3] + extra[1]]
        ops: list[Operation] = []
        source = op.input
        include_pad = isinstance(op, fw.AveragePoolOp) and bool(op.count_include_pad.value.data)
        if include_pad and any(extra) and any(p):
            shape = (x[0], x[1], x[2] + p[0] + p[2], x[3] + p[1] + p[3])
            ops.append(kt.PadOp(op.input, (0, 0, p[0], p[1], 0, 0, p[2], p[3]), "constant",
                                _tensor(shape, op.input)))
            source = ops[-1].results[0]
            pads = [0, 0, extra[0], extra[1]]
        kind = "max" if isinstance(op, fw.MaxPoolOp) else "avg"
        pool = kt.Pool2dOp(kind, source, op.result.type, k, s, pads)
        if kind == "avg" and (not include_pad or any(extra)):
            # divide by the elements inside the (explicitly padded) input only
            pool.properties["count_include_pad"] = IntegerAttr(0, i64)
        ops.append(pool)
        rewriter.replace(op, ops)


class LowerLayout(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, fw.FlattenOp | fw.ReshapeOp):
            rewriter.replace(op, kt.ReshapeOp(op.input, op.result.type))
        elif isinstance(op, fw.TransposeOp):
            rewriter.replace(op, kt.TransposeOp(op.input, fw.ints(op.perm), op.result.type))
        elif isinstance(op, fw.SoftmaxOp):
            axis = op.axis.value.data
            if axis < 0:
                axis += len(fw.shape_of(op.input))
            rewriter.replace(op, kt.SoftmaxOp(op.input, axis))
        elif isinstance(op, fw.ConcatOp):
            axis = op.axis.value.data % len(fw.shape_of(op.result))
            rewriter.replace(op, kt.ConcatOp(list(op.inputs), axis, op.result.type))
        elif isinstance(op, fw.PadOp):
            rewriter.replace(op, kt.PadOp(op.input, fw.ints(op.pads), op.mode.data, op.result.type,
                                          value=op.value.value.data))
        elif isinstance(op, fw.ResizeNearestOp):
            rewriter.replace(op, kt.ResizeNearestOp(op.input, fw.ints(op.scales), op.result.type))


def erase_dead_weights(module: ModuleOp) -> None:
    """Merge repeated derived ktensor weights, then drop the weights (fw or
    ktensor) whose uses were all rewritten."""
    kt.erase_dead_weights(module)
    for op in list(module.walk(reverse=True)):
        if isinstance(op, fw.WeightOp) and not op.result.uses:
            op.detach()
            op.erase()


@dataclass(frozen=True)
class ConvertFrameworkToTensorPass(ModulePass):
    """Lower every ``fw`` op to ``ktensor``; derived weights land in the module's store."""

    name = "convert-framework-to-tensor"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        store = module_store(op)
        # KeepSources: every ktensor op made from an fw op names that op's nodes.
        PatternRewriteWalker(
            KeepSources(GreedyRewritePatternApplier([
                LowerWeight(store), LowerGemm(store), LowerMatmul(store), LowerBinary(),
                LowerUnary(), LowerClip(store), LowerBatchNorm(store), LowerConv(), LowerPool(),
                LowerLayout(),
            ])),
            apply_recursively=False,
        ).rewrite_module(op)
        erase_dead_weights(op)
        left = [o for o in op.walk() if o.dialect_name() == "fw"]
        if left:
            raise CompileError("convert-framework-to-tensor: no lowering for "
                               + ", ".join(dict.fromkeys(describe_op(o) for o in left)))
