"""A file's own statements next to `profile basic`: a rules file and a pydicom data set in, what is left of the PHI out.

Regression tests for two leaks the Orthanc conformance suite found (tests/conformance/test_anonymize.py,
keep-and-path-remove) while compiler/expand.py dropped more of the profile than the file overrode.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmrules.compiler import compile_rules
from dcmrules.runtime.apply import Context, apply_plan, prepare


def _dataset() -> Dataset:
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.ImageComments = "DOE^JANE", "PAT-1", "comment"
    item = Dataset()
    item.PatientName, item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = "DOE^JANE", "1.2.3", "1.2.3.4"
    ds.ReferencedSeriesSequence = Sequence([item])
    ds.ReferencedImageSequence = Sequence([Dataset()])
    ds.ReferencedImageSequence[0].ReferencedSOPClassUID = "1.2.3"
    ds.private_block(0x0009, "ACME 1.0", create=True).add_new(0x01, "LO", "private secret")
    return ds


def _apply(rules: str) -> Dataset:
    result = compile_rules(rules)
    assert result.plan is not None, [d.message for d in result.errors]
    ds = _dataset()
    apply_plan(prepare(result.plan), ds, Context(key=b"test key"))
    return ds


def test_a_path_statement_keeps_the_profiles_private_removal():
    """A file statement that is not a plain element (here a path) must not take `remove private` out of the
    profile (it once did: every profile rule without a plain element was dropped with it)."""
    ds = _apply("profile basic 2021b\nremove ReferencedImageSequence[0].ReferencedSOPClassUID\n")
    assert 0x00091001 not in ds and 0x00090010 not in ds


def test_a_top_level_override_keeps_nested_copies_deidentified():
    """A file statement on the top-level PatientName decides that element only: the profile's `**.PatientName`
    still reaches the nested copies (language spec section 5; Orthanc leaves them, see nested-phi-removed)."""
    ds = _apply("profile basic 2021b\n@patient replace PatientName with \"RESEARCH^SUBJECT\"\n")
    assert ds.PatientName == "RESEARCH^SUBJECT"
    assert ds.ReferencedSeriesSequence[0].PatientName != "DOE^JANE"


def test_a_file_remove_beats_the_profiles_replace_on_the_same_element():
    ds = _apply("profile basic 2021b\n@patient remove PatientName\n")
    assert "PatientName" not in ds and ds.ReferencedSeriesSequence[0].PatientName != "DOE^JANE"
