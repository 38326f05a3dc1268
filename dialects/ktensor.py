"""The tensor dialect (``ktensor``): hardware-agnostic, explicit about dtype.

Framework ops lower here to a small set of contractions (``matmul``,
``conv2d``, ``batch_matmul``), elementwise ops with a fused activation,
pooling, softmax, normalisation and reductions, embedding gathers, masks
(``compare``/``select`` on i1) and layout changes (the transformer ops'
contract is in docs/pipeline.md). Auto-casting shows up as ``ktensor.cast`` ops around
contractions, tiling as the ``tile`` property a tiling pass sets. Shapes are
static; activations are in the framework's logical layout (NCHW, row-major),
the Inferentia lowering chooses the physical layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import auto
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import (
    I64,
    BoolAttr,
    DenseArrayBase,
    FloatAttr,
    f32,
    IntegerAttr,
    StringAttr,
    TensorType,
    i1,
    i32,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
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
from xdsl.ir import SpacedOpaqueSyntaxAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.traits import ConstantLike, Pure
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from kaena.dialects.enums import CompareKind, LogicalKind, PadMode, QuotedEnumSyntax, ReduceKind, enum_by_value
from kaena.dialects.utils import i64_array, ints, shape_of

# Activations a contraction or elementwise op can fuse (no parameters): the
# scalar engine applies them while results leave PSUM. gelu is the exact (erf)
# form x * Phi(x), gelu_tanh 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
ACTIVATIONS = ("none", "relu", "relu6", "sigmoid", "tanh", "gelu", "exp", "gelu_tanh")
# The piecewise linear ones: a drain applying one writes a narrower cast of the result in
# its single rounding (fused casts), and can apply it after adding a skip (residual adds).
PIECEWISE_LINEAR_ACTIVATIONS = ("none", "relu", "relu6")
# Standalone ktensor.activation functions: the fusable ones, the scalar engine's
# other functions (erf, log = natural log, sqrt, rsqrt = 1/sqrt(x),
# reciprocal = 1/x, square = x*x, neg = -x) and the parametrised ones, which read
# alpha/beta: leaky_relu(alpha), clip(min=alpha, max=beta),
# hard_sigmoid = clip(alpha*x + beta, 0, 1), hard_swish = x * hard_sigmoid(x; 1/6, 1/2).
ActivationFunc = StrEnum(  # type: ignore[misc]
    "ActivationFunc",
    [(name.upper(), name) for name in ACTIVATIONS[1:] + (
        "erf", "log", "sqrt", "rsqrt", "reciprocal", "square", "neg",
        "leaky_relu", "clip", "hard_sigmoid", "hard_swish")],
    module=__name__,
)


class ElementwiseKind(StrEnum):
    ADD = auto()
    SUB = auto()
    MUL = auto()
    DIV = auto()
    MAX = auto()
    MIN = auto()


class PoolKind(StrEnum):
    MAX = auto()
    AVG = auto()


ACTIVATION_FUNCS = tuple(ActivationFunc)
PARAMETRISED = {"leaky_relu": ("alpha",), "clip": ("alpha", "beta"), "hard_sigmoid": ("alpha", "beta")}
PAD_MODES = tuple(PadMode)
ELEMENTWISE_KINDS = tuple(ElementwiseKind)
POOL_KINDS = tuple(PoolKind)
REDUCE_KINDS = tuple(ReduceKind)
COMPARE_KINDS = tuple(CompareKind)
LOGICAL_KINDS = tuple(LogicalKind)


# Enumerated properties, printed quoted before the operands (``ktensor.pool2d "max" %x``).


@irdl_attr_definition
class ActivationFuncAttr(QuotedEnumSyntax, EnumAttribute[ActivationFunc], SpacedOpaqueSyntaxAttribute):
    name = "ktensor.activation_func"
    WHAT = "'ktensor.activation' func"


@irdl_attr_definition
class ElementwiseKindAttr(QuotedEnumSyntax, EnumAttribute[ElementwiseKind], SpacedOpaqueSyntaxAttribute):
    name = "ktensor.elementwise_kind"
    WHAT = "'ktensor.elementwise' kind"


@irdl_attr_definition
class PoolKindAttr(QuotedEnumSyntax, EnumAttribute[PoolKind], SpacedOpaqueSyntaxAttribute):
    name = "ktensor.pool_kind"
    WHAT = "'ktensor.pool2d' kind"


@irdl_attr_definition
class PadModeAttr(QuotedEnumSyntax, EnumAttribute[PadMode], SpacedOpaqueSyntaxAttribute):
    name = "ktensor.pad_mode"
    WHAT = "'ktensor.pad' mode"


@irdl_attr_definition
class ReduceKindAttr(QuotedEnumSyntax, EnumAttribute[ReduceKind], SpacedOpaqueSyntaxAttribute):
    name = "ktensor.reduce_kind"
    WHAT = "'ktensor.reduce' kind"


@irdl_attr_definition
class CompareKindAttr(QuotedEnumSyntax, EnumAttribute[CompareKind], SpacedOpaqueSyntaxAttribute):
    name = "ktensor.compare_kind"
    WHAT = "'ktensor.compare' kind"


@irdl_attr_definition
class LogicalKindAttr(QuotedEnumSyntax, EnumAttribute[LogicalKind], SpacedOpaqueSyntaxAttribute):
    name = "ktensor.logical_kind"
    WHAT = "'ktensor.logical' kind"


def _enum(attr_cls, value):
    """The property ``attr_cls`` for ``value`` (a member or its name)."""
    return attr_cls(enum_by_value(attr_cls.enum_type, value, attr_cls.WHAT))


def _check_choice(op: IRDLOperation, prop: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise VerifyException(
            f"'{op.name}' {prop} must be one of {', '.join(choices)}, got '{value}'"
        )


def _check_static(op: IRDLOperation) -> None:
    for v in (*op.operands, *op.results):
        if isinstance(v.type, TensorType) and any(d < 0 for d in v.type.get_shape()):
            raise VerifyException(f"'{op.name}' needs static shapes, got {v.type}")


# The element types a ktensor value may have (see "Element types" below), and the ops
# that compute in floating point only (their operands and result are f32, bf16 or f16).
ELEMENT_TYPES = ("f32", "bf16", "f16", "i32", "i1")
FLOAT_TYPES = ("f32", "bf16", "f16")
# How a mask (i1 value) is stored on the device, in DRAM and SBUF alike: f32 0.0 / 1.0
# (what the vector engine's comparisons write and its select reads).
MASK_STORAGE: Attribute = f32
FLOAT_ONLY = frozenset({"ktensor.matmul", "ktensor.conv2d", "ktensor.batch_matmul", "ktensor.pool2d",
                        "ktensor.softmax", "ktensor.log_softmax", "ktensor.layer_norm"})


def _check_element_types(op: IRDLOperation) -> None:
    allowed = FLOAT_TYPES if op.name in FLOAT_ONLY else ELEMENT_TYPES
    for v in (*op.operands, *op.results):
        if isinstance(v.type, TensorType) and str(v.type.element_type) not in allowed:
            what = "computes in floating point: its tensors must be" if op.name in FLOAT_ONLY else \
                "element types must be"
            raise VerifyException(f"'{op.name}' {what} {', '.join(allowed)}, got {v.type}")


class _KTensorOp(IRDLOperation):
    # Value semantics, no side effects: dce/cse may remove or merge them.
    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)

    def verify_(self) -> None:
        _check_static(self)
        self.verify_semantics()
        _check_element_types(self)

    def verify_semantics(self) -> None:
        pass


@irdl_op_definition
class WeightOp(_KTensorOp):
    """A trained parameter, by name in the module's weight store."""

    name = "ktensor.weight"
    # A constant: rewrites treat it as data (no source location of its own).
    traits = traits_def(Pure(), ConstantLike())
    weight_name = prop_def(StringAttr, prop_name="name")
    result = result_def(TensorType)
    assembly_format = "$name attr-dict `:` type($result)"

    def __init__(self, weight_name: str, result_type: TensorType):
        super().__init__(
            properties={"name": StringAttr(weight_name)}, result_types=[result_type]
        )


