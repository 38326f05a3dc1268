"""The Inferentia dialect (``inf``): what a NeuronCore executes.

A ``inf.core`` holds one core's program: DRAM variables (``inf.dram``), SBUF
and PSUM tiles (``inf.alloc``, placed by the allocator), engine instructions
and semaphores. Instructions address a buffer through an access pattern
(``#inf.ap``) relative to it: a partition range and up to four free
dimensions, with start offsets affine in the trip indices of the enclosing
``inf.loop`` ops (``d0`` is the outermost). Loops and tile grids stay
structure; only the NEFF encoder unrolls them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    DenseArrayBase,
    FloatAttr,
    IntAttr,
    IntegerAttr,
    StringAttr,
    f32,
    i64,
)
from xdsl.ir import (
    Attribute,
    Data,
    Dialect,
    Operation,
    ParametrizedAttribute,
    Region,
    SpacedOpaqueSyntaxAttribute,
    SSAValue,
    TypeAttribute,
)
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.dialects.utils.enum_attribute import EnumAttribute
from xdsl.traits import HasParent, NoTerminator
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from kaena.dialects.enums import QuotedEnumSyntax, enum_by_value
from kaena.isa import REDUCE_ALUS, ActFunc, AluOp, DType, Engine
from kaena.target import NeuronCoreTarget, target_of

# ---------------------------------------------------------------------------
# Affine expressions over enclosing loop indices and access patterns
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AffineExpr:
    """``const + sum(coeffs[k] * d_k)``, d_k the index of the k-th enclosing loop."""

    const: int
    coeffs: tuple[int, ...] = ()

    def __post_init__(self):
        # canonical: no trailing zero coefficients
        c = list(self.coeffs)
        while c and c[-1] == 0:
            c.pop()
        object.__setattr__(self, "coeffs", tuple(c))

    @staticmethod
    def of(value: int | "AffineExpr") -> "AffineExpr":
        return value if isinstance(value, AffineExpr) else AffineExpr(int(value))

    def __add__(self, other: int | "AffineExpr") -> "AffineExpr":
        o = AffineExpr.of(other)
        n = max(len(self.coeffs), len(o.coeffs))
        a = self.coeffs + (0,) * (n - len(self.coeffs))
        b = o.coeffs + (0,) * (n - len(o.coeffs))
        return AffineExpr(self.const + o.const, tuple(x + y for x, y in zip(a, b)))

    def scaled(self, k: int) -> "AffineExpr":
        return AffineExpr(self.const * k, tuple(c * k for c in self.coeffs))

    @staticmethod
    def dim(depth: int, coeff: int = 1) -> "AffineExpr":
        return AffineExpr(0, (0,) * depth + (coeff,))

    @property
    def depth(self) -> int:
        """Number of enclosing loops the expression refers to."""
        return len(self.coeffs)

    def bounds(self, trips: Sequence[int]) -> tuple[int, int]:
        """Min and max over the iteration space of loops with ``trips``."""
        lo = hi = self.const
        for c, t in zip(self.coeffs, trips):
            span = c * (t - 1)
            lo += min(0, span)
            hi += max(0, span)
        return lo, hi

    def __str__(self) -> str:
        parts = [str(self.const)] if self.const or not self.coeffs else []
        for k, c in enumerate(self.coeffs):
            if c:
                parts.append(f"{c}*d{k}")
        return " + ".join(parts).replace("+ -", "- ") or "0"


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # the NEFF encodes affine terms as int64


def _parse_affine(parser: AttrParser) -> AffineExpr:
    """``term (('+'|'-') term)*`` with ``term ::= INT | INT '*' dN | dN``."""
    const = 0
    coeffs: dict[int, int] = {}
    sign = 1
    while True:
        if parser.parse_optional_punctuation("-") is not None:
            sign = -sign
        value = parser.parse_optional_integer(allow_boolean=False, allow_negative=False)
        if value is not None:
            if parser.parse_optional_punctuation("*") is not None:
                dim = _parse_dim(parser)
                coeffs[dim] = coeffs.get(dim, 0) + sign * value
            else:
                const += sign * value
        else:
            dim = _parse_dim(parser)
            coeffs[dim] = coeffs.get(dim, 0) + sign
        sign = 1
        if parser.parse_optional_punctuation("+") is not None:
            continue
        if parser.parse_optional_punctuation("-") is not None:
            sign = -1
            continue
        break
    if any(not _INT64_MIN <= v <= _INT64_MAX for v in (const, *coeffs.values())):
        parser.raise_error("affine expression out of range: its constant and coefficients are 64-bit signed integers")
    n = max(coeffs) + 1 if coeffs else 0
    return AffineExpr(const, tuple(coeffs.get(k, 0) for k in range(n)))


def _parse_dim(parser: AttrParser) -> int:
    ident = parser.parse_identifier(" loop index d<N>")
    if not (ident.startswith("d") and ident[1:].isdigit()):
        parser.raise_error(f"expected a loop index d<N>, got '{ident}'")
    return int(ident[1:])


@dataclass(frozen=True)
class AccessPattern:
    """Elements of a buffer an instruction touches, relative to the buffer.

    SBUF/PSUM: partitions ``[partition, partition + partitions)``; within each,
    element ``offset + sum(i_k * stride_k)`` of the buffer's free dimension.
    DRAM: row ``p`` of ``partitions`` starts at element ``offset + p * partition_stride``
    of the row-major variable. ``dims`` are ``(count, stride)`` pairs, last innermost.
    """

    partition: AffineExpr
    partitions: int
    offset: AffineExpr
    dims: tuple[tuple[int, int], ...]
    partition_stride: int = 0

    @property
    def elements_per_partition(self) -> int:
        n = 1
        for count, _ in self.dims:
            n *= count
        return n

    @property
    def elements(self) -> int:
        return self.partitions * self.elements_per_partition

    @property
    def depth(self) -> int:
        return max(self.partition.depth, self.offset.depth)

    def free_extent(self, trips: Sequence[int]) -> tuple[int, int]:
        """Lowest and highest+1 element index within a partition (or the variable)."""
        lo, hi = self.offset.bounds(trips)
        for count, stride in self.dims:
            span = stride * (count - 1)
            lo += min(0, span)
            hi += max(0, span)
        if self.partition_stride:
            span = self.partition_stride * (self.partitions - 1)
            lo += min(0, span)
            hi += max(0, span)
        return lo, hi + 1

    def __str__(self) -> str:
        dims = ", ".join(f"[{c}, {s}]" for c, s in self.dims)
        ps = f", pstride = {self.partition_stride}" if self.partition_stride else ""
        return f"p = {self.partition}, n = {self.partitions}{ps}, off = {self.offset}, dims = [{dims}]"


def ap(partition: int | AffineExpr, partitions: int, offset: int | AffineExpr,
       dims: Sequence[tuple[int, int]], partition_stride: int = 0) -> "AccessPatternAttr":
    """Build an ``#inf.ap`` attribute."""
    return AccessPatternAttr(
        AccessPattern(
            AffineExpr.of(partition), partitions, AffineExpr.of(offset),
            tuple((int(c), int(s)) for c, s in dims), partition_stride,
        )
    )


