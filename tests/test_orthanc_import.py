"""`dcmrules import orthanc`: Orthanc request bodies in, rules files and their diagnostics out (no Orthanc needed).

What the imported files *do* is compared with a real Orthanc in tests/conformance/; here the translation itself:
every JSON form of Orthanc's sections 2 and 7, the implicit identifier regeneration of section 4.3, and that
each request Orthanc refuses gives the matching diagnostic when the written file is linted.
"""

from __future__ import annotations

import argparse
import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcmrules.compiler import check_rules, compile_rules
from dcmrules.runtime.orthanc import IMPORT_COMMAND, translate


def statements(text: str) -> list[str]:
    """The file's statements without their trailing `# Orthanc ...` comments."""
    return [line.split("  #")[0] for line in text.splitlines() if line and not line.startswith("#")]


def codes(text: str) -> set[str]:
    return {d.code.id for d in check_rules(text)}


def error_codes(text: str) -> set[str]:
    return {d.code.id for d in check_rules(text) if d.is_error}


# --- tags, paths and values (Orthanc reference sections 2 and 7) -------------------------------------------

@pytest.mark.parametrize("spelling", ["0008,103E", "(0008,103E)", "0008-103E", "0008103E", "0008103e", " (0008,103e) "])
def test_hex_tag_spellings(spelling):
    text = translate({"Replace": {spelling: "x"}}, "series").text
    assert statements(text)[0] == '@series replace (0008,103E) with "x"'
    plan = compile_rules(text).plan
    assert plan["operations"][0]["target"]["steps"][0]["keyword"] == "SeriesDescription"


def test_keywords_stay_keywords():
    text = translate({"Replace": {"SeriesDescription": "x"}, "Remove": ["OperatorsName"],
                      "Keep": ["BodyPartExamined"]}, "series").text
    assert statements(text)[:3] == ["@series remove OperatorsName", '@series replace SeriesDescription with "x"',
                                    "@series keep BodyPartExamined"]
    assert error_codes(text) == set()


@pytest.mark.parametrize("path, rules", [
    ("ReferencedImageSequence[0].ReferencedSOPInstanceUID", "ReferencedImageSequence[0].ReferencedSOPInstanceUID"),
    ("ReferencedImageSequence[*].ReferencedSOPClassUID", "ReferencedImageSequence[*].ReferencedSOPClassUID"),
    ("(0008,1140)[1].(0008,1155)", "(0008,1140)[1].(0008,1155)"),
    ("0008-1115[ 0 ].0008114A[*].00081155", "(0008,1115)[0].(0008,114A)[*].(0008,1155)"),
])
def test_paths(path, rules):
    text = translate({"Remove": [path]}, "instance").text
    assert statements(text)[0] == f"@instance remove {rules}"
    assert error_codes(text) == set()


def test_private_tags_with_private_creator():
    body = {"Replace": {"0009,1001": "x", "(0019,10aa)": "y", "0009,0010": "CREATOR"},
            "Remove": ["0009,1002"], "PrivateCreator": "ACME 1.0"}
    text = translate(body, "instance").text
    assert statements(text)[:4] == ["@instance remove (0009,1002)", '@instance replace (0009,"ACME 1.0",01) with "x"',
                                    '@instance replace (0019,"ACME 1.0",AA) with "y"',
                                    '@instance replace (0009,0010) with "CREATOR"']
    assert compile_rules(text).plan["operations"][1]["target"]["steps"][0]["private"] == {
        "group": "0009", "creator": "ACME 1.0", "element": "01"}


def test_private_tags_without_private_creator_stay_tags():
    assert statements(translate({"Replace": {"0009,1001": "x"}}, "instance").text)[0] == \
        '@instance replace (0009,1001) with "x"'


@pytest.mark.parametrize("value, rules", [
    ("text", '"text"'), ("", "empty"), (None, "empty"), ([], "empty"),
    ("ORIGINAL\\PRIMARY", '"ORIGINAL\\\\PRIMARY"'), ('say "hi"', '"say \\"hi\\""'),
])
def test_values(value, rules):
    translation = translate({"Replace": {"ImageComments": value}}, "instance")
    assert statements(translation.text)[0] == f"@instance replace ImageComments with {rules}"
    assert translation.errors == ()


