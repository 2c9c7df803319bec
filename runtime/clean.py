"""A data set in, the identifying words it holds out; and free text in, the same text with those words masked.

This is the text part of PS3.15 action C (clean), used by the `clean()` value; specs/cleaning.md says
what clean() does for every VR.
"""

from __future__ import annotations

import re

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

# Top-level attributes whose words identify the patient or the visit.
IDENTIFYING = (
    "PatientName", "PatientID", "OtherPatientIDs", "OtherPatientNames", "PatientBirthName",
    "PatientMotherBirthName", "PatientBirthDate", "PatientAddress", "PatientTelephoneNumbers",
    "AccessionNumber", "MedicalRecordLocator", "IssuerOfPatientID", "ReferringPhysicianName",
    "PerformingPhysicianName", "OperatorsName", "InstitutionName", "InstitutionAddress",
)
MIN_WORD = 3  # shorter words ("1", "MR") would mask ordinary text
MASK = "X"
_SPLIT = re.compile(r"[\^=\\,;:/\s]+")


def identifying_words(ds: Dataset) -> tuple[str, ...]:
    """Every word of the identifying attributes present in `ds`, longest first."""
    words: set[str] = set()
    for keyword in IDENTIFYING:
        value = ds.get(keyword)
        if value is None or value == "":
            continue
        texts = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
        for text in texts:
            words.update(w for w in _SPLIT.split(str(text)) if len(w) >= MIN_WORD)
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def scrub(text: str, words: tuple[str, ...]) -> str:
    """`text` with every identifying word (case-insensitive, whole or inside a word) masked."""
    if not words or not text:
        return text
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    return pattern.sub(lambda match: MASK * len(match.group(0)), text)
