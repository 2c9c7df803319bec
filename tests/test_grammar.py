"""The grammar builds under Lark's strict mode and every terminal has words for error messages."""

from __future__ import annotations

from dcmrules.grammar import TERMINAL_NAMES, load_parser

IGNORED = {"COMMENT", "WS_INLINE"}


def test_grammar_builds_in_strict_mode():
    assert load_parser(strict=True) is not None  # shift/reduce conflicts or regex collisions would raise


def test_every_terminal_has_a_human_name():
    terminals = {t.name for t in load_parser(strict=True).terminals} - IGNORED
    assert terminals <= set(TERMINAL_NAMES)
    assert set(TERMINAL_NAMES) - terminals == {"$END"}


def test_keywords_are_case_insensitive_and_dicom_keywords_are_not():
    from dcmrules.compiler import compile_rules

    assert compile_rules("REMOVE ImageComments\nKeep private").diagnostics == ()
    assert compile_rules("remove imagecomments").diagnostics[0].code.id == "DR101"