@irdl_op_definition
class MatmulOp(_KTensorOp):
    """``activation(lhs[M, K] @ rhs[K, N] + bias[N])``, accumulated in FP32."""

    name = "ktensor.matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    activation = prop_def(StringAttr)
    tile = opt_prop_def(DenseArrayBase[I64])  # [M, K, N] tile set by tiling
    result = result_def(TensorType)
    irdl_options = (AttrSizedOperandSegments(as_property=True), ParsePropInAttrDict())
    assembly_format = (
        "$lhs `,` $rhs (`bias` $bias^)? attr-dict `:` `(` type($lhs) `,` type($rhs)"
        " (`,` type($bias)^)? `)` `->` type($result)"
    )

    def __init__(self, lhs: SSAValue, rhs: SSAValue, bias: SSAValue | None,
                 result_type: TensorType, activation: str = "none"):
        super().__init__(
            operands=[lhs, rhs, bias],
            properties={"activation": StringAttr(activation)},
            result_types=[result_type],
        )

    def verify_semantics(self) -> None:
        _check_choice(self, "activation", self.activation.data, ACTIVATIONS)
        a, b, r = shape_of(self.lhs), shape_of(self.rhs), shape_of(self.result)
        if len(a) != 2 or len(b) != 2 or a[1] != b[0] or r != (a[0], b[1]):
            raise VerifyException(
                f"'ktensor.matmul' expects [M,K] x [K,N] -> [M,N], got {a} x {b} -> {r}"
            )
        if self.bias is not None and shape_of(self.bias) != (b[1],):
            raise VerifyException(
                f"'ktensor.matmul' bias must be [{b[1]}], got {shape_of(self.bias)}"
            )
        if self.tile is not None and len(ints(self.tile)) != 3:
            raise VerifyException("'ktensor.matmul' tile must be [M, K, N]")


