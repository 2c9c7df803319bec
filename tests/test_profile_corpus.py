"""`profile basic` over the whole real corpus: what Table E.1-1 says to remove is gone and what it says
to empty, dummy or remap has changed, at every depth; and the PS3.15 markers are set."""

from __future__ import annotations

import csv
import warnings

import pydicom
import pytest
from pydicom.errors import InvalidDicomError

from dcmrules.compiler import compile_rules
from dcmrules.runtime.apply import ApplyError, Context, apply_plan, prepare
from tests.conftest import CORPUS, REPO

STANDARD = REPO.parent / "shared" / "standard"
KEY = b"corpus-test-key"
CHANGED = {"Z", "D", "U", "Z/D"}  # the table says: empty, dummy or remap -> the value must not survive


def table() -> dict[int, str]:
    """{tag: basic profile code, 2026c} from the shared extraction of PS3.15 Table E.1-1."""
    codes = {}
    for name, column in (("confidentiality-profile.tsv", "basic_profile_2026c"),
                         ("confidentiality-profile-2026c-additions.tsv", "basic_profile_2026c")):
        with (STANDARD / name).open(encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                tag = row["tag"].strip("()").replace(",", "")
                if len(tag) == 8 and "X" not in tag.upper() and not tag.startswith("0002"):
                    codes[int(tag, 16)] = row[column] or row.get("basic_profile", "")
    return codes


def walk(ds, prefix=()):
    for elem in ds:
        loc = (*prefix, elem.tag)
        yield loc, elem
        if elem.VR == "SQ" and elem.value is not None:
            for i, item in enumerate(elem.value):
                yield from walk(item, (*loc, i))


def corpus_files():
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".txt", ".tsv", ".md", ".py", ".gz")
                  and p.name not in ("LICENSE", "README", "DICOMDIR") and "LICENSE" not in p.name)


def read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path, force=True)
        except (InvalidDicomError, EOFError, ValueError, OSError, KeyError, TypeError):
            return None


@pytest.fixture(scope="module")
def prepared():
    return prepare(compile_rules("profile basic").plan)


@pytest.fixture(scope="module")
def codes():
    if not STANDARD.is_dir():
        pytest.skip("the shared standard tables are not beside the checkout")
    return table()


@pytest.mark.slow
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_basic_profile_leaves_nothing_the_table_names(path, prepared, codes):
    ds = read(path)
    if ds is None or len(ds) == 0:
        pytest.skip("pydicom cannot read this file")
    before = {loc: elem.value for loc, elem in walk(ds)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            apply_plan(prepared, ds, Context(key=KEY))
    except ApplyError as error:
        pytest.fail(f"profile basic failed on a readable file: {error}")
    after = dict(walk(ds))
    for loc, elem in after.items():
        code = codes.get(loc[-1], "")
        assert not (code.startswith("X") and code != "X/Z/U*"), f"{elem} should be removed (table: {code})"
        assert not elem.tag.is_private, f"{elem}: private elements are removed"
        if code in CHANGED and loc in before and before[loc] not in (None, "", b"") and elem.VR != "SQ":
            assert elem.value != before[loc], f"{elem} kept its value (table: {code})"
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
