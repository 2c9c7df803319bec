"""An Orthanc tag or path string (Replace/Remove/Keep key) in, its spelling in the rules language out.

Orthanc reads `(gggg,eeee)`, `gggg,eeee`, `gggg-eeee`, `ggggeeee` or a keyword, and paths `Seq[0].Tag`,
`Seq[*].Tag` (DicomPath::Parse); a malformed key gives Orthanc's own 400 message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dcmrules.compiler.dictionary import tag_for_keyword, vr_of

_HEX_TAG = re.compile(r"^\(?([0-9A-Fa-f]{4})[,-]?([0-9A-Fa-f]{4})\)?$")
_KEYWORD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# A malformed path is written as it is when the rules grammar still reads it as one path (lint explains it).
_RAW_STEP = r"(?:[A-Za-z_][A-Za-z0-9_]*|\([0-9A-Fa-fXx,]*\))(?:\[[^\]\s\"#]*\])?"
_RAW_PATH = re.compile(rf"^{_RAW_STEP}(?:\.{_RAW_STEP})*$")


@dataclass(frozen=True)
class Target:
    """One Orthanc tag or path, written the rules way."""

    text: str
    tag: int | None  # the element's tag when the target is a top-level element
    head: int | None  # the tag of the first step (its level is the target's level)


def parse_path(raw: str, creator: str | None = None) -> Target | str:
    """The rules spelling of an Orthanc key, or Orthanc's error message for it. With `creator` (PrivateCreator),
    a private element of the last step is written relative to that creator's block: (0009,"ACME",01)."""
    text = raw.strip()
    if not text:
        return "Empty path to DICOM tags"
    parts, steps = text.split("."), []
    for position, part in enumerate(parts):
        name, bracket, index = part.partition("[")
        if position == len(parts) - 1 and not bracket:
            step = _tag_text(name.strip(), creator)
        else:
            problem = _index_problem(name, bracket, index)
            if problem:
                return problem
            step = _tag_text(name.strip(), None)
            step = step and f"{step}[{index.strip()[:-1].strip()}]"
        if step is None:
            return "Unknown DICOM tag"
        steps.append(step)
    head = _tag_value(parts[0].partition("[")[0].strip())
    return Target(".".join(steps), head if len(parts) == 1 else None, head)


def as_is(raw: str) -> Target | None:
    """A malformed key the rules grammar still reads as a path (so lint can say what is wrong), else None."""
    return Target(raw.strip(), None, None) if _RAW_PATH.match(raw.strip()) else None


def is_sequence(tag: int | None) -> bool:
    try:
        return tag is not None and vr_of(tag) == "SQ"
    except KeyError:
        return False


def _index_problem(name: str, bracket: str, index: str) -> str | None:
    if not bracket:
        return "Parent path doesn't contain an index"
    if not name.strip():
        return "Parent path doesn't contain a tag"
    if not index.strip().endswith("]"):
        return "Parent path doesn't contain the end of the index"
    inner = index.strip()[:-1].strip()
    if inner == "*" or inner.isdigit():
        return None
    if inner.startswith("-") and inner[1:].isdigit():
        return f"Negative index in parent path: {inner}"
    return f"Not a valid index in parent path: [{index.strip()}"


def _tag_text(name: str, creator: str | None) -> str | None:
    match = _HEX_TAG.match(name)
    if match:
        group, element = match.group(1).upper(), match.group(2).upper()
        if creator is not None and int(group, 16) % 2 == 1 and int(element, 16) >= 0x1000:
            return f'({group},"{creator}",{element[2:]})'
        return f"({group},{element})"
    return name if _KEYWORD.match(name) else None


def _tag_value(name: str) -> int | None:
    match = _HEX_TAG.match(name)
    if match:
        return int(match.group(1) + match.group(2), 16)
    return tag_for_keyword(name) if _KEYWORD.match(name) else None
