"""Two sets of output data sets (Orthanc's and dcmrules') and their inputs in, element-by-element differences out.

Every element at every depth is compared by path, e.g. `(0008,1140)[1].(0008,1155)`, as VR and value. UIDs are
compared by structure, not by value: a UID of the input set stays itself (`=1.2.3`), a UID the request
names stays itself, and any other UID is named after the first place it appears in the outputs
(`new@A1.dcm:(0020,000D)`). Two outputs agree on UIDs exactly when they make the same UIDs equal, keep the
same original UIDs and so resolve the same references. The file meta is compared on
MediaStorageSOPInstanceUID and TransferSyntaxUID only (Orthanc rewrites the rest through DCMTK).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

META_COMPARED = (0x00020003, 0x00020010)


@dataclass(frozen=True, order=True)
class Difference:
    """One element that differs: the file, the element's path, Orthanc's value and dcmrules' (None: absent)."""

    file: str
    path: str
    orthanc: str | None
    dcmrules: str | None

    @property
    def tag(self) -> str:
        """The last element of the path, `(gggg,eeee)`."""
        return self.path.rsplit(".", 1)[-1]

    @property
    def nested(self) -> bool:
        return "." in self.path

    def __str__(self) -> str:
        return f"{self.file} {self.path}: orthanc={self.orthanc!r} dcmrules={self.dcmrules!r}"


def uids_of(datasets: Iterable[Dataset]) -> set[str]:
    """Every UI value anywhere in the data sets (file meta included)."""
    found: set[str] = set()
    for ds in datasets:
        for _, elem in _walk(ds, include_meta=True):
            if elem.VR == "UI":
                found.update(_texts(elem.value))
    return found


def flatten(outputs: Mapping[str, Dataset], originals: set[str], literals: set[str]) -> dict[str, dict[str, str]]:
    """{file: {path: "VR:value"}} with every UID replaced by its structural label.

    New UIDs are named after their first top-level place (all files' top levels come before any nesting), so a
    nested reference is named after the identifier it points to, whichever file it sits in."""
    elements = [(name, path, elem) for name in sorted(outputs) for path, elem in _walk(outputs[name], include_meta=True)
                if not (elem.tag >> 16 == 0x0002 and elem.tag not in META_COMPARED)]
    labels: dict[str, str] = {}
    for name, path, elem in sorted(elements, key=lambda e: "." in e[1]):  # stable: top levels first
        if elem.VR == "UI":
            for value in _texts(elem.value):
                _label(value, originals, literals, labels, f"new@{name}:{path}")
    flat: dict[str, dict[str, str]] = {name: {} for name in outputs}
    for name, path, elem in elements:
        if elem.VR == "UI":
            flat[name][path] = "UI:" + "\\".join(_label(v, originals, literals, labels, "") for v in _texts(elem.value))
        else:
            flat[name][path] = f"{elem.VR}:{_render(elem.value, elem.VR)}"
    return flat


def differences(inputs: Mapping[str, Dataset], orthanc: Mapping[str, Dataset], dcmrules: Mapping[str, Dataset],
                literals: Iterable[str] = ()) -> list[Difference]:
    """Every element whose structural value differs between Orthanc's and dcmrules' output of the same file."""
    originals = uids_of(inputs.values())
    wanted = set(literals)
    left, right = flatten(orthanc, originals, wanted), flatten(dcmrules, originals, wanted)
    found = []
    for name in sorted(set(left) | set(right)):
        if name not in left or name not in right:
            found.append(Difference(name, "<file>", "present" if name in left else None,
                                    "present" if name in right else None))
            continue
        a, b = left[name], right[name]
        found += [Difference(name, path, a.get(path), b.get(path))
                  for path in sorted(set(a) | set(b)) if a.get(path) != b.get(path)]
    return found


def _label(value: str, originals: set[str], literals: set[str], labels: dict[str, str], here: str) -> str:
    if value in originals:
        return "=" + value
    if value in literals or not value:
        return value
    return labels.setdefault(value, here)


def _walk(ds: Dataset, prefix: str = "", include_meta: bool = False) -> Iterator[tuple[str, object]]:
    meta = getattr(ds, "file_meta", None) if include_meta else None
    elements = list(meta or ()) + list(ds)
    for elem in elements:
        path = f"{prefix}({elem.tag.group:04X},{elem.tag.element:04X})"
        yield path, elem
        if elem.VR == "SQ" and isinstance(elem.value, Sequence):
            for index, item in enumerate(elem.value):
                yield from _walk(item, f"{path}[{index}].")


def _texts(value: object) -> list[str]:
    if value is None or value == "":
        return []
    values = value if isinstance(value, (MultiValue, list)) else [value]
    return [str(v).strip(" \x00") for v in values]


def _render(value: object, vr: str) -> str:
    if isinstance(value, Sequence):
        return f"<{len(value)} item(s)>"
    if isinstance(value, bytes) and vr == "UN" and len(value) <= 64 and value.rstrip(b" \x00").isascii():
        return value.decode("ascii").rstrip(" \x00")  # what Orthanc writes for a private tag it does not know
    if isinstance(value, bytes):
        return f"<{len(value)} bytes {hashlib.sha256(value).hexdigest()[:12]}>"
    if value is None:
        return ""
    if isinstance(value, (MultiValue, list)):
        return "\\".join(str(v) for v in value)
    return str(value).rstrip(" \x00")
