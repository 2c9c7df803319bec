"""`dcmrules run|explain|verify|demo`: exit codes 0/1/2, clear messages, no tracebacks for user mistakes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from dcmrules.runtime.cli import MATH_THREADS, main
from dcmrules.runtime.load import read_plan
from tests.runtime_support import KEY, make_set, write_rules


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    work = tmp_path_factory.mktemp("cli")
    make_set(work / "input")
    write_rules(work)
    (work / "key").write_bytes(KEY + b"\n")
    return work


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_run_succeeds_then_verify_passes(setup, tmp_path, capsys):
    code, out, _ = _run(capsys, "run", setup / "plan.rules", setup / "input", "-o", tmp_path / "out",
                        "--key-file", setup / "key", "--jobs", "2", "--report", tmp_path / "r.json")
    assert code == 0 and "28 written (28 files)" in out and (tmp_path / "r.json").is_file()
    code, out, _ = _run(capsys, "verify", setup / "plan.rules", tmp_path / "out", "--source", setup / "input",
                        "--key-file", setup / "key")
    assert code == 0 and "28 files checked, no problems" in out


def test_run_exits_1_when_a_file_fails(setup, tmp_path, capsys):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    data = next((setup / "input").rglob("IM0001.dcm")).read_bytes()
    (mixed / "ok.dcm").write_bytes(data)
    (mixed / "cut.dcm").write_bytes(data[:-50])
    code, out, err = _run(capsys, "run", setup / "plan.rules", mixed, "-o", tmp_path / "out",
                          "--key-file", setup / "key")
    assert code == 1 and "1 written, 1 failed (2 files)" in out
    assert "failed: " in err and "cut.dcm: truncated" in err


@pytest.mark.parametrize("case, message", [
    ("no key", "no key was given"),
    ("missing input", "no such file or folder"),
    ("output inside input", "inside the input folder"),
    ("bad rules", "does not compile"),
    ("bad plan", "is not a valid plan"),
    ("missing plan", "no such rules or plan file"),
    ("empty key file", "the key file is empty"),
])
def test_run_usage_errors_exit_2_before_touching_anything(setup, tmp_path, capsys, monkeypatch, case, message):
    monkeypatch.delenv("DCMRULES_KEY", raising=False)
    (tmp_path / "bad.rules").write_text('replace PatientNam with "x"\n')
    (tmp_path / "bad.json").write_text('{"format_version": "9.0"}\n')
    (tmp_path / "empty.key").write_bytes(b"\n")
    plan, inputs, out, key = setup / "plan.rules", setup / "input", tmp_path / "out", ["--key-file", setup / "key"]
    if case == "no key":
        key = []
    elif case == "missing input":
        inputs = tmp_path / "nothing"
    elif case == "output inside input":
        out = inputs / "out"
    elif case == "bad rules":
        plan = tmp_path / "bad.rules"
    elif case == "bad plan":
        plan = tmp_path / "bad.json"
    elif case == "missing plan":
        plan = tmp_path / "nothing.rules"
    else:
        key = ["--key-file", tmp_path / "empty.key"]
    code, _out, err = _run(capsys, "run", plan, inputs, "-o", out, *key)
    assert code == 2 and message in err and err.startswith("dcmrules run: error: ")
    assert not out.exists()


def test_the_key_can_come_from_the_environment(setup, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DCMRULES_KEY", KEY.decode())
    code, _, _ = _run(capsys, "run", setup / "plan.rules", setup / "input", "-o", tmp_path / "env", "--dry-run")
    assert code == 0 and not (tmp_path / "env").exists()


def test_verify_exit_codes(setup, tmp_path, capsys):
    _run(capsys, "run", setup / "plan.rules", setup / "input", "-o", tmp_path / "out", "--key-file", setup / "key")
    image = next((tmp_path / "out").rglob("IM0001.dcm"))
    other = write_rules(tmp_path, 'replace ImageComments with "x"\n', "other.rules")
    code, out, _ = _run(capsys, "verify", other.path, tmp_path / "out")
    assert code == 1 and "(0020,4000) ImageComments: absent although the plan sets it to 'x'" in out
    assert str(image) in out
    code, _, err = _run(capsys, "verify", setup / "plan.rules", tmp_path / "nowhere")
    assert code == 2 and "no such output folder" in err


def test_explain_prints_each_decided_element(setup, capsys):
    image = next((setup / "input").rglob("IM0001.dcm"))
    code, out, _ = _run(capsys, "explain", setup / "plan.rules", image, "--key-file", setup / "key")
    assert code == 0 and "(0010,0010) PatientName" in out and "plan.rules:3" in out
    code, out, _ = _run(capsys, "explain", setup / "plan.rules", image, "--format", "json", "--key-file", setup / "key")
    assert code == 0 and out.lstrip().startswith("{")
    code, _, err = _run(capsys, "explain", setup / "plan.rules", setup / "plan.rules", "--key-file", setup / "key")
    assert code == 2 and "not a DICOM file" in err


def test_demo_runs_with_no_arguments(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code, out, _ = _run(capsys, "demo")
    assert code == 0
    assert "42 written (42 files)" in out and "no problems" in out
    assert "StudyInstanceUID: 6 original -> 6 new, 0 original left" in out
    folder = next(tmp_path.glob("dcmrules-demo-*"))
    assert (folder / "output").is_dir() and (folder / "report.json").is_file()
    key = (folder / "demo.key").read_bytes()
    assert key.hex() not in out and repr(key) not in out


def test_demo_refuses_a_folder_in_use(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("mine")
    code, _, err = _run(capsys, "demo", "--out", tmp_path / "x")
    assert code == 2 and "not an empty folder" in err


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_the_cli_leaves_numpy_one_math_thread(setup, tmp_path):
    """pydicom imports numpy, whose BLAS pool would spin beside the workers; the CLI asks it for one thread."""
    pytest.importorskip("numpy")
    code = ("import os; from dcmrules.runtime.cli import main; main(['lint', os.environ['RULES']]); "
            "import pydicom, numpy; print(len(os.listdir('/proc/self/task')))")
    env = {k: v for k, v in os.environ.items() if k not in MATH_THREADS} | {"RULES": str(setup / "plan.rules")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split()[-1] == "1"  # numpy's import started no pool


@pytest.mark.parametrize("plan_name, absent", [("plan.rules", "jsonschema"), ("plan.json", "lark")])
def test_a_run_imports_only_what_its_plan_needs(setup, tmp_path, plan_name, absent):
    """A rules file compiled for the run is not schema-checked again (the tests check every compiled plan);
    a JSON plan is checked without the parser. Start-up time is paid on every run."""
    from dcmrules.compiler import dumps

    (setup / "plan.json").write_text(dumps(read_plan(setup / "plan.rules").plan))
    code = ("import sys; from dcmrules.runtime.cli import main; "
            f"code = main(['run', {str(setup / plan_name)!r}, {str(setup / 'input')!r}, '-o', "
            f"{str(tmp_path / 'out')!r}, '--key-file', {str(setup / 'key')!r}, '--jobs', '1']); "
            f"print(code, {absent!r} in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-2:] == ["0", "False"]