@given(st.text(alphabet=string.printable.replace("\n", "").replace("\r", "").replace("\x0b", "")
               .replace("\x0c", ""), max_size=40))
@settings(max_examples=200, deadline=None)
def test_string_values_round_trip_through_the_compiler(value):
    """Whatever the JSON string, the literal the compiler reads back is that string (backslashes are DICOM's
    value separator and survive)."""
    text = translate({"Replace": {"ImageComments": value}}, "instance").text
    plan = compile_rules(text).plan
    assert plan is not None
    expected = {"kind": "empty"} if value == "" else {"kind": "literal", "text": value}
    assert plan["operations"][0]["value"] == expected


def test_sequence_items_cannot_be_written():
    translation = translate({"Replace": {"ContentSequence": [{"CodeValue": "1"}]}}, "instance")
    assert "# Replace \"ContentSequence\": not translated" in translation.text
    assert "replacing a sequence by new items" in translation.errors[0].message


@pytest.mark.parametrize("value, message", [
    (77, "Bad Parameter type for tag InstanceNumber"),
    (True, "Bad Parameter type for tag InstanceNumber"),
    ({"a": 1}, "Bad Parameter type for tag InstanceNumber"),
    ("data:application/octet-stream;base64,AAAA", "binary value"),
    ("two\nlines", "line break"),
])
def test_values_orthanc_or_the_language_refuse(value, message):
    translation = translate({"Replace": {"InstanceNumber": value}}, "instance")
    assert message in translation.errors[0].message
    assert "DR001" not in codes(translation.text)


@pytest.mark.parametrize("path, message", [
    ("Seq.Tag", "Parent path doesn't contain an index"),
    ("ReferencedImageSequence[-1].ReferencedSOPInstanceUID", "Negative index in parent path: -1"),
    ("ReferencedImageSequence[a].ReferencedSOPInstanceUID", "Not a valid index in parent path: [a]"),
    ("ReferencedImageSequence[0.ReferencedSOPInstanceUID", "Parent path doesn't contain the end of the index"),
    ("[0].ReferencedSOPInstanceUID", "Parent path doesn't contain a tag"),
    ("", "Empty path to DICOM tags"),
    ('Patient"Name\nremove PatientID', "Unknown DICOM tag"),
])
def test_malformed_paths(path, message):
    translation = translate({"Remove": [path]}, "instance")
    assert message in translation.errors[0].message
    assert "DR001" not in codes(translation.text)  # never an unparsable (or injected) line


def test_unknown_keyword_is_left_to_the_linter():
    text = translate({"Remove": ["PatientsName"]}, "instance").text
    assert codes(text) == {"DR101"}


# --- levels and the implicit regeneration (reference section 4.3) -------------------------------------------

STUDY, SERIES, SOP = ("@study @force replace StudyInstanceUID with uid()",
                      "@series @force replace SeriesInstanceUID with uid()",
                      "@instance @force replace SOPInstanceUID with uid()")
REGENERATED = {"patient": [STUDY, SERIES, SOP], "study": [STUDY, SERIES, SOP], "series": [SERIES, SOP],
               "instance": [SOP]}


@pytest.mark.parametrize("level", list(REGENERATED))
def test_implicit_regeneration(level):
    body = {"Replace": {"PatientID": "NEW"}, "Force": True} if level == "patient" else {}
    text = translate(body, level).text
    assert statements(text)[-len(REGENERATED[level]):] == REGENERATED[level]
    assert error_codes(text) == set()


def test_explicit_and_kept_identifiers_are_not_regenerated():
    body = {"Replace": {"StudyInstanceUID": "1.2.3"}, "Keep": ["SOPInstanceUID"], "Force": True}
    assert statements(translate(body, "study").text) == [
        '@study @force replace StudyInstanceUID with "1.2.3"', "@study @force keep SOPInstanceUID", SERIES]


@pytest.mark.parametrize("body, level", [
    ({"Replace": {"PatientID": "P"}, "Force": True}, "patient"),
    ({"Replace": {"StudyInstanceUID": "1.2.3"}, "Force": True}, "study"),
    ({"Replace": {"SeriesInstanceUID": "1.2.3"}, "Force": True}, "series"),
    ({"Replace": {"ImageComments": "x"}}, "instance"),
])
def test_instances_route_detects_the_level(body, level):
    """/instances/{id}/modify works at the level of the highest identifier it replaces (DetectModifyLevel)."""
    assert translate(body, "instance").level == level


