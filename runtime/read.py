"""Reading one input file in full: a path in, a checked data set and where its elements sit in the file out.

Most files are read by fastread.py, the others by pydicom. Values longer than DEFER_SIZE (pixel data, overlays, waveforms) are left on disk: pydicom reads them only
if the plan touches them, and the writer copies them from the input file otherwise, so memory does not grow
with file size. A file pydicom reads only in part fails: it ends inside an element or before a sequence
delimiter, its native PixelData is shorter than Rows x Columns x BitsAllocated say, or nothing follows the
file meta.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from dcmrules.runtime.fastread import UNDEFINED, fast_read
from dcmrules.runtime.files import PathOrFile, ReadFailure, describe_error, opened
from dcmrules.runtime.targets import element_vr

DEFER_SIZE = 64 * 1024
DEFLATED = "1.2.840.10008.1.2.1.99"
SEQUENCE_DELIMITER = {True: b"\xfe\xff\xdd\xe0\x00\x00\x00\x00", False: b"\xff\xfe\xe0\xdd\x00\x00\x00\x00"}


@dataclass(frozen=True)
class Loaded:
    """A data set read from a file; the file's bytes up to its first value left on disk (the prefix); the
    span (start, end) of each top-level element in the file, where it can be trusted; the reader's warnings."""

    ds: Dataset
    file: PathOrFile
    prefix: bytes
    spans: Mapping[int, tuple[int, int]]
    warnings: tuple[str, ...]


def read_full(source: PathOrFile, kind: str, *, allow_empty: bool = False) -> Loaded:
    """Read a file (big values deferred), check it is complete, and locate its elements; ReadFailure if broken.

    Given an open file, the writer later copies unchanged elements from it, so keep it open until then.
    allow_empty accepts a file meta with no data set after it (an output whose plan removed everything).
    """
    with warnings.catch_warnings(record=True) as caught, opened(source) as fp:
        warnings.simplefilter("always")
        fast = fast_read(fp, DEFER_SIZE) if kind == "part10" else None
        ds = fast[0] if fast else _read(fp, kind)
        size = os.fstat(fp.fileno()).st_size
        if len(ds) or not allow_empty:
            check_readable(ds, fp, size, tuple(str(w.message) for w in caught))
        if fast:
            prefix, spans = fast[1], fast[2]
        else:
            prefix, spans = (b"", {}) if _deflated(ds) else element_spans(ds, fp, size)
    return Loaded(ds, source, prefix, spans, tuple(dict.fromkeys(str(w.message) for w in caught)))


def _read(fp: BinaryIO, kind: str) -> Dataset:
    try:
        ds = dcmread(fp, force=kind == "raw", defer_size=DEFER_SIZE)
        if _deflated(ds):  # inflated in memory: a deferred read would seek in the compressed file
            fp.seek(0)
            ds = dcmread(fp, force=kind == "raw")
    except Exception as exc:  # pydicom raises many types on malformed input
        raise ReadFailure(f"cannot read: {describe_error(exc)}") from None
    return ds


