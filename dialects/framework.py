"""The framework dialect (``fw``): a trained network's graph, framework-neutral.

Ops mirror what ONNX/PyTorch give (attributes as the framework spells them,
numpy broadcasting, static shapes) so importers stay thin and every
hardware-facing decision happens in the lowering to ``ktensor``. Each op
states its shape rule once (``infer_shape``); the shared verifier checks the
result against it, so adding an op is a few lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import (
    I64,
    BoolAttr,
    DenseArrayBase,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    i1,
    i64,
)
from xdsl.ir import Attribute, Dialect, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    prop_def,
    result_def,
)
from xdsl.utils.exceptions import VerifyException

Shape = tuple[int, ...]


def shape_of(value: SSAValue | Attribute) -> Shape:
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def ints(attr: DenseArrayBase) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def _bool(value: bool) -> BoolAttr:
    return IntegerAttr(int(bool(value)), i1)


def pool_output_dim(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int,
                    dilation: int = 1, ceil_mode: bool = False) -> int:
    """ONNX's output size rule for conv and pooling along one axis."""
    span = dilation * (kernel - 1) + 1
    num = size + pad_begin + pad_end - span
    return (-(-num // stride) if ceil_mode else num // stride) + 1


class _FwOp(IRDLOperation):
    """Shared verifier: static shapes, one element type, result shape from ``infer_shape``."""

    irdl_options = (ParsePropInAttrDict(),)

    def verify_(self) -> None:
        values = (*self.operands, *self.results)
        for v in values:
            if not isinstance(v.type, TensorType):
                raise VerifyException(f"'{self.name}' expects tensor types, got {v.type}")
            if any(d < 0 for d in v.type.get_shape()):
                raise VerifyException(f"'{self.name}' needs static shapes, got {v.type}")
        elts = {v.type.element_type for v in values}
        if len(elts) > 1:
            raise VerifyException(
                f"'{self.name}' operands and results must share one element type, got "
                + ", ".join(sorted(str(e) for e in elts))
            )
        expected = tuple(self.infer_shape([shape_of(o) for o in self.operands]))
        got = shape_of(self.results[0])
        if expected != got:
            raise VerifyException(f"'{self.name}' result shape must be {expected}, got {got}")

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        """The result shape for operand shapes ``shapes``; raises VerifyException on misuse."""
        raise NotImplementedError


# --- parameters ---------------------------------------------------------------


@irdl_op_definition
class WeightOp(_FwOp):
    """A trained parameter, by name in the module's weight store."""

    name = "fw.weight"
    weight_name = prop_def(StringAttr, prop_name="name")
    result = result_def(TensorType)
    assembly_format = "$name attr-dict `:` type($result)"

    def __init__(self, weight_name: str, result_type: TensorType):
        super().__init__(properties={"name": StringAttr(weight_name)}, result_types=[result_type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        return shape_of(self.result)


# --- elementwise ----------------------------------------------------------------


class _UnaryOp(_FwOp):
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[input], result_types=[result_type or input.type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        return shapes[0]


@irdl_op_definition
class ReluOp(_UnaryOp):
    name = "fw.relu"


@irdl_op_definition
class SigmoidOp(_UnaryOp):
    name = "fw.sigmoid"


@irdl_op_definition
class TanhOp(_UnaryOp):
    name = "fw.tanh"


@irdl_op_definition
class IdentityOp(_UnaryOp):
    name = "fw.identity"


class _BinaryOp(_FwOp):
    """Elementwise with numpy (multidirectional) broadcasting."""

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: Attribute):
        super().__init__(operands=[lhs, rhs], result_types=[result_type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        try:
            return tuple(np.broadcast_shapes(shapes[0], shapes[1]))
        except ValueError:
            raise VerifyException(
                f"'{self.name}' operands do not broadcast: {shapes[0]}, {shapes[1]}"
            ) from None


@irdl_op_definition
class AddOp(_BinaryOp):
    name = "fw.add"


@irdl_op_definition
class SubOp(_BinaryOp):
    name = "fw.sub"


@irdl_op_definition
class MulOp(_BinaryOp):
    name = "fw.mul"


@irdl_op_definition
class DivOp(_BinaryOp):
    name = "fw.div"


# --- contractions -------------------------------------------------------------


@irdl_op_definition
class GemmOp(_FwOp):
    """ONNX Gemm: ``alpha * op(a) @ op(b) + beta * c``, c broadcast to [M, N]."""

    name = "fw.gemm"
    a = operand_def(TensorType)
    b = operand_def(TensorType)
    c = opt_operand_def(TensorType)
    alpha = prop_def(FloatAttr[Float32Type])
    beta = prop_def(FloatAttr[Float32Type])
    trans_a = prop_def(BoolAttr)
    trans_b = prop_def(BoolAttr)
    result = result_def(TensorType)
    assembly_format = "$a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)"

    def __init__(self, a: SSAValue, b: SSAValue, c: SSAValue | None, result_type: Attribute,
                 alpha: float = 1.0, beta: float = 1.0, trans_a: bool = False,
                 trans_b: bool = False):
        super().__init__(
            operands=[a, b, c],
            properties={
                "alpha": FloatAttr(alpha, Float32Type()),
                "beta": FloatAttr(beta, Float32Type()),
                "trans_a": _bool(trans_a),
                "trans_b": _bool(trans_b),
            },
            result_types=[result_type],
        )

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        a, b = shapes[0], shapes[1]
        if len(a) != 2 or len(b) != 2:
            raise VerifyException(f"'fw.gemm' expects 2-D a and b, got {a} and {b}")
        m, k = (a[1], a[0]) if self.trans_a.value.data else a
        kb, n = (b[1], b[0]) if self.trans_b.value.data else b
        if k != kb:
            raise VerifyException(f"'fw.gemm' inner dimensions differ: {k} and {kb}")
        if len(shapes) == 3:
            c = shapes[2]
            try:
                ok = tuple(np.broadcast_shapes(c, (m, n))) == (m, n)
            except ValueError:
                ok = False
            if not ok:
                raise VerifyException(f"'fw.gemm' c {c} does not broadcast to {(m, n)}")
        return (m, n)


@irdl_op_definition
class MatmulOp(_BinaryOp):
    """numpy.matmul semantics: batch dims broadcast, 1-D operands promoted."""

    name = "fw.matmul"

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        a, b = shapes[0], shapes[1]
        if not a or not b:
            raise VerifyException("'fw.matmul' operands must have rank >= 1")
        a2 = (1, *a) if len(a) == 1 else a
        b2 = (*b, 1) if len(b) == 1 else b
        if a2[-1] != b2[-2]:
            raise VerifyException(f"'fw.matmul' inner dimensions differ: {a} x {b}")
        try:
            batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
        except ValueError:
            raise VerifyException(f"'fw.matmul' batch dimensions do not broadcast: {a} x {b}") from None
        out = (*batch, a2[-2], b2[-1])
        if len(a) == 1:
            out = out[:-2] + out[-1:]
        if len(b) == 1:
            out = out[:-1]
        return out


@irdl_op_definition
class ConvOp(_FwOp):
    """2-D convolution over NCHW; pads are [top, left, bottom, right] (ONNX order)."""

    name = "fw.conv"
    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    strides = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    dilations = prop_def(DenseArrayBase[I64])
    group = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = (
        "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)"
    )

    def __init__(self, input: SSAValue, weight: SSAValue, bias: SSAValue | None,
                 result_type: Attribute, strides: Sequence[int] = (1, 1),
                 pads: Sequence[int] = (0, 0, 0, 0), dilations: Sequence[int] = (1, 1),
                 group: int = 1):
        super().__init__(
            operands=[input, weight, bias],
            properties={
                "strides": i64_array(strides),
                "pads": i64_array(pads),
                "dilations": i64_array(dilations),
                "group": IntegerAttr(group, i64),
            },
            result_types=[result_type],
        )

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, w = shapes[0], shapes[1]
        s, p, d, g = ints(self.strides), ints(self.pads), ints(self.dilations), self.group.value.data
        if len(x) != 4 or len(w) != 4:
            raise VerifyException(f"'fw.conv' expects 4-D input and weight, got {x} and {w}")
        if len(s) != 2 or len(d) != 2 or len(p) != 4:
            raise VerifyException("'fw.conv' needs 2 strides, 2 dilations and 4 pads")
        if min(s) < 1 or min(d) < 1 or min(p) < 0 or g < 1:
            raise VerifyException("'fw.conv' needs strides, dilations, group >= 1 and pads >= 0")
        if x[1] % g or w[0] % g or w[1] * g != x[1]:
            raise VerifyException(f"'fw.conv' channels do not match group={g}: input {x}, weight {w}")
        if len(shapes) == 3 and shapes[2] != (w[0],):
            raise VerifyException(f"'fw.conv' bias must be {(w[0],)}, got {shapes[2]}")
        oh = pool_output_dim(x[2], w[2], s[0], p[0], p[2], d[0])
        ow = pool_output_dim(x[3], w[3], s[1], p[1], p[3], d[1])
        if oh < 1 or ow < 1:
            raise VerifyException(f"'fw.conv' kernel {w[2:]} does not fit input {x[2:]}")
        return (x[0], w[0], oh, ow)


# --- pooling --------------------------------------------------------------------


class _PoolOp(_FwOp):
    input = operand_def(TensorType)
    kernel_shape = prop_def(DenseArrayBase[I64])
    strides = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    ceil_mode = prop_def(BoolAttr)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x = shapes[0]
        k, s, p = ints(self.kernel_shape), ints(self.strides), ints(self.pads)
        if len(x) != 4:
            raise VerifyException(f"'{self.name}' expects a 4-D NCHW input, got {x}")
        if len(k) != 2 or len(s) != 2 or len(p) != 4:
            raise VerifyException(f"'{self.name}' needs 2 kernel_shape, 2 strides and 4 pads")
        if min(k) < 1 or min(s) < 1 or min(p) < 0:
            raise VerifyException(f"'{self.name}' needs kernel_shape, strides >= 1 and pads >= 0")
        if p[0] >= k[0] or p[2] >= k[0] or p[1] >= k[1] or p[3] >= k[1]:
            raise VerifyException(f"'{self.name}' pads {p} must be smaller than the kernel {k}")
        ceil = bool(self.ceil_mode.value.data)
        oh = pool_output_dim(x[2], k[0], s[0], p[0], p[2], ceil_mode=ceil)
        ow = pool_output_dim(x[3], k[1], s[1], p[1], p[3], ceil_mode=ceil)
        if oh < 1 or ow < 1:
            raise VerifyException(f"'{self.name}' kernel {k} does not fit input {x[2:]}")
        return (x[0], x[1], oh, ow)


@irdl_op_definition
class MaxPoolOp(_PoolOp):
    name = "fw.max_pool"

    def __init__(self, input: SSAValue, result_type: Attribute, kernel_shape: Sequence[int],
                 strides: Sequence[int], pads: Sequence[int], ceil_mode: bool = False):
        super().__init__(
            operands=[input],
            properties={
                "kernel_shape": i64_array(kernel_shape),
                "strides": i64_array(strides),
                "pads": i64_array(pads),
                "ceil_mode": _bool(ceil_mode),
            },
            result_types=[result_type],
        )


@irdl_op_definition
class AveragePoolOp(_PoolOp):
    """count_include_pad: whether padded zeros count in each window's divisor."""

    name = "fw.average_pool"
    count_include_pad = prop_def(BoolAttr)

    def __init__(self, input: SSAValue, result_type: Attribute, kernel_shape: Sequence[int],
                 strides: Sequence[int], pads: Sequence[int], ceil_mode: bool = False,
                 count_include_pad: bool = False):
        super().__init__(
            operands=[input],
            properties={
                "kernel_shape": i64_array(kernel_shape),
                "strides": i64_array(strides),
                "pads": i64_array(pads),
                "ceil_mode": _bool(ceil_mode),
                "count_include_pad": _bool(count_include_pad),
            },
            result_types=[result_type],
        )


@irdl_op_definition
class GlobalAveragePoolOp(_UnaryOp):
    """Mean over all spatial dims: [N, C, ...] -> [N, C, 1, ...]."""

    name = "fw.global_average_pool"

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x = shapes[0]
        if len(x) < 3:
            raise VerifyException(f"'fw.global_average_pool' expects rank >= 3, got {x}")
        return (x[0], x[1]) + (1,) * (len(x) - 2)


# --- layout -----------------------------------------------------------------------


@irdl_op_definition
class FlattenOp(_FwOp):
    """[d0..d(axis-1), d(axis)..] -> [prod(before), prod(after)]."""

    name = "fw.flatten"
    input = operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, axis: int, result_type: Attribute):
        super().__init__(
            operands=[input], properties={"axis": IntegerAttr(axis, i64)}, result_types=[result_type]
        )

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, a = shapes[0], self.axis.value.data
        if not -len(x) <= a <= len(x):
            raise VerifyException(f"'fw.flatten' axis {a} out of range for rank {len(x)}")
        if a < 0:
            a += len(x)
        return (math.prod(x[:a]), math.prod(x[a:]))


@irdl_op_definition
class ReshapeOp(_FwOp):
    """Row-major reshape to the static ``shape`` (already resolved: no 0 or -1)."""

    name = "fw.reshape"
    input = operand_def(TensorType)
    shape = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, shape: Sequence[int], result_type: Attribute):
        super().__init__(
            operands=[input], properties={"shape": i64_array(shape)}, result_types=[result_type]
        )

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        target = ints(self.shape)
        if any(d < 1 for d in target):
            raise VerifyException(f"'fw.reshape' shape {target} must be static and positive")
        if math.prod(target) != math.prod(shapes[0]):
            raise VerifyException(
                f"'fw.reshape' changes the element count: {shapes[0]} -> {target}"
            )
        return target


@irdl_op_definition
class TransposeOp(_FwOp):
    name = "fw.transpose"
    input = operand_def(TensorType)
    perm = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, perm: Sequence[int], result_type: Attribute):
        super().__init__(
            operands=[input], properties={"perm": i64_array(perm)}, result_types=[result_type]
        )

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, perm = shapes[0], ints(self.perm)
        if sorted(perm) != list(range(len(x))):
            raise VerifyException(f"'fw.transpose' perm {perm} is not a permutation of rank {len(x)}")
        return tuple(x[p] for p in perm)


@irdl_op_definition
class SoftmaxOp(_FwOp):
    """Softmax along ``axis`` (ONNX opset >= 13 semantics; negative axes count from the end)."""

    name = "fw.softmax"
    input = operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, axis: int, result_type: Attribute | None = None):
        super().__init__(
            operands=[input],
            properties={"axis": IntegerAttr(axis, i64)},
            result_types=[result_type or input.type],
        )

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, a = shapes[0], self.axis.value.data
        if not -len(x) <= a < len(x):
            raise VerifyException(f"'fw.softmax' axis {a} out of range for rank {len(x)}")
        return x


Framework = Dialect(
    "fw",
    [
        WeightOp,
        ReluOp,
        SigmoidOp,
        TanhOp,
        IdentityOp,
        AddOp,
        SubOp,
        MulOp,
        DivOp,
        GemmOp,
        MatmulOp,
        ConvOp,
        MaxPoolOp,
        AveragePoolOp,
        GlobalAveragePoolOp,
        FlattenOp,
        ReshapeOp,
        TransposeOp,
        SoftmaxOp,
    ],
)
