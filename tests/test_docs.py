"""specs/diagnostics.md documents every code, and its examples do what they say."""

from __future__ import annotations

import re

import pytest

from dcmrules.compiler import CODES, compile_rules
from tests.conftest import REPO

DOC = (REPO / "specs" / "diagnostics.md").read_text()
SECTIONS = dict(re.findall(r"^## (DR\d{3}) [a-z-]+.*?\n(.*?)(?=^## |\Z)", DOC, flags=re.S | re.M))
BLOCKS = re.compile(r"```rules\n(.*?)```", re.S)


def test_every_code_is_documented_and_every_documented_code_exists():
    headings = re.findall(r"^## (DR\d{3}) ([a-z-]+)", DOC, flags=re.M)
    assert headings == [(c.id, c.name) for c in CODES]


@pytest.mark.parametrize("code", sorted(SECTIONS))
def test_example_triggers_the_code_and_fix_does_not(code):
    blocks = BLOCKS.findall(SECTIONS[code])
    if code == "DR002":
        assert blocks == []
        return
    example, fix = blocks
    assert code in {d.code.id for d in compile_rules(example, path="example.rules").diagnostics}
    assert compile_rules(fix, path="fix.rules").diagnostics == ()


def test_readme_quickstart_lint_output_is_what_lint_prints(tmp_path, monkeypatch, capsys):
    from dcmrules.runtime.cli import main

    readme = (REPO / "README.md").read_text()
    rules = readme.split("`site.rules`:\n\n```\n")[1].split("```")[0]
    expected = readme.split("`dcmrules lint site.rules`:\n\n```\n")[1].split("```")[0]
    (tmp_path / "site.rules").write_text(rules)
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "site.rules"]) == 1
    assert capsys.readouterr().out == expected
