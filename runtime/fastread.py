"""An open Part 10 file in, the FileDataset pydicom's dcmread(defer_size=...) builds from it, the file's
prefix and the span of every top-level element out; or None, and read.py lets pydicom read the file.

Most files are a preamble, a file meta of explicit VR little endian elements and a data set of top-level
elements of defined length, one after the other. For those, stepping over the element headers with struct
and handing pydicom the raw elements it would have made itself costs a fraction of its general reader (no
tell() and seek() per element, no per-element generator), and the spans come for free. Anything else
returns None: no "DICM", an unexpected VR, an encoding other than the transfer syntax says, an undefined
length (sequences and encapsulated pixel data, which pydicom parses as it reads), a command set, deflate,
a duplicate or unordered tag, a value past the end of the file. A test compares the result with dcmread's
on every corpus file.
"""

from __future__ import annotations

import mmap
import struct
from typing import BinaryIO

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import RawDataElement, empty_value_for_VR
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.tag import BaseTag
from pydicom.uid import PrivateTransferSyntaxes
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32, VR

UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
CHARSET_TAG = 0x00080005
ENCODED_VRS = frozenset(vr.encode() for vr in VR)
LONG_VRS = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_32)
SYNTAXES = {"1.2.840.10008.1.2": (True, True), "1.2.840.10008.1.2.1": (False, True),
            "1.2.840.10008.1.2.2": (False, False)}
NOT_HANDLED = frozenset({"1.2.840.10008.1.2.1.99"}) | frozenset(PrivateTransferSyntaxes)
Elements = dict[BaseTag, RawDataElement]
Spans = dict[int, tuple[int, int]]


class _Other(Exception):
    """The file holds something pydicom should read itself."""


def fast_read(fp: BinaryIO, defer_size: int) -> tuple[FileDataset, bytes, Spans] | None:
    """Read fp as dcmread(fp, defer_size=defer_size) would; with the prefix and spans (see read.py)."""
    try:
        data = mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ)
    except (ValueError, OSError, AttributeError):  # empty, or not a real file
        return None
    with data:
        try:
            return _read(fp, data, defer_size)
        except (_Other, struct.error, UnicodeDecodeError):
            return None


def _read(fp: BinaryIO, data: mmap.mmap, defer_size: int) -> tuple[FileDataset, bytes, Spans]:
    if data[128:132] != b"DICM":
        raise _Other("no DICM prefix")
    meta_elements, _, start = _elements(data, 132, False, True, None, group=2)
    file_meta = _file_meta(meta_elements)
    syntax = str(file_meta.get("TransferSyntaxUID", "") or "")
    if not syntax or syntax in NOT_HANDLED or start >= len(data):
        raise _Other("a transfer syntax or an empty data set pydicom handles")
    implicit, little = SYNTAXES.get(syntax, (False, True))
    if _looks_implicit(data, start) != implicit:
        raise _Other("encoded otherwise than the transfer syntax says")
    elements, spans, _ = _elements(data, start, implicit, little, defer_size)
    ds = FileDataset(fp, Dataset(elements), bytes(data[:128]), file_meta, implicit, little)
    ds.set_original_encoding(implicit, little, _encoding(ds))
    deferred = [spans[tag][0] for tag, elem in elements.items() if elem.value is None and elem.length]
    return ds, bytes(data[:min(deferred, default=len(data))]), spans


def _file_meta(elements: Elements) -> FileMetaDataset:
    """The file meta as pydicom's reader leaves it: raw elements, the first one converted."""
    if not elements:
        raise _Other("no file meta")
    file_meta = FileMetaDataset(Dataset(elements))
    file_meta.set_original_encoding(False, True, default_encoding)
    file_meta[next(iter(elements))]  # pydicom's reader converts it to test the encoding
    return file_meta


def _looks_implicit(data: mmap.mmap, position: int) -> bool:
    """pydicom's test of the first element: no VR of two capital letters means implicit VR."""
    first, second = data[position + 4:position + 6]
    return not (0x40 < first < 0x5B and 0x40 < second < 0x5B)


def _elements(data: mmap.mmap, position: int, implicit: bool, little: bool, defer_size: int | None,
              group: int | None = None) -> tuple[Elements, Spans, int]:
    """Step over elements from position (those of `group` only, if given) to the end of the file."""
    order = "<" if little else ">"
    head = struct.Struct(order + ("HHL" if implicit else "HH2sH"))
    long_length = struct.Struct(order + "L")
    elements: Elements = {}
    spans: Spans = {}
    size, previous = len(data), -1
    while position + 8 <= size:
        if implicit:
            element_group, number, length = head.unpack_from(data, position)
            vr_bytes = None
        else:
            element_group, number, vr_bytes, length = head.unpack_from(data, position)
        if group is not None and element_group != group:
            break
        tag = element_group << 16 | number
        vr, header = None, 8
        if not implicit:
            if vr_bytes not in ENCODED_VRS:
                raise _Other("an unknown VR")
            vr = vr_bytes.decode()
            if vr_bytes in LONG_VRS:
                length, header = long_length.unpack_from(data, position + 8)[0], 12
        value_at = position + header
        if length == UNDEFINED or tag <= previous or element_group in (0x0000, 0xFFFE) or value_at + length > size:
            raise _Other("an undefined length, a command set, a delimiter, an unordered tag or a short value")
        if length == 0:
            value = empty_value_for_VR(vr, raw=True)
        elif defer_size is not None and length > defer_size and tag != CHARSET_TAG:
            value = None
        else:
            value = data[value_at:value_at + length]
        key = BaseTag(tag)  # one object as key and element tag: pydicom's lookups by elem.tag match it at once
        elements[key] = RawDataElement(key, vr, length, value, value_at, implicit, little)
        spans[tag] = (position, value_at + length)
        position, previous = value_at + length, tag
    if group is None and (position < size or not elements):
        raise _Other("bytes after the last element, or no element")
    return elements, spans, position


def _encoding(ds: Dataset) -> str | list[str]:
    """The data set's character set, its element converted as pydicom's reader leaves it."""
    charset = ds.get(CHARSET_TAG)
    return convert_encodings(charset.value) if charset else default_encoding
