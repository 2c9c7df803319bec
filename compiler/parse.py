"""Rules text in, a syntax tree of frozen nodes (or positioned syntax diagnostics) out; the only module that sees Lark."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from dcmrules.compiler import nodes as n
from dcmrules.compiler.diagnostics import SYNTAX_ERROR, TOO_MANY_ERRORS, Diagnostic, diagnostic
from dcmrules.compiler.source import Source, Span
from dcmrules.grammar import TERMINAL_NAMES, load_parser

MAX_SYNTAX_ERRORS = 50
STATEMENT_WORDS = ("replace", "remove", "keep", "profile", "option")
# Words people reach for from other tools, and the statement that does the job here.
SYNONYMS = {"delete": "remove", "del": "remove", "erase": "remove", "drop": "remove", "set": "replace",
            "change": "replace", "modify": "replace", "retain": "keep", "preserve": "keep"}


def token_span(token: Token) -> Span:
    return Span(token.line, token.column, token.end_line, token.end_column)


def span_of(first: Any, last: Any) -> Span:
    return _span(first).cover(_span(last))


def _span(item: Any) -> Span:
    return token_span(item) if isinstance(item, Token) else item.span


@dataclass(frozen=True)
class _Block:
    items: tuple[Any, ...]
    span: Span


@v_args(inline=True)
class _ToNodes(Transformer):  # type: ignore[type-arg]
    """Lark callbacks, run inside the parser: each grammar rule becomes a node."""

    def start(self, *items: Any) -> n.RuleFile:
        statements, profiles, options, blocks = _flatten(items, ())
        return n.RuleFile(tuple(statements), tuple(profiles), tuple(options), tuple(blocks))

    def statement(self, *parts: Any) -> Any:
        *annotations, body = parts
        notes = tuple(n.Annotation(str(a)[1:], token_span(a)) for a in annotations)
        if isinstance(body, _Block):
            return (notes, body)
        action, target, value, span = body
        start = notes[0].span if notes else span
        return n.Statement(action, target, value, notes, start.cover(span))

    def block(self, *parts: Any) -> _Block:
        *items, close = parts
        return _Block(tuple(items), token_span(close))

    def replace(self, kw: Token, target: n.Target, value: n.Value) -> tuple[Any, ...]:
        return ("replace", target, value, span_of(kw, value))

    def remove(self, kw: Token, target: n.Target) -> tuple[Any, ...]:
        return ("remove", target, None, span_of(kw, target))

    def keep(self, kw: Token, target: n.Target) -> tuple[Any, ...]:
        return ("keep", target, None, span_of(kw, target))

    def profile(self, kw: Token, name: Token, edition: Token | None = None) -> n.ProfileLine:
        last = edition if edition is not None else name
        return n.ProfileLine(str(name), token_span(name), str(edition) if edition else None,
                             token_span(edition) if edition else None, span_of(kw, last))

    def option(self, kw: Token, name: Token) -> n.OptionLine:
        return n.OptionLine(str(name), token_span(name), span_of(kw, name))

    def path(self, token: Token) -> n.PathTarget:
        return split_path(token)

    def private(self, kw: Token, creator: Token | None = None) -> n.PrivateTarget:
        text = _unquote(creator) if creator is not None else None
        return n.PrivateTarget(text, span_of(kw, creator if creator is not None else kw))

    def concat(self, *terms: n.Value) -> n.Concat:
        return n.Concat(terms, span_of(terms[0], terms[-1]))

    def text(self, token: Token) -> n.Text:
        return n.Text(_unquote(token), token_span(token))

    def number(self, token: Token) -> n.Number:
        return n.Number(str(token), token_span(token))

    def name(self, token: Token) -> n.Name:
        return n.Name(str(token), token_span(token))

    def tag_value(self, token: Token) -> n.TagValue:
        return n.TagValue(str(token), token_span(token))

    def call(self, name: Token, *rest: Any) -> n.Call:
        *arguments, close = rest
        args = tuple(a if isinstance(a, n.Argument) else n.Argument(None, a, a.span) for a in arguments)
        return n.Call(str(name), token_span(name), args, span_of(name, close))

    def keyword_argument(self, name: Token, value: n.Value) -> n.Argument:
        return n.Argument(str(name), value, span_of(name, value))


def _flatten(items: Any, inherited: tuple[n.Annotation, ...]) -> tuple[list[Any], ...]:
    """Statements with their blocks' annotations prepended; profile and option lines apart."""
    statements: list[n.Statement] = []
    profiles: list[n.ProfileLine] = []
    options: list[n.OptionLine] = []
    blocks: list[tuple[n.Annotation, ...]] = []
    for item in items:
        if isinstance(item, n.Statement):
            statements.append(n.Statement(item.action, item.target, item.value, inherited + item.annotations,
                                          item.span) if inherited else item)
        elif isinstance(item, n.ProfileLine):
            profiles.append(item)
        elif isinstance(item, n.OptionLine):
            options.append(item)
        else:
            notes, block = item
            blocks.append(notes)
            inner = _flatten(block.items, inherited + notes)
            for bucket, more in zip((statements, profiles, options, blocks), inner):
                bucket.extend(more)
    return statements, profiles, options, blocks


# One step of a PATH token (the grammar's PATH is these steps joined by dots, after an optional `**.`).
_STEP = re.compile(r'([A-Za-z_][A-Za-z0-9_]*|\((?:"[^"\n]*"|[^()"\n])*\))(\[[^\]\n]*\])?')


