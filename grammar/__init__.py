"""The dcmrules grammar (Lark, LALR) as package data, its parser factory, and human words for its terminals."""

from __future__ import annotations

from importlib.resources import files

from lark import Lark

GRAMMAR_FILE = "dcmrules.lark"

# What each terminal is, in the words of a syntax error message ("expected ...").
# It changes together with the grammar; a test checks every terminal has an entry.
TERMINAL_NAMES: dict[str, str] = {
    "REPLACE": "`replace`",
    "REMOVE": "`remove`",
    "KEEP": "`keep`",
    "PROFILE": "`profile`",
    "OPTION": "`option`",
    "PRIVATE": "`private`",
    "WITH": "`with`",
    "PATH": "a target such as PatientName, (0010,0010) or Sequence[0].Keyword",
    "ANNOTATION": "an annotation such as @study",
    "NAME": "a DICOM keyword such as PatientName",
    "TAG": "a tag such as (0010,0010)",
    "WORD": "a name",
    "NUMBER": "a number",
    "STRING": 'a quoted string such as "text"',
    "LBRACE": "`{`",
    "CLOSE_BRACE": "`}`",
    "LPAR": "`(`",
    "CLOSE_PAREN": "`)`",
    "COMMA": "`,`",
    "PLUS": "`+`",
    "EQUAL": "`=`",
    "_NL": "the end of the line",
    "$END": "the end of the file",
}


def grammar_text() -> str:
    return (files("dcmrules.grammar") / GRAMMAR_FILE).read_text(encoding="utf-8")


def load_parser(strict: bool = False, transformer: object = None) -> Lark:
    """A new LALR parser; `transformer` callbacks run inside it, so no parse tree is built.

    Positions come from tokens (much faster than propagate_positions). Outside strict
    mode Lark's own grammar-analysis cache (a file in the temporary folder) saves the
    build time of later processes; callers keep the parser for the life of the process.
    """
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        strict=strict,
        transformer=transformer,
        maybe_placeholders=False,
        cache=not strict,
    )
