"""A file's own statements next to `profile basic`: a rules file and a pydicom data set in, what is left of the PHI out.

Found by the Orthanc conformance suite (tests/conformance/test_anonymize.py, keep-and-path-remove): these fail
while compiler/expand.py drops more of the profile than the file overrides.
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
    """Bug: any file statement that is not a plain element (a path, `private ...`) makes expand() drop
    every profile rule whose target is not a plain element, `remove private` included: private data survives.
    Fix (compiler/expand.py, expand): leave None out of `decided`, e.g.
    `decided = {e for e in map(_decided_element, program.rules) if e is not None} | {r.target.key() ...}`."""
    ds = _apply("profile basic 2021b\nremove ReferencedImageSequence[0].ReferencedSOPClassUID\n")
    assert 0x00091001 not in ds and 0x00090010 not in ds


def test_a_top_level_override_keeps_nested_copies_deidentified():
    """Bug: a file statement on the top-level PatientName takes `**.PatientName` out of the profile at every
    depth, so a PatientName nested in a sequence keeps the real name (the very gap Orthanc has, language spec
    section 5: "Profiles apply at every sequence depth"). Fix: drop a profile rule only for a file statement on
    the same target (or a `**.`/keep statement on its element); let the runtime decide per element, with the
    file's operation beating the profile's on the same element whatever the action (apply.Operation.rank:
    origin before action)."""
    ds = _apply("profile basic 2021b\n@patient replace PatientName with \"RESEARCH^SUBJECT\"\n")
    assert ds.PatientName == "RESEARCH^SUBJECT"
    assert ds.ReferencedSeriesSequence[0].PatientName != "DOE^JANE"
