"""The resolved program the checks read: rules with DICOM-resolved targets and values, levels and force."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from dcmrules.compiler.dictionary import IDENTIFIERS, Level, format_tag, level_of
from dcmrules.compiler.source import Span


@dataclass(frozen=True, slots=True)
class RStep:
    """One resolved path step: exactly one of tag, mask and private is set."""

    span: Span
    tag: int | None = None
    mask: str | None = None
    private: tuple[str, str, str] | None = None
    keyword: str = ""
    vr: str | None = None
    index: int | str | None = None

    def key(self) -> tuple[object, ...]:
        return (self.tag, self.mask, self.private, self.index)

    def label(self) -> str:
        if self.keyword:
            name = self.keyword
        elif self.tag is not None:
            name = format_tag(self.tag)
        elif self.mask is not None:
            name = f"({self.mask[:4]},{self.mask[4:]})"
        else:
            group, creator, element = self.private or ("", "", "")
            name = f'({group},"{creator}",{element})'
        return name + ("" if self.index is None else f"[{self.index}]")


@dataclass(frozen=True, slots=True)
class RTarget:
    """A resolved target: a path of steps (any_depth for `**.`) or a private block."""

    kind: str  # "element" | "private"
    span: Span
    steps: tuple[RStep, ...] = ()
    any_depth: bool = False
    creator: str | None = None

    @property
    def home_level(self) -> Level:
        return level_of(self.steps[0].tag) if self.steps else Level.INSTANCE

    @property
    def identifier(self) -> int | None:
        """The identifier tag when this is PatientID or an instance UID at the top level."""
        if self.kind == "element" and len(self.steps) == 1 and self.steps[0].tag in IDENTIFIERS:
            return self.steps[0].tag
        return None

    @property
    def vr(self) -> str | None:
        return self.steps[-1].vr if self.steps else None

    def key(self) -> tuple[object, ...]:
        return (self.kind, self.any_depth, self.creator, tuple(s.key() for s in self.steps))

    def label(self) -> str:
        if self.kind == "private":
            return "private" + (f' "{self.creator}"' if self.creator is not None else "")
        return ("**." if self.any_depth else "") + ".".join(s.label() for s in self.steps)


@dataclass(frozen=True, slots=True)
class Expr:
    """A resolved value expression; `kind` names it as the plan does (literal, uid, hash, ...)."""

    kind: str
    span: Span
    text: str | None = None
    tag: int | None = None
    keyword: str = ""
    input: Expr | None = None
    parts: tuple[Expr, ...] = ()
    number: int | None = None
    table: tuple[str, str] | None = None
    default: Expr | None = None

    def children(self) -> Iterator[Expr]:
        yield from self.parts
        for child in (self.input, self.default):
            if child is not None:
                yield child

    def walk(self) -> Iterator[Expr]:
        yield self
        for child in self.children():
            yield from child.walk()

    def reads(self) -> Iterator[Expr]:
        """Every element the value reads."""
        return (e for e in self.walk() if e.kind == "element")

    def is_per_original(self, own_tag: int | None) -> bool:
        """True when the result follows the target's own original value (one new value per original)."""
        if self.kind in ("uid", "hash", "lookup") and self.input is None:
            return True
        if self.kind in ("shift", "keyed_shift") or (self.kind == "element" and self.tag == own_tag):
            return True
        return any(child.is_per_original(own_tag) for child in self.children())

    def key(self) -> tuple[object, ...]:
        return (self.kind, self.text, self.tag, self.number, self.table,
                tuple(c.key() for c in self.children()))


@dataclass(frozen=True, slots=True)
class Rule:
    """One statement, resolved: action, target, value, the level it runs at and whether it is forced."""

    action: str
    target: RTarget
    value: Expr | None
    level: Level
    force: bool
    span: Span
    level_span: Span | None = None
    force_spans: tuple[Span, ...] = ()
    origin: str = "rules"
    origin_file: str | None = None  # where a profile rule comes from; None: the file being compiled

    def key(self) -> tuple[object, ...]:
        return (self.action, self.level, self.force, self.value.key() if self.value else None)


@dataclass(frozen=True)
class ProfileRequest:
    name: str
    edition: str
    options: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class Program:
    """Everything the checks look at."""

    rules: tuple[Rule, ...]
    profile: ProfileRequest | None = None
    blocks: tuple[tuple[Span, ...], ...] = field(default=())
