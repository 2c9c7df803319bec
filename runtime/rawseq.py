"""A sequence's value as read (bytes) and the run's UID map in, the bytes with every mapped UID rewritten and
where each one sits out, without pydicom parsing the sequence into data sets.

Rewriting a UI value changes its length, so the lengths of the items and sequences around it are fixed too;
every other byte is kept. The result is the encoding pydicom writes after converting the sequence and
assigning the new values (a test checks that on every corpus file), at a fraction of the cost. Only what
is read exactly as pydicom reads it is handled: explicit VRs other than UN, implicit VRs from the public
dictionary, and private elements no private dictionary entry makes a UI or a sequence. For anything else
(UN, a private element that may be a UI or a sequence, a value of undefined length that is not a sequence, a
length past the end of its item, a missing delimiter) rewrite_uids() returns None and the caller lets
pydicom parse the sequence.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from functools import cache

from pydicom import config
from pydicom.datadict import dictionary_VR, private_dictionaries
from pydicom.valuerep import validate_value

from dcmrules.runtime.fastread import ENCODED_VRS, ITEM, ITEM_END, LONG_VRS, SEQUENCE_END, UNDEFINED

Loc = tuple[int, ...]
Found = list[tuple[Loc, str, str]]


class _Fallback(Exception):
    """Something pydicom should read itself."""


def rewrite_uids(data: bytes, loc: Loc, implicit: bool, little: bool, uid_map: Mapping[str, str],
                 leave: Callable[[Loc], bool]) -> tuple[bytes | None, Found] | None:
    """Rewrite the mapped UIDs in a defined-length sequence value found at loc.

    Returns (new bytes, or None when nothing changed; [(location, before, after)]), or None when the bytes
    hold something pydicom must read. leave(location) says which UI elements keep their value.
    """
    walker = _Walker(data, implicit, "<" if little else ">", uid_map, leave)
    try:
        end, new = walker.sequence(0, len(data), loc, delimited=False)
    except (_Fallback, struct.error):
        return None
    if end != len(data):
        return None
    return new, walker.found


class _Walker:
    def __init__(self, data: bytes, implicit: bool, order: str, uid_map: Mapping[str, str],
                 leave: Callable[[Loc], bool]) -> None:
        self.data, self.implicit, self.order = data, implicit, order
        self.uid_map, self.leave = uid_map, leave
        self.tag_length = struct.Struct(order + "HHL")
        self.explicit = struct.Struct(order + "HH2sH")
        self.long = struct.Struct(order + "L")
        self.found: Found = []

    def sequence(self, position: int, limit: int, loc: Loc, *, delimited: bool) -> tuple[int, bytes | None]:
        """Walk items from position; return the position after the sequence and its new bytes (None: same)."""
        parts, changed, number = [], False, 0
        while True:
            if not delimited and position == limit:
                break
            if position + 8 > limit:
                raise _Fallback("past the end")
            group, element, length = self.tag_length.unpack_from(self.data, position)
            tag = group << 16 | element
            if delimited and tag == SEQUENCE_END:
                parts.append(self.data[position:position + 8])
                position += 8
                break
            if tag != ITEM:
                raise _Fallback("not an item")
            content = position + 8
            if length == UNDEFINED:
                end, new = self.dataset(content, limit, loc + (number,), delimited=True)
                header = self.data[position:content]
            else:
                if content + length > limit:
                    raise _Fallback("an item past the end")
                end, new = self.dataset(content, content + length, loc + (number,), delimited=False)
                header = self.tag_length.pack(group, element, length if new is None else len(new))
            parts += [header, self.data[content:end] if new is None else new]
            changed = changed or new is not None
            position, number = end, number + 1
        return position, b"".join(parts) if changed else None

    def dataset(self, position: int, limit: int, loc: Loc, *, delimited: bool) -> tuple[int, bytes | None]:
        """Walk the elements of one item; return the position after it and its new bytes (None: same).
        The new bytes of an undefined-length item include its delimiter."""
        parts, changed = [], False
        while True:
            if not delimited and position == limit:
                break
            if position + 8 > limit:
                raise _Fallback("past the end")
            tag, vr, length, header = self._header(position)
            if delimited and tag == ITEM_END:
                parts.append(self.data[position:position + 8])
                position += 8
                break
            if tag >> 16 == 0xFFFE:
                raise _Fallback("a delimiter out of place")
            value_at = position + header
            if length == UNDEFINED:
                if vr != "SQ":
                    raise _Fallback("undefined length")
                end, new = self.sequence(value_at, limit, loc + (tag,), delimited=True)
            else:
                end = value_at + length
                if end > limit:
                    raise _Fallback("a value past the end")
                new = self._value(tag, vr, value_at, end, loc + (tag,))
            if new is None:
                parts.append(self.data[position:end])
            else:
                parts += [self._element_header(position, header, length, len(new)), new]
                changed = True
            position = end
        return position, b"".join(parts) if changed else None

    def _value(self, tag: int, vr: str, start: int, end: int, loc: Loc) -> bytes | None:
        if vr == "SQ":
            return self.sequence(start, end, loc, delimited=False)[1]
        if vr != "UI":
            return None
        old = raw_uids(self.data[start:end], self.uid_map)
        new = [self.uid_map.get(v.strip(" \x00"), v) for v in old]
        if new == old or self.leave(loc):
            return None
        text = "\\".join(new)
        self.found.append((loc, "\\".join(old), text))
        encoded = text.encode("ascii")
        return encoded + b"\x00" if len(encoded) % 2 else encoded

    def _element_header(self, position: int, header: int, length: int, new_length: int) -> bytes:
        """The element's header with its new value length (an undefined length stays undefined)."""
        if length == UNDEFINED:
            return self.data[position:position + header]
        fixed = self.data[position:position + header - (2 if header == 8 and not self.implicit else 4)]
        size = struct.pack(self.order + ("H" if header == 8 and not self.implicit else "L"), new_length)
        return fixed + size

    def _header(self, position: int) -> tuple[int, str, int, int]:
        """(tag, VR as pydicom gives it, value length, header length) of the element at position."""
        if self.implicit:
            group, element, length = self.tag_length.unpack_from(self.data, position)
            tag = group << 16 | element
            return tag, _implicit_vr(tag), length, 8
        group, element, vr, length = self.explicit.unpack_from(self.data, position)
        tag = group << 16 | element
        if group == 0xFFFE:
            return tag, "", self.tag_length.unpack_from(self.data, position)[2], 8
        if vr == b"UN" or vr not in ENCODED_VRS:
            raise _Fallback("UN or an unknown VR")
        if vr in LONG_VRS:
            return tag, vr.decode(), self.long.unpack_from(self.data, position + 8)[0], 12
        return tag, vr.decode(), length, 8


