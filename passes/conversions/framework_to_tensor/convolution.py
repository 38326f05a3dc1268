"""Convolution, pooling and (unfolded) batch normalization."""

from __future__ import annotations

from dataclasses import dataclass

from kaena.dialects import framework as fw
from kaena.dialects import ktensor as kt
from kaena.dialects.attributes import describe_op
from kaena.passes.conversions.framework_to_tensor.common import (
    Lowering,
    StorePattern,
    tensor,
    weight_name,
)
from xdsl.dialects.builtin import IntegerAttr, i64
from xdsl.ir import Operation
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from kaena.errors import CompileError


@dataclass
class LowerBatchNorm(StorePattern):
    """A batch norm not folded into a conv: a per-channel mul and add by derived weights."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: fw.BatchNormOp, rewriter: PatternRewriter) -> None:
        affine = fw.batch_norm_affine(self.store, op, weight_name)
        if affine is None:
            raise CompileError(
                f"{describe_op(op)}: BatchNormalization needs constant scale, bias, mean and var "
                "(initializers); export the model in inference mode with its parameters"
            )
        x = fw.shape_of(op.input)
        shape = (x[1],) + (1,) * (len(x) - 2)
        base = weight_name(op.scale) or "bn"
        low = Lowering(self.store)
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
            activation=str(op.activation_name()),
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
        d = op.dilation_values()
        # ceil_mode: pad the end so the floor rule gives the ceil output size
        extra = [max(0, (out[2 + i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - (x[2 + i] + p[i] + p[i + 2]))
                 for i in range(2)]
        pads = [p[0], p[1], p[2] + extra[0], p[3] + extra[1]]
        ops: list[Operation] = []
        source = op.input
        include_pad = isinstance(op, fw.AveragePoolOp) and bool(op.count_include_pad.value.data)
        if include_pad and any(extra) and any(p):
            shape = (x[0], x[1], x[2] + p[0] + p[2], x[3] + p[1] + p[3])
            ops.append(kt.PadOp(op.input, (0, 0, p[0], p[1], 0, 0, p[2], p[3]), "constant",
                                tensor(shape, op.input)))
            source = ops[-1].results[0]
            pads = [0, 0, extra[0], extra[1]]
        kind = "max" if isinstance(op, fw.MaxPoolOp) else "avg"
        pool = kt.Pool2dOp(kind, source, op.result.type, k, s, pads, d)
        if kind == "avg" and (not include_pad or any(extra)):
            # divide by the elements inside the (explicitly padded) input only
            pool.properties["count_include_pad"] = IntegerAttr(0, i64)
        ops.append(pool)
        rewriter.replace(op, ops)
