"""The command line end to end: exit codes, formats, plans written whole or not at all."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dcmrules.compiler.plan import schema_errors
from dcmrules.runtime.cli import main
from tests.conftest import REPO, TESTS

EXAMPLE = REPO / "specs" / "examples" / "deidentify.rules"
BAD = TESTS / "render" / "mistakes.rules"
WARN = TESTS / "render" / "warnings.rules"


@pytest.mark.parametrize("args, code", [
    (["lint", str(EXAMPLE)], 0),
    (["lint", str(BAD)], 1),
    (["lint", str(WARN)], 0),
    (["lint", "--strict", str(WARN)], 1),
    (["lint", str(EXAMPLE), str(BAD)], 1),
    (["lint", "no-such.rules"], 2),
    (["lint", str(TESTS)], 2),
    (["compile", str(BAD)], 1),
])
def test_exit_codes(args, code, capsys):
    assert main(args) == code


def test_usage_error_exits_2():
    out = subprocess.run([sys.executable, "-m", "dcmrules.runtime.cli", "lint", "--format", "xml", str(EXAMPLE)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_unreadable_input_is_a_message_not_a_traceback(tmp_path, capsys):
    binary = tmp_path / "x.rules"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert main(["lint", str(binary)]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "Traceback" not in err


def test_compile_writes_a_valid_plan(tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert main(["compile", str(EXAMPLE), "-o", str(out)]) == 0
    assert schema_errors(json.loads(out.read_text())) == []


def test_compile_with_errors_writes_nothing(tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert main(["compile", str(BAD), "-o", str(out)]) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert "DR101" in capsys.readouterr().err


def test_lint_json_and_concise_formats(capsys):
    main(["lint", "--format", "json", str(BAD)])
    records = json.loads(capsys.readouterr().out)
    main(["lint", "--format", "concise", str(BAD)])
    lines = capsys.readouterr().out.splitlines()
    assert len(records) == len(lines) > 0
    assert lines[0] == f"{records[0]['path']}:{records[0]['line']}:{records[0]['column']}: " \
                       f"{records[0]['severity']} {records[0]['code']} {records[0]['message']}"
