"""The syntax tree of a rules file: frozen dataclasses, each carrying the span it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from dcmrules.compiler.source import Span


@dataclass(frozen=True, slots=True)
class Annotation:
    """`@study`, `@force`, ... as written (the name without the `@`)."""

    name: str
    span: Span


# -- targets -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeywordElement:
    """A DICOM keyword such as `PatientName`."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class TagElement:
    """A parenthesised tag as written: `(0010,0010)`, `(50xx,xxxx)`, `(0009,"ACME 1.0",10)`."""

    name: str  # the text as written
    span: Span


Element = Union[KeywordElement, TagElement]
Index = Union[int, Literal["*"], None]


@dataclass(frozen=True, slots=True)
class Step:
    """One element of a path, with its item index (`[0]`, `[*]`) when it is a sequence step."""

    element: Element
    index: Index
    span: Span


@dataclass(frozen=True, slots=True)
class PathTarget:
    """`A[0].B`; `any_depth` for `**.B` (the element at the top level and at any depth)."""

    steps: tuple[Step, ...]
    any_depth: bool
    span: Span


@dataclass(frozen=True, slots=True)
class PrivateTarget:
    """`private` (every private element) or `private "creator"` (one creator's block)."""

    creator: str | None
    span: Span


Target = Union[PathTarget, PrivateTarget]

# -- values ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Number:
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name in a value: `empty`, `dummy`, or a keyword read as an element reference."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class TagValue:
    """A parenthesised tag used as an element reference."""

    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Argument:
    """A call argument; `name` is set for keyword arguments (`days=-30`)."""

    name: str | None
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    name_span: Span
    arguments: tuple[Argument, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Concat:
    """`a + b + ...`"""

    parts: tuple[Value, ...]
    span: Span


Value = Union[Text, Number, Name, TagValue, Call, Concat]

# -- statements --------------------------------------------------------------------

Action = Literal["replace", "remove", "keep"]


@dataclass(frozen=True, slots=True)
class Statement:
    """One `replace`/`remove`/`keep`, with its own annotations and those of enclosing blocks."""

    action: Action
    target: Target
    value: Value | None
    annotations: tuple[Annotation, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ProfileLine:
    """`profile basic [EDITION]`."""

    name: str
    name_span: Span
    edition: str | None
    edition_span: Span | None
    span: Span


@dataclass(frozen=True, slots=True)
class OptionLine:
    """`option NAME`."""

    name: str
    name_span: Span
    span: Span


@dataclass(frozen=True, slots=True)
class RuleFile:
    statements: tuple[Statement, ...]
    profiles: tuple[ProfileLine, ...]
    options: tuple[OptionLine, ...]
    blocks: tuple[tuple[Annotation, ...], ...] = ()
