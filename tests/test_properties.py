"""Property tests: the compiler is total on any text, spans stay inside it, and output is deterministic."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcmrules.compiler import compile_rules, dumps

WORDS = ["replace", "remove", "keep", "with", "@patient", "@study", "@series", "@instance", "@force", "{", "}",
         "PatientName", "PatientID", "StudyInstanceUID", "(0010,0010)", '(0009,"ACME",10)', "(50xx,xxxx)",
         "private", '"ACME"', "**.", "Seq[0].", "[*]", '"text"', "42", "-1.5", "empty", "dummy", "uid()",
         "hash(8)", "shift(days=-3)", "lookup(", ")", "+", ",", "=", "profile", "basic", "option", "#", "\n", " "]

statement_soup = st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join)
any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)


def assert_spans_inside(text: str) -> None:
    lines = text.split("\n")
    for d in compile_rules(text).diagnostics:
        assert 1 <= d.span.line <= len(lines), (d, text)
        assert 1 <= d.span.column <= len(lines[d.span.line - 1]) + 1, (d, text)
        assert (d.span.end_line, d.span.end_column) > (d.span.line, d.span.column)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_any_text_compiles_to_a_result_with_spans_inside(text):
    assert_spans_inside(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statement_soup)
def test_near_miss_statements_compile_to_a_result_with_spans_inside(text):
    assert_spans_inside(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([
    '@study replace StudyDescription with "Research"', "remove ImageComments", "keep private",
    "@patient @force replace PatientID with hash()", '@series replace SeriesDescription with "S"',
    "replace ReferencedImageSequence[*].ReferencedSOPInstanceUID with uid()", "remove **.ContentCreatorName",
]), unique=True))
def test_compiling_twice_gives_identical_bytes(lines):
    text = "\n".join(lines)
    first, second = compile_rules(text), compile_rules(text)
    assert first.diagnostics == second.diagnostics
    if first.plan is not None:
        assert dumps(first.plan) == dumps(second.plan)