@irdl_attr_definition
class AccessPatternAttr(Data[AccessPattern]):
    """``#inf.ap<p = EXPR, n = INT[, pstride = INT], off = EXPR, dims = [[count, stride], ...]>``"""

    name = "inf.ap"

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> AccessPattern:
        with parser.in_angle_brackets():
            parser.parse_keyword("p")
            parser.parse_punctuation("=")
            part = _parse_affine(parser)
            parser.parse_punctuation(",")
            parser.parse_keyword("n")
            parser.parse_punctuation("=")
            nparts = parser.parse_integer(allow_boolean=False, allow_negative=False)
            parser.parse_punctuation(",")
            pstride = 0
            if parser.parse_optional_keyword("pstride") is not None:
                parser.parse_punctuation("=")
                pstride = parser.parse_integer(allow_boolean=False)
                parser.parse_punctuation(",")
            parser.parse_keyword("off")
            parser.parse_punctuation("=")
            off = _parse_affine(parser)
            parser.parse_punctuation(",")
            parser.parse_keyword("dims")
            parser.parse_punctuation("=")

            def parse_pair() -> tuple[int, int]:
                vals = parser.parse_comma_separated_list(
                    AttrParser.Delimiter.SQUARE, lambda: parser.parse_integer(allow_boolean=False)
                )
                if len(vals) != 2:
                    parser.raise_error("expected [count, stride]")
                return vals[0], vals[1]

            dims = parser.parse_comma_separated_list(AttrParser.Delimiter.SQUARE, parse_pair)
        return AccessPattern(part, nparts, off, tuple(dims), pstride)

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string(f"<{self.data}>")

    def verify(self) -> None:
        v = self.data
        if v.partitions < 1:
            raise VerifyException("#inf.ap needs at least one partition")
        if not 1 <= len(v.dims) <= 4:
            raise VerifyException("#inf.ap has 1 to 4 free dims")
        if any(c < 1 for c, _ in v.dims):
            raise VerifyException("#inf.ap dim counts must be >= 1")


@irdl_attr_definition
class AffineExprAttr(Data[AffineExpr]):
    """``#inf.expr<EXPR>``: a value affine in the enclosing loop indices."""

    name = "inf.expr"

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> AffineExpr:
        with parser.in_angle_brackets():
            return _parse_affine(parser)

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string(f"<{self.data}>")


# ---------------------------------------------------------------------------
# Enumerated properties: the ISA's enums, by their lower-case names
# ---------------------------------------------------------------------------


def _names_of(enum_cls: type, name: str) -> type[StrEnum]:
    """A StrEnum whose members are ``enum_cls``'s, valued by their lower-case names,
    so the IR and the ISA cannot disagree on what a function or ALU op is called."""
    return StrEnum(name, [(m.name, m.name.lower()) for m in enum_cls], module=__name__)  # type: ignore[return-value]


ActFuncName = _names_of(ActFunc, "ActFuncName")
"""Activation functions of the scalar engine (``kaena.isa.ActFunc``) by name."""
AluOpName = _names_of(AluOp, "AluOpName")
"""ALU operations of the vector engine (``kaena.isa.AluOp``) by name."""
EngineName = _names_of(Engine, "EngineName")
"""Instruction streams of a core (``kaena.isa.Engine``) by stream name."""

class _QuotedEnum(QuotedEnumSyntax):
    """The ``inf`` enum properties: quoted syntax (``inf.activation "relu" ...``); ``isa``
    is the ISA enum member the encoder writes."""

    ISA: ClassVar[type[IntEnum]]

    @property
    def isa(self):
        return self.ISA[self.data.name]


@irdl_attr_definition
class ActFuncAttr(_QuotedEnum, EnumAttribute[ActFuncName], SpacedOpaqueSyntaxAttribute):
    """``inf.activation``'s function (generic form ``#inf<act_func "relu">``)."""

    name = "inf.act_func"
    WHAT = "activation function"
    ISA = ActFunc


@irdl_attr_definition
class AluOpAttr(_QuotedEnum, EnumAttribute[AluOpName], SpacedOpaqueSyntaxAttribute):
    """A vector-engine ALU operation (generic form ``#inf<alu "mul">``)."""

    name = "inf.alu"
    WHAT = "ALU op"
    ISA = AluOp


@irdl_attr_definition
class EngineAttr(_QuotedEnum, EnumAttribute[EngineName], SpacedOpaqueSyntaxAttribute):
    """The engine a semaphore op runs on (generic form ``#inf<engine "dma">``)."""

    name = "inf.engine"
    WHAT = "engine"
    ISA = Engine


def act_func_attr(func: ActFunc | str | ActFuncAttr) -> ActFuncAttr:
    """The property for ``func``: an ``ActFunc``, its name (``"relu"``) or the attribute."""
    if isinstance(func, ActFuncAttr):
        return func
    if isinstance(func, ActFunc):
        return ActFuncAttr(ActFuncName[func.name])
    return ActFuncAttr(enum_by_value(ActFuncName, func, "activation function"))


def alu_op_attr(alu: AluOp | str | AluOpAttr) -> AluOpAttr:
    """The property for ``alu``: an ``AluOp``, its name (``"add"``) or the attribute."""
    if isinstance(alu, AluOpAttr):
        return alu
    if isinstance(alu, AluOp):
        return AluOpAttr(AluOpName[alu.name])
    return AluOpAttr(enum_by_value(AluOpName, alu, "ALU op"))


def engine_attr(engine: Engine | str | EngineAttr) -> EngineAttr:
    """The property for ``engine``: an ``Engine``, its stream name (``"pe"``) or the attribute."""
    if isinstance(engine, EngineAttr):
        return engine
    if isinstance(engine, Engine):
        return EngineAttr(EngineName[engine.name])
    return EngineAttr(enum_by_value(EngineName, engine, "engine"))


# ---------------------------------------------------------------------------
# Buffer types
# ---------------------------------------------------------------------------


def _parse_shape_type(parser: AttrParser) -> tuple[list[int], Attribute]:
    with parser.in_angle_brackets():
        return parser.parse_ranked_shape()


