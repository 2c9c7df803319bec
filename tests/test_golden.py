"""Golden plans: each tests/golden/*.rules compiles to exactly its .plan.json (update with --update-golden)."""

from __future__ import annotations

import difflib
import json

import pytest

from dcmrules.compiler import compile_rules, dumps
from dcmrules.compiler.plan import schema_errors
from tests.conftest import REPO, TESTS
from tests.fixtures import files

GOLDEN = files(TESTS / "golden", "*.rules")
EXAMPLES = files(REPO / "specs" / "examples", "*.rules")


def compile_file(path):
    relative = path.relative_to(REPO).as_posix()
    return compile_rules(path.read_text(), path=relative, base_dir=path.parent)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_plan(path, update_golden):
    result = compile_file(path)
    assert result.diagnostics == (), [str(d) for d in result.diagnostics]
    actual = dumps(result.plan)
    expected_path = path.with_suffix(".plan.json")
    if update_golden or not expected_path.exists():
        expected_path.write_text(actual)
    expected = expected_path.read_text()
    assert actual == expected, "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True)))


@pytest.mark.parametrize("path", sorted(TESTS.glob("golden/*.plan.json")), ids=lambda p: p.name)
def test_golden_plans_validate_against_the_schema(path):
    assert schema_errors(json.loads(path.read_text())) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_bundled_examples_compile_without_diagnostics(path):
    result = compile_file(path)
    assert result.diagnostics == () and result.plan is not None


def test_same_source_same_bytes():
    for path in GOLDEN + EXAMPLES:
        assert dumps(compile_file(path).plan) == dumps(compile_file(path).plan)


def test_every_operation_of_the_file_points_at_its_statement():
    for path in GOLDEN:
        plan = compile_file(path).plan
        lines = path.read_text().split("\n")
        for op in (op for op in plan["operations"] if op["origin"]["kind"] == "rules"):
            origin = op["origin"]
            assert origin["file"] == path.relative_to(REPO).as_posix()
            keyword = op["action"]
            assert lines[origin["line"] - 1][origin["column"] - 1:].lstrip("@").split()[0] in (
                keyword, "force", "patient", "study", "series", "instance"), origin