def split_path(token: Token) -> n.PathTarget:
    """The steps of a PATH token, each with its own span (a path never spans lines)."""
    text, line, column = str(token), token.line, token.column
    any_depth = text.startswith("**.")
    position, steps = (3 if any_depth else 0), []
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:  # the lexer only accepts well-formed paths
            raise AssertionError(f"PATH token {text!r} does not split at {position}")
        name, index = match.group(1), match.group(2)
        kind = n.KeywordElement if name[0] != "(" else n.TagElement
        start = column + position
        element = kind(name, Span(line, start, line, start + len(name)))
        span = Span(line, start, line, column + match.end())
        steps.append(n.Step(element, _index(index) if index else None, span))
        position = match.end() + 1  # the dot
    return n.PathTarget(tuple(steps), any_depth, token_span(token))


def _unquote(token: Token) -> str:
    body = str(token)[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


def _index(text: str) -> n.Index | str:
    inner = text[1:-1].strip()
    if inner == "*":
        return "*"
    if inner.isdigit():
        return int(inner)
    return text  # kept as written; resolve reports it as a malformed path


# ---- syntax errors -------------------------------------------------------------


@cache
def _parser() -> Lark:
    return load_parser(transformer=_ToNodes())


def parse(source: Source) -> tuple[n.RuleFile | None, list[Diagnostic]]:
    """Parse a whole file; on a syntax error, report it, blank that line and parse again (up to a limit)."""
    parser = _parser()
    text = source.text
    problems: list[Diagnostic] = []
    seen: set[int] = set()
    while True:
        try:
            return parser.parse(text), problems
        except UnexpectedInput as error:
            problem = describe(error, source)
            line = problem.span.line
            if line in seen or len(problems) >= MAX_SYNTAX_ERRORS:
                if len(problems) >= MAX_SYNTAX_ERRORS:
                    problems.append(diagnostic(TOO_MANY_ERRORS, f"stopped after {MAX_SYNTAX_ERRORS} syntax errors",
                                               problem.span, "fix these first, then lint again"))
                return None, problems
            seen.add(line)
            problems.append(problem)
            text = _blank_line(text, line)


def _blank_line(text: str, line: int) -> str:
    """The same text with one line's characters replaced by spaces (positions elsewhere unchanged)."""
    lines = text.split("\n")
    if 1 <= line <= len(lines):
        lines[line - 1] = " " * len(lines[line - 1].rstrip("\r"))
    return "\n".join(lines)


def describe(error: UnexpectedInput, source: Source) -> Diagnostic:
    """A syntax error in words: what was found, what could come there, and a hint."""
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        token = error.token
        span = token_span(token) if token.type != "_NL" else _eol_span(source, token.line)
        found = _describe_token(token)
        message = f"unexpected {found}; expected {_expected(error.expected)}"
        return diagnostic(SYNTAX_ERROR, message, span, _hint(token, error.expected))
    if isinstance(error, UnexpectedCharacters):
        span = Span(error.line, error.column, error.line, error.column + 1)
        char = source.text[error.pos_in_stream] if error.pos_in_stream < len(source.text) else ""
        return diagnostic(SYNTAX_ERROR, f"unexpected character {char!r}; expected {_expected(error.allowed)}",
                          span, "check for a missing quote, parenthesis or bracket")
    expected = error.expected if isinstance(error, (UnexpectedToken, UnexpectedEOF)) else set()
    return diagnostic(SYNTAX_ERROR, f"unexpected end of file; expected {_expected(expected)}",
                      _eof_span(source), "the last statement or block is incomplete (a missing `}`?)")


def _eol_span(source: Source, line: int) -> Span:
    """Just after the last token of a line (a trailing comment is not code)."""
    text, quoted = source.line_text(line), False
    for i, ch in enumerate(text):
        quoted = quoted != (ch == '"')
        if ch == "#" and not quoted:
            text = text[:i]
            break
    column = len(text.rstrip()) + 1
    return Span(line, column, line, column + 1)


def _eof_span(source: Source) -> Span:
    text = source.text.rstrip()
    line, column = source.position(len(text))
    return Span(line, column, line, column + 1)


def _describe_token(token: Token) -> str:
    if token.type == "_NL":
        return "end of line"
    kind = TERMINAL_NAMES.get(token.type, token.type)
    return f"`{token}` ({kind})" if not kind.startswith("`") else f"`{token}`"


def _expected(names: Any) -> str:
    words = sorted({TERMINAL_NAMES.get(name, name) for name in names if name != "COMMENT"})
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _hint(token: Token, expected: Any) -> str:
    word = str(token).lower()
    if {"REPLACE", "REMOVE", "KEEP"} & set(expected) and token.type in ("NAME", "WORD"):
        guess = SYNONYMS.get(word) or next(iter(difflib.get_close_matches(word, STATEMENT_WORDS, 1)), None)
        if guess:
            return f"did you mean `{guess}`?"
        return "a statement starts with replace, remove or keep (after optional annotations)"
    if "WITH" in expected:
        return "write `replace TARGET with VALUE`"
    if token.type == "_NL" and "CLOSE_PAREN" in expected:
        return "close the call with `)`"
    return "one statement per line: [annotations] replace|remove|keep TARGET [with VALUE]"