class _BufferType(ParametrizedAttribute, TypeAttribute):
    shape: ArrayAttr[IntAttr]
    element_type: Attribute

    def __init__(self, shape: Sequence[int], element_type: Attribute):
        super().__init__(ArrayAttr([IntAttr(d) for d in shape]), element_type)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        shape, et = _parse_shape_type(parser)
        return [ArrayAttr([IntAttr(d) for d in shape]), et]

    def print_parameters(self, printer: Printer) -> None:
        dims = "x".join(str(d.data) for d in self.shape.data)
        printer.print_string(f"<{dims}x")
        printer.print_attribute(self.element_type)
        printer.print_string(">")

    def get_shape(self) -> tuple[int, ...]:
        return tuple(d.data for d in self.shape.data)

    @property
    def dtype(self) -> DType:
        return DType.from_name(str(self.element_type))

    def verify(self) -> None:
        try:
            DType.from_name(str(self.element_type))
        except KeyError:
            raise VerifyException(
                f"{self.name} element type must be f32, bf16, f16 or i32, got {self.element_type}"
            ) from None
        if any(d.data < 1 for d in self.shape.data):
            raise VerifyException(f"{self.name} dims must be >= 1")


@irdl_attr_definition
class DramType(_BufferType):
    """A row-major tensor in device DRAM: ``!inf.dram<1x784xf32>``."""

    name = "inf.dram"


class _OnChipType(_BufferType):
    """SBUF or PSUM tile: [partitions x elements per partition]."""

    @property
    def partitions(self) -> int:
        return self.get_shape()[0]

    @property
    def free_elements(self) -> int:
        return self.get_shape()[1]

    @property
    def bytes_per_partition(self) -> int:
        return self.free_elements * self.dtype.itemsize

    def verify(self) -> None:
        super().verify()
        shape = self.get_shape()
        if len(shape) != 2:
            raise VerifyException(f"{self.name} is [partitions x elements], got {shape}")

    def verify_fits(self, target: NeuronCoreTarget) -> None:
        """The tile fits ``target``'s memory. Called by the verifier of the op that
        creates the tile (``inf.alloc``): a type cannot see the module's target."""
        if self.partitions > target.partitions:
            raise VerifyException(
                f"{self.name} has {self.partitions} partitions, the core has {target.partitions}"
            )
        limit = self.partition_bytes_limit(target)
        if self.bytes_per_partition > limit:
            raise VerifyException(
                f"{self.name} tile needs {self.bytes_per_partition} bytes per partition, "
                f"{self.MEMORY} has {limit}"
            )

    MEMORY: ClassVar[str]

    def partition_bytes_limit(self, target: NeuronCoreTarget) -> int:
        raise NotImplementedError


@irdl_attr_definition
class SbufType(_OnChipType):
    """A tile of the State Buffer: ``!inf.sbuf<128x512xbf16>`` (partitions x elements)."""

    name = "inf.sbuf"
    MEMORY: ClassVar[str] = "SBUF"

    def partition_bytes_limit(self, target: NeuronCoreTarget) -> int:
        return target.sbuf_bytes_per_partition


@irdl_attr_definition
class PsumType(_OnChipType):
    """A tile of the partial-sum buffer, FP32: ``!inf.psum<64x256xf32>``."""

    name = "inf.psum"
    MEMORY: ClassVar[str] = "PSUM"

    def verify(self) -> None:
        super().verify()
        if self.dtype != DType.FP32:
            raise VerifyException("inf.psum tiles hold f32")

    def partition_bytes_limit(self, target: NeuronCoreTarget) -> int:
        return target.psum_bytes_per_partition


BufferType = DramType | SbufType | PsumType

# ---------------------------------------------------------------------------
# Structure: cores, loops, buffers
# ---------------------------------------------------------------------------


@irdl_op_definition
class CoreOp(IRDLOperation):
    """The program of one NeuronCore, in order."""

    name = "inf.core"
    core = prop_def(IntegerAttr[I64], prop_name="id")
    body = region_def("single_block")
    traits = traits_def(NoTerminator())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$id attr-dict-with-keyword $body"

    def __init__(self, core: int, body: Region):
        super().__init__(properties={"id": IntegerAttr(core, i64)}, regions=[body])


@irdl_op_definition
class LoopOp(IRDLOperation):
    """Repeat the body ``trips`` times; nested instructions refer to the trip
    index as ``d<depth>`` in their access patterns."""

    name = "inf.loop"
    trips = prop_def(IntegerAttr[I64])
    body = region_def("single_block")
    traits = traits_def(NoTerminator())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$trips attr-dict-with-keyword $body"

    def __init__(self, trips: int, body: Region):
        super().__init__(properties={"trips": IntegerAttr(trips, i64)}, regions=[body])

    def verify_(self) -> None:
        if self.trips.value.data < 1:
            raise VerifyException("'inf.loop' needs at least one trip")


DRAM_KINDS = ("input", "output", "file", "tmp")


@irdl_op_definition
class DramOp(IRDLOperation):
    """A DRAM variable: a model input or output, a weight (``file``, by name in
    the weight store) or scratch (``tmp``)."""

    name = "inf.dram"
    var_name = prop_def(StringAttr, prop_name="name")
    kind = prop_def(StringAttr)
    result = result_def(DramType)
    traits = traits_def(HasParent(CoreOp))
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$kind $name attr-dict `:` type($result)"

    def __init__(self, name: str, kind: str, result_type: DramType, valid_range: tuple[int, int] | None = None):
        super().__init__(
            properties={"name": StringAttr(name), "kind": StringAttr(kind)},
            result_types=[result_type],
            attributes={} if valid_range is None else {
                VALID_RANGE_ATTR: DenseArrayBase.from_list(i64, [int(v) for v in valid_range])
            },
        )

    def verify_(self) -> None:
        if self.kind.data not in DRAM_KINDS:
            raise VerifyException(
                f"'inf.dram' kind must be one of {', '.join(DRAM_KINDS)}, got '{self.kind.data}'"
            )
        if VALID_RANGE_ATTR in self.attributes:
            rng = valid_range_of(self)
            t = self.result.type
            assert isinstance(t, DramType)
            if self.kind.data != "input" or t.dtype != DType.INT32:
                raise VerifyException(f"'inf.dram' {VALID_RANGE_ATTR} is only for an i32 \"input\"")
            if rng is None or not -(2**31) <= rng[0] < rng[1] <= 2**31:
                raise VerifyException(
                    f"'inf.dram' {VALID_RANGE_ATTR} must be array<i64: lo, hi> with int32 lo < hi (values in [lo, hi))"
                )

    @property
    def valid_range(self) -> tuple[int, int] | None:
        """[lo, hi) the runtime accepts for this int32 input (``kaena.valid_range``), or None."""
        return valid_range_of(self)


