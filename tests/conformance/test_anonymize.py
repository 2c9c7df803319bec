"""Orthanc's /anonymize against `profile basic EDITION` + the import's PatientID/PatientName statements.

With DicomVersion 2021b both sides apply the same table; the differences left are the documented ones (D is a
dummy, nested PHI is handled, the pseudonyms, the markers). Orthanc 1.10.1 also offers 2017c and 2008, which
dcmrules does not ship: those cases compare only the elements on which Orthanc's 2017c (or 2008) output and its
2021b output agree, the subset where the edition makes no difference.
"""

from __future__ import annotations

import dataclasses

import pytest

from compare import flatten, uids_of
from harness import orthanc_side, read, run_case
from known import reasons, unexplained
from studies import study_files

pytestmark = pytest.mark.conformance
PROFILE = {"dummy-not-empty", "patient-id-pseudonym", "patient-name-pseudonym", "deidentification-markers",
           "nested-phi-removed", "overlays-removed", "empty-uid-stays-empty"}
CORPUS_FILES = [
    "pydicom-3.0.2/CT_small.dcm", "pydicom-3.0.2/MR_small.dcm", "pydicom-3.0.2/rtplan.dcm",
    "pydicom-3.0.2/JPEG2000.dcm", "pydicom-3.0.2/reportsi.dcm", "pydicom-3.0.2/test-SR.dcm",
    "pydicom-3.0.2/liver_1frame.dcm", "pydicom-3.0.2/waveform_ecg.dcm", "pydicom-3.0.2/charset_files/chrH31.dcm",
    "pydicom-3.0.2/rtdose.dcm", "pydicom-data-1.0.0/emri_small.dcm", "pydicom-data-1.0.0/eCT_Supplemental.dcm",
    "pydicom-data-1.0.0/MR-SIEMENS-DICOM-WithOverlays.dcm", "dicognito-0.19.0/global_patient_id_implicit_vr.dcm",
    "pydicom-3.0.2/examples_ybr_color.dcm", "dicognito-0.19.0/CT_small_deflated.dcm",
]


def _single(corpus, name: str) -> dict[str, bytes]:
    return {name.rsplit("/", 1)[-1]: (corpus / name).read_bytes()}


def test_anonymize_study(server, tmp_path):
    case = run_case(server, tmp_path, study_files(), "study", {}, anonymize=True)
    assert set(case.ours.outputs) == set(case.theirs.outputs) == {"A1.dcm", "A2.dcm", "A3.dcm", "B1.dcm"}
    assert not unexplained(case), "\n".join(unexplained(case))
    assert reasons(case) == PROFILE - {"overlays-removed", "empty-uid-stays-empty"}


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_anonymize_corpus_2021b(server, tmp_path, corpus, name):
    case = run_case(server, tmp_path, _single(corpus, name), "study", {"DicomVersion": "2021b"}, anonymize=True)
    assert not case.theirs.refused and not case.ours.refused, (case.theirs.details, case.ours.details)
    assert not unexplained(case), "\n".join(unexplained(case))
    assert reasons(case) <= PROFILE


@pytest.mark.parametrize("edition", ["2017c", "2008"])
@pytest.mark.parametrize("name", CORPUS_FILES[:6])
def test_anonymize_corpus_older_editions(server, tmp_path, corpus, name, edition):
    """dcmrules runs 2021b for Orthanc's 2017c and 2008; on the elements where the edition does not change
    Orthanc's own output, the two agree up to the documented differences."""
    files = _single(corpus, name)
    case = run_case(server, tmp_path, files, "study", {"DicomVersion": edition}, anonymize=True)
    assert "profile basic 2021b" in case.translation.text
    newer = orthanc_side(server, files, "study", {"DicomVersion": "2021b"}, anonymize=True)
    originals = uids_of(read(data) for data in files.values())
    old, new = flatten(case.theirs.outputs, originals, set()), flatten(newer.outputs, originals, set())
    shared = [d for d in case.diffs if old[d.file].get(d.path) == new[d.file].get(d.path)]
    outside = [d for d in case.diffs if d not in shared]
    assert not unexplained(dataclasses.replace(case, diffs=tuple(shared)))
    if edition == "2008" and name.endswith("CT_small.dcm"):
        assert outside, "2008 keeps StudyDate where 2021b empties it: the edition must make a difference"


CUSTOM = [
    ("keep-and-path-remove", {"Keep": ["StudyDescription", "ReferencedImageSequence"],
                              "Remove": ["SourceImageSequence[0].ReferencedSOPClassUID"],
                              "Replace": {"ImageComments": "kept comment"}}),
    ("keep-private-tags", {"KeepPrivateTags": True}),
    ("replace-patient-name", {"Replace": {"PatientName": "RESEARCH^SUBJECT"}}),
    ("remove-a-kept-tag", {"Remove": ["InstanceNumber"]}),
]


@pytest.mark.parametrize("body", [c[1] for c in CUSTOM], ids=[c[0] for c in CUSTOM])
def test_anonymize_customised(server, tmp_path, body):
    case = run_case(server, tmp_path, study_files(), "study", body, anonymize=True)
    assert not case.theirs.refused and not case.ours.refused, (case.theirs.details, case.ours.details)
    assert not unexplained(case), "\n".join(unexplained(case))
    assert reasons(case) <= PROFILE
    if "Keep" in body:  # the kept sequence is verbatim on both sides, original UIDs included
        for side in (case.theirs, case.ours):
            assert side.outputs["A2.dcm"].ReferencedImageSequence == case.inputs["A2.dcm"].ReferencedImageSequence


def test_anonymize_keeps_one_private_element(server, tmp_path):
    case = run_case(server, tmp_path, {"A1.dcm": study_files()["A1.dcm"]}, "study", {"Keep": ["0009,1001"]},
                    anonymize=True)
    assert not unexplained(case), "\n".join(unexplained(case))
    assert "kept-private-creator" in reasons(case)
    ours, theirs = case.ours.outputs["A1.dcm"], case.theirs.outputs["A1.dcm"]
    assert 0x00091001 in theirs and 0x00090010 not in theirs
    assert ours[0x00090010].value == "ACME 1.0" and ours[0x00091001].value == "top secret"