@cache
def _implicit_vr(tag: int) -> str:
    """The VR pydicom gives an implicit element, as far as UI and SQ go ("" for anything else)."""
    group, element = tag >> 16, tag & 0xFFFF
    if group == 0xFFFE:
        return ""
    if group & 1:
        if element < 0x100:
            return ""  # a creator (LO) or an invalid private tag (UN)
        if (group, element & 0xFF) in _private_uis_and_sequences():
            raise _Fallback("a private element that may be a UI or a sequence")
        return ""
    try:
        vr = str(dictionary_VR(tag))
    except KeyError:
        return ""
    if "SQ" in vr and vr != "SQ" or "UI" in vr and vr != "UI":
        raise _Fallback("an ambiguous VR")
    return vr


@cache
def _private_uis_and_sequences() -> frozenset[tuple[int, int]]:
    """(group, element byte) of every private dictionary entry whose VR may be UI or SQ."""
    found = set()
    for entries in private_dictionaries.values():
        for key, (vr, *_) in entries.items():
            if ("UI" in vr or "SQ" in vr) and key[4:6].lower() == "xx":
                try:
                    found.add((int(key[:4], 16), int(key[6:8], 16)))
                except ValueError:
                    continue
    return frozenset(found)


def raw_uids(data: bytes, uid_map: Mapping[str, str]) -> list[str]:
    """The values pydicom would convert raw UI bytes to ([] when empty); only when one of them is a key of
    uid_map are they checked as pydicom's conversion does (with its warnings), for they change."""
    items = data.decode("latin-1").rstrip(" \x00").split("\\")  # pydicom's UI converter
    if items == [""]:
        return []
    values = [v.strip() for v in items]  # what pydicom's UID() keeps of each
    if any(v.strip(" \x00") in uid_map for v in values):
        for item in items:
            validate_value("UI", item, config.settings.reading_validation_mode)
    return values
