"""Each deliberate difference of specs/orthanc-differences.md, shown: Orthanc does X, dcmrules does Y.

The test names are the difference ids (test_references_remapped for `references-remapped`, ...); a test that
needs no Orthanc checks that the document, known.py and these tests list the same ids.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from dcmrules.compiler import check_plan, compile_rules
from dcmrules.runtime.errors import PlanError
from dcmrules.runtime.orthanc import translate
from dcmrules.runtime.run import run_plan
from harness import dcmrules_side, orthanc_side, run_case
from known import ELEMENT_DIFFERENCES, OUTCOME_DIFFERENCES, reasons
from studies import A1, study_files

DOCUMENT = Path(__file__).resolve().parents[2] / "specs" / "orthanc-differences.md"
conformance = pytest.mark.conformance


def _one(name: str = "A1.dcm") -> dict[str, bytes]:
    return {name: study_files()[name]}


def test_every_difference_is_documented_and_asserted():
    documented = set(re.findall(r"^### `([a-z0-9-]+)`", DOCUMENT.read_text(encoding="utf-8"), re.MULTILINE))
    known = set(ELEMENT_DIFFERENCES) | set(OUTCOME_DIFFERENCES)
    tested = {name[len("test_"):].replace("_", "-") for name in globals() if name.startswith("test_")}
    assert documented == known
    assert known <= tested, f"no test for {sorted(known - tested)}"


@conformance
def test_references_remapped(server, tmp_path):
    case = run_case(server, tmp_path, study_files(), "study", {"Replace": {"StudyDescription": "x"}})
    theirs, ours = case.theirs.outputs["A2.dcm"], case.ours.outputs["A2.dcm"]
    assert theirs.ReferencedImageSequence[0].ReferencedSOPInstanceUID == A1  # points at nothing Orthanc wrote
    assert ours.ReferencedImageSequence[0].ReferencedSOPInstanceUID == case.ours.outputs["A1.dcm"].SOPInstanceUID
    nested = case.ours.outputs["A1.dcm"].ReferencedSeriesSequence[0]
    assert nested.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == case.ours.outputs["B1.dcm"].SOPInstanceUID
    assert reasons(case) == {"references-remapped"}


@conformance
def test_dummy_not_empty(server, tmp_path):
    case = run_case(server, tmp_path, _one(), "study", {}, anonymize=True)
    assert case.theirs.outputs["A1.dcm"].ContentDate == ""
    assert case.ours.outputs["A1.dcm"].ContentDate == "19000101"
    assert "dummy-not-empty" in reasons(case)


@conformance
def test_nested_phi_removed(server, tmp_path):
    case = run_case(server, tmp_path, _one(), "study", {}, anonymize=True)
    assert case.theirs.outputs["A1.dcm"].ReferencedSeriesSequence[0].PatientName == "DOE^JANE"
    assert case.ours.outputs["A1.dcm"].ReferencedSeriesSequence[0].PatientName != "DOE^JANE"
    assert "nested-phi-removed" in reasons(case)


@conformance
def test_patient_id_pseudonym(server, tmp_path):
    case = run_case(server, tmp_path, _one(), "study", {}, anonymize=True)
    assert re.fullmatch(r"[0-9a-f-]{36}", case.theirs.outputs["A1.dcm"].PatientID)
    again = dcmrules_side(case.translation.text, _one(), tmp_path / "again")
    other = dcmrules_side(case.translation.text, _one(), tmp_path / "other", key=b"another key")
    ours = case.ours.outputs["A1.dcm"].PatientID
    assert re.fullmatch(r"[A-Z0-9]{16}", ours) and ours != "PAT-1"
    assert again.outputs["A1.dcm"].PatientID == ours != other.outputs["A1.dcm"].PatientID


@conformance
def test_patient_name_pseudonym(server, tmp_path):
    case = run_case(server, tmp_path, _one(), "study", {}, anonymize=True)
    assert re.fullmatch(r"Anonymized\d+", str(case.theirs.outputs["A1.dcm"].PatientName))
    ours = case.ours.outputs["A1.dcm"]
    assert ours.PatientName == ours.PatientID
    assert "patient-name-pseudonym" in reasons(case)


@conformance
@pytest.mark.parametrize("body", [{}, {"Replace": {"ImageComments": "x"}}], ids=["plain", "customised"])
def test_deidentification_markers(server, tmp_path, body):
    case = run_case(server, tmp_path, _one(), "study", body, anonymize=True)
    theirs, ours = case.theirs.outputs["A1.dcm"], case.ours.outputs["A1.dcm"]
    if body:  # Orthanc 1.10.1 deletes its marker as soon as the request is customised
        assert "DeidentificationMethod" not in theirs
    else:
        assert theirs.DeidentificationMethod == "Orthanc 1.10.1 - PS 3.15-2021b Table E.1-1 Basic Profile"
    assert "DeidentificationMethodCodeSequence" not in theirs and theirs.PatientIdentityRemoved == "YES"
    assert "dcmrules" in str(ours.DeidentificationMethod) and ours.PatientIdentityRemoved == "YES"
    assert [item.CodeValue for item in ours.DeidentificationMethodCodeSequence] == ["113100"]


@conformance
def test_private_vr_kept(server, tmp_path):
    case = run_case(server, tmp_path, _one(), "instance", {"Replace": {"0009,1001": "changed"},
                                                          "PrivateCreator": "ACME 1.0"})
    assert case.theirs.outputs["A1.dcm"][0x00091001].VR == "UN"
    assert (case.ours.outputs["A1.dcm"][0x00091001].VR, case.ours.outputs["A1.dcm"][0x00091001].value) == (
        "LO", "changed")
    assert reasons(case) == {"private-vr-kept"}


@conformance
def test_kept_private_creator(server, tmp_path):
    case = run_case(server, tmp_path, _one(), "instance", {"RemovePrivateTags": True, "Keep": ["0009,1002"]})
    assert 0x00090010 not in case.theirs.outputs["A1.dcm"] and 0x00091002 in case.theirs.outputs["A1.dcm"]
    assert case.ours.outputs["A1.dcm"][0x00090010].value == "ACME 1.0"
    assert "kept-private-creator" in reasons(case)


@conformance
def test_nested_private_removed(server, tmp_path):
    case = run_case(server, tmp_path, _one(), "instance", {"RemovePrivateTags": True})
    assert case.theirs.outputs["A1.dcm"].ReferencedSeriesSequence[0][0x00291010].value == "nested secret"
    assert 0x00291010 not in case.ours.outputs["A1.dcm"].ReferencedSeriesSequence[0]
    assert reasons(case) == {"nested-private-removed"}


@conformance
def test_private_not_inserted(server, tmp_path):
    case = run_case(server, tmp_path, _one(), "instance", {"Replace": {"0009,1003": "added"},
                                                          "PrivateCreator": "ACME 1.0"})
    assert case.theirs.outputs["A1.dcm"][0x00091003].VR == "UN"
    assert 0x00091003 not in case.ours.outputs["A1.dcm"]
    assert reasons(case) == {"private-not-inserted"}


@conformance
def test_consistent_across_calls(server, tmp_path):
    files = study_files()
    series_a = {name: data for name, data in files.items() if name.startswith("A")}
    first = orthanc_side(server, series_a, "series", {}, anonymize=True)
    second = orthanc_side(server, {"B1.dcm": files["B1.dcm"]}, "series", {}, anonymize=True)
    assert first.outputs["A1.dcm"].StudyInstanceUID != second.outputs["B1.dcm"].StudyInstanceUID
    assert first.outputs["A1.dcm"].PatientID != second.outputs["B1.dcm"].PatientID
    rules = translate({}, "series", anonymize=True).text
    ours_a = dcmrules_side(rules, series_a, tmp_path / "a").outputs["A1.dcm"]
    ours_b = dcmrules_side(rules, {"B1.dcm": files["B1.dcm"]}, tmp_path / "b").outputs["B1.dcm"]
    assert ours_a.StudyInstanceUID == ours_b.StudyInstanceUID and ours_a.PatientID == ours_b.PatientID
    # and A1's reference to B1, written in another run, resolves
    assert ours_a.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == \
        ours_b.SOPInstanceUID


@conformance
def test_overlays_removed(server, tmp_path, corpus):
    name = "MR-SIEMENS-DICOM-WithOverlays.dcm"
    files = {name: (corpus / "pydicom-data-1.0.0" / name).read_bytes()}
    case = run_case(server, tmp_path, files, "study", {}, anonymize=True)
    assert 0x60003000 in case.theirs.outputs[name] and 0x60003000 not in case.ours.outputs[name]
    assert "overlays-removed" in reasons(case)


@conformance
def test_empty_uid_stays_empty(server, tmp_path, corpus):
    name = "emri_small.dcm"
    files = {name: (corpus / "pydicom-data-1.0.0" / name).read_bytes()}
    case = run_case(server, tmp_path, files, "study", {}, anonymize=True)
    assert case.inputs[name].InstanceCreatorUID == ""
    assert case.theirs.outputs[name].InstanceCreatorUID != "" and case.ours.outputs[name].InstanceCreatorUID == ""
    assert "empty-uid-stays-empty" in reasons(case)


@conformance
def test_no_merge_by_constant(server, tmp_path):
    case = run_case(server, tmp_path, study_files(), "study", {"Replace": {"SeriesInstanceUID": "1.2.3.6"},
                                                               "Force": True})
    assert not case.theirs.refused
    assert {str(ds.SeriesInstanceUID) for ds in case.theirs.outputs.values()} == {"1.2.3.6"}  # CT and MR merged
    assert case.ours.refused and case.ours.codes == {"DR206"}


@conformance
def test_upward_edit_needs_force(server, tmp_path):
    body = {"Replace": {"PatientSex": "O"}}
    case = run_case(server, tmp_path, study_files(), "study", body)
    assert not case.theirs.refused  # Orthanc 1.10.1: the patient now has two sexes, silently
    assert case.ours.refused and case.ours.codes == {"DR201"}
    forced = run_case(server, tmp_path / "forced", study_files(), "study", {**body, "Force": True})
    assert "DR202" in forced.ours.codes and reasons(forced) == {"references-remapped"}


@conformance
def test_patient_level_without_patient_edits(server, tmp_path):
    body = {"Replace": {"StudyDescription": "x"}, "Force": True}
    case = run_case(server, tmp_path, study_files(), "patient", body)
    assert case.theirs.details == "When modifying a patient, her PatientID is required to be modified"
    assert not case.ours.refused
    assert any("DR208" in note.message for note in case.translation.notes)


@conformance
def test_keep_patient_id_when_anonymizing(server, tmp_path):
    case = run_case(server, tmp_path, _one(), "study", {"Keep": ["PatientID"], "Force": True}, anonymize=True)
    assert case.theirs.details == "When modifying a patient, her PatientID is required to be modified"
    assert not case.ours.refused and case.ours.outputs["A1.dcm"].PatientID == "PAT-1"


@conformance
def test_level_rules_static(server, tmp_path):
    body = {"Replace": {"StudyInstanceUID": "1.2.3.7"}, "Force": True}
    case = run_case(server, tmp_path, study_files(), "series", body)
    assert case.theirs.details == "When modifying a series, the parent StudyInstanceUID cannot be manually modified"
    assert case.ours.refused and case.ours.codes == {"DR203"}
    plan = compile_rules("@study @force replace StudyInstanceUID with uid()\n"
                         "@series @force replace SeriesInstanceUID with uid()\n"
                         "@force replace SOPInstanceUID with uid()\n", path=str(tmp_path / "x.rules")).plan
    edited = copy.deepcopy(plan)
    edited["operations"][0]["level"] = "series"  # a hand-edited plan cannot bypass the rule
    assert any("DR203" in problem for problem in check_plan(edited))
    with pytest.raises(PlanError):
        run_plan(edited, [tmp_path], tmp_path / "out", key=b"k")
    assert not (tmp_path / "out").exists()


@conformance
def test_keep_shields_subtree(server, tmp_path):
    body = {"Keep": ["ReferencedImageSequence"], "Remove": ["ReferencedImageSequence[0].ReferencedSOPInstanceUID"]}
    case = run_case(server, tmp_path, _one("A3.dcm"), "instance", body)
    assert "ReferencedSOPInstanceUID" not in case.theirs.outputs["A3.dcm"].ReferencedImageSequence[0]
    assert case.ours.outputs["A3.dcm"].ReferencedImageSequence[0].ReferencedSOPInstanceUID == A1
    assert any("kept" in note.message for note in case.translation.notes)


@conformance
def test_numbers_as_values(server, tmp_path):
    refused = orthanc_side(server, _one(), "instance", {"Replace": {"InstanceNumber": 77}})
    assert refused.details == "Bad Parameter type for tag 0020,0013"
    translation = translate({"Replace": {"InstanceNumber": 77}}, "instance")
    assert '"77"' in translation.text and translation.errors
    assert compile_rules("replace InstanceNumber with 77\n").plan is not None  # the language takes numbers
    case = run_case(server, tmp_path, _one(), "instance", {"Replace": {"InstanceNumber": "77"}})
    assert case.theirs.outputs["A1.dcm"].InstanceNumber == case.ours.outputs["A1.dcm"].InstanceNumber == 77


@conformance
def test_nearest_edition(server, tmp_path, corpus):
    name = "CT_small.dcm"
    files = {name: (corpus / "pydicom-3.0.2" / name).read_bytes()}
    case = run_case(server, tmp_path, files, "study", {"DicomVersion": "2008"}, anonymize=True)
    assert "profile basic 2021b" in case.translation.text
    assert any("nearest" in note.message for note in case.translation.notes)
    assert case.theirs.outputs[name].StudyDate == case.inputs[name].StudyDate  # 2008 has no Z: dates stay
    assert case.ours.outputs[name].StudyDate == ""  # 2021b empties it


@conformance
def test_instance_route_anonymizes_each_call_apart(server, tmp_path):
    """Not a difference of ours: Orthanc's /instances/{id}/anonymize gives each instance its own patient."""
    theirs = orthanc_side(server, {k: v for k, v in study_files().items() if k in ("A1.dcm", "B1.dcm")},
                          "instance", {}, anonymize=True)
    assert theirs.outputs["A1.dcm"].PatientID != theirs.outputs["B1.dcm"].PatientID
    assert theirs.outputs["A1.dcm"].ReferencedSeriesSequence[0].ReferencedInstanceSequence[0] \
        .ReferencedSOPInstanceUID != theirs.outputs["B1.dcm"].SOPInstanceUID