def conv_output_hw(in_hw: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
                   pads: Sequence[int], dilations: Sequence[int]) -> tuple[int, int]:
    """Output height and width; pads are [top, left, bottom, right]."""
    out = []
    for i in range(2):
        span = dilations[i] * (kernel[i] - 1) + 1
        out.append((in_hw[i] + pads[i] + pads[i + 2] - span) // strides[i] + 1)
    return out[0], out[1]


@irdl_op_definition
class Conv2dOp(_KTensorOp):
    """``activation(conv(input[N,C,H,W], weight[O,C/g,KH,KW]) + bias[O])``;
    pads are [top, left, bottom, right]."""

    name = "ktensor.conv2d"
    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    strides = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    dilations = prop_def(DenseArrayBase[I64])
    groups = prop_def(IntegerAttr[I64])
    activation = prop_def(StringAttr)
    tile = opt_prop_def(DenseArrayBase[I64])  # [C_out, C_in, output rows] tile
    result = result_def(TensorType)
    irdl_options = (AttrSizedOperandSegments(as_property=True), ParsePropInAttrDict())
    assembly_format = (
        "$input `,` $weight (`bias` $bias^)? attr-dict `:` `(` type($input) `,` type($weight)"
        " (`,` type($bias)^)? `)` `->` type($result)"
    )

    def __init__(self, input: SSAValue, weight: SSAValue, bias: SSAValue | None,
                 result_type: TensorType, strides: Sequence[int], pads: Sequence[int],
                 dilations: Sequence[int], groups: int = 1, activation: str = "none"):
        super().__init__(
            operands=[input, weight, bias],
            properties={
                "strides": i64_array(strides),
                "pads": i64_array(pads),
                "dilations": i64_array(dilations),
                "groups": IntegerAttr(groups, i64),
                "activation": StringAttr(activation),
            },
            result_types=[result_type],
        )

    def verify_semantics(self) -> None:
        _check_choice(self, "activation", self.activation.data, ACTIVATIONS)
        x, w, r = shape_of(self.input), shape_of(self.weight), shape_of(self.result)
        strides, pads, dil = ints(self.strides), ints(self.pads), ints(self.dilations)
        g = self.groups.value.data
        if len(x) != 4 or len(w) != 4 or len(r) != 4:
            raise VerifyException("'ktensor.conv2d' expects 4-D input, weight and result")
        if len(strides) != 2 or len(dil) != 2 or len(pads) != 4:
            raise VerifyException("'ktensor.conv2d' needs 2 strides, 2 dilations and 4 pads")
        if min(strides) < 1 or min(dil) < 1 or min(pads) < 0 or g < 1:
            raise VerifyException("'ktensor.conv2d' strides, dilations, groups >= 1 and pads >= 0")
        if x[1] % g or w[0] % g or w[1] * g != x[1]:
            raise VerifyException(
                f"'ktensor.conv2d' channels do not match groups={g}: input {x}, weight {w}"
            )
        if self.bias is not None and shape_of(self.bias) != (w[0],):
            raise VerifyException(f"'ktensor.conv2d' bias must be [{w[0]}]")
        oh, ow = conv_output_hw(x[2:], w[2:], strides, pads, dil)
        if r != (x[0], w[0], oh, ow):
            raise VerifyException(
                f"'ktensor.conv2d' result must be {(x[0], w[0], oh, ow)}, got {r}"
            )


@irdl_op_definition
class ElementwiseOp(_KTensorOp):
    """``activation(lhs <kind> rhs)`` with numpy broadcasting."""

    name = "ktensor.elementwise"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    kind = prop_def(ElementwiseKindAttr)
    activation = prop_def(StringAttr)
    result = result_def(TensorType)
    assembly_format = "$kind $lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, kind: str, lhs: SSAValue, rhs: SSAValue, result_type: TensorType,
                 activation: str = "none"):
        super().__init__(
            operands=[lhs, rhs],
            properties={"kind": _enum(ElementwiseKindAttr, kind), "activation": StringAttr(activation)},
            result_types=[result_type],
        )

    def verify_semantics(self) -> None:
        _check_choice(self, "activation", self.activation.data, ACTIVATIONS)
        try:
            shape = np.broadcast_shapes(shape_of(self.lhs), shape_of(self.rhs))
        except ValueError:
            raise VerifyException(
                f"'ktensor.elementwise' operands do not broadcast: {shape_of(self.lhs)}, {shape_of(self.rhs)}"
            ) from None
        if tuple(shape) != shape_of(self.result):
            raise VerifyException(
                f"'ktensor.elementwise' result must be {tuple(shape)}, got {shape_of(self.result)}"
            )


