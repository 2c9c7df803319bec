"""The whole shared corpus through `run`: transfer syntax and pixel data kept, malformed files fail cleanly."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from pydicom import dcmread
from pydicom.uid import UID

from dcmrules.runtime.files import sniff
from dcmrules.runtime.read import read_full
from dcmrules.runtime.run import run_plan
from dcmrules.runtime.write import complete_file_meta, encoded_bytes
from dcmrules.specs import resource
from tests.runtime_support import KEY, write_rules

MALFORMED = {
    "dicognito-0.19.0/bad.dcm": "no data set",
    "pydicom-3.0.2/MR_truncated.dcm": "truncated",
    "pydicom-3.0.2/rtplan_truncated.dcm": "truncated",
    "pydicom-data-1.0.0/emri_small_jpeg_2k_lossless_too_short.dcm": "truncated",
}
NOT_DICOM = {"pydicom-3.0.2/no_meta.dcm", "pydicom-3.0.2/zipMR.gz"}
DICOMDIR = "pydicom-3.0.2/dicomdirtests/DICOMDIR"


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    from tests.conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not beside the checkout ({CORPUS})")
    work = tmp_path_factory.mktemp("corpus")
    loaded = write_rules(work, resource("examples", "deidentify.rules").read_text())
    report = run_plan(loaded.plan, [CORPUS], work / "out", jobs=2, key=KEY, tables=loaded.tables)
    return CORPUS, work / "out", {str(__import__("pathlib").Path(f.input).relative_to(CORPUS)): f for f in report.files}


def _manifest(corpus):
    with open(corpus / "MANIFEST.tsv", newline="") as fp:
        return {row["file"]: row for row in csv.DictReader(fp, delimiter="\t")}


@pytest.mark.slow
def test_every_readable_file_is_written_and_the_malformed_ones_fail_with_a_reason(corpus_run):
    corpus, _out, outcomes = corpus_run
    manifest = _manifest(corpus)
    for name in manifest:
        outcome = outcomes[name]
        if name in MALFORMED:
            assert outcome.status == "failed" and MALFORMED[name] in outcome.reason, (name, outcome)
        elif name in NOT_DICOM:
            assert outcome.status == "skipped" and "not a DICOM file" in outcome.reason
        elif name == DICOMDIR:
            assert outcome.status == "skipped" and "DICOMDIR" in outcome.reason
        else:
            assert outcome.status == "written", (name, outcome.reason)
    assert all(o.status == "skipped" for n, o in outcomes.items() if n not in manifest)  # licences, notes


@pytest.mark.slow
def test_transfer_syntax_and_pixel_data_are_kept(corpus_run):
    corpus, out, outcomes = corpus_run
    for name, outcome in outcomes.items():
        if outcome.status != "written":
            continue
        before = dcmread(corpus / name, force=True)
        after = dcmread(out / name)  # readable without force, file meta or not in the input
        syntax = before.file_meta.get("TransferSyntaxUID")
        if syntax is not None:
            assert after.file_meta.TransferSyntaxUID == syntax, name
        else:
            written = UID(after.file_meta.TransferSyntaxUID)
            assert (written.is_implicit_VR, written.is_little_endian) == before.original_encoding, name
        assert after.original_encoding == before.original_encoding, name
        for tag in (0x7FE00010, 0x7FE00008, 0x7FE00009):
            assert (tag in before) == (tag in after), name
            if tag in before:
                assert before[tag].value == after[tag].value, f"{name}: pixel data changed"


@pytest.mark.slow
def test_the_corpus_itself_is_untouched(corpus_run):
    corpus, _out, _outcomes = corpus_run
    for name, row in _manifest(corpus).items():
        assert hashlib.sha256((corpus / name).read_bytes()).hexdigest() == row["sha256"], name


@pytest.mark.slow
def test_copying_unchanged_elements_equals_what_pydicom_writes(corpus):
    """The writer copies untouched elements from the input; the result is pydicom's own encoding."""
    identical = 0
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and sniff(p)):
        try:
            plain, spliced = read_full(path, sniff(path)), read_full(path, sniff(path))
        except Exception:
            continue
        built = complete_file_meta(plain.ds)
        complete_file_meta(spliced.ds)
        by_pydicom = encoded_bytes(plain.ds, built)
        copied = encoded_bytes(spliced.ds, built, spliced, frozenset())
        if by_pydicom == copied:
            identical += 1
        else:  # pydicom re-encodes what it parsed (a UN sequence): same data set, original bytes kept
            assert dcmread(io.BytesIO(copied), force=True) == dcmread(io.BytesIO(by_pydicom), force=True), path
    assert identical >= 90