VALID_RANGE_ATTR = "kaena.valid_range"
"""On an i32 ``inf.dram "input"``: ``array<i64: lo, hi>``, the values a runtime accepts,
[lo, hi) (a vocabulary's token ids); the encoder writes it into the NEFF's input spec."""


def valid_range_of(op: Operation) -> tuple[int, int] | None:
    attr = op.attributes.get(VALID_RANGE_ATTR)
    if attr is None:
        return None
    if not isinstance(attr, DenseArrayBase) or attr.elt_type != i64:
        return None
    vals = tuple(int(v) for v in attr.get_values())
    return (vals[0], vals[1]) if len(vals) == 2 else None


@irdl_op_definition
class AllocOp(IRDLOperation):
    """An SBUF or PSUM tile. ``partition`` and ``offset`` (bytes within each
    partition) are set by the allocator; the encoder needs them."""

    name = "inf.alloc"
    partition = opt_prop_def(IntegerAttr[I64])
    offset = opt_prop_def(IntegerAttr[I64])
    result = result_def(SbufType | PsumType)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "attr-dict `:` type($result)"

    def __init__(self, result_type: SbufType | PsumType):
        super().__init__(result_types=[result_type])

    @property
    def is_allocated(self) -> bool:
        return self.partition is not None and self.offset is not None

    def verify_(self) -> None:
        t = self.result.type
        assert isinstance(t, SbufType | PsumType)
        target = target_of(self)
        t.verify_fits(target)
        if (self.partition is None) != (self.offset is None):
            raise VerifyException("'inf.alloc' sets partition and offset together")
        if self.is_allocated:
            p, off = self.partition.value.data, self.offset.value.data
            limit = t.partition_bytes_limit(target)
            if p < 0 or p + t.partitions > target.partitions:
                raise VerifyException(
                    f"'inf.alloc' partitions [{p}, {p + t.partitions}) exceed the {target.partitions} partitions"
                )
            if p % target.partition_alignment:
                raise VerifyException(
                    f"'inf.alloc' partition start {p} is not a multiple of {target.partition_alignment}"
                )
            if off < 0 or off + t.bytes_per_partition > limit:
                raise VerifyException(
                    f"'inf.alloc' bytes [{off}, {off + t.bytes_per_partition}) exceed the {limit} bytes of a partition"
                )


# ---------------------------------------------------------------------------
# Instructions
# ---------------------------------------------------------------------------


def _enclosing_trips(op: Operation) -> list[int]:
    """Trip counts of the enclosing ``inf.loop`` ops, outermost first."""
    trips: list[int] = []
    parent = op.parent_op()
    while parent is not None and not isinstance(parent, CoreOp):
        if isinstance(parent, LoopOp):
            trips.append(parent.trips.value.data)
        parent = parent.parent_op()
    return trips[::-1]


@dataclass(frozen=True)
class Access:
    """One operand of an instruction: the buffer, how it is addressed, and whether written."""

    buffer: SSAValue
    pattern: AccessPattern
    is_write: bool


class InstructionOp(IRDLOperation):
    """Base of engine instructions: which engine runs it and what it touches."""

    ENGINE: ClassVar[Engine]

    def accesses(self) -> Iterator[Access]:
        raise NotImplementedError

    def verify_(self) -> None:
        trips = _enclosing_trips(self)
        for acc in self.accesses():
            _verify_access(self, acc, trips)
        self.verify_instruction()

    def verify_instruction(self) -> None:
        pass


def _verify_access(op: Operation, acc: Access, trips: list[int]) -> None:
    t = acc.buffer.type
    pat = acc.pattern
    if pat.depth > len(trips):
        raise VerifyException(
            f"'{op.name}' access pattern refers to d{pat.depth - 1} but is inside {len(trips)} loop(s)"
        )
    lo, hi = pat.free_extent(trips)
    if isinstance(t, DramType):
        if pat.partition != AffineExpr(0):
            raise VerifyException(f"'{op.name}' DRAM access patterns start at partition 0")
        size = 1
        for d in t.get_shape():
            size *= d
        if lo < 0 or hi > size:
            raise VerifyException(
                f"'{op.name}' reads or writes elements [{lo}, {hi}) of a DRAM tensor of {size}"
            )
        return
    assert isinstance(t, SbufType | PsumType)
    if pat.partition_stride:
        raise VerifyException(f"'{op.name}' on-chip access patterns have no pstride")
    plo, phi = pat.partition.bounds(trips)
    if plo < 0 or phi + pat.partitions > t.partitions:
        raise VerifyException(
            f"'{op.name}' partitions [{plo}, {phi + pat.partitions}) exceed the tile's {t.partitions}"
        )
    if lo < 0 or hi > t.free_elements:
        raise VerifyException(
            f"'{op.name}' elements [{lo}, {hi}) exceed the tile's {t.free_elements} per partition"
        )


def _ap(attr: AccessPatternAttr) -> AccessPattern:
    return attr.data


def _memory(v: SSAValue) -> str:
    t = v.type
    return "dram" if isinstance(t, DramType) else "sbuf" if isinstance(t, SbufType) else "psum"


def _dtype(v: SSAValue) -> DType:
    t = v.type
    assert isinstance(t, BufferType)
    return t.dtype


ACT_FUNCS = tuple(f.value for f in ActFuncName)
ALU_OPS = tuple(a.value for a in AluOpName)
REDUCE_ALU_NAMES = tuple(AluOpName[a.name].value for a in sorted(REDUCE_ALUS))


def _no_int32_write(op: Operation, out: SSAValue) -> None:
    """Engines compute in FP32 and read i32 by converting it; they write i32 only where
    the values move unchanged (docs/isa.md, "Integers"), so nothing rounds a float into an int."""
    if _dtype(out) == DType.INT32:
        raise VerifyException(
            f"'{op.name}' cannot write i32: only a move of i32 values does (inf.dma, inf.dma_gather, "
            "inf.select of i32 values, \"bypass\" or inf.transpose of an i32 tile)"
        )


def _no_int32_operands(op: Operation, *values: SSAValue) -> None:
    if any(_dtype(v) == DType.INT32 for v in values):
        raise VerifyException(f"'{op.name}': the tensor engine has no integer arithmetic (i32 operand)")


def _float(value: float | None) -> FloatAttr | None:
    return None if value is None else FloatAttr(float(value), f32)


