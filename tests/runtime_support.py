"""Helpers for the runner tests: a synthetic multi-patient set, plans, tree hashing, identifier collection."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydicom import dcmread
from pydicom.multival import MultiValue

from dcmrules.runtime.load import LoadedPlan, read_plan
from dcmrules.runtime.synth import SynthSpec, generate

KEY = b"runner test key"
SPEC = SynthSpec(patients=2, studies=2, series=2, instances=3, kind="small", seed=3, private_elements=12)

# Regenerates all four identifiers (and the frame of reference), removes and replaces patient data.
REGENERATE = """\
@patient {
    @force replace PatientID with hash()
    replace PatientName with "ANONYMOUS"
    remove PatientBirthDate
    remove OtherPatientIDsSequence
    remove **.PatientName
}
@study {
    @force replace StudyInstanceUID with uid()
    replace AccessionNumber with empty
}
@series {
    @force replace SeriesInstanceUID with uid()
    replace FrameOfReferenceUID with uid()
}
@force replace SOPInstanceUID with uid()
remove private
"""

SET_TAGS = (0x0020000D, 0x0020000E, 0x00080018, 0x00200052)


def write_rules(folder: Path, text: str = REGENERATE, name: str = "plan.rules") -> LoadedPlan:
    """Write a rules file and return it loaded."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return read_plan(path)


def make_set(folder: Path, spec: SynthSpec = SPEC) -> list[Path]:
    """Generate the synthetic set under folder."""
    return generate(folder, spec)


def tree_digest(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under folder."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def top_level(folder: Path, tag: int) -> dict[str, str]:
    """{relative path: value} of one top-level element in every DICOM file under folder."""
    found = {}
    for path in sorted(folder.rglob("*.dcm")):
        ds = dcmread(path, stop_before_pixels=True)
        if tag in ds:
            found[str(path.relative_to(folder))] = str(ds[tag].value)
    return found


def all_values(ds) -> list[tuple[str, str]]:
    """(keyword, text) of every element at any depth (file meta included), multi-values split."""
    found = []
    elements = list(getattr(ds, "file_meta", [])) + list(ds.iterall())
    for elem in elements:
        if elem.VR == "SQ" or elem.tag == 0x7FE00010:
            continue
        values = elem.value if isinstance(elem.value, MultiValue) else [elem.value]
        for value in values:
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            found.append((elem.keyword, text.strip(" \x00")))
    return found


def references(ds) -> list[tuple[str, str]]:
    """(keyword, UID) of every UI element inside a sequence."""
    found = []
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                found += [(e.keyword, str(e.value)) for e in item.iterall() if e.VR == "UI" and e.value]
    return found