def test_bulk_modify_level_member_is_used_as_is():
    translation = translate({"Replace": {"PatientID": "P"}, "Force": True, "Level": "Instance"}, "study")
    assert translation.level == "instance"
    assert codes(translation.text) >= {"DR203"}


def test_force_goes_on_identifiers_and_upward_edits_only():
    text = translate({"Replace": {"StudyDescription": "x", "PatientSex": "O", "StudyInstanceUID": "1.2.3"},
                      "Force": True}, "study").text
    assert statements(text)[:3] == ['@study replace StudyDescription with "x"',
                                    '@study @force replace PatientSex with "O"',
                                    '@study @force replace StudyInstanceUID with "1.2.3"']
    assert "DR210" not in codes(text)


# --- refused requests give the matching diagnostics (reference sections 3 and 4) --------------------------

REFUSED = [
    ({"Replace": {"PatientID": "X"}}, "patient", "DR204"),
    ({"Keep": ["SeriesInstanceUID"]}, "series", "DR204"),
    ({"Replace": {"0020,000d": "1.2.3"}}, "study", "DR204"),
    ({"Remove": ["StudyInstanceUID"]}, "study", "DR205"),
    ({"Remove": ["SOPInstanceUID"], "Force": True}, "instance", "DR205"),
    ({"Replace": {"PatientName": "X"}, "Force": True}, "patient", "DR208"),
    ({"Replace": {"PatientID": "X"}, "Force": True}, "study", "DR203"),
    ({"Replace": {"PatientID": "X"}, "Force": True}, "series", "DR203"),
    ({"Replace": {"StudyInstanceUID": "1.2.3"}, "Force": True}, "series", "DR203"),
    ({"Replace": {"SeriesInstanceUID": "1.2.3"}, "Force": True, "Level": "Instance"}, "instance", "DR203"),
    ({"Replace": {"SeriesInstanceUID": "1.2.3"}, "Force": True}, "study", "DR206"),
    ({"Replace": {"PatientSex": "O"}}, "study", "DR201"),
]


@pytest.mark.parametrize("body, level, code", REFUSED)
def test_refused_requests_give_diagnostics(body, level, code):
    assert code in error_codes(translate(body, level).text)


def test_patient_level_without_patient_id_warns():
    translation = translate({"Replace": {"StudyDescription": "x"}}, "patient")
    assert error_codes(translation.text) == set()
    assert "PatientID is required to be modified" in translation.notes[0].message


# --- precedence, private options, anonymization ----------------------------------------------------------

def test_precedence_keep_replace_remove():
    translation = translate({"Remove": ["ImageComments", "InstanceNumber"], "Replace": {"ImageComments": "r"},
                             "Keep": ["InstanceNumber"]}, "instance")
    assert statements(translation.text)[:2] == ['@instance replace ImageComments with "r"',
                                                "@instance keep InstanceNumber"]
    assert {n.severity for n in translation.notes} == {"warning"}
    assert error_codes(translation.text) == set()


def test_keep_of_a_path_in_modify_is_left_out():
    translation = translate({"Keep": ["ReferencedImageSequence[0].ReferencedSOPInstanceUID"]}, "instance")
    assert "no effect in /modify" in translation.text and translation.notes


def test_remove_private_tags():
    assert statements(translate({"RemovePrivateTags": True}, "series").text)[0] == "@series remove private"


def test_anonymize():
    text = translate({}, "study", anonymize=True).text
    assert statements(text) == ["profile basic 2021b", "@patient @force replace **.PatientID with hash()",
                                "@patient replace **.PatientName with hash(PatientID)"]
    assert codes(text) == set()


def test_anonymize_customised():
    body = {"DicomVersion": "2023b", "KeepPrivateTags": True, "Keep": ["StudyDescription", "ReferencedImageSequence"],
            "Remove": ["ImageComments"], "Replace": {"PatientName": "SUBJECT"}}
    translation = translate(body, "series", anonymize=True)
    assert statements(translation.text) == [
        "profile basic 2023b", "keep private", "@patient remove **.ImageComments",
        '@patient replace PatientName with "SUBJECT"', "@patient keep **.StudyDescription",
        "@patient keep ReferencedImageSequence", "@patient @force replace **.PatientID with hash()"]
    assert translation.level == "patient" and error_codes(translation.text) == set()


