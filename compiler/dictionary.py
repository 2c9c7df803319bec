"""DICOM knowledge the compiler needs: keywords, tags, VRs and home levels (pydicom's dictionary + specs/tables)."""

from __future__ import annotations

import difflib
import importlib.util
import re
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from types import ModuleType

from dcmrules.specs import resource

Entry = tuple[str, str, str, str, str]  # VR, VM, name, retired, keyword: pydicom's dictionary rows


@cache
def _pydicom_dictionary() -> ModuleType:
    """pydicom's generated data dictionary (PS3.6), loaded on its own: importing the `pydicom`
    package also loads numpy and the pixel handlers, a third of a `dcmrules lint` run."""
    spec = importlib.util.find_spec("pydicom")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        found = importlib.util.spec_from_file_location("dcmrules_pydicom_dictionary", f"{folder}/_dicom_dict.py")
        if found is not None and found.loader is not None:
            module = importlib.util.module_from_spec(found)
            found.loader.exec_module(module)
            return module
    from pydicom import _dicom_dict  # the same data through the package, should its layout change

    return _dicom_dict


@cache
def _keywords() -> dict[str, int]:
    return {entry[4]: tag for tag, entry in _pydicom_dictionary().DicomDictionary.items() if entry[4]}


@cache
def _repeaters() -> tuple[tuple[re.Pattern[str], Entry, str], ...]:
    """Repeating-group entries (60xx3000 OverlayData): a pattern over 8 hex digits, the entry, the mask."""
    return tuple((re.compile(mask.lower().replace("x", "[0-9a-f]")), entry, mask.upper())
                 for mask, entry in _pydicom_dictionary().RepeatersDictionary.items())


@cache
def _entry(tag: int) -> Entry | None:
    entry = _pydicom_dictionary().DicomDictionary.get(tag)
    if entry is not None:
        return entry
    text = f"{tag:08x}"
    return next((e for pattern, e, _ in _repeaters() if pattern.fullmatch(text)), None)


class Level(IntEnum):
    """Levels of the DICOM information model; a smaller value is a higher level."""

    PATIENT = 0
    STUDY = 1
    SERIES = 2
    INSTANCE = 3

    @property
    def label(self) -> str:
        return self.name.lower()


IDENTIFIERS: dict[int, Level] = {
    0x00100020: Level.PATIENT,   # PatientID
    0x0020000D: Level.STUDY,     # StudyInstanceUID
    0x0020000E: Level.SERIES,    # SeriesInstanceUID
    0x00080018: Level.INSTANCE,  # SOPInstanceUID
}
IDENTIFIER_OF_LEVEL: dict[Level, int] = {level: tag for tag, level in IDENTIFIERS.items()}


@cache
def _levels() -> dict[int, Level]:
    table: dict[int, Level] = {}
    for row in resource("tables", "levels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        tag, _keyword, level, _consistent = row.split("\t")
        if "X" in tag.upper():
            continue  # repeating groups (60xx overlays) are instance level, the default
        table[int(tag[1:5] + tag[6:10], 16)] = Level[level.upper()]
    return table


def level_of(tag: int | None) -> Level:
    """Home level of a top-level attribute; private, unknown and masked tags are instance level."""
    return _levels().get(tag, Level.INSTANCE) if tag is not None else Level.INSTANCE


def tag_for_keyword(keyword: str) -> int | None:
    return _keywords().get(keyword)


@cache
def repeater_mask(keyword: str) -> str | None:
    """Keywords of repeating groups (OverlayData) stand for every group of that shape: 60XX3000."""
    return next((mask for _, entry, mask in _repeaters() if entry[4] == keyword), None)


def keyword_for_tag(tag: int) -> str:
    entry = _entry(tag) if not is_private(tag) else None
    return entry[4] if entry else ""


def vr_of(tag: int) -> str | None:
    """The dictionary VR ('PN', 'US or SS', ...), None for private or unknown tags."""
    entry = _entry(tag) if not is_private(tag) else None
    return entry[0] if entry else None


def is_retired(tag: int) -> bool:
    entry = _entry(tag)
    return bool(entry and entry[3] == "Retired")


def is_private(tag: int) -> bool:
    return bool((tag >> 16) & 1)


@cache
def _keywords_by_lower() -> dict[str, str]:
    return {k.lower(): k for k in _keywords()}


def suggest_keyword(name: str) -> str | None:
    """The keyword the user most likely meant, if any."""
    exact = _keywords_by_lower().get(name.lower())
    if exact:
        return exact
    close = difflib.get_close_matches(name, _keywords().keys(), n=1, cutoff=0.75)
    return close[0] if close else None


def format_tag(tag: int) -> str:
    """pydicom's way for people: (0010,0010)."""
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def json_tag(tag: int) -> str:
    """pydicom's json_key: 00100010."""
    return f"{tag:08X}"


# ---- parenthesised tags -----------------------------------------------------------

_HEX4 = re.compile(r"^[0-9A-Fa-f]{4}$")
_MASK4 = re.compile(r"^[0-9A-Fa-fXx]{4}$")
_ELEMENT_BYTE = re.compile(r"^(?:[0-9A-Fa-fXx]{2})?([0-9A-Fa-f]{2})$")


@dataclass(frozen=True)
class ParsedTag:
    """What a `( ... )` token names: exactly one of tag, mask or private is set."""

    tag: int | None = None
    mask: str | None = None
    private: tuple[str, str, str] | None = None  # (group, creator, element byte), upper-case hex


@cache
def parse_tag(text: str) -> ParsedTag | str:
    """Read `(gggg,eeee)`, `(50xx,xxxx)` or `(gggg,"creator",ee)`; a str result is what is wrong with it."""
    parts = _split_commas(text[1:-1])
    if len(parts) == 2:
        group, element = (p.strip() for p in parts)
        if _HEX4.match(group) and _HEX4.match(element):
            return ParsedTag(tag=int(group + element, 16))
        if _MASK4.match(group) and _MASK4.match(element):
            return ParsedTag(mask=(group + element).upper())
        return "a tag is (gggg,eeee) with four hex digits each, or x for any digit as in (50xx,xxxx)"
    if len(parts) == 3:
        return _parse_private(*(p.strip() for p in parts))
    return 'write a tag as (gggg,eeee), or a private element as (gggg,"CREATOR",ee)'


def _parse_private(group: str, creator: str, element: str) -> ParsedTag | str:
    if not _HEX4.match(group):
        return "the group of a private element has four hex digits"
    if int(group, 16) % 2 == 0:
        return f"group {group.upper()} is even: private elements live in odd groups"
    if len(creator) < 2 or not (creator.startswith('"') and creator.endswith('"')):
        return 'the private creator is a quoted string, as in (0009,"ACME 1.0",10)'
    match = _ELEMENT_BYTE.match(element)
    if not match:
        return "the element of a private tag is its last two hex digits, e.g. 10 for (0009,xx10)"
    return ParsedTag(private=(group.upper(), creator[1:-1], match.group(1).upper()))


def _split_commas(inner: str) -> list[str]:
    parts, current, quoted = [], [], False
    for ch in inner:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts
