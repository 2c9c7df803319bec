"""Orthanc's /modify against `dcmrules import orthanc` + run: the same request on the same files, element by element.

Each case names the documented differences it shows (specs/orthanc-differences.md); anything else that differs
fails the test. On the synthetic study the only expected difference is that dcmrules remaps the references
between the files of the run when it regenerates their identifiers.
"""

from __future__ import annotations

import pytest

from harness import run_case
from known import reasons, unexplained
from studies import A1, A2, study_files

pytestmark = pytest.mark.conformance
REMAP = {"references-remapped"}

LEVEL_CASES = [
    # (id, level, body, expected differences)
    ("instance", "instance", {"Replace": {"ImageComments": "edited", "InstanceNumber": "7"},
                              "Remove": ["ContentDate"]}, REMAP),
    ("series", "series", {"Replace": {"SeriesDescription": "edited", "BodyPartExamined": "CHEST"},
                          "Remove": ["OperatorsName"]}, REMAP),
    ("study", "study", {"Replace": {"StudyDescription": "edited", "AccessionNumber": ""},
                        "Remove": ["ReferringPhysicianName"]}, REMAP),
    ("patient-force", "patient", {"Replace": {"PatientID": "NEW-1", "PatientName": "NEW^NAME"},
                                  "Remove": ["PatientBirthDate"], "Force": True}, REMAP),
    ("instance-force-keep-sop", "instance", {"Replace": {"ImageComments": "in place"}, "Keep": ["SOPInstanceUID"],
                                             "Force": True}, set()),
    ("series-force-uid", "series", {"Replace": {"SeriesInstanceUID": "1.2.3.5"}, "Force": True}, REMAP),
    ("study-force-uid", "study", {"Replace": {"StudyInstanceUID": "1.2.3.4"}, "Force": True}, REMAP),
    ("study-force-keep-series", "study", {"Keep": ["SeriesInstanceUID"], "Force": True}, REMAP),
    ("instance-route-detects-patient", "instance", {"Replace": {"PatientID": "NEW-2"}, "Force": True},
     REMAP | {"consistent-across-calls"}),
    ("study-upward-force", "study", {"Replace": {"PatientSex": "O"}, "Force": True}, REMAP),
]


@pytest.mark.parametrize("level, body, expected", [c[1:] for c in LEVEL_CASES], ids=[c[0] for c in LEVEL_CASES])
def test_modify_levels(server, tmp_path, level, body, expected):
    case = run_case(server, tmp_path, study_files(second_study=level == "patient"), level, body)
    assert not case.theirs.refused, case.theirs.details
    assert not case.ours.refused, case.ours.details
    assert set(case.theirs.outputs) == set(case.ours.outputs) == set(case.theirs.processed)
    assert not unexplained(case), "\n".join(unexplained(case))
    assert reasons(case) == expected


def test_patient_level_covers_every_study(server, tmp_path):
    body = {"Replace": {"PatientID": "NEW-3", "PatientName": "NEW^THREE"}, "Force": True}
    case = run_case(server, tmp_path, study_files(second_study=True), "patient", body)
    studies = {str(ds.StudyInstanceUID) for ds in case.ours.outputs.values()}
    assert set(case.ours.outputs) == {"A1.dcm", "A2.dcm", "A3.dcm", "B1.dcm", "C1.dcm"}
    assert len(studies) == 2 and len({str(ds.StudyInstanceUID) for ds in case.theirs.outputs.values()}) == 2
    assert not unexplained(case)


PATH_CASES = [
    ("index-and-star", {"Remove": ["ReferencedImageSequence[1].ReferencedSOPInstanceUID"],
                        "Replace": {"ReferencedImageSequence[*].ReferencedSOPClassUID": "1.2.840.10008.5.1.4.1.1.7"}}),
    ("missing-item-and-sequence", {"Replace": {"ReferencedImageSequence[5].ReferencedSOPInstanceUID": "1.2.3.9"},
                                   "Remove": ["ReferencedSeriesSequence[0].PatientName",
                                              "SourceImageSequence[4].ReferencedSOPInstanceUID"]}),
    ("insert-final-element", {"Replace": {"SourceImageSequence[0].ReferencedFrameNumber": "1",
                                          "ReferencedImageSequence[*].ReferencedSegmentNumber": "2"}}),
    ("hex-spellings", {"Replace": {"(0008,1140)[0].(0008,1150)": "1.2.840.10008.5.1.4.1.1.4",
                                   "0008-2112[0].00081150": "1.2.840.10008.5.1.4.1.1.4"}}),
    ("nested-identifier-needs-no-force", {"Replace": {"SourceImageSequence[0].SOPInstanceUID": "1.2.3.8"}}),
    ("remove-every-item", {"Remove": ["ReferencedImageSequence[*].ReferencedSOPClassUID"]}),
]


@pytest.mark.parametrize("body", [c[1] for c in PATH_CASES], ids=[c[0] for c in PATH_CASES])
def test_modify_paths(server, tmp_path, body):
    files = {"A3.dcm": study_files()["A3.dcm"]}  # two ReferencedImageSequence items, one SourceImageSequence item
    case = run_case(server, tmp_path, files, "instance", body)
    assert not case.theirs.refused and not case.ours.refused, (case.theirs.details, case.ours.details)
    assert case.diffs == ()


