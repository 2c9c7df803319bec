"""The suite's comparison on its own (no Orthanc): data sets in, the differences it must (and must not) report out.

A comparison that never finds anything would make every conformance case pass; these cases show that it sees a
changed value, a missing element, a nested change and a different UID structure, and that it ignores UID values
when the structure is the same.
"""

from __future__ import annotations

import copy

from compare import differences
from harness import read
from studies import A1, study_files

INPUTS = {name: read(data) for name, data in study_files().items()}


def _renamed(mapping: dict[str, str]) -> dict:
    """The study with UIDs replaced everywhere (top level and nested) by `mapping`."""
    out = {}
    for name, ds in INPUTS.items():
        ds = copy.deepcopy(ds)
        for elem in ds.iterall():
            if elem.VR == "UI" and str(elem.value) in mapping:
                elem.value = mapping[str(elem.value)]
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        out[name] = ds
    return out


def test_identical_outputs_have_no_differences():
    assert differences(INPUTS, INPUTS, copy.deepcopy(INPUTS)) == []


def test_same_structure_different_values_is_no_difference():
    left, right = _renamed({A1: "2.25.1"}), _renamed({A1: "2.25.2"})
    assert differences(INPUTS, left, right) == []


def test_a_reference_that_no_longer_resolves_is_a_difference():
    left = _renamed({A1: "2.25.1"})
    right = _renamed({A1: "2.25.1"})
    right["A2.dcm"].ReferencedImageSequence[0].ReferencedSOPInstanceUID = A1  # still the old UID
    found = differences(INPUTS, left, right)
    assert [(d.file, d.path) for d in found] == [("A2.dcm", "(0008,1140)[0].(0008,1155)")]


def test_values_missing_and_nested_elements_are_differences():
    right = copy.deepcopy(INPUTS)
    right["A1.dcm"].ImageComments = "other"
    del right["A2.dcm"].StationName
    right["A1.dcm"].ReferencedSeriesSequence[0].PatientName = "X"
    found = {(d.file, d.path, d.orthanc, d.dcmrules) for d in differences(INPUTS, INPUTS, right)}
    assert found == {("A1.dcm", "(0020,4000)", "LT:comment 1.1.1", "LT:other"),
                     ("A2.dcm", "(0008,1010)", "SH:CT01", None),
                     ("A1.dcm", "(0008,1115)[0].(0010,0010)", "PN:DOE^JANE", "PN:X")}


def test_a_missing_output_file_is_a_difference():
    right = {name: ds for name, ds in INPUTS.items() if name != "B1.dcm"}
    assert [(d.file, d.path) for d in differences(INPUTS, INPUTS, right)] == [("B1.dcm", "<file>")]
