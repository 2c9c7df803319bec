"""clean() per VR and the PS3.15 markers of a profile run, on real files."""

from __future__ import annotations

import copy

import pydicom
from pydicom.data import get_testdata_file

from dcmrules.compiler import compile_rules
from dcmrules.runtime.apply import Context, apply_plan, prepare

KEY = b"clean-test"


def run(text, name="CT_small.dcm", **edits):
    ds = pydicom.dcmread(get_testdata_file(name))
    for keyword, value in edits.items():
        setattr(ds, keyword, value)
    original = copy.deepcopy(ds)
    changes = apply_plan(prepare(compile_rules(text).plan), ds, Context(key=KEY))
    return original, ds, changes


def test_clean_masks_identifying_words_in_free_text():
    _, ds, _ = run("@study replace StudyDescription with clean()",
                   StudyDescription="Follow-up of compressedsamples, MRN 1CT1")
    assert ds.StudyDescription == "Follow-up of XXXXXXXXXXXXXXXXX, MRN XXXX"


def test_clean_shifts_dates_by_the_keyed_patient_offset_and_keeps_codes():
    original, ds, _ = run("@study replace StudyDate with clean()\n@series replace Modality with clean()\n"
                          "@study replace StudyTime with clean()")
    assert ds.StudyDate != original.StudyDate and len(ds.StudyDate) == 8
    assert ds.Modality == original.Modality and ds.StudyTime == original.StudyTime
    _, again, _ = run("@study replace StudyDate with clean()")
    assert again.StudyDate == ds.StudyDate  # same key, same patient: same offset


def test_clean_remaps_uids():
    original, ds, _ = run("@series replace FrameOfReferenceUID with clean()")
    assert ds.FrameOfReferenceUID.startswith("2.25.") and ds.FrameOfReferenceUID != original.FrameOfReferenceUID


def test_profile_run_sets_the_markers():
    _, ds, changes = run("profile basic 2021b\noption retain-device-identity")
    assert ds.PatientIdentityRemoved == "YES"
    assert list(ds.DeidentificationMethod) == ["dcmrules 0.1.0", "PS 3.15-2021b Table E.1-1 Basic Profile",
                                               "option retain-device-identity"]
    assert [i.CodeValue for i in ds.DeidentificationMethodCodeSequence] == ["113100", "113109"]
    assert ds.LongitudinalTemporalInformationModified == "REMOVED"
    assert {c.keyword for c in changes if c.origin and c.origin["file"] == "profiles/markers"} >= {
        "PatientIdentityRemoved", "DeidentificationMethod"}


def test_shifted_dates_are_marked_modified_and_the_file_wins_over_a_marker():
    _, ds, _ = run('profile basic\n@study replace StudyDate with shift(days=-7)\n'
                   '@patient replace DeidentificationMethod with "site procedure 4"')
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    assert ds.DeidentificationMethod == "site procedure 4"


def test_no_markers_without_a_profile():
    _, ds, _ = run("remove ImageComments")
    assert "PatientIdentityRemoved" not in ds
