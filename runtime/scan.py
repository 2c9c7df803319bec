"""A fast top-level scan for the first pass: a file and the tags wanted in, a small pydicom Dataset out (or None).

It steps over element headers without decoding anything (sequences of undefined length are walked item by
item), keeps the raw bytes of the wanted top-level elements and stops after the last one. Anything it does
not expect (deflated or unknown transfer syntax, no file meta, an odd VR, a length past the end, a wanted
sequence) returns None, and the caller reads the header with pydicom instead. The Dataset holds pydicom
RawDataElements, so values are decoded by pydicom, with the file's character set.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterable

from pydicom.charset import convert_encodings, default_encoding
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from dcmrules.runtime.fastread import ITEM, ITEM_END, LONG_VRS, SEQUENCE_END, UNDEFINED
from dcmrules.runtime.files import PathOrFile, opened

IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"


class _Unexpected(Exception):
    pass


def scan_header(source: PathOrFile, tags: Iterable[int]) -> Dataset | None:
    """Return a Dataset with the wanted top-level elements found in a Part 10 file, or None to fall back."""
    wanted = frozenset(tags) | {0x00080005}
    if any(_is_sequence(tag) for tag in wanted):
        return None
    with opened(source) as fp:
        if fp.read(132)[128:132] != b"DICM":
            return None
        try:
            data = mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return None
    with data:
        return _scan(data, wanted)


def _is_sequence(tag: int) -> bool:
    try:
        return dictionary_VR(tag) == "SQ"
    except KeyError:
        return bool(tag >> 16 & 1)  # private: unknown, maybe a sequence


def _scan(data: mmap.mmap, wanted: frozenset[int]) -> Dataset | None:
    try:
        start, syntax = _meta_end(data)
        implicit, little = {IMPLICIT_LE: (True, True), EXPLICIT_LE: (False, True), EXPLICIT_BE: (False, False)}[syntax]
        found = _elements(data, start, implicit, little, wanted)
    except (_Unexpected, KeyError, struct.error, IndexError, ValueError):
        return None
    keys = {tag: BaseTag(tag) for tag in found}  # one object as key and element tag
    ds = Dataset({keys[tag]: RawDataElement(keys[tag], vr, len(value), value, tell, implicit, little)
                  for tag, (vr, value, tell) in found.items()})
    charset = ds.get(0x00080005)  # by tag: a keyword lookup costs a dictionary search
    encoding = convert_encodings(charset.value) if charset is not None and charset.value else default_encoding
    ds.set_original_encoding(implicit, little, encoding)
    return ds


def _meta_end(data: mmap.mmap) -> tuple[int, str]:
    """Return where the data set starts (after the group 0002 elements) and the transfer syntax UID."""
    position, syntax = 132, None
    while position + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, position)
        if group != 0x0002:
            break
        vr = data[position + 4:position + 6]
        if vr in LONG_VRS:
            (length,) = struct.unpack_from("<L", data, position + 8)
            header = 12
        else:
            (length,) = struct.unpack_from("<H", data, position + 6)
            header = 8
        if element in (0x0002, 0x0010):
            value = bytes(data[position + header:position + header + length]).decode("latin-1").strip(" \x00")
            if element == 0x0002 and value == DICOMDIR_CLASS:
                raise _Unexpected("a DICOMDIR")
            syntax = value if element == 0x0010 else syntax
        position += header + length
    if syntax is None:
        raise _Unexpected("no transfer syntax")
    return position, syntax


def _elements(data: mmap.mmap, position: int, implicit: bool, little: bool,
              wanted: frozenset[int]) -> dict[int, tuple[str | None, bytes, int]]:
    last, size = max(wanted), len(data)
    order = "<" if little else ">"
    found: dict[int, tuple[str | None, bytes, int]] = {}
    while position + 8 <= size:
        tag, vr, length, header = _header(data, position, implicit, order)
        if tag > last:
            break
        value_at = position + header
        if length == UNDEFINED:
            position = _skip_sequence(data, value_at, implicit, order)
            continue
        if value_at + length > size:
            raise _Unexpected("past the end")
        if tag in wanted:
            found[tag] = (vr, bytes(data[value_at:value_at + length]), value_at)
        position = value_at + length
    return found


_EXPLICIT = {"<": struct.Struct("<HH2sH"), ">": struct.Struct(">HH2sH")}
_IMPLICIT = {"<": struct.Struct("<HHL"), ">": struct.Struct(">HHL")}
_LONG = {"<": struct.Struct("<L"), ">": struct.Struct(">L")}


def _header(data: mmap.mmap, position: int, implicit: bool, order: str) -> tuple[int, str | None, int, int]:
    """Return (tag, VR or None, value length, header length) of the element at position."""
    if not implicit:
        group, element, vr, length = _EXPLICIT[order].unpack_from(data, position)
        if group != 0xFFFE:
            if vr in LONG_VRS:
                return group << 16 | element, vr.decode(), _LONG[order].unpack_from(data, position + 8)[0], 12
            if not (b"AA" <= vr <= b"ZZ"):
                raise _Unexpected("not an explicit VR")
            return group << 16 | element, vr.decode(), length, 8
    group, element, length = _IMPLICIT[order].unpack_from(data, position)
    return group << 16 | element, None, length, 8


def _skip_sequence(data: mmap.mmap, position: int, implicit: bool, order: str) -> int:
    """Return the position after an undefined-length value (sequence or encapsulated fragments)."""
    while position + 8 <= len(data):
        tag, _vr, length, header = _header(data, position, True, order)
        position += header
        if tag == SEQUENCE_END:
            return position
        if tag != ITEM:
            raise _Unexpected("not an item")
        position = _skip_item(data, position, length, implicit, order)
    raise _Unexpected("no sequence delimiter")


def _skip_item(data: mmap.mmap, position: int, length: int, implicit: bool, order: str) -> int:
    if length != UNDEFINED:
        return position + length
    while position + 8 <= len(data):
        tag, _vr, length, header = _header(data, position, implicit, order)
        position += header
        if tag == ITEM_END:
            return position
        position = _skip_sequence(data, position, implicit, order) if length == UNDEFINED else position + length
    raise _Unexpected("no item delimiter")
