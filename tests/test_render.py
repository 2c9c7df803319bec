"""The user-visible output formats: exact text for fixtures, and the machine formats' structure."""

from __future__ import annotations

import difflib
import json

import pytest

from dcmrules.compiler import CODES, compile_rules
from dcmrules.compiler.render import RENDERERS
from dcmrules.compiler.source import Source
from tests.conftest import REPO, TESTS
from tests.fixtures import files

RENDER = files(TESTS / "render", "*.rules")


def lint(path):
    relative = path.relative_to(REPO).as_posix()
    source = Source(path.read_text(), relative)
    return compile_rules(source.text, path=relative).diagnostics, {relative: source}


@pytest.mark.parametrize("path", RENDER, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["text", "concise"])
def test_exact_output(path, fmt, update_golden):
    actual = RENDERERS[fmt](*lint(path))
    expected_path = path.with_suffix(f".{fmt}.txt")
    if update_golden or not expected_path.exists():
        expected_path.write_text(actual)
    expected = expected_path.read_text()
    assert actual == expected, "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True)))


def test_json_records_have_the_contract_fields():
    diagnostics, sources = lint(RENDER[0])
    records = json.loads(RENDERERS["json"](diagnostics, sources))
    assert len(records) == len(diagnostics) > 0
    for record in records:
        assert set(record) >= {"path", "line", "column", "end_line", "end_column", "code", "name", "severity",
                               "message", "help"}
        assert record["severity"] in ("error", "warning")
        assert (record["end_line"], record["end_column"]) > (record["line"], record["column"])


def test_sarif_is_2_1_0_with_one_rule_per_code():
    diagnostics, sources = lint(RENDER[0])
    log = json.loads(RENDERERS["sarif"](diagnostics, sources))
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [c.id for c in CODES]
    assert len(run["results"]) == len(diagnostics)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning")
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_github_annotations():
    diagnostics, sources = lint(RENDER[0])
    lines = RENDERERS["github"](diagnostics, sources).splitlines()
    assert len(lines) == len(diagnostics)
    first = diagnostics[0]
    assert lines[0].startswith(f"::error title={first.code.id} {first.code.name},file=tests/render/")
    assert f",line={first.span.line},col={first.span.column}," in lines[0]