@irdl_op_definition
class DmaOp(InstructionOp):
    """DMA queue: copy ``src`` to ``dst`` element for element (same dtype)."""

    name = "inf.dma"
    ENGINE: ClassVar[Engine] = Engine.DMA
    dst = operand_def(DramType | SbufType)
    src = operand_def(DramType | SbufType)
    dst_ap = prop_def(AccessPatternAttr)
    src_ap = prop_def(AccessPatternAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$dst $dst_ap `,` $src $src_ap attr-dict `:` type($dst) `,` type($src)"

    def __init__(self, dst: SSAValue, dst_ap: AccessPatternAttr, src: SSAValue, src_ap: AccessPatternAttr):
        super().__init__(operands=[dst, src], properties={"dst_ap": dst_ap, "src_ap": src_ap})

    def accesses(self) -> Iterator[Access]:
        yield Access(self.src, _ap(self.src_ap), False)
        yield Access(self.dst, _ap(self.dst_ap), True)

    def verify_instruction(self) -> None:
        if _dtype(self.dst) != _dtype(self.src):
            raise VerifyException("'inf.dma' copies between buffers of the same dtype")
        if _ap(self.dst_ap).elements != _ap(self.src_ap).elements:
            raise VerifyException(
                f"'inf.dma' moves {_ap(self.src_ap).elements} elements into {_ap(self.dst_ap).elements}"
            )


@irdl_op_definition
class DmaSendOp(InstructionOp):
    """DMA queue: copy ``src`` into ``dst``, a DRAM ``output`` variable that core
    ``to_core`` reads (through device DRAM on one chip, over NeuronLink to another),
    and when its last byte lands increment semaphore ``sem`` of that core: the only
    way one core orders another (hardware contract, "core to core")."""

    name = "inf.dma_send"
    ENGINE: ClassVar[Engine] = Engine.DMA
    dst = operand_def(DramType)
    src = operand_def(DramType | SbufType)
    dst_ap = prop_def(AccessPatternAttr)
    src_ap = prop_def(AccessPatternAttr)
    to_core = prop_def(IntegerAttr[I64])
    sem = prop_def(IntegerAttr[I64])
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$dst $dst_ap `,` $src $src_ap `to` `core` $to_core `sem` $sem attr-dict `:` type($dst) `,` type($src)"
    )

    def __init__(self, dst: SSAValue, dst_ap: AccessPatternAttr, src: SSAValue, src_ap: AccessPatternAttr,
                 to_core: int, sem: int):
        super().__init__(operands=[dst, src], properties={
            "dst_ap": dst_ap, "src_ap": src_ap, "to_core": IntegerAttr(to_core, i64), "sem": IntegerAttr(sem, i64),
        })

    def accesses(self) -> Iterator[Access]:
        yield Access(self.src, _ap(self.src_ap), False)
        yield Access(self.dst, _ap(self.dst_ap), True)

    def verify_instruction(self) -> None:
        if _dtype(self.dst) != _dtype(self.src):
            raise VerifyException("'inf.dma_send' copies between buffers of the same dtype")
        if _ap(self.dst_ap).elements != _ap(self.src_ap).elements:
            raise VerifyException(
                f"'inf.dma_send' moves {_ap(self.src_ap).elements} elements into {_ap(self.dst_ap).elements}"
            )
        dst = self.dst.owner
        if not isinstance(dst, DramOp) or dst.kind.data != "output":
            raise VerifyException("'inf.dma_send' writes an 'output' DRAM variable (the receiving core reads it)")
        target = target_of(self)
        cores = max(inst.neuron_cores for inst in target.instances)
        s, c = self.sem.value.data, self.to_core.value.data
        if not 0 <= s < target.semaphores_per_core:
            raise VerifyException(f"'inf.dma_send' semaphore {s} out of range: a core has {target.semaphores_per_core}")
        if not 0 <= c < cores:
            raise VerifyException(f"'inf.dma_send' core {c} out of range: the largest instance has {cores}")
        core = self.parent_op()
        while core is not None and not isinstance(core, CoreOp):
            core = core.parent_op()
        if core is not None and core.core.value.data == c:
            raise VerifyException(f"'inf.dma_send' sends to its own core {c}: use inf.dma and inf.sem_signal")