@pytest.mark.parametrize("version, edition, code", [("2008", "2021b", None), ("2017c", "2021b", None),
                                                    ("2021b", "2021b", None), ("2019a", "2019a", "DR109")])
def test_dicom_versions(version, edition, code):
    text = translate({"DicomVersion": version}, "study", anonymize=True).text
    assert f"profile basic {edition}" in statements(text)
    assert error_codes(text) == ({code} if code else set())


def test_unknown_members_warn_and_job_options_do_not():
    translation = translate({"Frobnicate": 1, "KeepSource": False, "Synchronous": True, "Priority": 3}, "study")
    assert [n.message for n in translation.notes] == ['member "Frobnicate" is ignored by Orthanc']


def test_body_must_be_an_object():
    with pytest.raises(ValueError, match="Bad file format"):
        translate(["Replace"], "study")


KEYS = st.one_of(st.sampled_from(["PatientName", "0010,0010", "ReferencedImageSequence[*].ReferencedSOPInstanceUID",
                                  "SOPInstanceUID", "0009,1001"]), st.text(max_size=12))
VALUES = st.one_of(st.none(), st.text(max_size=12), st.integers(), st.lists(st.dictionaries(st.text(max_size=3),
                                                                                            st.text(max_size=3))))


@given(st.fixed_dictionaries({}, optional={"Replace": st.dictionaries(KEYS, VALUES, max_size=4),
                                           "Remove": st.lists(KEYS, max_size=3), "Keep": st.lists(KEYS, max_size=3),
                                           "Force": st.booleans(), "PrivateCreator": st.text(max_size=8)}),
       st.sampled_from(["patient", "study", "series", "instance"]), st.booleans())
@settings(max_examples=150, deadline=None)
def test_any_body_gives_a_parsable_file(body, level, anonymize):
    """Whatever the keys and values, each line of the file is a statement, a comment or blank: no line break or
    quote in a request can break the file or inject a statement."""
    text = translate(body, level, anonymize=anonymize).text
    assert not {"DR001", "DR002"} & codes(text)
    written = len(statements(text))
    expected_max = len(body.get("Replace", {})) + len(body.get("Remove", [])) + len(body.get("Keep", [])) + 6
    assert written <= expected_max


# --- the command -------------------------------------------------------------------------------------------

def _run(argv: list[str]) -> int:
    name, _help, configure, handler = IMPORT_COMMAND
    parser = argparse.ArgumentParser(prog=f"dcmrules {name}")
    configure(parser)
    return handler(parser.parse_args(argv))


def test_command_writes_the_file(tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"Replace": {"StudyDescription": "x"}}))
    out = tmp_path / "out.rules"
    assert _run(["orthanc", str(body), "--level", "study", "-o", str(out)]) == 0
    assert '@study replace StudyDescription with "x"' in out.read_text()
    assert compile_rules(out.read_text()).plan is not None


def test_command_refused_request_writes_and_exits_1(tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"Replace": {"PatientID": "X"}, "Force": True}))
    out = tmp_path / "out.rules"
    assert _run(["orthanc", str(body), "--level", "series", "-o", str(out)]) == 1
    assert out.exists()
    assert "error[DR203]" in capsys.readouterr().err


def test_command_prints_to_stdout_and_reports_notes(tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"Replace": {"InstanceNumber": 7}}))
    assert _run(["orthanc", str(body), "--level", "instance"]) == 1
    captured = capsys.readouterr()
    assert 'replace InstanceNumber with "7"' in captured.out
    assert "error: Bad Parameter type for tag InstanceNumber" in captured.err


@pytest.mark.parametrize("content, message", [("{not json", "Expecting"), ("[1]", "Bad file format")])
def test_command_unreadable_body_exits_2(tmp_path, capsys, content, message):
    body = tmp_path / "body.json"
    body.write_text(content)
    assert _run(["orthanc", str(body), "--level", "study"]) == 2
    assert message in capsys.readouterr().err


def test_command_anonymize_needs_no_level(tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text("{}")
    assert _run(["orthanc", str(body), "--anonymize"]) == 0
    assert "profile basic 2021b" in capsys.readouterr().out


def test_command_without_level(tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text("{}")
    assert _run(["orthanc", str(body)]) == 2
    assert "--level is required" in capsys.readouterr().err
