"""A plan's profile and a de-identified Dataset in, the PS3.15 markers set on it and their Changes out.

PatientIdentityRemoved, DeidentificationMethod (the tool, the profile, the options),
DeidentificationMethodCodeSequence (CID 7050) and LongitudinalTemporalInformationModified.
A statement of the rules file on one of these elements wins over the marker.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

PATIENT_IDENTITY_REMOVED = 0x00120062
DEIDENTIFICATION_METHOD = 0x00120063
DEIDENTIFICATION_CODES = 0x00120064
LONGITUDINAL_MODIFIED = 0x00280303
MARKERS = (PATIENT_IDENTITY_REMOVED, DEIDENTIFICATION_METHOD, DEIDENTIFICATION_CODES, LONGITUDINAL_MODIFIED)

# CID 7050 De-identification Method.
CODES: dict[str, tuple[str, str]] = {
    "basic": ("113100", "Basic Application Confidentiality Profile"),
    "clean-graphics": ("113103", "Clean Graphics Option"),
    "clean-structured-content": ("113104", "Clean Structured Content Option"),
    "clean-descriptors": ("113105", "Clean Descriptors Option"),
    "retain-longitudinal-full-dates": ("113106", "Retain Longitudinal Temporal Information Full Dates Option"),
    "retain-longitudinal-modified-dates": ("113107",
                                           "Retain Longitudinal Temporal Information Modified Dates Option"),
    "retain-patient-characteristics": ("113108", "Retain Patient Characteristics Option"),
    "retain-device-identity": ("113109", "Retain Device Identity Option"),
    "retain-uids": ("113110", "Retain UIDs Option"),
    "retain-safe-private": ("113111", "Retain Safe Private Option"),
    "retain-institution-identity": ("113112", "Retain Institution Identity Option"),
}


def temporal_state(profile: Mapping, shifts_dates: bool) -> str:
    """LongitudinalTemporalInformationModified: MODIFIED, UNMODIFIED or REMOVED."""
    options = profile["options"]
    if shifts_dates or "retain-longitudinal-modified-dates" in options:
        return "MODIFIED"
    return "UNMODIFIED" if "retain-longitudinal-full-dates" in options else "REMOVED"


def method(profile: Mapping, version: str) -> list[str]:
    """DeidentificationMethod values (LO, at most 64 characters each)."""
    return [f"dcmrules {version}", f"PS 3.15-{profile['edition']} Table E.1-1 Basic Profile",
            *(f"option {name}" for name in profile["options"])]


def code_items(profile: Mapping) -> Sequence:
    items = []
    for name in ("basic", *profile["options"]):
        value, meaning = CODES[name]
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
        items.append(item)
    return Sequence(items)


def marker_values(profile: Mapping, version: str, shifts_dates: bool) -> dict[int, tuple[str, object]]:
    """{tag: (VR, value)} of the markers for this profile."""
    return {
        PATIENT_IDENTITY_REMOVED: ("CS", "YES"),
        DEIDENTIFICATION_METHOD: ("LO", method(profile, version)),
        DEIDENTIFICATION_CODES: ("SQ", code_items(profile)),
        LONGITUDINAL_MODIFIED: ("CS", temporal_state(profile, shifts_dates)),
    }


def set_markers(ds: Dataset, values: Mapping[int, tuple[str, object]], decided: set[int]) -> list[tuple[int, str, str | None]]:
    """Set each marker the rules file did not decide; returns (tag, keyword, the value before) per marker set."""
    done = []
    for tag, (vr, value) in values.items():
        if tag in decided:
            continue
        before = str(ds[tag].value) if tag in ds else None
        ds.add_new(tag, vr, value)
        done.append((tag, ds[tag].keyword, before))
    return done