@irdl_op_definition
class ActivationOp(_KTensorOp):
    """An elementwise activation function; ``alpha``/``beta`` parametrise
    leaky_relu, clip and hard_sigmoid (see ``ACTIVATION_FUNCS``)."""

    name = "ktensor.activation"
    input = operand_def(TensorType)
    func = prop_def(ActivationFuncAttr)
    alpha = opt_prop_def(FloatAttr)
    beta = opt_prop_def(FloatAttr)
    result = result_def(TensorType)
    assembly_format = "$func $input attr-dict `:` functional-type(operands, results)"

    def __init__(self, func: str, input: SSAValue, result_type: TensorType | None = None,
                 alpha: float | None = None, beta: float | None = None):
        props: dict[str, Attribute] = {"func": _enum(ActivationFuncAttr, func)}
        if alpha is not None:
            props["alpha"] = FloatAttr(alpha, f32)
        if beta is not None:
            props["beta"] = FloatAttr(beta, f32)
        super().__init__(operands=[input], properties=props,
                         result_types=[result_type or input.type])

    def verify_semantics(self) -> None:
        f = self.func.data
        needed = PARAMETRISED.get(f, ())
        for p in ("alpha", "beta"):
            present = getattr(self, p) is not None
            if present != (p in needed):
                raise VerifyException(
                    f"'ktensor.activation' {f} {'needs' if p in needed else 'takes no'} {p}"
                )
        if shape_of(self.input) != shape_of(self.result):
            raise VerifyException("'ktensor.activation' keeps the shape")


@irdl_op_definition
class Pool2dOp(_KTensorOp):
    """Max or average pooling over NCHW; pads are [top, left, bottom, right]
    (ceil_mode is expressed as extra bottom/right padding)."""

    name = "ktensor.pool2d"
    input = operand_def(TensorType)
    kind = prop_def(PoolKindAttr)
    kernel = prop_def(DenseArrayBase[I64])
    strides = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    # avg only: divide by the kernel size (1, default) or by the in-bounds elements (0)
    count_include_pad = opt_prop_def(IntegerAttr[I64])
    # the window's element spacing [dh, dw]; absent means [1, 1]
    dilations = opt_prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$kind $input attr-dict `:` functional-type(operands, results)"

    def __init__(self, kind: str, input: SSAValue, result_type: TensorType,
                 kernel: Sequence[int], strides: Sequence[int], pads: Sequence[int],
                 dilations: Sequence[int] | None = None):
        props = {
            "kind": _enum(PoolKindAttr, kind),
            "kernel": i64_array(kernel),
            "strides": i64_array(strides),
            "pads": i64_array(pads),
        }
        if dilations is not None and any(d != 1 for d in dilations):
            props["dilations"] = i64_array(dilations)
        super().__init__(operands=[input], properties=props, result_types=[result_type])

    def dilation_values(self) -> tuple[int, ...]:
        return tuple(ints(self.dilations)) if self.dilations is not None else (1, 1)

    def verify_semantics(self) -> None:
        x, r = shape_of(self.input), shape_of(self.result)
        k, s, p = ints(self.kernel), ints(self.strides), ints(self.pads)
        d = self.dilation_values()
        if len(x) != 4 or len(k) != 2 or len(s) != 2 or len(p) != 4 or len(d) != 2:
            raise VerifyException(
                "'ktensor.pool2d' expects NCHW input, 2 kernel, 2 strides, 4 pads, 2 dilations")
        if min(k) < 1 or min(s) < 1 or min(p) < 0 or min(d) < 1:
            raise VerifyException("'ktensor.pool2d' kernel, strides and dilations >= 1, pads >= 0")
        oh, ow = conv_output_hw(x[2:], k, s, p, d)
        if r != (x[0], x[1], oh, ow):
            raise VerifyException(
                f"'ktensor.pool2d' result must be {(x[0], x[1], oh, ow)}, got {r}"
            )


@irdl_op_definition
class SoftmaxOp(_KTensorOp):
    """Softmax along ``axis``."""

    name = "ktensor.softmax"
    input = operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, axis: int):
        super().__init__(
            operands=[input],
            properties={"axis": IntegerAttr(axis, i64)},
            result_types=[input.type],
        )

    def verify_semantics(self) -> None:
        x = shape_of(self.input)
        a = self.axis.value.data
        if not 0 <= a < len(x):
            raise VerifyException(f"'ktensor.softmax' axis {a} out of range for rank {len(x)}")
        if x != shape_of(self.result):
            raise VerifyException("'ktensor.softmax' keeps the shape")


@irdl_op_definition
class ReshapeOp(_KTensorOp):
    """Row-major reinterpretation with the same element count."""

    name = "ktensor.reshape"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, result_type: TensorType):
        super().__init__(operands=[input], result_types=[result_type])

    def verify_semantics(self) -> None:
        if int(np.prod(shape_of(self.input))) != int(np.prod(shape_of(self.result))):
            raise VerifyException(
                f"'ktensor.reshape' changes the element count: {shape_of(self.input)} -> {shape_of(self.result)}"
            )


