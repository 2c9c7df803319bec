"""Every refusal of Orthanc's sections 3-4 (Force gate, identifier removal, level rules) against dcmrules' diagnostics.

Orthanc answers HTTP 400 (with the Details text below); the same request imported with `dcmrules import orthanc`
must not compile, and must fail with the diagnostic code that stands for Orthanc's rule.
"""

from __future__ import annotations

import pytest

from harness import run_case
from studies import study_files

pytestmark = pytest.mark.conformance


def _gate(verb: str, name: str) -> str:
    return f'Marking tag "{name}" as to be {verb} requires the "Force" option to be set to true'


REFUSALS = [
    # (id, level, body, Orthanc's Details, dcmrules' code)
    ("replace-patient-id", "patient", {"Replace": {"PatientID": "X"}}, _gate("replaced", "PatientID"), "DR204"),
    ("replace-study-uid", "study", {"Replace": {"StudyInstanceUID": "1.2.3"}}, _gate("replaced", "StudyInstanceUID"),
     "DR204"),
    ("replace-series-uid-hex", "series", {"Replace": {"0020,000e": "1.2.3"}}, _gate("replaced", "0020,000e"), "DR204"),
    ("replace-sop-uid", "instance", {"Replace": {"SOPInstanceUID": "1.2.3"}}, _gate("replaced", "SOPInstanceUID"),
     "DR204"),
    ("keep-series-uid", "instance", {"Keep": ["SeriesInstanceUID"]}, _gate("kept", "SeriesInstanceUID"), "DR204"),
    ("keep-sop-uid", "instance", {"Keep": ["SOPInstanceUID"]}, _gate("kept", "SOPInstanceUID"), "DR204"),
    ("remove-study-uid", "study", {"Remove": ["StudyInstanceUID"]}, _gate("removed", "StudyInstanceUID"), "DR205"),
    ("remove-sop-uid-force", "instance", {"Remove": ["SOPInstanceUID"], "Force": True}, "", "DR205"),
    ("remove-patient-id-force", "study", {"Remove": ["PatientID"], "Force": True}, "", "DR205"),
    ("a-patient-needs-new-id", "patient", {"Replace": {"PatientName": "X^Y"}, "Force": True},
     "When modifying a patient, her PatientID is required to be modified", "DR208"),
    ("b-study-parent-patient-id", "study", {"Replace": {"PatientID": "NEW"}, "Force": True},
     "When modifying a study, the parent PatientID cannot be manually modified", "DR203"),
    ("c-series-parent-patient-id", "series", {"Replace": {"PatientID": "NEW"}, "Force": True},
     "When modifying a series, the parent PatientID cannot be manually modified", "DR203"),
    ("d-series-parent-study-uid", "series", {"Replace": {"StudyInstanceUID": "1.2.3"}, "Force": True},
     "When modifying a series, the parent StudyInstanceUID cannot be manually modified", "DR203"),
    ("e-instance-parent-patient-id", "instance", {"Replace": {"PatientID": "NEW"}, "Force": True, "Level": "Instance"},
     "When modifying an instance, the parent PatientID cannot be manually modified", "DR203"),
    ("f-instance-parent-study-uid", "instance", {"Replace": {"StudyInstanceUID": "1.2.3"}, "Force": True,
                                                "Level": "Instance"},
     "When modifying an instance, the parent StudyInstanceUID cannot be manually modified", "DR203"),
    ("g-instance-parent-series-uid", "instance", {"Replace": {"SeriesInstanceUID": "1.2.3"}, "Force": True,
                                                 "Level": "Instance"},
     "When modifying an instance, the parent SeriesInstanceUID cannot be manually modified", "DR203"),
    ("anonymize-remove-sop-uid", "study", {"Remove": ["SOPInstanceUID"], "Force": True, "anonymize": True}, "",
     "DR205"),
    ("anonymize-replace-study-uid", "study", {"Replace": {"StudyInstanceUID": "1.2.3"}, "anonymize": True},
     _gate("replaced", "StudyInstanceUID"), "DR204"),
]


@pytest.mark.parametrize("level, body, details, code", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusal(server, tmp_path, level, body, details, code):
    body = dict(body)
    anonymize = body.pop("anonymize", False)
    case = run_case(server, tmp_path, study_files(), level, body, anonymize=anonymize)
    assert (case.theirs.status, case.theirs.details) == (400, details)
    assert case.ours.refused
    assert code in case.ours.codes, case.ours.details


def test_unknown_keyword(server, tmp_path):
    """Orthanc: 500 Unknown DICOM tag; dcmrules: DR101 with a did-you-mean."""
    case = run_case(server, tmp_path, {"A1.dcm": study_files()["A1.dcm"]}, "instance",
                    {"Remove": ["PatientsName"]})
    assert case.theirs.status == 500
    assert case.ours.refused and case.ours.codes == {"DR101"}


MALFORMED = [
    ("ReferencedImageSequence.ReferencedSOPInstanceUID", "Parent path doesn't contain an index"),
    ("ReferencedImageSequence[-1].ReferencedSOPInstanceUID", "Negative index in parent path: -1"),
    ("ReferencedImageSequence[a].ReferencedSOPInstanceUID", "Not a valid index in parent path: [a]"),
]


@pytest.mark.parametrize("path, details", MALFORMED)
def test_malformed_path(server, tmp_path, path, details):
    """Orthanc: 400 with DicomPath's message; the import repeats it, and linting the file gives DR103."""
    case = run_case(server, tmp_path, {"A3.dcm": study_files()["A3.dcm"]}, "instance", {"Remove": [path]})
    assert (case.theirs.status, case.theirs.details) == (400, details)
    assert [n.message for n in case.translation.errors] == [f'"{path}": {details} (Orthanc answers 400)']
    assert case.ours.refused and case.ours.codes == {"DR103"}


BAD_JSON = [
    ({"Replace": {"InstanceNumber": 77}}, "Bad Parameter type for tag 0020,0013", "Bad Parameter type"),
    ({"Replace": {"ImageComments": "x"}, "Force": "yes"}, 'Member "Force" should be a Boolean value',
     'Member "Force" should be a Boolean value'),
]


@pytest.mark.parametrize("body, details, note", BAD_JSON)
def test_bad_json_form(server, tmp_path, body, details, note):
    """Refusals about the JSON form: the import reports them as errors (the rules file itself is fine)."""
    case = run_case(server, tmp_path, {"A3.dcm": study_files()["A3.dcm"]}, "instance", body)
    assert (case.theirs.status, case.theirs.details) == (400, details)
    assert any(note in n.message for n in case.translation.errors)


def test_unknown_dicom_version(server, tmp_path):
    case = run_case(server, tmp_path, {"A3.dcm": study_files()["A3.dcm"]}, "instance",
                    {"DicomVersion": "2019a"}, anonymize=True)
    assert (case.theirs.status, case.theirs.details) == (400, "Unknown specific version of the DICOM standard: 2019a")
    assert case.ours.refused and case.ours.codes == {"DR109"}
