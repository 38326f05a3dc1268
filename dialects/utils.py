"""Small helpers the dialect definitions share: shapes, i64 arrays and the syntax of
enumerated properties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, TypeVar

from xdsl.dialects.builtin import DenseArrayBase, TensorType, i64
from xdsl.ir import Attribute, SSAValue
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

Shape = tuple[int, ...]


def shape_of(value: SSAValue | Attribute) -> Shape:
    """The static shape of a tensor value or type."""
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def ints(attr: DenseArrayBase) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


_E = TypeVar("_E", bound=StrEnum)


def parse_enum_parameter(parser: AttrParser, enum_cls: type[_E], what: str) -> _E:
    """``"name"`` (or a bare ``name``) of ``enum_cls``; an unknown name is a parse
    error that lists the valid ones."""
    span = parser._current_token.span
    value = parser.parse_optional_identifier_or_str_literal()
    if value is None or value not in enum_cls.__members__.values():
        got = f", got '{value}'" if value is not None else ""
        parser.raise_error(f"{what} must be one of {', '.join(m.value for m in enum_cls)}{got}", span)
    return enum_cls(value)


def enum_by_value(enum_cls: type[_E], value: str, what: str) -> _E:
    """The member of ``enum_cls`` named ``value`` (any case); else the verifier's error,
    so a frontend reports a bad name as it reports any invalid op."""
    try:
        return enum_cls(str(value).lower())
    except ValueError:
        raise VerifyException(f"{what} must be one of {', '.join(m.value for m in enum_cls)}, "
                              f"got '{value}'") from None


class QuotedEnumSyntax:
    """Syntax of an enumerated property (mixed into an ``EnumAttribute``): the value printed
    quoted, as when the property was a ``StringAttr`` (``fw.reduce "mean"``), parsed quoted
    or bare; a name outside the enum is a parse error naming the valid ones."""

    WHAT: ClassVar[str]  # what the value is, for parse errors
    enum_type: ClassVar[type[StrEnum]]
    data: StrEnum

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string_literal(self.data.value)

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> StrEnum:
        return parse_enum_parameter(parser, cls.enum_type, cls.WHAT)