def _deflated(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    return meta is not None and meta.get("TransferSyntaxUID") == DEFLATED


# -- where each element sits --------------------------------------------------------------------------------


def element_spans(ds: Dataset, fp: BinaryIO, size: int) -> tuple[bytes, dict[int, tuple[int, int]]]:
    """Return the file's prefix and {tag: (start, end)} of each top-level element ({} when in doubt).

    Elements must sit end to end (each defined-length element ends where the next one starts) and the
    first one must start with its tag, else nothing is copied and pydicom encodes everything.
    """
    implicit, little = ds.original_encoding
    starts: list[tuple[int, int]] = []
    if not len(ds):
        return b"", {}
    first_deferred, expected = size, None
    for tag, element in ds.items():  # as read: raw elements, deferred values left on disk
        start = _element_start(element, bool(implicit))
        if start is None or (expected is not None and start != expected):
            return b"", {}
        starts.append((tag, start))
        expected = element.value_tell + element.length if element.is_raw and element.length != UNDEFINED else None
        if _is_deferred(element):
            first_deferred = min(first_deferred, start)
    fp.seek(0)
    prefix = fp.read(first_deferred)
    order = "little" if little is not False else "big"
    if not starts or prefix[starts[0][1]:starts[0][1] + 4] != _tag_bytes(starts[0][0], order):
        return prefix, {}
    spans = {tag: (start, nxt) for (tag, start), (_, nxt) in zip(starts, starts[1:])}
    spans[starts[-1][0]] = (starts[-1][1], min(size, expected) if expected is not None else size)
    return prefix, spans


def _is_deferred(element: Any) -> bool:
    return bool(element.is_raw and element.value is None and element.length not in (0, UNDEFINED))


def _element_start(element: Any, implicit: bool) -> int | None:
    tell = getattr(element, "value_tell", None) if element.is_raw else getattr(element, "file_tell", None)
    if tell is None:
        return None
    long_header = not implicit and (element.VR in EXPLICIT_VR_LENGTH_32 or element.VR in ("SQ", "UN"))
    return int(tell) - (12 if long_header else 8)


def _tag_bytes(tag: int, order: str) -> bytes:
    return (tag >> 16).to_bytes(2, order) + (tag & 0xFFFF).to_bytes(2, order)  # type: ignore[arg-type]


# -- completeness -----------------------------------------------------------------------------------------


def check_readable(ds: Dataset, fp: BinaryIO, size: int, messages: tuple[str, ...] = ()) -> None:
    """Raise ReadFailure for an empty or truncated data set."""
    if any(message.startswith("End of file reached") for message in messages):
        raise ReadFailure("truncated: the file ends before the end of its encapsulated pixel data")
    if len(ds) == 0:
        raise ReadFailure("no data set after the file meta (empty or truncated file)")
    reason = _truncation(ds, fp, size) or _short_pixel_data(ds)
    if reason:
        raise ReadFailure(reason)


def _truncation(ds: Dataset, fp: BinaryIO, size: int) -> str | None:
    tag = next(reversed(ds.keys()))
    element = ds.get_item(tag, keep_deferred=True)
    if element.is_raw and element.length != UNDEFINED:
        have = len(element.value) if isinstance(element.value, bytes) else size - element.value_tell
        if have < element.length and not _deflated(ds):
            return f"truncated: the file ends inside {tag} ({max(have, 0)} of {element.length} bytes)"
        return None
    if _deflated(ds) or not (element.is_raw or element.is_undefined_length):
        return None
    fp.seek(max(0, size - 8))
    if fp.read(8) != SEQUENCE_DELIMITER[ds.original_encoding[1] is not False]:
        return f"truncated: the file ends inside {tag} before its sequence delimiter"
    return None


def _short_pixel_data(ds: Dataset) -> str | None:
    if 0x7FE00010 not in ds or _encapsulated(ds):
        return None
    element = ds.get_item(0x7FE00010, keep_deferred=True)
    have = element.length if element.is_raw else len(element.value or b"")
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        count = _us(ds, 0x00280010) * _us(ds, 0x00280011) * _us(ds, 0x00280002, 1) * frames
        expected = (count * _us(ds, 0x00280100) + 7) // 8
    except (KeyError, TypeError, ValueError):
        return None
    if have != UNDEFINED and have < expected:
        return f"truncated: PixelData holds {have} bytes, its Rows, Columns and BitsAllocated need {expected}"
    return None


def _us(ds: Dataset, tag: int, default: int | None = None) -> int:
    """An image attribute's number (US), read from its two bytes while pydicom has not converted it."""
    if tag not in ds:
        if default is None:
            raise KeyError(tag)
        return default
    raw = ds.get_item(tag, keep_deferred=True)
    if raw.is_raw and isinstance(raw.value, bytes) and len(raw.value) == 2 and element_vr(ds, raw) == "US":
        return int.from_bytes(raw.value, "little" if raw.is_little_endian else "big")
    return int(ds[tag].value)


def _encapsulated(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)  # not a throwaway FileMetaDataset(), costly to build
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    return syntax is not None and UID(syntax).is_compressed
