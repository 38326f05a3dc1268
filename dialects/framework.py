"""The framework dialect (``fw``): a trained network's graph, framework-neutral.

Ops mirror what ONNX/PyTorch give (attributes as the framework spells them,
numpy broadcasting, static shapes) so importers stay thin and every
hardware-facing decision happens in the lowering to ``ktensor``. Each op
states its shape rule once (``infer_shape``); the shared verifier checks the
result against it, so adding an op is a few lines.
"""

from __future__ import annotations

import math
from enum import auto
from collections.abc import Callable, Sequence

import numpy as np
from xdsl.dialects.builtin import (
    I64,
    BoolAttr,
    IntegerType,
    DenseArrayBase,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    i1,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.dialects.utils.enum_attribute import EnumAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.ir import SpacedOpaqueSyntaxAttribute
from xdsl.traits import ConstantLike, Pure
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from kaena.dialects.enums import CompareKind, LogicalKind, PadMode, QuotedEnumSyntax, ReduceKind, enum_by_value
from kaena.dialects.utils import Shape, i64_array, ints, shape_of
from kaena.weights import WeightStore



# ---------------------------------------------------------------------------
# Enumerated properties (printed quoted, as ``fw.reduce "mean"``; generic form
# ``#fw<reduce_kind "mean">``)
# ---------------------------------------------------------------------------


class ConvActivation(StrEnum):
    """Activations fw-fuse-conv can fold into a conv (those the tensor level fuses)."""

    NONE = auto()
    RELU = auto()
    RELU6 = auto()
    SIGMOID = auto()
    TANH = auto()


class GeluApproximation(StrEnum):
    NONE = auto()
    TANH = auto()


CONV_ACTIVATIONS = tuple(ConvActivation)
PAD_MODES = tuple(PadMode)
GELU_APPROXIMATIONS = tuple(GeluApproximation)
REDUCE_KINDS = tuple(ReduceKind)
COMPARE_KINDS = tuple(CompareKind)
LOGICAL_KINDS = tuple(LogicalKind)


@irdl_attr_definition
class ConvActivationAttr(QuotedEnumSyntax, EnumAttribute[ConvActivation], SpacedOpaqueSyntaxAttribute):
    name = "fw.conv_activation"
    WHAT = "'fw.conv' activation"


@irdl_attr_definition
class PadModeAttr(QuotedEnumSyntax, EnumAttribute[PadMode], SpacedOpaqueSyntaxAttribute):
    name = "fw.pad_mode"
    WHAT = "'fw.pad' mode"


@irdl_attr_definition
class GeluApproximationAttr(QuotedEnumSyntax, EnumAttribute[GeluApproximation], SpacedOpaqueSyntaxAttribute):
    name = "fw.gelu_approximation"
    WHAT = "'fw.gelu' approximate"


@irdl_attr_definition
class ReduceKindAttr(QuotedEnumSyntax, EnumAttribute[ReduceKind], SpacedOpaqueSyntaxAttribute):
    name = "fw.reduce_kind"
    WHAT = "'fw.reduce' kind"


@irdl_attr_definition
class CompareKindAttr(QuotedEnumSyntax, EnumAttribute[CompareKind], SpacedOpaqueSyntaxAttribute):
    name = "fw.compare_kind"
    WHAT = "'fw.compare' kind"


@irdl_attr_definition
class LogicalKindAttr(QuotedEnumSyntax, EnumAttribute[LogicalKind], SpacedOpaqueSyntaxAttribute):
    name = "fw.logical_kind"
    WHAT = "'fw.logical' kind"


def _enum(attr_cls, value):
    """The property ``attr_cls`` for ``value`` (a member or its name); a bad name raises the
    verifier's error, which the frontends report against the node."""
    return attr_cls(enum_by_value(attr_cls.enum_type, value, attr_cls.WHAT))


def _bool(value: bool) -> BoolAttr:
    return IntegerAttr(int(bool(value)), i1)


def pool_output_dim(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int,
                    dilation: int = 1, ceil_mode: bool = False) -> int:
    """ONNX's output size rule for conv and pooling along one axis."""
    span = dilation * (kernel - 1) + 1
    num = size + pad_begin + pad_end - span
    out = (-(-num // stride) if ceil_mode else num // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1  # the last window must start inside the input or its begin padding
    return out


class FwOp(IRDLOperation):
    """Shared verifier: static shapes, one element type, result shape from ``infer_shape``."""

    # A graph node computes its result and nothing else: xDSL's dce and cse apply.
    traits = traits_def(Pure())
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
class WeightOp(FwOp):
    """A trained parameter, by name in the module's weight store."""

    name = "fw.weight"
    # A constant: rewrites treat it as data (no source location of its own).
    traits = traits_def(Pure(), ConstantLike())
    weight_name = prop_def(StringAttr, prop_name="name")
    result = result_def(TensorType)
    assembly_format = "$name attr-dict `:` type($result)"

    def __init__(self, weight_name: str, result_type: TensorType):
        super().__init__(properties={"name": StringAttr(weight_name)}, result_types=[result_type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        return shape_of(self.result)


# --- elementwise ----------------------------------------------------------------


class UnaryOp(FwOp):
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[input], result_types=[result_type or input.type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        return shapes[0]


@irdl_op_definition
class ReluOp(UnaryOp):
    name = "fw.relu"


@irdl_op_definition
class SigmoidOp(UnaryOp):
    name = "fw.sigmoid"


@irdl_op_definition
class TanhOp(UnaryOp):
    name = "fw.tanh"


@irdl_op_definition
class IdentityOp(UnaryOp):
    name = "fw.identity"


def _f32(value: float) -> FloatAttr:
    return FloatAttr(float(value), Float32Type())


@irdl_op_definition
class LeakyReluOp(UnaryOp):
    """``x if x >= 0 else alpha * x``."""

    name = "fw.leaky_relu"
    alpha = prop_def(FloatAttr[Float32Type])

    def __init__(self, input: SSAValue, alpha: float = 0.01, result_type: Attribute | None = None):
        IRDLOperation.__init__(self, operands=[input], properties={"alpha": _f32(alpha)},
                               result_types=[result_type or input.type])


@irdl_op_definition
class ClipOp(UnaryOp):
    """``min(max(x, min), max)``; an absent bound does not clip."""

    name = "fw.clip"
    min = opt_prop_def(FloatAttr[Float32Type])
    max = opt_prop_def(FloatAttr[Float32Type])

    def __init__(self, input: SSAValue, min: float | None = None, max: float | None = None,
                 result_type: Attribute | None = None):
        props = {}
        if min is not None:
            props["min"] = _f32(min)
        if max is not None:
            props["max"] = _f32(max)
        IRDLOperation.__init__(self, operands=[input], properties=props,
                               result_types=[result_type or input.type])

    def bounds(self) -> tuple[float, float]:
        lo = self.min.value.data if self.min is not None else -math.inf
        hi = self.max.value.data if self.max is not None else math.inf
        return lo, hi

    def fusable_activation(self) -> str | None:
        """The parameterless activation equal to this clip (relu6, relu), if any."""
        lo, hi = self.bounds()
        if lo == 0.0 and hi == 6.0:
            return "relu6"
        if lo == 0.0 and hi == math.inf:
            return "relu"
        return None


@irdl_op_definition
class HardSigmoidOp(UnaryOp):
    """``clip(alpha * x + beta, 0, 1)``."""

    name = "fw.hard_sigmoid"
    alpha = prop_def(FloatAttr[Float32Type])
    beta = prop_def(FloatAttr[Float32Type])

    def __init__(self, input: SSAValue, alpha: float = 0.2, beta: float = 0.5,
                 result_type: Attribute | None = None):
        IRDLOperation.__init__(self, operands=[input],
                               properties={"alpha": _f32(alpha), "beta": _f32(beta)},
                               result_types=[result_type or input.type])


@irdl_op_definition
class HardSwishOp(UnaryOp):
    """``x * hard_sigmoid(x; 1/6, 1/2)``."""

    name = "fw.hard_swish"


class BinaryOp(FwOp):
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
class AddOp(BinaryOp):
    name = "fw.add"


@irdl_op_definition
class SubOp(BinaryOp):
    name = "fw.sub"


@irdl_op_definition
class MulOp(BinaryOp):
    name = "fw.mul"


@irdl_op_definition
class DivOp(BinaryOp):
    name = "fw.div"


@irdl_op_definition
class MaxOp(BinaryOp):
    """Elementwise maximum (ONNX Max of two inputs, Clip with a run-time min)."""

    name = "fw.max"


@irdl_op_definition
class MinOp(BinaryOp):
    name = "fw.min"


# --- contractions -------------------------------------------------------------


@irdl_op_definition
class GemmOp(FwOp):
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

    def macs(self) -> int:
        """Multiply-accumulates the graph defines: M x N x K."""
        a = shape_of(self.a)
        k = a[0] if self.trans_a.value.data else a[1]
        return math.prod(shape_of(self.result)) * k


@irdl_op_definition
class MatmulOp(BinaryOp):
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

    def macs(self) -> int:
        """Multiply-accumulates the graph defines: each result element sums K products."""
        return math.prod(shape_of(self.result)) * shape_of(self.lhs)[-1]


@irdl_op_definition
class ConvOp(FwOp):
    """2-D convolution over NCHW; pads are [top, left, bottom, right] (ONNX order)."""

    name = "fw.conv"
    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    strides = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    dilations = prop_def(DenseArrayBase[I64])
    group = prop_def(IntegerAttr[I64])
    # set by fw-fuse-conv: an activation applied to the result (see CONV_ACTIVATIONS)
    activation = opt_prop_def(ConvActivationAttr)
    result = result_def(TensorType)
    assembly_format = (
        "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)"
    )

    def __init__(self, input: SSAValue, weight: SSAValue, bias: SSAValue | None,
                 result_type: Attribute, strides: Sequence[int] = (1, 1),
                 pads: Sequence[int] = (0, 0, 0, 0), dilations: Sequence[int] = (1, 1),
                 group: int = 1, activation: str | None = None):
        props: dict[str, Attribute] = {
            "strides": i64_array(strides),
            "pads": i64_array(pads),
            "dilations": i64_array(dilations),
            "group": IntegerAttr(group, i64),
        }
        if activation is not None and activation != "none":
            props["activation"] = _enum(ConvActivationAttr, activation)
        super().__init__(operands=[input, weight, bias], properties=props,
                         result_types=[result_type])

    def activation_name(self) -> ConvActivation:
        return self.activation.data if self.activation is not None else ConvActivation.NONE

    def macs(self) -> int:
        """Multiply-accumulates the graph defines: each output element sums C/group x KH x KW
        products (a depthwise conv KH x KW), however the PE array pads them."""
        return math.prod(shape_of(self.result)) * math.prod(shape_of(self.weight)[1:])

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


class _PoolOp(FwOp):
    input = operand_def(TensorType)
    kernel_shape = prop_def(DenseArrayBase[I64])
    strides = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    ceil_mode = prop_def(BoolAttr)
    # the window's element spacing [dh, dw]; absent means [1, 1]
    dilations = opt_prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    @staticmethod
    def window_properties(kernel_shape: Sequence[int], strides: Sequence[int], pads: Sequence[int],
                          ceil_mode: bool, dilations: Sequence[int] | None = None) -> dict[str, Attribute]:
        """The properties every pooling op shares (dilations only when not all 1)."""
        props = {
            "kernel_shape": i64_array(kernel_shape),
            "strides": i64_array(strides),
            "pads": i64_array(pads),
            "ceil_mode": _bool(ceil_mode),
        }
        if dilations is not None and any(d != 1 for d in dilations):
            props["dilations"] = i64_array(dilations)
        return props

    def dilation_values(self) -> tuple[int, ...]:
        return tuple(ints(self.dilations)) if self.dilations is not None else (1, 1)

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x = shapes[0]
        k, s, p = ints(self.kernel_shape), ints(self.strides), ints(self.pads)
        if len(x) != 4:
            raise VerifyException(f"'{self.name}' expects a 4-D NCHW input, got {x}")
        d = self.dilation_values()
        if len(k) != 2 or len(s) != 2 or len(p) != 4 or len(d) != 2:
            raise VerifyException(f"'{self.name}' needs 2 kernel_shape, 2 strides, 4 pads and 2 dilations")
        if min(k) < 1 or min(s) < 1 or min(p) < 0 or min(d) < 1:
            raise VerifyException(f"'{self.name}' needs kernel_shape, strides, dilations >= 1 and pads >= 0")
        span = tuple(d[i] * (k[i] - 1) + 1 for i in range(2))
        if p[0] >= span[0] or p[2] >= span[0] or p[1] >= span[1] or p[3] >= span[1]:
            raise VerifyException(f"'{self.name}' pads {p} must be smaller than the window {span}")
        ceil = bool(self.ceil_mode.value.data)
        oh = pool_output_dim(x[2], k[0], s[0], p[0], p[2], d[0], ceil_mode=ceil)
        ow = pool_output_dim(x[3], k[1], s[1], p[1], p[3], d[1], ceil_mode=ceil)
        if oh < 1 or ow < 1:
            raise VerifyException(f"'{self.name}' kernel {k} does not fit input {x[2:]}")
        return (x[0], x[1], oh, ow)


@irdl_op_definition
class MaxPoolOp(_PoolOp):
    name = "fw.max_pool"

    def __init__(self, input: SSAValue, result_type: Attribute, kernel_shape: Sequence[int],
                 strides: Sequence[int], pads: Sequence[int], ceil_mode: bool = False,
                 dilations: Sequence[int] | None = None):
        super().__init__(
            operands=[input],
            properties=self.window_properties(kernel_shape, strides, pads, ceil_mode, dilations),
            result_types=[result_type],
        )


@irdl_op_definition
class AveragePoolOp(_PoolOp):
    """count_include_pad: whether padded zeros count in each window's divisor."""

    name = "fw.average_pool"
    count_include_pad = prop_def(BoolAttr)

    def __init__(self, input: SSAValue, result_type: Attribute, kernel_shape: Sequence[int],
                 strides: Sequence[int], pads: Sequence[int], ceil_mode: bool = False,
                 count_include_pad: bool = False, dilations: Sequence[int] | None = None):
        super().__init__(
            operands=[input],
            properties={
                **self.window_properties(kernel_shape, strides, pads, ceil_mode, dilations),
                "count_include_pad": _bool(count_include_pad),
            },
            result_types=[result_type],
        )


@irdl_op_definition
class GlobalAveragePoolOp(UnaryOp):
    """Mean over all spatial dims: [N, C, ...] -> [N, C, 1, ...]."""

    name = "fw.global_average_pool"

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x = shapes[0]
        if len(x) < 3:
            raise VerifyException(f"'fw.global_average_pool' expects rank >= 3, got {x}")
        return (x[0], x[1]) + (1,) * (len(x) - 2)


# --- layout -----------------------------------------------------------------------


@irdl_op_definition
class FlattenOp(FwOp):
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
class ReshapeOp(FwOp):
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
class TransposeOp(FwOp):
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
class SoftmaxOp(FwOp):
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


@irdl_op_definition
class BatchNormOp(FwOp):
    """Inference batch normalization over axis 1:
    ``(x - mean) / sqrt(var + epsilon) * scale + bias``, parameters [C]."""

    name = "fw.batch_norm"
    input = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = operand_def(TensorType)
    mean = operand_def(TensorType)
    var = operand_def(TensorType)
    epsilon = prop_def(FloatAttr[Float32Type])
    result = result_def(TensorType)
    assembly_format = (
        "$input `,` $scale `,` $bias `,` $mean `,` $var attr-dict `:` functional-type(operands, results)"
    )

    def __init__(self, input: SSAValue, scale: SSAValue, bias: SSAValue, mean: SSAValue,
                 var: SSAValue, epsilon: float = 1e-5, result_type: Attribute | None = None):
        super().__init__(operands=[input, scale, bias, mean, var],
                         properties={"epsilon": _f32(epsilon)},
                         result_types=[result_type or input.type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x = shapes[0]
        if len(x) < 2:
            raise VerifyException(f"'fw.batch_norm' expects rank >= 2, got {x}")
        for p in shapes[1:]:
            if p != (x[1],):
                raise VerifyException(f"'fw.batch_norm' parameters must be {(x[1],)}, got {p}")
        return x


@irdl_op_definition
class ConcatOp(FwOp):
    """Concatenation along ``axis`` (negative counts from the end)."""

    name = "fw.concat"
    inputs = var_operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = "$inputs attr-dict `:` functional-type(operands, results)"

    def __init__(self, inputs: Sequence[SSAValue], axis: int, result_type: Attribute):
        super().__init__(operands=[list(inputs)], properties={"axis": IntegerAttr(axis, i64)},
                         result_types=[result_type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        if not shapes:
            raise VerifyException("'fw.concat' needs at least one operand")
        rank = len(shapes[0])
        a = self.axis.value.data
        if not -rank <= a < rank:
            raise VerifyException(f"'fw.concat' axis {a} out of range for rank {rank}")
        a %= rank
        for sh in shapes:
            if len(sh) != rank or any(sh[i] != shapes[0][i] for i in range(rank) if i != a):
                raise VerifyException(f"'fw.concat' operands {shapes} differ off axis {a}")
        return tuple(sum(sh[a] for sh in shapes) if i == a else shapes[0][i] for i in range(rank))


@irdl_op_definition
class PadOp(FwOp):
    """ONNX Pad with non-negative ``pads`` = [begin_0.., end_0..]; ``mode`` constant
    (fill ``value``), edge or reflect."""

    name = "fw.pad"
    input = operand_def(TensorType)
    pads = prop_def(DenseArrayBase[I64])
    mode = prop_def(PadModeAttr)
    value = prop_def(FloatAttr[Float32Type])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, pads: Sequence[int], mode: str = "constant",
                 value: float = 0.0, result_type: Attribute | None = None):
        super().__init__(
            operands=[input],
            properties={"pads": i64_array(pads), "mode": _enum(PadModeAttr, mode), "value": _f32(value)},
            result_types=[result_type or input.type],
        )

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, p = shapes[0], ints(self.pads)
        if len(p) != 2 * len(x) or min(p, default=0) < 0:
            raise VerifyException(f"'fw.pad' needs {2 * len(x)} non-negative pads, got {p}")
        if self.mode.data == "reflect" and any(
            p[i] >= x[i] or p[i + len(x)] >= x[i] for i in range(len(x))
        ):
            raise VerifyException(f"'fw.pad' reflect pads {p} must be smaller than the dims {x}")
        return tuple(x[i] + p[i] + p[i + len(x)] for i in range(len(x)))


@irdl_op_definition
class ResizeNearestOp(FwOp):
    """Nearest-neighbour upsampling of NCHW by integer ``scales`` [sh, sw]
    (the importer accepts only Resize/Upsample forms equal to this)."""

    name = "fw.resize_nearest"
    input = operand_def(TensorType)
    scales = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, scales: Sequence[int], result_type: Attribute):
        super().__init__(operands=[input], properties={"scales": i64_array(scales)},
                         result_types=[result_type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, s = shapes[0], ints(self.scales)
        if len(x) != 4 or len(s) != 2 or min(s) < 1:
            raise VerifyException("'fw.resize_nearest' takes NCHW and two integer scales >= 1")
        return (x[0], x[1], x[2] * s[0], x[3] * s[1])


@irdl_op_definition
class ResampleOp(FwOp):
    """Separable linear resampling: along each of ``axes`` in turn, the input is
    contracted with that axis's interpolation matrix [out, in] (``matrices``, in
    order): ``out = x ×_a0 M0 ×_a1 M1 ...``. Resize's linear, cubic, antialiased
    and non-integer nearest modes are all of this form."""

    name = "fw.resample"
    input = operand_def(TensorType)
    matrices = var_operand_def(TensorType)
    axes = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input `,` $matrices attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, matrices: Sequence[SSAValue], axes: Sequence[int],
                 result_type: Attribute):
        super().__init__(operands=[input, list(matrices)], properties={"axes": i64_array(axes)},
                         result_types=[result_type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, mats, axes = list(shapes[0]), shapes[1:], ints(self.axes)
        if len(mats) != len(axes) or not axes:
            raise VerifyException(f"'fw.resample' needs one matrix per axis, got {len(mats)} for {list(axes)}")
        if len(set(axes)) != len(axes) or any(not 0 <= a < len(x) for a in axes):
            raise VerifyException(f"'fw.resample' axes {list(axes)} must be distinct dims of rank {len(x)}")
        for a, m in zip(axes, mats):
            if len(m) != 2 or m[1] != x[a]:
                raise VerifyException(f"'fw.resample' matrix of axis {a} must be [out, {x[a]}], got {m}")
            x[a] = m[0]
        return tuple(x)


# --- transformer operators -------------------------------------------------------------
#
# Integer tensors are i32 at this level (token ids, masks, gather indices; the
# importer narrows the model's int64 and records it on the function argument),
# booleans (comparison results, Where's condition) are i1.


@irdl_op_definition
class ErfOp(UnaryOp):
    name = "fw.erf"


@irdl_op_definition
class ExpOp(UnaryOp):
    name = "fw.exp"


@irdl_op_definition
class LogOp(UnaryOp):
    """Natural logarithm."""

    name = "fw.log"


@irdl_op_definition
class SqrtOp(UnaryOp):
    name = "fw.sqrt"


@irdl_op_definition
class ReciprocalOp(UnaryOp):
    name = "fw.reciprocal"


@irdl_op_definition
class NegOp(UnaryOp):
    name = "fw.neg"


@irdl_op_definition
class GeluOp(UnaryOp):
    """ONNX Gelu (opset 20): ``x * Phi(x)``; ``approximate = "tanh"`` is
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``. Also what fw-fuse-gelu
    makes of the erf and tanh patterns older exporters write."""

    name = "fw.gelu"
    approximate = prop_def(GeluApproximationAttr)

    def __init__(self, input: SSAValue, approximate: str = "none", result_type: Attribute | None = None):
        IRDLOperation.__init__(self, operands=[input], properties={"approximate": _enum(GeluApproximationAttr, approximate)},
                               result_types=[result_type or input.type])

@irdl_op_definition
class PowOp(UnaryOp):
    """``x ** exponent`` for a constant exponent (ONNX Pow with a scalar constant
    exponent); the lowering takes 1, 2, 0.5, -0.5 and -1."""

    name = "fw.pow"
    exponent = prop_def(FloatAttr[Float32Type])

    def __init__(self, input: SSAValue, exponent: float, result_type: Attribute | None = None):
        IRDLOperation.__init__(self, operands=[input], properties={"exponent": _f32(exponent)},
                               result_types=[result_type or input.type])


@irdl_op_definition
class LogSoftmaxOp(FwOp):
    """``log(softmax(x))`` along ``axis`` (negative axes count from the end)."""

    name = "fw.log_softmax"
    input = operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, axis: int, result_type: Attribute | None = None):
        super().__init__(operands=[input], properties={"axis": IntegerAttr(axis, i64)},
                         result_types=[result_type or input.type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, a = shapes[0], self.axis.value.data
        if not -len(x) <= a < len(x):
            raise VerifyException(f"'fw.log_softmax' axis {a} out of range for rank {len(x)}")
        return x


@irdl_op_definition
class LayerNormOp(FwOp):
    """ONNX LayerNormalization (opset 17), inference: over the dims from ``axis``
    (negative counts from the end) to the last,
    ``(x - mean) / sqrt(var + epsilon) * scale + bias`` with the biased variance;
    scale and bias broadcast to those dims."""

    name = "fw.layer_norm"
    input = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    epsilon = prop_def(FloatAttr[Float32Type])
    result = result_def(TensorType)
    assembly_format = "$input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, scale: SSAValue, bias: SSAValue | None, axis: int = -1,
                 epsilon: float = 1e-5, result_type: Attribute | None = None):
        super().__init__(operands=[input, scale, bias],
                         properties={"axis": IntegerAttr(axis, i64), "epsilon": _f32(epsilon)},
                         result_types=[result_type or input.type])

    def normalized_axis(self) -> int:
        rank = len(shape_of(self.input))
        a = self.axis.value.data
        return a + rank if a < 0 else a

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, a = shapes[0], self.axis.value.data
        if not -len(x) <= a < len(x):
            raise VerifyException(f"'fw.layer_norm' axis {a} out of range for rank {len(x)}")
        norm = x[a % len(x):]
        for p in shapes[1:]:
            try:
                ok = len(p) <= len(norm) and tuple(np.broadcast_shapes(p, norm)) == norm
            except ValueError:
                ok = False
            if not ok:
                raise VerifyException(f"'fw.layer_norm' scale and bias must broadcast to {norm}, got {p}")
        return x


@irdl_op_definition
class ReduceOp(FwOp):
    """ONNX ReduceSum/Mean/Max/Min over ``axes`` (resolved: sorted, non-negative,
    non-empty); ``keepdims`` keeps the reduced dims as 1."""

    name = "fw.reduce"
    input = operand_def(TensorType)
    kind = prop_def(ReduceKindAttr)
    axes = prop_def(DenseArrayBase[I64])
    keepdims = prop_def(BoolAttr)
    result = result_def(TensorType)
    assembly_format = "$kind $input attr-dict `:` functional-type(operands, results)"

    def __init__(self, kind: str, input: SSAValue, axes: Sequence[int], keepdims: bool,
                 result_type: Attribute):
        super().__init__(operands=[input], properties={
            "kind": _enum(ReduceKindAttr, kind), "axes": i64_array(axes), "keepdims": _bool(keepdims)},
            result_types=[result_type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        x, axes = shapes[0], ints(self.axes)
        if not axes or list(axes) != sorted(set(axes)) or axes[0] < 0 or axes[-1] >= len(x):
            raise VerifyException(f"'fw.reduce' axes {list(axes)} must be sorted, unique and in [0, {len(x)})")
        if self.keepdims.value.data:
            return tuple(1 if i in axes else d for i, d in enumerate(x))
        return tuple(d for i, d in enumerate(x) if i not in axes)


class _MixedTypeOp(FwOp):
    """An fw op whose operands and result do not share one element type; each
    op checks its own (``verify_types``)."""

    def verify_(self) -> None:
        for v in (*self.operands, *self.results):
            if not isinstance(v.type, TensorType):
                raise VerifyException(f"'{self.name}' expects tensor types, got {v.type}")
            if any(d < 0 for d in v.type.get_shape()):
                raise VerifyException(f"'{self.name}' needs static shapes, got {v.type}")
        self.verify_types()
        expected = tuple(self.infer_shape([shape_of(o) for o in self.operands]))
        got = shape_of(self.results[0])
        if expected != got:
            raise VerifyException(f"'{self.name}' result shape must be {expected}, got {got}")

    def verify_types(self) -> None:
        raise NotImplementedError


def _elt(value: SSAValue) -> Attribute:
    return value.type.element_type


def is_int(t: Attribute) -> bool:
    return isinstance(t, IntegerType) and t.width.data > 1


@irdl_op_definition
class CastOp(_MixedTypeOp, UnaryOp):
    """Element type conversion (ONNX Cast between float32, int32/int64 -> i32 and
    bool -> i1): float -> int truncates toward zero, bool -> number is 0/1,
    number -> bool is ``x != 0``."""

    name = "fw.cast"

    def __init__(self, input: SSAValue, result_type: Attribute):
        IRDLOperation.__init__(self, operands=[input], result_types=[result_type])

    def verify_types(self) -> None:
        if _elt(self.input) == _elt(self.result):
            raise VerifyException("'fw.cast' must change the element type")


@irdl_op_definition
class CompareOp(_MixedTypeOp, BinaryOp):
    """Elementwise comparison with broadcasting; the result is i1."""

    name = "fw.compare"
    kind = prop_def(CompareKindAttr)
    assembly_format = "$kind $lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, kind: str, lhs: SSAValue, rhs: SSAValue, result_type: Attribute):
        IRDLOperation.__init__(self, operands=[lhs, rhs], properties={"kind": _enum(CompareKindAttr, kind)},
                               result_types=[result_type])

    def verify_types(self) -> None:
        if _elt(self.lhs) != _elt(self.rhs):
            raise VerifyException("'fw.compare' operands must share one element type")
        if _elt(self.result) != i1:
            raise VerifyException("'fw.compare' result must be i1")


@irdl_op_definition
class NotOp(UnaryOp):
    """Logical not of an i1 tensor."""

    name = "fw.not"

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        if _elt(self.input) != i1:
            raise VerifyException("'fw.not' takes an i1 tensor")
        return shapes[0]


@irdl_op_definition
class LogicalOp(_MixedTypeOp, BinaryOp):
    """ONNX And/Or/Xor: elementwise logic of two i1 tensors with broadcasting."""

    name = "fw.logical"
    kind = prop_def(LogicalKindAttr)
    assembly_format = "$kind $lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, kind: str, lhs: SSAValue, rhs: SSAValue, result_type: Attribute):
        IRDLOperation.__init__(self, operands=[lhs, rhs], properties={"kind": _enum(LogicalKindAttr, kind)},
                               result_types=[result_type])

    def verify_types(self) -> None:
        if not _elt(self.lhs) == _elt(self.rhs) == _elt(self.result) == i1:
            raise VerifyException("'fw.logical' operands and result must be i1")


@irdl_op_definition
class WhereOp(_MixedTypeOp):
    """ONNX Where: ``cond ? lhs : rhs`` elementwise, all three broadcast; cond is i1."""

    name = "fw.where"
    cond = operand_def(TensorType)
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$cond `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, cond: SSAValue, lhs: SSAValue, rhs: SSAValue, result_type: Attribute):
        super().__init__(operands=[cond, lhs, rhs], result_types=[result_type])

    def verify_types(self) -> None:
        if _elt(self.cond) != i1:
            raise VerifyException("'fw.where' condition must be i1")
        if not _elt(self.lhs) == _elt(self.rhs) == _elt(self.result):
            raise VerifyException("'fw.where' values and result must share one element type")

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            raise VerifyException(f"'fw.where' operands do not broadcast: {shapes}") from None


@irdl_op_definition
class ExpandOp(FwOp):
    """ONNX Expand to the static ``shape``: numpy broadcasting of the input and shape."""

    name = "fw.expand"
    input = operand_def(TensorType)
    shape = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, shape: Sequence[int], result_type: Attribute):
        super().__init__(operands=[input], properties={"shape": i64_array(shape)},
                         result_types=[result_type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        try:
            return tuple(np.broadcast_shapes(shapes[0], ints(self.shape)))
        except ValueError:
            raise VerifyException(f"'fw.expand' {shapes[0]} does not broadcast to {ints(self.shape)}") from None


@irdl_op_definition
class SliceOp(FwOp):
    """A strided slice with one (start, size, step) per dim, resolved: starts in
    range, sizes >= 1, steps nonzero (negative: backwards from start), every index in
    range: ``out[i] = in[start + i * step]`` per dim (ONNX Slice/Split, Gather by a
    constant index)."""

    name = "fw.slice"
    input = operand_def(TensorType)
    starts = prop_def(DenseArrayBase[I64])
    sizes = prop_def(DenseArrayBase[I64])
    steps = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, starts: Sequence[int], sizes: Sequence[int], steps: Sequence[int],
                 result_type: Attribute):
        super().__init__(operands=[input], properties={
            "starts": i64_array(starts), "sizes": i64_array(sizes), "steps": i64_array(steps)},
            result_types=[result_type])

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        return check_slice(self.name, shapes[0], ints(self.starts), ints(self.sizes), ints(self.steps))


def check_slice(name: str, x: Shape, starts: Sequence[int], sizes: Sequence[int],
                steps: Sequence[int]) -> Shape:
    """The shape of a resolved strided slice (``sizes``), or VerifyException."""
    if not len(starts) == len(sizes) == len(steps) == len(x):
        raise VerifyException(f"'{name}' needs one start, size and step per dim of {x}")
    for d, st, sz, sp in zip(x, starts, sizes, steps):
        if not (0 <= st < d and sz >= 1 and sp != 0 and 0 <= st + (sz - 1) * sp < d):
            raise VerifyException(f"'{name}' slice (start {st}, size {sz}, step {sp}) is out of a dim of {d}")
    return tuple(sizes)


@irdl_op_definition
class GatherOp(_MixedTypeOp):
    """ONNX Gather along ``axis`` by run-time i32 ``indices`` (in range, not
    negative): result shape ``table[:axis] + indices + table[axis+1:]``."""

    name = "fw.gather"
    table = operand_def(TensorType)
    indices = operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = "$table `,` $indices attr-dict `:` functional-type(operands, results)"

    def __init__(self, table: SSAValue, indices: SSAValue, axis: int, result_type: Attribute):
        super().__init__(operands=[table, indices], properties={"axis": IntegerAttr(axis, i64)},
                         result_types=[result_type])

    def verify_types(self) -> None:
        if not is_int(_elt(self.indices)):
            raise VerifyException(f"'fw.gather' indices must be integers, got {_elt(self.indices)}")
        if _elt(self.table) != _elt(self.result):
            raise VerifyException("'fw.gather' table and result must share one element type")

    def infer_shape(self, shapes: list[Shape]) -> Shape:
        t, idx, a = shapes[0], shapes[1], self.axis.value.data
        if not 0 <= a < len(t):
            raise VerifyException(f"'fw.gather' axis {a} out of range for rank {len(t)}")
        return (*t[:a], *idx, *t[a + 1:])


# --- helpers for fw rewrites -------------------------------------------------------------


def graph_macs(root: Operation) -> int:
    """The model's multiply-accumulates as its graph defines them (convs, Gemms, MatMuls):
    what the honest PE floor and PE utilisation count, never the PE array's padded work."""
    return sum(op.macs() for op in root.walk() if isinstance(op, ConvOp | GemmOp | MatmulOp))


def fw_weight(value: SSAValue) -> str | None:
    """The store name behind ``value`` if an ``fw.weight`` produces it."""
    owner = value.owner
    return owner.weight_name.data if isinstance(owner, WeightOp) else None


def new_weight(store: WeightStore, base: str, array: np.ndarray) -> WeightOp:
    """An ``fw.weight`` op for a derived (content-named) float32 weight."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    name = store.add_derived(base, array)
    op = WeightOp(name, TensorType(Float32Type(), array.shape))
    if SSAValue.is_valid_name(base):
        op.result.name_hint = base
    return op


def sole_use_producer(value: SSAValue, cls: type[Operation]) -> Operation | None:
    """``value``'s producer if it is a ``cls`` and ``value`` has no other use."""
    owner = value.owner
    return owner if isinstance(owner, cls) and value.has_one_use() else None


def batch_norm_affine(store: WeightStore, op: BatchNormOp,
                      name_of: Callable[[SSAValue], str | None] = fw_weight) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-channel (multiplier, addend) equal to the batch norm, when its
    parameters are weights (``name_of`` tells their store names); computed in
    float64, rounded once."""
    names = [name_of(v) for v in (op.scale, op.bias, op.mean, op.var)]
    if any(n is None for n in names):
        return None
    scale, bias, mean, var = (store[n].astype(np.float64) for n in names)
    mul = scale / np.sqrt(var + float(np.float32(op.epsilon.value.data)))
    return mul.astype(np.float32), (bias - mean * mul).astype(np.float32)


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
        MaxOp,
        MinOp,
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
        LeakyReluOp,
        ClipOp,
        HardSigmoidOp,
        HardSwishOp,
        BatchNormOp,
        ConcatOp,
        PadOp,
        ResizeNearestOp,
        ResampleOp,
        ErfOp,
        ExpOp,
        LogOp,
        SqrtOp,
        ReciprocalOp,
        NegOp,
        GeluOp,
        PowOp,
        LogSoftmaxOp,
        LayerNormOp,
        ReduceOp,
        CastOp,
        CompareOp,
        NotOp,
        LogicalOp,
        WhereOp,
        ExpandOp,
        SliceOp,
        GatherOp,
    ],
    [ConvActivationAttr, PadModeAttr, GeluApproximationAttr, ReduceKindAttr, CompareKindAttr, LogicalKindAttr],
)