@irdl_op_definition
class TransposeOp(_KTensorOp):
    """``result = input.transpose(perm)``."""

    name = "ktensor.transpose"
    input = operand_def(TensorType)
    perm = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, perm: Sequence[int], result_type: TensorType):
        super().__init__(
            operands=[input], properties={"perm": i64_array(perm)}, result_types=[result_type]
        )

    def verify_semantics(self) -> None:
        x, perm = shape_of(self.input), ints(self.perm)
        if sorted(perm) != list(range(len(x))):
            raise VerifyException(f"'ktensor.transpose' perm {perm} is not a permutation of rank {len(x)}")
        if tuple(x[p] for p in perm) != shape_of(self.result):
            raise VerifyException("'ktensor.transpose' result shape does not match perm")


@irdl_op_definition
class CastOp(_KTensorOp):
    """Element type conversion: between floats round to nearest even; float ->
    i32 truncates toward zero; i1 -> number is 0/1; number -> i1 is ``x != 0``."""

    name = "ktensor.cast"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, result_type: TensorType):
        super().__init__(operands=[input], result_types=[result_type])

    def verify_semantics(self) -> None:
        if shape_of(self.input) != shape_of(self.result):
            raise VerifyException("'ktensor.cast' keeps the shape")
        if self.input.type.element_type == self.result.type.element_type:
            raise VerifyException("'ktensor.cast' must change the element type")


@irdl_op_definition
class ConcatOp(_KTensorOp):
    """Concatenation of the operands along ``axis``."""

    name = "ktensor.concat"
    inputs = var_operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = "$inputs attr-dict `:` functional-type(operands, results)"

    def __init__(self, inputs: Sequence[SSAValue], axis: int, result_type: TensorType):
        super().__init__(operands=[list(inputs)], properties={"axis": IntegerAttr(axis, i64)},
                         result_types=[result_type])

    def verify_semantics(self) -> None:
        shapes = [shape_of(v) for v in self.inputs]
        a = self.axis.value.data
        r = shape_of(self.result)
        if not shapes:
            raise VerifyException("'ktensor.concat' needs at least one operand")
        if not 0 <= a < len(r):
            raise VerifyException(f"'ktensor.concat' axis {a} out of range for rank {len(r)}")
        for sh in shapes:
            if len(sh) != len(r) or any(sh[i] != r[i] for i in range(len(r)) if i != a):
                raise VerifyException(f"'ktensor.concat' operand {sh} does not match result {r} off axis {a}")
        if sum(sh[a] for sh in shapes) != r[a]:
            raise VerifyException(f"'ktensor.concat' operands do not add up to {r[a]} along axis {a}")


@irdl_op_definition
class PadOp(_KTensorOp):
    """Pad every dim: ``pads`` = [begin_0.., end_0..] (non-negative);
    ``mode`` constant (with ``value``), edge or reflect."""

    name = "ktensor.pad"
    input = operand_def(TensorType)
    pads = prop_def(DenseArrayBase[I64])
    mode = prop_def(PadModeAttr)
    value = opt_prop_def(FloatAttr)
    result = result_def(TensorType)
    assembly_format = "$mode $input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, pads: Sequence[int], mode: str, result_type: TensorType,
                 value: float = 0.0):
        super().__init__(
            operands=[input],
            properties={"pads": i64_array(pads), "mode": _enum(PadModeAttr, mode),
                        "value": FloatAttr(value, f32)},
            result_types=[result_type],
        )

    def verify_semantics(self) -> None:
        x, r, p = shape_of(self.input), shape_of(self.result), ints(self.pads)
        if len(p) != 2 * len(x) or min(p, default=0) < 0:
            raise VerifyException(f"'ktensor.pad' needs {2 * len(x)} non-negative pads")
        want = tuple(x[i] + p[i] + p[i + len(x)] for i in range(len(x)))
        if r != want:
            raise VerifyException(f"'ktensor.pad' result must be {want}, got {r}")
        if self.mode.data == "reflect" and any(
            p[i] >= x[i] or p[i + len(x)] >= x[i] for i in range(len(x))
        ):
            raise VerifyException("'ktensor.pad' reflect pads must be smaller than the dim")


@irdl_op_definition
class ResizeNearestOp(_KTensorOp):
    """Nearest-neighbour upsampling of NCHW by integer ``scales`` [sh, sw]:
    ``out[n, c, i, j] = in[n, c, i // sh, j // sw]``."""

    name = "ktensor.resize_nearest"
    input = operand_def(TensorType)
    scales = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, scales: Sequence[int], result_type: TensorType):
        super().__init__(operands=[input], properties={"scales": i64_array(scales)},
                         result_types=[result_type])

    def verify_semantics(self) -> None:
        x, r, s = shape_of(self.input), shape_of(self.result), ints(self.scales)
        if len(x) != 4 or len(s) != 2 or min(s) < 1:
            raise VerifyException("'ktensor.resize_nearest' takes NCHW and two integer scales >= 1")
        want = (x[0], x[1], x[2] * s[0], x[3] * s[1])
        if r != want:
            raise VerifyException(f"'ktensor.resize_nearest' result must be {want}, got {r}")


