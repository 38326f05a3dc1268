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
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    FloatAttr,
    IntAttr,
    IntegerAttr,
    StringAttr,
    i64,
)
from xdsl.ir import (
    Attribute,
    Data,
    Dialect,
    Operation,
    ParametrizedAttribute,
    Region,
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
from xdsl.traits import HasParent, NoTerminator
from xdsl.utils.exceptions import VerifyException

from kaena.isa import DType, Engine
from kaena.target import INF1

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
                f"{self.name} element type must be f32, bf16 or f16, got {self.element_type}"
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
        if shape[0] > INF1.partitions:
            raise VerifyException(
                f"{self.name} has {shape[0]} partitions, the core has {INF1.partitions}"
            )


@irdl_attr_definition
class SbufType(_OnChipType):
    """A tile of the State Buffer: ``!inf.sbuf<128x512xbf16>`` (partitions x elements)."""

    name = "inf.sbuf"

    def verify(self) -> None:
        super().verify()
        if self.bytes_per_partition > INF1.sbuf_bytes_per_partition:
            raise VerifyException(
                f"{self.name} tile needs {self.bytes_per_partition} bytes per partition, "
                f"SBUF has {INF1.sbuf_bytes_per_partition}"
            )


@irdl_attr_definition
class PsumType(_OnChipType):
    """A tile of the partial-sum buffer, FP32: ``!inf.psum<64x256xf32>``."""

    name = "inf.psum"

    def verify(self) -> None:
        super().verify()
        if self.dtype != DType.FP32:
            raise VerifyException("inf.psum tiles hold f32")
        if self.bytes_per_partition > INF1.psum_bytes_per_partition:
            raise VerifyException(
                f"inf.psum tile needs {self.bytes_per_partition} bytes per partition, "
                f"PSUM has {INF1.psum_bytes_per_partition}"
            )


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

    def __init__(self, name: str, kind: str, result_type: DramType):
        super().__init__(
            properties={"name": StringAttr(name), "kind": StringAttr(kind)},
            result_types=[result_type],
        )

    def verify_(self) -> None:
        if self.kind.data not in DRAM_KINDS:
            raise VerifyException(
                f"'inf.dram' kind must be one of {', '.join(DRAM_KINDS)}, got '{self.kind.data}'"
            )


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
        if (self.partition is None) != (self.offset is None):
            raise VerifyException("'inf.alloc' sets partition and offset together")
        if self.is_allocated:
            p, off = self.partition.value.data, self.offset.value.data
            limit = (
                INF1.sbuf_bytes_per_partition if isinstance(t, SbufType)
                else INF1.psum_bytes_per_partition
            )
            if p < 0 or p + t.partitions > INF1.partitions:
                raise VerifyException(
                    f"'inf.alloc' partitions [{p}, {p + t.partitions}) exceed the {INF1.partitions} partitions"
                )
            if p % INF1.partition_alignment:
                raise VerifyException(
                    f"'inf.alloc' partition start {p} is not a multiple of {INF1.partition_alignment}"
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


ACT_FUNCS = ("identity", "relu", "gelu", "tanh", "sigmoid", "exp", "sqrt",
             "reciprocal", "square", "rsqrt", "neg")
ALU_OPS = ("add", "sub", "mul", "max", "min", "div", "bypass")


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
        p = _ap(self.stationary_ap)
        if p.partitions > INF1.pe_rows or p.elements_per_partition > INF1.pe_columns:
            raise VerifyException(
                f"'inf.load_stationary' operand is [{p.partitions}, {p.elements_per_partition}], "
                f"the PE array takes at most [{INF1.pe_rows}, {INF1.pe_columns}]"
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
        mv, acc = _ap(self.moving_ap), _ap(self.acc_ap)
        if mv.partitions > INF1.pe_rows or mv.elements_per_partition > INF1.pe_max_moving:
            raise VerifyException(
                f"'inf.matmul' moving operand is [{mv.partitions}, {mv.elements_per_partition}], "
                f"at most [{INF1.pe_rows}, {INF1.pe_max_moving}]"
            )
        if acc.partitions > INF1.pe_columns:
            raise VerifyException(
                f"'inf.matmul' writes {acc.partitions} PSUM partitions, at most {INF1.pe_columns}"
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
    func = prop_def(StringAttr)
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

    def accesses(self) -> Iterator[Access]:
        yield Access(self.input, _ap(self.in_ap), False)
        if self.bias is not None and self.bias_ap is not None:
            yield Access(self.bias, _ap(self.bias_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        if self.func.data not in ACT_FUNCS:
            raise VerifyException(f"'inf.activation' func must be one of {', '.join(ACT_FUNCS)}")
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


def _check_alu(op: Operation, alu: StringAttr) -> None:
    if alu.data not in ALU_OPS:
        raise VerifyException(f"'{op.name}' alu must be one of {', '.join(ALU_OPS)}")


@irdl_op_definition
class TensorTensorOp(_VectorOp):
    """Vector engine: ``out = lhs <alu> rhs`` elementwise."""

    name = "inf.tensor_tensor"
    out = operand_def(SbufType)
    lhs = operand_def(SbufType | PsumType)
    rhs = operand_def(SbufType | PsumType)
    alu = prop_def(StringAttr)
    out_ap = prop_def(AccessPatternAttr)
    lhs_ap = prop_def(AccessPatternAttr)
    rhs_ap = prop_def(AccessPatternAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$alu $out $out_ap `,` $lhs $lhs_ap `,` $rhs $rhs_ap attr-dict `:` type($out) `,` type($lhs) `,` type($rhs)"
    )

    def accesses(self) -> Iterator[Access]:
        yield Access(self.lhs, _ap(self.lhs_ap), False)
        yield Access(self.rhs, _ap(self.rhs_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        _check_alu(self, self.alu)
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
    alu = prop_def(StringAttr)
    out_ap = prop_def(AccessPatternAttr)
    in_ap = prop_def(AccessPatternAttr)
    scalar_ap = opt_prop_def(AccessPatternAttr)
    imm = opt_prop_def(FloatAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$alu $out $out_ap `,` $input $in_ap (`scalar` $scalar^)? attr-dict `:` type($out) `,` type($input)"
        " (`,` type($scalar)^)?"
    )

    def accesses(self) -> Iterator[Access]:
        yield Access(self.input, _ap(self.in_ap), False)
        if self.scalar is not None and self.scalar_ap is not None:
            yield Access(self.scalar, _ap(self.scalar_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        _check_alu(self, self.alu)
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
    alu = prop_def(StringAttr)
    axes = prop_def(IntegerAttr[I64])
    out_ap = prop_def(AccessPatternAttr)
    in_ap = prop_def(AccessPatternAttr)
    scale = opt_prop_def(FloatAttr)  # default 1.0
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$alu $out $out_ap `,` $input $in_ap attr-dict `:` type($out) `,` type($input)"

    def accesses(self) -> Iterator[Access]:
        yield Access(self.input, _ap(self.in_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        if self.alu.data not in ("add", "max", "min"):
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

    def accesses(self) -> Iterator[Access]:
        yield Access(self.input, _ap(self.in_ap), False)
        yield Access(self.out, _ap(self.out_ap), True)

    def verify_instruction(self) -> None:
        i, o = _ap(self.in_ap), _ap(self.out_ap)
        if (o.partitions, o.elements_per_partition) != (i.elements_per_partition, i.partitions):
            raise VerifyException(
                f"'inf.transpose' of [{i.partitions}, {i.elements_per_partition}] must be "
                f"[{i.elements_per_partition}, {i.partitions}]"
            )
        if i.elements_per_partition > INF1.partitions:
            raise VerifyException(f"'inf.transpose' tiles are at most {INF1.partitions} wide")


@irdl_op_definition
class MemsetOp(_VectorOp):
    """Vector engine: fill with the immediate ``value``."""

    name = "inf.memset"
    out = operand_def(SbufType)
    out_ap = prop_def(AccessPatternAttr)
    value = prop_def(FloatAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$out $out_ap attr-dict `:` type($out)"

    def accesses(self) -> Iterator[Access]:
        yield Access(self.out, _ap(self.out_ap), True)


ENGINE_NAMES = tuple(e.stream_name for e in Engine)


class _SemaphoreOp(IRDLOperation):
    def engine_of(self) -> Engine:
        return Engine[self.engine_name.data.upper()]

    def _verify_common(self) -> None:
        if self.engine_name.data not in ENGINE_NAMES:
            raise VerifyException(f"'{self.name}' engine must be one of {', '.join(ENGINE_NAMES)}")
        s = self.sem.value.data
        if not 0 <= s < INF1.semaphores_per_core:
            raise VerifyException(
                f"'{self.name}' semaphore {s} out of range: a core has {INF1.semaphores_per_core}"
            )


@irdl_op_definition
class SemSignalOp(_SemaphoreOp):
    """``engine`` increments semaphore ``sem`` once all its earlier work is complete."""

    name = "inf.sem_signal"
    engine_name = prop_def(StringAttr, prop_name="engine")
    sem = prop_def(IntegerAttr[I64])
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$engine $sem attr-dict"

    def __init__(self, engine: Engine, sem: int):
        super().__init__(
            properties={"engine": StringAttr(engine.stream_name), "sem": IntegerAttr(sem, i64)}
        )

    def verify_(self) -> None:
        self._verify_common()


@irdl_op_definition
class SemWaitOp(_SemaphoreOp):
    """``engine`` blocks until semaphore ``sem`` reaches ``value`` (affine in the loop
    indices; on trips where it is <= 0 the wait does not block and encodes as 0)."""

    name = "inf.sem_wait"
    engine_name = prop_def(StringAttr, prop_name="engine")
    sem = prop_def(IntegerAttr[I64])
    value = prop_def(AffineExprAttr)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$engine $sem `,` $value attr-dict"

    def __init__(self, engine: Engine, sem: int, value: AffineExpr | int):
        super().__init__(
            properties={
                "engine": StringAttr(engine.stream_name),
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
        LoadStationaryOp,
        MatmulOp,
        ActivationOp,
        TensorTensorOp,
        TensorScalarOp,
        ReduceOp,
        TransposeOp,
        MemsetOp,
        SemSignalOp,
        SemWaitOp,
    ],
    [AccessPatternAttr, AffineExprAttr, DramType, SbufType, PsumType],
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
