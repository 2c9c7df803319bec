"""What values a VR accepts: literal validation per VR and the value functions' signatures."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

# Maximum characters of one value, per PS3.5 Table 6.2-1 (None: no practical limit).
MAX_LENGTH: dict[str, int | None] = {
    "AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "DT": 26, "IS": 12, "LO": 64, "LT": 10240,
    "PN": 64, "SH": 16, "ST": 1024, "TM": 14, "UC": None, "UI": 64, "UR": None, "UT": None,
}
TEXT_VRS = frozenset({"LT", "ST", "UT", "UR"})  # single-valued: a backslash is an ordinary character
STRING_VRS = frozenset(MAX_LENGTH)
INT_RANGES = {"US": (0, 2**16 - 1), "SS": (-(2**15), 2**15 - 1), "UL": (0, 2**32 - 1),
              "SL": (-(2**31), 2**31 - 1), "UV": (0, 2**64 - 1), "SV": (-(2**63), 2**63 - 1)}
FLOAT_VRS = frozenset({"FL", "FD"})
BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "AT"})

_PATTERNS = {
    "AS": re.compile(r"^\d{3}[DWMY]$"),
    "DA": re.compile(r"^\d{8}$"),
    "CS": re.compile(r"^[A-Z0-9 _]*$"),
    "DS": re.compile(r"^ *[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)? *$"),
    "IS": re.compile(r"^ *[+-]?\d+ *$"),
    "DT": re.compile(r"^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$"),
    "TM": re.compile(r"^([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?$"),
    "UI": re.compile(r"^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$"),
}
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x0c\x0e-\x1a\x1c-\x1f]")


def literal_problem(vr: str | None, text: str) -> str | None:
    """Why `text` is not a valid value for `vr`, or None when it is (or the VR is unknown)."""
    if vr is None or " or " in vr:
        return None
    if vr == "SQ":
        return "a sequence cannot take a literal value; use `empty`, `dummy` or `remove`"
    if vr in BINARY_VRS:
        return f"{vr} is a binary VR; only `empty` and `dummy` can replace it"
    values = [text] if vr in TEXT_VRS else text.split("\\")
    for value in values:
        problem = _one_value_problem(vr, value)
        if problem:
            return problem
    return None


def _one_value_problem(vr: str, value: str) -> str | None:
    if vr in INT_RANGES:
        return _int_problem(vr, value)
    if vr in FLOAT_VRS:
        try:
            float(value)
        except ValueError:
            return f"{value!r} is not a number ({vr})"
        return None
    pattern = _PATTERNS.get(vr)
    if value and pattern is not None and not pattern.match(value):
        return f"{value!r} is not a valid {vr}: {_FORMAT_HELP[vr]}"
    limit = MAX_LENGTH.get(vr)
    if limit is not None and len(value) > limit:
        return f"{vr} allows at most {limit} characters per value; this one has {len(value)}"
    if _CONTROL.search(value):
        return "control characters are not allowed in DICOM strings"
    if value and vr == "DA" and not _is_date(value):
        return f"{value!r} is not a valid DA: a date is YYYYMMDD"
    if vr == "IS" and not -(2**31) <= int(value) < 2**31:
        return f"{value!r} is out of range for IS"
    return None


def _int_problem(vr: str, value: str) -> str | None:
    low, high = INT_RANGES[vr]
    try:
        number = int(value)
    except ValueError:
        return f"{value!r} is not an integer ({vr})"
    return None if low <= number <= high else f"{number} is out of range for {vr} ({low}..{high})"


def _is_date(value: str) -> bool:
    try:
        datetime.datetime.strptime(value, "%Y%m%d")
    except ValueError:
        return False
    return len(value) == 8


_FORMAT_HELP = {
    "AS": "an age is nnnD, nnnW, nnnM or nnnY",
    "DA": "a date is YYYYMMDD",
    "CS": "code strings use A-Z, 0-9, space and underscore",
    "DS": "a decimal string such as 1.5 or -2e3",
    "IS": "an integer string such as 42",
    "DT": "a date-time is YYYYMMDDHHMMSS.FFFFFF&ZZXX (trailing parts optional)",
    "TM": "a time is HHMMSS.FFFFFF (trailing parts optional)",
    "UI": "a UID is digits separated by dots, no leading zeros",
}


# ---- functions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A value function: the VRs it can produce, its keyword parameters, and what it is."""

    name: str
    vrs: frozenset[str] | None          # None: any VR
    keywords: frozenset[str]
    max_positional: int
    help: str


HASH_VRS = frozenset({"AE", "CS", "IS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})
SHIFT_UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("uid", frozenset({"UI"}), frozenset(), 1, "uid() remaps a UID: 2.25. + HMAC(key, original)"),
        Function("hash", HASH_VRS, frozenset(), 2, "hash([INPUT][, LENGTH]) is a keyed pseudonym of a text value"),
        Function("shift", frozenset({"DA", "DT", "TM"}), frozenset({*SHIFT_UNITS, "max_days"}), 0,
                 "shift(days=N) moves dates and times; shift(max_days=N) by one keyed offset per patient"),
        Function("clean", None, frozenset(), 0,
                 "clean() replaces a value by one of similar meaning without identifying information "
                 "(specs/cleaning.md)"),
        Function("lookup", STRING_VRS, frozenset({"default"}), 2,
                 'lookup("table.csv"[, INPUT][, default=VALUE]) maps values through a two-column CSV'),
    )
}
CONSTANTS = ("empty", "dummy")