# --- transformer ops ------------------------------------------------------------------
#
# Element types: activations and weights are f32 (bf16/f16 after auto-cast);
# integer tensors (token ids, gather indices) are i32; masks are i1, produced
# by ktensor.compare / ktensor.logical_not and read by ktensor.select. How an i1
# tensor is stored is the lowering's choice (e.g. 0.0/1.0 in the compute dtype,
# which is what the vector engine's compare writes): ktensor.cast i1 -> f32
# gives 0.0/1.0, f32 -> i1 is ``x != 0``, f32 -> i32 truncates toward zero.


def _elt(value: SSAValue) -> Attribute:
    return value.type.element_type


def _broadcast(op: IRDLOperation, *values: SSAValue) -> tuple[int, ...]:
    try:
        shape = tuple(np.broadcast_shapes(*(shape_of(v) for v in values)))
    except ValueError:
        raise VerifyException(
            f"'{op.name}' operands do not broadcast: {', '.join(str(shape_of(v)) for v in values)}"
        ) from None
    if shape != shape_of(op.results[0]):
        raise VerifyException(f"'{op.name}' result must be {shape}, got {shape_of(op.results[0])}")
    return shape


@irdl_op_definition
class BatchMatmulOp(_KTensorOp):
    """Batched matrix product, accumulated in FP32:
    ``result[b..., m, n] = sum_k lhs[b..., m, k] * rhs[b..., k, n]``.

    Both operands have the same rank >= 3 and equal batch dims (the conversion
    materialises numpy broadcasting with ``ktensor.broadcast``). ``transpose_rhs``
    means rhs is given as [b..., N, K] (attention's ``Q @ K^T`` without moving K),
    ``transpose_lhs`` that lhs is [b..., K, M]."""

    name = "ktensor.batch_matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    transpose_lhs = prop_def(BoolAttr)
    transpose_rhs = prop_def(BoolAttr)
    result = result_def(TensorType)
    assembly_format = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: TensorType,
                 transpose_lhs: bool = False, transpose_rhs: bool = False):
        super().__init__(operands=[lhs, rhs], properties={
            "transpose_lhs": IntegerAttr(int(transpose_lhs), i1),
            "transpose_rhs": IntegerAttr(int(transpose_rhs), i1)}, result_types=[result_type])

    def verify_semantics(self) -> None:
        a, b, r = shape_of(self.lhs), shape_of(self.rhs), shape_of(self.result)
        if len(a) < 3 or len(a) != len(b) or a[:-2] != b[:-2]:
            raise VerifyException(
                f"'ktensor.batch_matmul' expects operands of one rank >= 3 with equal batch dims, got {a} x {b}"
            )
        m, k = (a[-1], a[-2]) if self.transpose_lhs.value.data else (a[-2], a[-1])
        kb, n = (b[-1], b[-2]) if self.transpose_rhs.value.data else (b[-2], b[-1])
        if k != kb or r != (*a[:-2], m, n):
            raise VerifyException(
                f"'ktensor.batch_matmul' expects [..,M,K] x [..,K,N] -> [..,M,N], got {a} x {b} -> {r}"
            )
        if len({_elt(self.lhs), _elt(self.rhs)}) != 1:
            raise VerifyException("'ktensor.batch_matmul' operands must share one element type")


@irdl_op_definition
class GatherOp(_KTensorOp):
    """Row gather (embedding lookup): ``result[i..., :] = table[indices[i...], :]``.

    table [V, D...] (f32, typically a weight), indices i32 of any shape, each in
    [0, V) (out-of-range indices are undefined: the lowering may clamp);
    result ``indices.shape + table.shape[1:]`` of the table's element type."""

    name = "ktensor.gather"
    table = operand_def(TensorType)
    indices = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$table `,` $indices attr-dict `:` functional-type(operands, results)"

    def __init__(self, table: SSAValue, indices: SSAValue, result_type: TensorType):
        super().__init__(operands=[table, indices], result_types=[result_type])

    def verify_semantics(self) -> None:
        t, idx, r = shape_of(self.table), shape_of(self.indices), shape_of(self.result)
        if _elt(self.indices) != i32:
            raise VerifyException(f"'ktensor.gather' indices must be i32, got {_elt(self.indices)}")
        if not t or r != (*idx, *t[1:]):
            raise VerifyException(f"'ktensor.gather' result must be {(*idx, *t[1:])}, got {r}")
        if _elt(self.table) != _elt(self.result):
            raise VerifyException("'ktensor.gather' table and result must share one element type")


@irdl_op_definition
class LayerNormOp(_KTensorOp):
    """Layer normalization over the last dim D:
    ``(x - mean) / sqrt(var + epsilon) * scale + bias``, mean and (biased)
    variance over D, accumulated in FP32; scale and the optional bias are [D]."""

    name = "ktensor.layer_norm"
    input = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    epsilon = prop_def(FloatAttr)
    result = result_def(TensorType)
    assembly_format = "$input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, scale: SSAValue, bias: SSAValue | None, epsilon: float,
                 result_type: TensorType | None = None):
        super().__init__(operands=[input, scale, bias], properties={"epsilon": FloatAttr(epsilon, f32)},
                         result_types=[result_type or input.type])

    def verify_semantics(self) -> None:
        x = shape_of(self.input)
        if not x or shape_of(self.result) != x:
            raise VerifyException("'ktensor.layer_norm' keeps the (non-scalar) shape")
        for p in (self.scale, self.bias):
            if p is not None and shape_of(p) != (x[-1],):
                raise VerifyException(f"'ktensor.layer_norm' scale and bias must be [{x[-1]}], got {shape_of(p)}")
        if self.epsilon.value.data < 0:
            raise VerifyException("'ktensor.layer_norm' epsilon must be >= 0")


