"""Every package folder is declared in pyproject.toml, so wheels and editable installs agree."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.conftest import REPO


def test_all_subpackages_are_listed():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    for dotted, folder in config["package-dir"].items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder).parts
            assert ".".join((dotted, *rel)) in listed, f"{init.parent} is not in [tool.setuptools] packages"


def test_lark_stays_in_the_parser():
    for module in (REPO / "compiler").glob("*.py"):
        if module.name != "parse.py":
            assert "lark" not in module.read_text().replace("dcmrules.lark", ""), module.name


def test_runtime_apply_does_not_import_lark():
    code = "import sys, dcmrules.runtime.apply; print('lark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr
