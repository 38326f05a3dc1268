"""Enumerated properties the dialects share: the names both tensor-level dialects use
(pad modes, reduce, compare and logical kinds) and the syntax of an enum property, printed
quoted as when it was a string (``fw.reduce "mean"``, ``ktensor.pad "reflect"``)."""

from __future__ import annotations

from enum import auto
from typing import ClassVar, TypeVar

from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum


class PadMode(StrEnum):
    CONSTANT = auto()
    EDGE = auto()
    REFLECT = auto()
    WRAP = auto()


class ReduceKind(StrEnum):
    SUM = auto()
    MEAN = auto()
    MAX = auto()
    MIN = auto()


class CompareKind(StrEnum):
    EQUAL = auto()
    LESS = auto()
    GREATER = auto()
    LESS_EQUAL = auto()
    GREATER_EQUAL = auto()


class LogicalKind(StrEnum):
    AND = auto()
    OR = auto()
    XOR = auto()


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