@irdl_op_definition
class ReduceOp(_KTensorOp):
    """``kind`` (sum, mean, max, min) over ``axes`` (sorted, unique, non-negative,
    non-empty); the result keeps the rank, reduced dims become 1; sums accumulate in FP32."""

    name = "ktensor.reduce"
    input = operand_def(TensorType)
    kind = prop_def(ReduceKindAttr)
    axes = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$kind $input attr-dict `:` functional-type(operands, results)"

    def __init__(self, kind: str, input: SSAValue, axes: Sequence[int], result_type: TensorType):
        super().__init__(operands=[input], properties={"kind": _enum(ReduceKindAttr, kind), "axes": i64_array(axes)},
                         result_types=[result_type])

    def verify_semantics(self) -> None:
        x, axes = shape_of(self.input), ints(self.axes)
        if not axes or list(axes) != sorted(set(axes)) or axes[0] < 0 or axes[-1] >= len(x):
            raise VerifyException(f"'ktensor.reduce' axes {list(axes)} must be sorted, unique and in [0, {len(x)})")
        want = tuple(1 if i in axes else d for i, d in enumerate(x))
        if shape_of(self.result) != want:
            raise VerifyException(f"'ktensor.reduce' result must be {want}, got {shape_of(self.result)}")


@irdl_op_definition
class LogSoftmaxOp(_KTensorOp):
    """``log(softmax(x))`` along ``axis`` (non-negative)."""

    name = "ktensor.log_softmax"
    input = operand_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, axis: int):
        super().__init__(operands=[input], properties={"axis": IntegerAttr(axis, i64)},
                         result_types=[input.type])

    def verify_semantics(self) -> None:
        x, a = shape_of(self.input), self.axis.value.data
        if not 0 <= a < len(x):
            raise VerifyException(f"'ktensor.log_softmax' axis {a} out of range for rank {len(x)}")
        if x != shape_of(self.result):
            raise VerifyException("'ktensor.log_softmax' keeps the shape")


class _KindedBinaryOp(_KTensorOp):
    """``lhs <kind> rhs`` with numpy broadcasting, the kind an enum property (``KIND``)."""

    KIND: ClassVar[type[EnumAttribute]]
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$kind $lhs `,` $rhs attr-dict `:` functional-type(operands, results)"

    def __init__(self, kind: str, lhs: SSAValue, rhs: SSAValue, result_type: TensorType):
        super().__init__(operands=[lhs, rhs], properties={"kind": _enum(self.KIND, kind)},
                         result_types=[result_type])


@irdl_op_definition
class CompareOp(_KindedBinaryOp):
    """``lhs <kind> rhs`` elementwise with numpy broadcasting; operands share one
    element type (f32 or i32), the result is the i1 mask."""

    name = "ktensor.compare"
    KIND: ClassVar[type[EnumAttribute]] = CompareKindAttr
    kind = prop_def(CompareKindAttr)

    def verify_semantics(self) -> None:
        if _elt(self.lhs) != _elt(self.rhs):
            raise VerifyException("'ktensor.compare' operands must share one element type")
        if _elt(self.result) != i1:
            raise VerifyException("'ktensor.compare' result must be i1")
        _broadcast(self, self.lhs, self.rhs)


@irdl_op_definition
class LogicalNotOp(_KTensorOp):
    """Logical not of an i1 mask."""

    name = "ktensor.logical_not"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue):
        super().__init__(operands=[input], result_types=[input.type])

    def verify_semantics(self) -> None:
        if _elt(self.input) != i1 or self.input.type != self.result.type:
            raise VerifyException("'ktensor.logical_not' maps an i1 tensor to one of the same type")


@irdl_op_definition
class LogicalOp(_KindedBinaryOp):
    """``lhs <kind> rhs`` (and, or, xor) of two i1 masks with numpy broadcasting."""

    name = "ktensor.logical"
    KIND: ClassVar[type[EnumAttribute]] = LogicalKindAttr
    kind = prop_def(LogicalKindAttr)

    def verify_semantics(self) -> None:
        if not _elt(self.lhs) == _elt(self.rhs) == _elt(self.result) == i1:
            raise VerifyException("'ktensor.logical' operands and result must be i1")
        _broadcast(self, self.lhs, self.rhs)