@irdl_op_definition
class LoadStationaryOp(InstructionOp):
    """Tensor engine: load the stationary operand [K partitions, M elements]."""

    name = "inf.load_stationary"
    ENGINE: ClassVar[Engine] = Engine.PE
    stationary = operand_def(SbufType)
    stationary_ap = prop_def(AccessPatternAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$stationary $stationary_ap attr-dict `:` type($stationary)"

    def __init__(self, stationary: SSAValue, stationary_ap: AccessPatternAttr):
        super().__init__(operands=[stationary], properties={"stationary_ap": stationary_ap})

    def accesses(self) -> Iterator[Access]:
        yield Access(self.stationary, _ap(self.stationary_ap), False)

    def verify_instruction(self) -> None:
        _no_int32_operands(self, self.stationary)
        target = target_of(self)
        p = _ap(self.stationary_ap)
        if p.partitions > target.pe_rows or p.elements_per_partition > target.pe_columns:
            raise VerifyException(
                f"'inf.load_stationary' operand is [{p.partitions}, {p.elements_per_partition}], "
                f"the PE array takes at most [{target.pe_rows}, {target.pe_columns}]"
            )


@irdl_op_definition
class MatmulOp(InstructionOp):
    """Tensor engine: ``acc[M, N] (+)= stationary[K, M]^T @ moving[K, N]`` into PSUM.

    ``accumulate`` is affine in the loop indices: the matmul adds into PSUM
    where it is > 0 and overwrites where it is 0 or absent, so
    ``accumulate = <1*d1 + 1*d2>`` starts a sum on the first trip of loops d1, d2.
    """

    name = "inf.matmul"
    ENGINE: ClassVar[Engine] = Engine.PE
    acc = operand_def(PsumType)
    moving = operand_def(SbufType)
    acc_ap = prop_def(AccessPatternAttr)
    moving_ap = prop_def(AccessPatternAttr)
    accumulate = opt_prop_def(AffineExprAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$acc $acc_ap `,` $moving $moving_ap attr-dict `:` type($acc) `,` type($moving)"

    def __init__(self, acc: SSAValue, acc_ap: AccessPatternAttr, moving: SSAValue,
                 moving_ap: AccessPatternAttr, accumulate: AffineExpr | int | None = None):
        props: dict[str, Attribute] = {"acc_ap": acc_ap, "moving_ap": moving_ap}
        if accumulate is not None:
            props["accumulate"] = AffineExprAttr(AffineExpr.of(accumulate))
        super().__init__(operands=[acc, moving], properties=props)

    def may_accumulate(self) -> bool:
        return self.accumulate is not None and self.accumulate.data != AffineExpr(0)

    def accesses(self) -> Iterator[Access]:
        yield Access(self.moving, _ap(self.moving_ap), False)
        if self.may_accumulate():
            yield Access(self.acc, _ap(self.acc_ap), False)
        yield Access(self.acc, _ap(self.acc_ap), True)

    def verify_instruction(self) -> None:
        _no_int32_operands(self, self.moving)
        target = target_of(self)
        mv, acc = _ap(self.moving_ap), _ap(self.acc_ap)
        if mv.partitions > target.pe_rows or mv.elements_per_partition > target.pe_max_moving:
            raise VerifyException(
                f"'inf.matmul' moving operand is [{mv.partitions}, {mv.elements_per_partition}], "
                f"at most [{target.pe_rows}, {target.pe_max_moving}]"
            )
        if acc.partitions > target.pe_columns:
            raise VerifyException(
                f"'inf.matmul' writes {acc.partitions} PSUM partitions, at most {target.pe_columns}"
            )
        if acc.elements_per_partition != mv.elements_per_partition:
            raise VerifyException("'inf.matmul' result and moving operand have different N")
        if self.accumulate is not None:
            a = self.accumulate.data
            if a.const < 0 or any(c < 0 for c in a.coeffs):
                raise VerifyException("'inf.matmul' accumulate must be affine with non-negative terms")


@irdl_op_definition
class ActivationOp(InstructionOp):
    """Scalar engine: ``out = func(in * scale + bias)``, bias per partition
    from ``bias`` or the immediate ``imm``."""

    name = "inf.activation"
    ENGINE: ClassVar[Engine] = Engine.ACT
    out = operand_def(SbufType)
    input = operand_def(SbufType | PsumType)
    bias = opt_operand_def(SbufType)
    func = prop_def(ActFuncAttr)
    out_ap = prop_def(AccessPatternAttr)
    in_ap = prop_def(AccessPatternAttr)
    bias_ap = opt_prop_def(AccessPatternAttr)
    scale = opt_prop_def(FloatAttr)  # default 1.0
    imm = opt_prop_def(FloatAttr)  # default 0.0
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$func $out $out_ap `,` $input $in_ap (`bias` $bias^)? attr-dict `:` type($out) `,` type($input)"
        " (`,` type($bias)^)?"
    )

    def __init__(self, func: ActFunc | str, out: SSAValue, out_ap: AccessPatternAttr, input: SSAValue,
                 in_ap: AccessPatternAttr, bias: SSAValue | None = None, bias_ap: AccessPatternAttr | None = None,
                 scale: float | None = None, imm: float | None = None):
        super().__init__(
            operands=[out, input, bias],
            properties={"func": act_func_attr(func), "out_ap": out_ap, "in_ap": in_ap, "bias_ap": bias_ap,
                        "scale": _float(scale), "imm": _float(imm)},
        )

    @property
    def act_func(self) -> ActFunc:
        return self.func.isa

    def accesses(self) -> Iterator[Access]:
        yield Access(self.input, _ap(self.in_ap), False)
        if self.bias is not None and self.bias_ap is not None:
            yield Access(self.bias, _ap(self.bias_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        _no_int32_write(self, self.out)
        o, i = _ap(self.out_ap), _ap(self.in_ap)
        if (o.partitions, o.elements_per_partition) != (i.partitions, i.elements_per_partition):
            raise VerifyException(
                f"'inf.activation' maps [{i.partitions}, {i.elements_per_partition}] to "
                f"[{o.partitions}, {o.elements_per_partition}]"
            )
        if (self.bias is None) != (self.bias_ap is None):
            raise VerifyException("'inf.activation' bias and bias_ap go together")
        if self.bias_ap is not None:
            b = _ap(self.bias_ap)
            if b.partitions != o.partitions or b.elements_per_partition != 1:
                raise VerifyException("'inf.activation' bias is one element per partition")


class _VectorOp(InstructionOp):
    ENGINE: ClassVar[Engine] = Engine.POOL


def _same_shape(op: Operation, a: AccessPattern, b: AccessPattern, what: str) -> None:
    if (a.partitions, a.elements_per_partition) != (b.partitions, b.elements_per_partition):
        raise VerifyException(
            f"'{op.name}' {what}: [{a.partitions}, {a.elements_per_partition}] vs "
            f"[{b.partitions}, {b.elements_per_partition}]"
        )


@irdl_op_definition
class TensorTensorOp(_VectorOp):
    """Vector engine: ``out = lhs <alu> rhs`` elementwise."""

    name = "inf.tensor_tensor"
    out = operand_def(SbufType)
    lhs = operand_def(SbufType | PsumType)
    rhs = operand_def(SbufType | PsumType)
    alu = prop_def(AluOpAttr)
    out_ap = prop_def(AccessPatternAttr)
    lhs_ap = prop_def(AccessPatternAttr)
    rhs_ap = prop_def(AccessPatternAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$alu $out $out_ap `,` $lhs $lhs_ap `,` $rhs $rhs_ap attr-dict `:` type($out) `,` type($lhs) `,` type($rhs)"
    )

    def __init__(self, alu: AluOp | str, out: SSAValue, out_ap: AccessPatternAttr, lhs: SSAValue,
                 lhs_ap: AccessPatternAttr, rhs: SSAValue, rhs_ap: AccessPatternAttr):
        super().__init__(
            operands=[out, lhs, rhs],
            properties={"alu": alu_op_attr(alu), "out_ap": out_ap, "lhs_ap": lhs_ap, "rhs_ap": rhs_ap},
        )

    def accesses(self) -> Iterator[Access]:
        yield Access(self.lhs, _ap(self.lhs_ap), False)
        yield Access(self.rhs, _ap(self.rhs_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        _no_int32_write(self, self.out)
        _same_shape(self, _ap(self.out_ap), _ap(self.lhs_ap), "out and lhs differ")
        _same_shape(self, _ap(self.out_ap), _ap(self.rhs_ap), "out and rhs differ")


@irdl_op_definition
class TensorScalarOp(_VectorOp):
    """Vector engine: ``out = in <alu> s``, s one element per partition of
    ``scalar`` or the immediate ``imm``."""

    name = "inf.tensor_scalar"
    out = operand_def(SbufType)
    input = operand_def(SbufType | PsumType)
    scalar = opt_operand_def(SbufType)
    alu = prop_def(AluOpAttr)
    out_ap = prop_def(AccessPatternAttr)
    in_ap = prop_def(AccessPatternAttr)
    scalar_ap = opt_prop_def(AccessPatternAttr)
    imm = opt_prop_def(FloatAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$alu $out $out_ap `,` $input $in_ap (`scalar` $scalar^)? attr-dict `:` type($out) `,` type($input)"
        " (`,` type($scalar)^)?"
    )

    def __init__(self, alu: AluOp | str, out: SSAValue, out_ap: AccessPatternAttr, input: SSAValue,
                 in_ap: AccessPatternAttr, scalar: SSAValue | None = None,
                 scalar_ap: AccessPatternAttr | None = None, imm: float | None = None):
        super().__init__(
            operands=[out, input, scalar],
            properties={"alu": alu_op_attr(alu), "out_ap": out_ap, "in_ap": in_ap, "scalar_ap": scalar_ap,
                        "imm": _float(imm)},
        )

    def accesses(self) -> Iterator[Access]:
        yield Access(self.input, _ap(self.in_ap), False)
        if self.scalar is not None and self.scalar_ap is not None:
            yield Access(self.scalar, _ap(self.scalar_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        if not (self.alu.isa == AluOp.BYPASS and _dtype(self.input) == DType.INT32):
            _no_int32_write(self, self.out)
        _same_shape(self, _ap(self.out_ap), _ap(self.in_ap), "out and in differ")
        if (self.scalar is None) != (self.scalar_ap is None):
            raise VerifyException("'inf.tensor_scalar' scalar and scalar_ap go together")
        if self.scalar_ap is not None:
            s = _ap(self.scalar_ap)
            if s.partitions != _ap(self.out_ap).partitions or s.elements_per_partition != 1:
                raise VerifyException("'inf.tensor_scalar' scalar is one element per partition")


@irdl_op_definition
class ReduceOp(_VectorOp):
    """Vector engine: reduce the last ``axes`` free dims of ``in`` with ``alu``
    (add, max, min), times ``scale``. Pooling windows are such reductions."""

    name = "inf.reduce"
    out = operand_def(SbufType)
    input = operand_def(SbufType | PsumType)
    alu = prop_def(AluOpAttr)
    axes = prop_def(IntegerAttr[I64])
    out_ap = prop_def(AccessPatternAttr)
    in_ap = prop_def(AccessPatternAttr)
    scale = opt_prop_def(FloatAttr)  # default 1.0
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$alu $out $out_ap `,` $input $in_ap attr-dict `:` type($out) `,` type($input)"

    def __init__(self, alu: AluOp | str, out: SSAValue, out_ap: AccessPatternAttr, input: SSAValue,
                 in_ap: AccessPatternAttr, axes: int, scale: float | None = None):
        super().__init__(
            operands=[out, input],
            properties={"alu": alu_op_attr(alu), "axes": IntegerAttr(axes, i64), "out_ap": out_ap,
                        "in_ap": in_ap, "scale": _float(scale)},
        )

    def accesses(self) -> Iterator[Access]:
        yield Access(self.input, _ap(self.in_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        _no_int32_write(self, self.out)
        if self.alu.isa not in REDUCE_ALUS:
            raise VerifyException("'inf.reduce' alu must be add, max or min")
        i, o = _ap(self.in_ap), _ap(self.out_ap)
        axes = self.axes.value.data
        if not 1 <= axes <= len(i.dims):
            raise VerifyException(f"'inf.reduce' axes must be in [1, {len(i.dims)}]")
        kept = 1
        for c, _ in i.dims[: len(i.dims) - axes]:
            kept *= c
        if o.partitions != i.partitions or o.elements_per_partition != kept:
            raise VerifyException(
                f"'inf.reduce' result must be [{i.partitions}, {kept}], got "
                f"[{o.partitions}, {o.elements_per_partition}]"
            )


@irdl_op_definition
class TransposeOp(_VectorOp):
    """Vector engine: ``out[f, p] = in[p, f]`` for a tile of at most 128 x 128."""

    name = "inf.transpose"
    out = operand_def(SbufType)
    input = operand_def(SbufType | PsumType)
    out_ap = prop_def(AccessPatternAttr)
    in_ap = prop_def(AccessPatternAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$out $out_ap `,` $input $in_ap attr-dict `:` type($out) `,` type($input)"

    def __init__(self, out: SSAValue, out_ap: AccessPatternAttr, input: SSAValue, in_ap: AccessPatternAttr):
        super().__init__(operands=[out, input], properties={"out_ap": out_ap, "in_ap": in_ap})

    def accesses(self) -> Iterator[Access]:
        yield Access(self.input, _ap(self.in_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        if _dtype(self.input) != DType.INT32:
            _no_int32_write(self, self.out)
        i, o = _ap(self.in_ap), _ap(self.out_ap)
        if (o.partitions, o.elements_per_partition) != (i.elements_per_partition, i.partitions):
            raise VerifyException(
                f"'inf.transpose' of [{i.partitions}, {i.elements_per_partition}] must be "
                f"[{i.elements_per_partition}, {i.partitions}]"
            )
        if i.elements_per_partition > target_of(self).partitions:
            raise VerifyException(f"'inf.transpose' tiles are at most {target_of(self).partitions} wide")


@irdl_op_definition
class MemsetOp(_VectorOp):
    """Vector engine: fill with the immediate ``value``."""

    name = "inf.memset"
    out = operand_def(SbufType)
    out_ap = prop_def(AccessPatternAttr)
    value = prop_def(FloatAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$out $out_ap attr-dict `:` type($out)"

    def __init__(self, out: SSAValue, out_ap: AccessPatternAttr, value: float):
        super().__init__(operands=[out], properties={"out_ap": out_ap, "value": FloatAttr(float(value), f32)})

    def accesses(self) -> Iterator[Access]:
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        _no_int32_write(self, self.out)


@irdl_op_definition
class SelectOp(_VectorOp):
    """Vector engine: ``out = pred != 0 ? on_true : out``. The record has three operand
    slots, so ``out`` holds ``on_false`` beforehand (copy it there first, e.g. with a
    "bypass"); the engine reads three tensors (pred, on_true, out) and costs 3N + 64.
    Values move unconverted: ``on_true`` and ``out`` have one dtype (i32 allowed)."""

    name = "inf.select"
    out = operand_def(SbufType)
    pred = operand_def(SbufType | PsumType)
    on_true = operand_def(SbufType | PsumType)
    out_ap = prop_def(AccessPatternAttr)
    pred_ap = prop_def(AccessPatternAttr)
    on_true_ap = prop_def(AccessPatternAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$out $out_ap `,` $pred $pred_ap `,` $on_true $on_true_ap attr-dict `:` type($out) `,` type($pred)"
        " `,` type($on_true)"
    )

    def __init__(self, out: SSAValue, out_ap: AccessPatternAttr, pred: SSAValue, pred_ap: AccessPatternAttr,
                 on_true: SSAValue, on_true_ap: AccessPatternAttr):
        super().__init__(
            operands=[out, pred, on_true],
            properties={"out_ap": out_ap, "pred_ap": pred_ap, "on_true_ap": on_true_ap},
        )

    def accesses(self) -> Iterator[Access]:
        yield Access(self.pred, _ap(self.pred_ap), False)
        yield Access(self.on_true, _ap(self.on_true_ap), False)
        yield Access(self.out, _ap(self.out_ap), False)  # on_false
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        _same_shape(self, _ap(self.out_ap), _ap(self.pred_ap), "out and pred differ")
        _same_shape(self, _ap(self.out_ap), _ap(self.on_true_ap), "out and on_true differ")
        if _dtype(self.on_true) != _dtype(self.out):
            raise VerifyException(
                f"'inf.select' on_true is {_dtype(self.on_true).short} but out is {_dtype(self.out).short}: "
                "a select moves values, it does not convert"
            )


@irdl_op_definition
class DmaGatherOp(InstructionOp):
    """DMA queue: partition p of ``dst`` <- row ``index[p]`` of ``table`` (an indirect DMA,
    e.g. an embedding lookup). ``table_ap`` spans the whole table: ``n`` = its rows,
    ``pstride`` = elements between rows, ``off`` + ``dims`` = the columns taken of each row.
    ``index`` is an i32 SBUF tile read one element per partition; an index outside
    [0, n) is a fault at run time (nothing is read)."""

    name = "inf.dma_gather"
    ENGINE: ClassVar[Engine] = Engine.DMA
    dst = operand_def(SbufType)
    table = operand_def(DramType)
    index = operand_def(SbufType)
    dst_ap = prop_def(AccessPatternAttr)
    table_ap = prop_def(AccessPatternAttr)
    index_ap = prop_def(AccessPatternAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$dst $dst_ap `,` $table $table_ap `index` $index $index_ap attr-dict `:` type($dst) `,` type($table)"
        " `,` type($index)"
    )

    def __init__(self, dst: SSAValue, dst_ap: AccessPatternAttr, table: SSAValue, table_ap: AccessPatternAttr,
                 index: SSAValue, index_ap: AccessPatternAttr):
        super().__init__(
            operands=[dst, table, index],
            properties={"dst_ap": dst_ap, "table_ap": table_ap, "index_ap": index_ap},
        )

    def accesses(self) -> Iterator[Access]:
        yield Access(self.index, _ap(self.index_ap), False)
        yield Access(self.table, _ap(self.table_ap), False)  # every row it may read
        yield Access(self.dst, _ap(self.dst_ap), True)

    def verify_instruction(self) -> None:
        d, t, i = _ap(self.dst_ap), _ap(self.table_ap), _ap(self.index_ap)
        if _dtype(self.index) != DType.INT32:
            raise VerifyException(f"'inf.dma_gather' index tile must be i32, got {_dtype(self.index).short}")
        if _dtype(self.dst) != _dtype(self.table):
            raise VerifyException("'inf.dma_gather' copies between buffers of the same dtype")
        if i.partitions != d.partitions or i.elements_per_partition != 1:
            raise VerifyException(
                f"'inf.dma_gather' index must be [{d.partitions}, 1] (one per destination partition), "
                f"got [{i.partitions}, {i.elements_per_partition}]"
            )
        if t.elements_per_partition != d.elements_per_partition:
            raise VerifyException(
                f"'inf.dma_gather' takes {t.elements_per_partition} elements of each row into "
                f"{d.elements_per_partition} per partition"
            )
        if t.partitions > 1 and t.partition_stride < 1:
            raise VerifyException("'inf.dma_gather' table rows need a positive pstride")


ENGINE_NAMES = tuple(e.value for e in EngineName)


class _SemaphoreOp(IRDLOperation):
    def engine_of(self) -> Engine:
        return self.engine_name.isa  # type: ignore[attr-defined]

    def _verify_common(self) -> None:
        s = self.sem.value.data
        semaphores = target_of(self).semaphores_per_core
        if not 0 <= s < semaphores:
            raise VerifyException(f"'{self.name}' semaphore {s} out of range: a core has {semaphores}")


@irdl_op_definition
class SemSignalOp(_SemaphoreOp):
    """``engine`` increments semaphore ``sem`` once all its earlier work is complete."""

    name = "inf.sem_signal"
    engine_name = prop_def(EngineAttr, prop_name="engine")
    sem = prop_def(IntegerAttr[I64])
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$engine $sem attr-dict"

    def __init__(self, engine: Engine | str, sem: int):
        super().__init__(properties={"engine": engine_attr(engine), "sem": IntegerAttr(sem, i64)})

    def verify_(self) -> None:
        self._verify_common()


@irdl_op_definition
class SemWaitOp(_SemaphoreOp):
    """``engine`` blocks until semaphore ``sem`` reaches ``value`` (affine in the loop
    indices; on trips where it is <= 0 the wait does not block and encodes as 0)."""

    name = "inf.sem_wait"
    engine_name = prop_def(EngineAttr, prop_name="engine")
    sem = prop_def(IntegerAttr[I64])
    value = prop_def(AffineExprAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$engine $sem `,` $value attr-dict"

    def __init__(self, engine: Engine | str, sem: int, value: AffineExpr | int):
        super().__init__(
            properties={
                "engine": engine_attr(engine),
                "sem": IntegerAttr(sem, i64),
                "value": AffineExprAttr(AffineExpr.of(value)),
            }
        )

    def verify_(self) -> None:
        self._verify_common()
        trips = _enclosing_trips(self)
        v = self.value.data
        if v.depth > len(trips):
            raise VerifyException(f"'inf.sem_wait' value refers to d{v.depth - 1} outside its loops")
        if v.bounds(trips)[1] < 1:
            # a value <= 0 on some trips is fine (it does not block there: the
            # first trip of a loop-carried wait); one that never blocks is a bug
            raise VerifyException("'inf.sem_wait' value is < 1 on every trip: it never blocks")


Inferentia = Dialect(
    "inf",
    [
        CoreOp,
        LoopOp,
        DramOp,
        AllocOp,
        DmaOp,
        DmaSendOp,
        LoadStationaryOp,
        MatmulOp,
        ActivationOp,
        TensorTensorOp,
        TensorScalarOp,
        ReduceOp,
        TransposeOp,
        MemsetOp,
        SelectOp,
        DmaGatherOp,
        SemSignalOp,
        SemWaitOp,
    ],
    [AccessPatternAttr, AffineExprAttr, ActFuncAttr, AluOpAttr, EngineAttr, DramType, SbufType, PsumType],
)


def engine_of(op: Operation) -> Engine | None:
    """The engine whose stream executes ``op``, or None for structure ops."""
    if isinstance(op, InstructionOp):
        return op.ENGINE
    if isinstance(op, SemSignalOp | SemWaitOp):
        return op.engine_of()
    return None


def float_prop(op: Operation, name: str, default: float) -> float:
    """Value of an optional FloatAttr property."""
    attr = op.properties.get(name)
    return default if attr is None else float(attr.value.data)
