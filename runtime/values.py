"""A value expression (plan dict), the data set and the element to fill in, the pydicom value to store out."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydicom import config
from pydicom.charset import custom_encoders
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.valuerep import validate_value

from dcmrules.runtime.clean import identifying_words, scrub
from dcmrules.runtime.keys import ALPHABETS, hash_for, keyed_days, uid_for


class ValueProblem(Exception):
    """Why no value could be produced (the caller adds which element and which statement)."""


class NoOwnValue(Exception):
    """The expression reads the target's own value and the target is absent: nothing to do."""


@dataclass(frozen=True)
class Env:
    """What every expression may read: the top-level data set, the key and the lookup tables."""

    root: Dataset
    key: bytes | None
    tables: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Slot:
    """The element being filled: its VR, a reader of its original value (None if absent), its charset."""

    vr: str
    own: Callable[[], Val] | None
    encodings: tuple[str, ...]


Val = tuple[str, ...] | bytes | Sequence  # text values (empty tuple: empty), raw bytes, or items

BINARY_VRS = frozenset({"OB", "OW", "OD", "OF", "OL", "OV", "UN"})
INT_RANGES = {
    "US": (0, 2**16 - 1), "SS": (-(2**15), 2**15 - 1), "UL": (0, 2**32 - 1),
    "SL": (-(2**31), 2**31 - 1), "UV": (0, 2**64 - 1), "SV": (-(2**63), 2**63 - 1),
}
FLOAT_VRS = frozenset({"FL", "FD"})
SINGLE_VALUE_VRS = frozenset({"LT", "ST", "UT", "UR"})
CHARSET_VRS = frozenset({"SH", "LO", "ST", "LT", "PN", "UC", "UT"})
DUMMY_TEXT = {
    "DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000Y", "IS": "0", "DS": "0",
    "UR": "http://anonymous", "AT": "00000000", "FL": "0", "FD": "0",
} | {vr: "0" for vr in INT_RANGES}
DUMMY_TEXT_OTHER = "ANONYMOUS"  # PN, LO, SH, LT, ST, UT, UC, CS, AE
DUMMY_BYTES = {"OB": 2, "OW": 2, "UN": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
EMPTY_UID_DUMMY = "2.25.0"
CLEAN_MAX_DAYS = 365  # clean() on dates: the keyed per-patient shift of shift(max_days=365)
CLEAN_TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
CLEAN_KEEP_VRS = frozenset({"CS", "AS", "TM", "IS", "DS", "SQ", "US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"})
_PATIENT_ID = 0x00100020


# --- evaluation ---------------------------------------------------------------------------

def compute(expr: Mapping, env: Env, slot: Slot) -> object:
    """Evaluate `expr` and convert it for the slot's VR; raises NoOwnValue or ValueProblem."""
    return convert(evaluate(expr, env, slot), slot)


def evaluate(expr: Mapping, env: Env, slot: Slot) -> Val:
    """The value of an expression before conversion to the slot's VR."""
    handler = _HANDLERS.get(expr["kind"])
    if handler is None:
        raise ValueProblem(f"unknown value kind {expr['kind']!r}")
    return handler(expr, env, slot)


def _element(expr: Mapping, env: Env, slot: Slot) -> Val:
    tag = int(expr["tag"], 16)
    if tag not in env.root:
        name = expr.get("keyword") or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        raise ValueProblem(f"the value reads {name}, which is absent")
    return element_val(env.root[tag])


def _dummy(expr: Mapping, env: Env, slot: Slot) -> Val:
    if slot.vr == "SQ":
        return Sequence()
    if slot.vr in DUMMY_BYTES:
        return bytes(DUMMY_BYTES[slot.vr])
    if slot.vr != "UI":
        return (DUMMY_TEXT.get(slot.vr, DUMMY_TEXT_OTHER),)
    own = _own_text(slot)
    if not any(v.strip(" \x00") for v in own):
        return (EMPTY_UID_DUMMY,)
    key = _need_key(env, "dummy for a UI element")
    return _per_value(own, lambda v: uid_for(key, v))


def _uid(expr: Mapping, env: Env, slot: Slot) -> Val:
    key = _need_key(env, "uid()")
    return _per_value(_input(expr, env, slot), lambda v: uid_for(key, v))


def _hash(expr: Mapping, env: Env, slot: Slot) -> Val:
    key = _need_key(env, "hash()")
    vr = "LO" if slot.vr in BINARY_VRS else slot.vr
    if vr not in ALPHABETS:
        raise ValueProblem(f"hash() cannot produce a {slot.vr} value")
    return _per_value(_input(expr, env, slot), lambda v: hash_for(key, v, expr["length"], vr))


def _shift(expr: Mapping, env: Env, slot: Slot) -> Val:
    return _per_value(_own_text(slot), lambda v: shift_text(slot.vr, v, expr["seconds"]))


def _keyed_shift(expr: Mapping, env: Env, slot: Slot) -> Val:
    key = _need_key(env, "shift(max_days=...)")
    own = _own_text(slot)
    days = keyed_days(key, patient_id(env.root), expr["max_days"])
    return _per_value(own, lambda v: shift_text(slot.vr, v, days * 86400))


def _lookup(expr: Mapping, env: Env, slot: Slot) -> Val:
    path = expr["table"]["path"]
    table = env.tables.get(path)
    if table is None:
        raise ValueProblem(f"lookup table {path!r} was not loaded")

    def one(value: str) -> str:
        found = table.get(value.strip(" \x00"))
        if found is not None:
            return found
        if expr["default"] is None:
            raise ValueProblem(f"lookup miss for {value.strip(' ')!r} in {path}")
        return join_text(evaluate(expr["default"], env, slot))

    return _per_value(_input(expr, env, slot), one)


def _concat(expr: Mapping, env: Env, slot: Slot) -> Val:
    return split_text("".join(join_text(evaluate(part, env, slot)) for part in expr["parts"]), slot.vr)


def _clean(expr: Mapping, env: Env, slot: Slot) -> Val:
    """PS3.15 action C per VR (specs/cleaning.md): dates keyed-shifted, UIDs remapped, free text
    scrubbed of the data set's identifying words, codes and numbers kept, anything else a dummy."""
    if slot.vr in ("DA", "DT"):
        return _keyed_shift({"max_days": CLEAN_MAX_DAYS}, env, slot)
    if slot.vr == "UI":
        return _uid({"input": None}, env, slot)
    if slot.vr in CLEAN_TEXT_VRS:
        words = identifying_words(env.root)
        return tuple(scrub(v, words) for v in _own_text(slot))
    if slot.vr in CLEAN_KEEP_VRS:
        if slot.own is None:
            raise NoOwnValue()
        return slot.own()
    return _dummy(expr, env, slot)


_HANDLERS: dict[str, Callable[[Mapping, Env, Slot], Val]] = {
    "literal": lambda expr, env, slot: split_text(expr["text"], slot.vr),
    "empty": lambda expr, env, slot: (), "dummy": _dummy, "element": _element, "uid": _uid,
    "hash": _hash, "shift": _shift, "keyed_shift": _keyed_shift, "lookup": _lookup, "concat": _concat,
    "clean": _clean,
}


def _need_key(env: Env, what: str) -> bytes:
    if env.key is None:
        raise ValueProblem(f"{what} needs a key (--key-file or DCMRULES_KEY)")
    return env.key


def _input(expr: Mapping, env: Env, slot: Slot) -> tuple[str, ...]:
    if expr["input"] is None:
        return _own_text(slot)
    return as_text(evaluate(expr["input"], env, slot))


def _own_text(slot: Slot) -> tuple[str, ...]:
    if slot.own is None:
        raise NoOwnValue()
    return as_text(slot.own())


def _per_value(values: tuple[str, ...], fn: Callable[[str], str]) -> Val:
    """Map every non-empty value; an empty value stays empty."""
    try:
        out = tuple(fn(v) if v.strip(" \x00") else "" for v in values)
    except ValueError as err:
        raise ValueProblem(str(err)) from None
    return () if all(v == "" for v in out) else out


def patient_id(root: Dataset) -> str:
    """The top-level PatientID as text ("" when absent or empty)."""
    if _PATIENT_ID not in root:
        return ""
    return join_text(element_val(root[_PATIENT_ID])).strip(" \x00")


def element_val(elem: DataElement) -> Val:
    """An element's value as text values, raw bytes or a sequence."""
    value = elem.value
    if isinstance(value, (Sequence, bytes)):
        return value
    if value is None or value == "":
        return ()
    items = value if isinstance(value, (MultiValue, list, tuple)) else [value]
    if elem.VR == "AT":
        return tuple(f"{int(v):08X}" for v in items)
    return tuple(str(v) for v in items)


def as_text(val: Val) -> tuple[str, ...]:
    """Text values of a value (bytes are read as Latin-1, NUL/space padding stripped)."""
    if isinstance(val, Sequence):
        raise ValueProblem("a sequence cannot be used as text")
    if isinstance(val, bytes):
        text = val.decode("latin-1").strip(" \x00")
        return (text,) if text else ()
    return val


def join_text(val: Val) -> str:
    """A value as one DICOM string, multiple values joined with a backslash."""
    return "\\".join(as_text(val))


def split_text(text: str, vr: str) -> tuple[str, ...]:
    """Split a DICOM string into values for a VR (LT, ST, UT, UR never split); "" is empty."""
    if text == "":
        return ()
    return (text,) if vr in SINGLE_VALUE_VRS else tuple(text.split("\\"))


# --- dates and times ----------------------------------------------------------------------

_DA = re.compile(r"^(\d{4})(\.?)(\d{2})\2(\d{2})$")
_TM = re.compile(r"^(\d{2})(?:(:?)(\d{2})(?:\2(\d{2})(\.\d{1,6})?)?)?$")
_DT = re.compile(
    r"^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$"
)


def shift_text(vr: str, text: str, seconds: int) -> str:
    """Shift one DA (by seconds // 86400 days), DT or TM (modulo 24 h) value, keeping its precision
    (and offset); retired ACR-NEMA forms (YYYY.MM.DD, HH:MM:SS) come out in the DICOM form."""
    shifter = {"DA": _shift_da, "DT": _shift_dt, "TM": _shift_tm}.get(vr)
    if shifter is None:
        raise ValueError(f"shift() cannot change a {vr} value")
    try:
        return shifter(text.strip(" \x00"), seconds)
    except (ValueError, OverflowError, TypeError):
        raise ValueError(f"cannot shift {text!r}: not a valid {vr} value or out of range") from None


def _shift_da(text: str, seconds: int) -> str:
    m = _DA.match(text)
    day = date(int(m[1]), int(m[3]), int(m[4])) + timedelta(days=seconds // 86400)
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _shift_dt(text: str, seconds: int) -> str:
    m = _DT.match(text)
    fields = [m[i] for i in range(1, 7)]
    present = sum(f is not None for f in fields)
    numbers = [int(f) if f is not None else d for f, d in zip(fields, (1, 1, 1, 0, 0, 0))]
    moment = datetime(*numbers) + timedelta(seconds=seconds)
    parts = [f"{moment.year:04d}"] + [f"{n:02d}" for n in (moment.month, moment.day, moment.hour,
                                                             moment.minute, moment.second)]
    return "".join(parts[:present]) + (m[7] or "") + (m[8] or "")


def _shift_tm(text: str, seconds: int) -> str:
    m = _TM.match(text)
    hour, minute, second = int(m[1]), int(m[3] or 0), int(m[4] or 0)
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(text)
    total = (hour * 3600 + minute * 60 + second + seconds) % 86400
    hour, rest = divmod(total, 3600)
    minute, second = divmod(rest, 60)
    out = f"{hour:02d}"
    if m[3] is not None:
        out += f"{minute:02d}"
    if m[4] is not None:
        out += f"{second:02d}{m[5] or ''}"
    return out


# --- conversion to the target VR ----------------------------------------------------------

def convert(val: Val, slot: Slot) -> object:
    """Turn a value into what pydicom stores for the slot's VR, checking VR rules and charset."""
    vr = slot.vr
    if vr == "SQ":
        if isinstance(val, Sequence):
            return copy.deepcopy(val)
        if val in ((), b""):
            return Sequence()
        raise ValueProblem("only an empty value or another sequence can replace a sequence")
    if isinstance(val, Sequence):
        raise ValueProblem(f"a sequence cannot fill a {vr} element")
    if vr in BINARY_VRS:
        data = val if isinstance(val, bytes) else join_text(val).encode("utf-8")
        return data + b"\x00" * (len(data) % 2)
    if isinstance(val, bytes):
        raise ValueProblem(f"a binary value cannot fill a {vr} element")
    if vr in INT_RANGES:
        return _numbers(val, lambda v: _to_int(v, vr))
    if vr in FLOAT_VRS:
        return _numbers(val, _to_float)
    if vr == "AT":
        return _numbers(val, _to_tag)
    return _to_text(val, slot)


def _numbers(values: tuple[str, ...], parse: Callable[[str], object]) -> object:
    numbers = [parse(v.strip()) for v in values]
    if not numbers:
        return None
    return numbers[0] if len(numbers) == 1 else numbers


def _to_int(text: str, vr: str) -> int:
    low, high = INT_RANGES[vr]
    try:
        number = int(text)
    except ValueError:
        raise ValueProblem(f"{text!r} is not an integer for VR {vr}") from None
    if not low <= number <= high:
        raise ValueProblem(f"{number} is out of range for VR {vr}")
    return number


def _to_float(text: str) -> float:
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise ValueProblem(f"{text!r} is not a number")
    return float(text)


def _to_tag(text: str) -> int:
    m = re.fullmatch(r"\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?", text)
    if m is None:
        raise ValueProblem(f"{text!r} is not a tag (GGGGEEEE) for VR AT")
    return int(m[1] + m[2], 16)


def _to_text(values: tuple[str, ...], slot: Slot) -> object:
    for value in values:
        _check_text(value, slot)
    if not values:
        return ""
    if slot.vr in SINGLE_VALUE_VRS:
        return "\\".join(values)
    return values[0] if len(values) == 1 else list(values)


def _check_text(value: str, slot: Slot) -> None:
    try:
        validate_value(slot.vr, value, config.RAISE)
    except ValueError as err:
        reason = str(err).split(". Please see")[0]
        raise ValueProblem(f"{value!r} is not a valid {slot.vr} value: {reason}") from None
    if slot.vr in CHARSET_VRS:
        if not encodable(value, slot.encodings):
            names = "\\".join(slot.encodings)
            raise ValueProblem(f"{value!r} cannot be encoded in the file's character set ({names})")
    elif not value.isascii():
        raise ValueProblem(f"{value!r} is not ASCII, which VR {slot.vr} requires")


def encodable(text: str, encodings: tuple[str, ...]) -> bool:
    """True if the text can be written in these Python encodings (pydicom's; "iso8859" is the
    default repertoire, taken as ASCII), switching between them as ISO 2022 code extensions allow."""
    codecs = ["ascii" if e == "iso8859" else e for e in encodings]
    rest = text
    while rest:
        longest = max(_encodable_prefix(rest, codec) for codec in codecs)
        if longest == 0:
            return False
        rest = rest[longest:]
    return True


def _encodable_prefix(text: str, codec: str) -> int:
    try:
        encoder = custom_encoders.get(codec)
        if encoder is not None:
            encoder(text, errors="strict")
        else:
            text.encode(codec)
        return len(text)
    except UnicodeEncodeError as err:
        return err.start
    except (LookupError, UnicodeError, ValueError):
        return 0


# --- lookup tables ------------------------------------------------------------------------