def test_modify_paths_missing_items_are_no_ops(server, tmp_path):
    files = {"A3.dcm": study_files()["A3.dcm"]}
    case = run_case(server, tmp_path, files, "instance", dict(PATH_CASES[1][1]))
    for side in (case.theirs, case.ours):
        out = side.outputs["A3.dcm"]
        assert len(out.ReferencedImageSequence) == 2 and "ReferencedSeriesSequence" not in out
        assert [str(i.ReferencedSOPInstanceUID) for i in out.ReferencedImageSequence] == [A1, A2]


PRECEDENCE_CASES = [
    # keep > replace > remove on one top-level tag, and on one path (Orthanc removes, then replaces)
    ("top-level", {"Remove": ["ImageComments", "InstanceNumber"], "Replace": {"ImageComments": "replaced",
                   "ContentDate": "20010101"}, "Keep": ["InstanceNumber", "ContentDate"]}),
    ("path", {"Remove": ["ReferencedImageSequence[0].ReferencedSOPClassUID"],
              "Replace": {"ReferencedImageSequence[0].ReferencedSOPClassUID": "1.2.840.10008.5.1.4.1.1.4"}}),
]


@pytest.mark.parametrize("body", [c[1] for c in PRECEDENCE_CASES], ids=[c[0] for c in PRECEDENCE_CASES])
def test_modify_precedence(server, tmp_path, body):
    files = {"A3.dcm": study_files()["A3.dcm"]}
    case = run_case(server, tmp_path, files, "instance", body)
    assert not case.ours.refused, case.ours.details
    assert case.diffs == ()
    assert any("Orthanc applies" in note.message for note in case.translation.notes)


def test_modify_precedence_values(server, tmp_path):
    files = {"A3.dcm": study_files()["A3.dcm"]}
    case = run_case(server, tmp_path, files, "instance", dict(PRECEDENCE_CASES[0][1]))
    for side in (case.theirs, case.ours):
        out = side.outputs["A3.dcm"]
        assert (out.ImageComments, out.InstanceNumber, out.ContentDate) == ("replaced", 3, "20200102")


PRIVATE_CASES = [
    ("replace-existing-with-creator", {"Replace": {"0009,1001": "changed"}, "PrivateCreator": "ACME 1.0"},
     {"private-vr-kept"}),
    ("replace-absent-with-creator", {"Replace": {"0009,1003": "added"}, "PrivateCreator": "ACME 1.0"},
     {"private-not-inserted"}),
    ("remove-private-keep-one", {"RemovePrivateTags": True, "Keep": ["0009,1002"]},
     {"nested-private-removed", "kept-private-creator"}),
    ("remove-one", {"Remove": ["0009,1001"]}, set()),
]


@pytest.mark.parametrize("body, expected", [c[1:] for c in PRIVATE_CASES], ids=[c[0] for c in PRIVATE_CASES])
def test_modify_private(server, tmp_path, body, expected):
    files = {"A1.dcm": study_files()["A1.dcm"]}  # block "ACME 1.0" at the top level and inside a sequence
    case = run_case(server, tmp_path, files, "instance", body)
    assert not case.theirs.refused and not case.ours.refused
    assert not unexplained(case), "\n".join(unexplained(case))
    assert reasons(case) == expected


CORPUS_FILES = [
    "pydicom-3.0.2/CT_small.dcm", "pydicom-3.0.2/MR_small_bigendian.dcm", "pydicom-3.0.2/rtplan.dcm",
    "pydicom-3.0.2/JPEG2000.dcm", "pydicom-3.0.2/reportsi.dcm", "pydicom-3.0.2/liver_1frame.dcm",
    "pydicom-3.0.2/waveform_ecg.dcm", "pydicom-3.0.2/charset_files/chrH31.dcm", "pydicom-3.0.2/rtdose.dcm",
    "pydicom-data-1.0.0/emri_small.dcm", "pydicom-data-1.0.0/MR-SIEMENS-DICOM-WithOverlays.dcm",
    "dicognito-0.19.0/CT_small_deflated.dcm", "pydicom-3.0.2/examples_ybr_color.dcm",
]
CORPUS_BODIES = [
    ("study", {"Replace": {"StudyDescription": "conformance", "AccessionNumber": ""},
               "Remove": ["ReferringPhysicianName", "StudyID"]}),
    ("instance", {"Replace": {"ImageComments": "conformance", "ReferencedImageSequence[*].ReferencedSOPClassUID":
                              "1.2.840.10008.5.1.4.1.1.4"}, "Remove": ["ContentTime"]}),
]


@pytest.mark.parametrize("name", CORPUS_FILES)
@pytest.mark.parametrize("level, body", CORPUS_BODIES, ids=[b[0] for b in CORPUS_BODIES])
def test_modify_corpus(server, tmp_path, corpus, name, level, body):
    files = {name.rsplit("/", 1)[-1]: (corpus / name).read_bytes()}
    case = run_case(server, tmp_path, files, level, body)
    assert not case.theirs.refused and not case.ours.refused, (case.theirs.details, case.ours.details)
    assert case.diffs == (), "\n".join(map(str, case.diffs))


def test_modify_corpus_series(server, tmp_path, corpus):
    """A real four-instance CT series, modified at series level."""
    folder = corpus / "pydicom-3.0.2/dicomdirtests/77654033/CT2"
    files = {path.name: path.read_bytes() for path in sorted(folder.iterdir())}
    body = {"Replace": {"SeriesDescription": "conformance"}, "Remove": ["OperatorsName"]}
    case = run_case(server, tmp_path, files, "series", body)
    assert len(case.ours.outputs) == 4
    assert case.diffs == (), "\n".join(map(str, case.diffs))