@irdl_op_definition
class SelectOp(_KTensorOp):
    """``cond ? on_true : on_false`` elementwise, all three broadcast (numpy);
    cond is i1, the values and result share one element type."""

    name = "ktensor.select"
    cond = operand_def(TensorType)
    on_true = operand_def(TensorType)
    on_false = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$cond `,` $on_true `,` $on_false attr-dict `:` functional-type(operands, results)"

    def __init__(self, cond: SSAValue, on_true: SSAValue, on_false: SSAValue, result_type: TensorType):
        super().__init__(operands=[cond, on_true, on_false], result_types=[result_type])

    def verify_semantics(self) -> None:
        if _elt(self.cond) != i1:
            raise VerifyException("'ktensor.select' condition must be i1")
        if not _elt(self.on_true) == _elt(self.on_false) == _elt(self.result):
            raise VerifyException("'ktensor.select' values and result must share one element type")
        _broadcast(self, self.cond, self.on_true, self.on_false)


@irdl_op_definition
class SliceOp(_KTensorOp):
    """Static strided slice: ``result[i...] = input[offsets + i * strides]`` per
    dim; strides nonzero (negative: backwards from the offset), the result shape is the
    sizes, every index in bounds."""

    name = "ktensor.slice"
    input = operand_def(TensorType)
    offsets = prop_def(DenseArrayBase[I64])
    strides = prop_def(DenseArrayBase[I64])
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, offsets: Sequence[int], strides: Sequence[int], result_type: TensorType):
        super().__init__(operands=[input], properties={"offsets": i64_array(offsets), "strides": i64_array(strides)},
                         result_types=[result_type])

    def verify_semantics(self) -> None:
        x, r, o, s = shape_of(self.input), shape_of(self.result), ints(self.offsets), ints(self.strides)
        if not len(o) == len(s) == len(x) == len(r):
            raise VerifyException(f"'ktensor.slice' needs one offset and stride per dim of {x} (and the same rank)")
        for d, off, st, sz in zip(x, o, s, r):
            if not (0 <= off < d and st != 0 and 0 <= off + (sz - 1) * st < d):
                raise VerifyException(f"'ktensor.slice' (offset {off}, size {sz}, stride {st}) is out of a dim of {d}")
        if _elt(self.input) != _elt(self.result):
            raise VerifyException("'ktensor.slice' keeps the element type")


@irdl_op_definition
class BroadcastOp(_KTensorOp):
    """Materialise numpy broadcasting: input and result of one rank, each input
    dim 1 or equal to the result's; size-1 dims are repeated."""

    name = "ktensor.broadcast"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, result_type: TensorType):
        super().__init__(operands=[input], result_types=[result_type])

    def verify_semantics(self) -> None:
        x, r = shape_of(self.input), shape_of(self.result)
        if len(x) != len(r) or any(a not in (1, b) for a, b in zip(x, r)):
            raise VerifyException(f"'ktensor.broadcast' cannot broadcast {x} to {r}")
        if _elt(self.input) != _elt(self.result):
            raise VerifyException("'ktensor.broadcast' keeps the element type")


# The transformer ops convert-tensor-to-inferentia does not implement yet: the
# lowering engineer removes each from here with its op family
# (tests/test_tensor_to_inferentia.py checks both directions).
PENDING_LOWERING: tuple[type, ...] = ()  # ktensor ops without an Inferentia lowering


# --- helpers for ktensor rewrites --------------------------------------------------------


def weight_name(value: SSAValue) -> str | None:
    """The store name behind ``value`` if a ``ktensor.weight`` produces it."""
    owner = value.owner
    return owner.weight_name.data if isinstance(owner, WeightOp) else None


def erase_dead_weights(module: Operation) -> None:
    """Drop weights whose uses were all rewritten to derived weights, and merge
    repeated ``ktensor.weight`` ops of one name and type within a block (the
    same derived weight made for several users)."""
    seen: dict[tuple[object, str, object], WeightOp] = {}
    for op in list(module.walk()):
        if isinstance(op, WeightOp):
            key = (op.parent, op.weight_name.data, op.result.type)
            first = seen.setdefault(key, op)
            if first is not op:
                op.result.replace_all_uses_with(first.result)
    for op in list(module.walk(reverse=True)):
        if isinstance(op, WeightOp) and not op.result.uses:
            op.detach()
            op.erase()


KTensor = Dialect(
    "ktensor",
    [
        WeightOp,
        MatmulOp,
        Conv2dOp,
        ElementwiseOp,
        ActivationOp,
        Pool2dOp,
        SoftmaxOp,
        ReshapeOp,
        TransposeOp,
        CastOp,
        ConcatOp,
        PadOp,
        ResizeNearestOp,
        BatchMatmulOp,
        GatherOp,
        LayerNormOp,
        ReduceOp,
        LogSoftmaxOp,
        CompareOp,
        LogicalNotOp,
        LogicalOp,
        SelectOp,
        SliceOp,
        BroadcastOp,
    ],
    [ActivationFuncAttr, ElementwiseKindAttr, PoolKindAttr, PadModeAttr, ReduceKindAttr, CompareKindAttr,
     LogicalKindAttr],
)
