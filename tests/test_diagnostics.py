"""Every bad-rules fixture produces exactly the diagnostics its `# expect:` markers name, line by line."""

from __future__ import annotations

import pytest

from dcmrules.compiler import CODES, compile_rules
from tests.conftest import TESTS
from tests.fixtures import cases, expectations, files

BAD = files(TESTS / "bad", "*.rules")


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_rules_report_exactly_their_markers(path):
    found = set()
    for case in cases(path.read_text()):
        result = compile_rules(case, path=str(path))
        found |= {(d.span.line, d.code.id) for d in result.diagnostics}
        assert (result.plan is None) == any(d.is_error for d in result.diagnostics)
    assert found == expectations(path.read_text())


def test_every_code_is_exercised_by_a_fixture():
    covered = {code for path in BAD for _, code in expectations(path.read_text())}
    covered.add("DR002")  # needs more lines than a fixture should hold: test_too_many_syntax_errors
    assert covered == {c.id for c in CODES}


def test_too_many_syntax_errors():
    result = compile_rules("remove\n" * 60)
    assert [d.code.id for d in result.diagnostics].count("DR001") == 50
    assert result.diagnostics[-1].code.id == "DR002"


def test_three_mistakes_print_three_diagnostics_at_their_lines():
    text = 'remove PatientsName\n\n@study replace StudyDate with "2020-01-01"\nremove\n'
    result = compile_rules(text)
    assert [(d.span.line, d.code.id) for d in result.diagnostics] == [(1, "DR101"), (3, "DR401"), (4, "DR001")]


def test_every_diagnostic_has_help_and_a_span_inside_the_text():
    for path in BAD:
        lines = path.read_text().split("\n")
        for d in (d for case in cases(path.read_text()) for d in compile_rules(case, path=str(path)).diagnostics):
            assert d.help, d
            assert 1 <= d.span.line <= len(lines), d
            assert 1 <= d.span.column <= len(lines[d.span.line - 1]) + 1, d


@pytest.mark.parametrize("text, line, column", [
    ("remove", 1, 7),                         # end of file right after the statement word
    ("remove ImageComments\nreplace ImageType with", 2, 23),      # end of file after `with`
    ("@patient {\n  remove PatientName\n", 2, 21),  # unclosed block: at the last token
    ("remove # comment\n", 1, 7),             # the comment is not code: just after `remove`
])
def test_end_of_input_positions(text, line, column):
    first = compile_rules(text).diagnostics[0]
    assert (first.code.id, first.span.line, first.span.column) == ("DR001", line, column)


def test_syntax_messages_use_words_not_terminal_names():
    for text in ("remove", "replace X 1", "delete X", "keep (0010,0010", "replace X with hash(1"):
        for d in compile_rules(text).diagnostics:
            assert not any(raw in d.message for raw in ("_NL", "$END", "NAME", "LPAR", "__ANON")), d.message


def test_did_you_mean():
    cases = {"remove PatientsName": "PatientName", "@studdy remove X": "@study", "delete X": "remove",
             "replace ImageComments with hsah()": "hash", "profile basic\noption retain-uid": "retain-uids"}
    for text, guess in cases.items():
        assert any(guess in d.help for d in compile_rules(text).diagnostics), text
