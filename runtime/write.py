"""Writing runs' outputs: an edited data set (and the file it came from) in, an atomically written file out.

- Transfer syntax kept: the data set is written in the encoding it was read in; pixel data is never decoded.
- Unchanged top-level elements are copied byte for byte from the input file (what pydicom itself writes for
  an element it never decoded, only faster; big values go file to file with os.copy_file_range, never
  through memory). Changed and inserted elements, and the file meta, are encoded here when they are as read
  or single printable ASCII texts (element_bytes(), file_meta_bytes(): byte for byte what pydicom writes),
  else by pydicom. Deflated files, and files whose encoding or character set changes, are written by pydicom
  alone.
- A data set read without preamble and file meta is written as a standard Part 10 file: a zero preamble
  and a file meta (SOP Class/Instance UIDs from the data set, the transfer syntax it was read in).
- The file is written to a hidden temporary file next to the output (".<name>.<pid>.dcmrules-tmp"), then
  renamed into place (os.replace with --overwrite, else os.link, which never replaces an existing file).
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from pydicom import dcmwrite
from pydicom.charset import default_encoding
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_file_meta_info
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pydicom.valuerep import PersonName

from dcmrules.runtime.fastread import ENCODED_VRS, LONG_VRS, UNDEFINED
from dcmrules.runtime.files import TEMP_SUFFIX
from dcmrules.runtime.read import Loaded

ENCODING_SYNTAX = {(True, True): ImplicitVRLittleEndian, (False, True): ExplicitVRLittleEndian,
                   (False, False): ExplicitVRBigEndian}
DEFLATED = "1.2.840.10008.1.2.1.99"
CHARSET_TAG = 0x00080005
CHUNK = 1 << 20
GROUP_LENGTH = 0x00020000
TEXT_PADDING = {"UI": b"\x00", "SH": b" ", "AE": b" ", "LO": b" ", "CS": b" ", "PN": b" "}


def complete_file_meta(ds: Dataset) -> bool:
    """Give a data set read without file meta a standard one; return True when it was built here.

    A file meta without TransferSyntaxUID gets the one the data set was read in; other gaps are kept.
    """
    meta = getattr(ds, "file_meta", None)
    syntax = ENCODING_SYNTAX.get(ds.original_encoding)
    if meta is not None and len(meta):
        if "TransferSyntaxUID" not in meta and syntax is not None:
            meta.TransferSyntaxUID = syntax
        return False
    ds.file_meta = FileMetaDataset()
    if syntax is None or not ds.get("SOPClassUID") or not ds.get("SOPInstanceUID"):
        return False
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = syntax
    ds.preamble = ds.preamble or b"\x00" * 128
    return True


def changed_tags(paths: Iterable[str]) -> frozenset[int]:
    """Return the top-level tags named by change paths such as '(0008,1140)[0].(0008,1155)'."""
    return frozenset(int(path[1:5] + path[6:10], 16) for path in paths if path.startswith("(") and path[5:6] == ",")


def encode(ds: Dataset, fp: BinaryIO, built_meta: bool, source: Loaded | None = None,
           changed: frozenset[int] = frozenset()) -> None:
    """Write ds to fp in its own transfer syntax, copying unchanged elements from source when it can."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if source is None or not _can_splice(ds, source, changed):
            dcmwrite(fp, ds, enforce_file_format=built_meta)  # type: ignore[arg-type]
            return
        _write_head(fp, ds, built_meta)
        _write_body(fp, ds, source, changed)


def _can_splice(ds: Dataset, source: Loaded, changed: frozenset[int]) -> bool:
    if not source.spans or CHARSET_TAG in changed:
        return False
    meta = getattr(ds, "file_meta", None)  # not a throwaway FileMetaDataset(), costly to build
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax is None:
        return True
    syntax = UID(syntax)
    if syntax == DEFLATED or not syntax.is_transfer_syntax:
        return False
    return (syntax.is_implicit_VR, syntax.is_little_endian) == ds.original_encoding


def _write_head(fp: BinaryIO, ds: Dataset, built_meta: bool) -> None:
    preamble = getattr(ds, "preamble", None)
    if preamble:
        fp.write(preamble)
        fp.write(b"DICM")
    meta = getattr(ds, "file_meta", None)
    if meta:
        encoded = None if built_meta else file_meta_bytes(meta)
        if encoded is None:
            write_file_meta_info(fp, meta, enforce_standard=built_meta)  # type: ignore[arg-type]  # ds is discarded after
        else:
            fp.write(encoded)


def file_meta_bytes(meta: Dataset) -> bytes | None:
    """The file meta as write_file_meta_info() encodes it (group length recomputed when present), for the usual
    case: elements as read or single ASCII text values; None for anything else, which pydicom writes."""
    parts = []
    for tag in sorted(meta.keys()):
        if tag >> 16 != 2:
            return None
        if tag != GROUP_LENGTH:
            encoded = element_bytes(meta.get_item(tag, keep_deferred=True), False, True)
            if encoded is None:
                return None
            parts.append(encoded)
    body = b"".join(parts)
    if GROUP_LENGTH in meta:
        body = struct.pack("<HH2sHL", 2, 0, b"UL", 4, len(body)) + body
    return body


def element_bytes(elem: Any, implicit: bool, little: bool) -> bytes | None:
    """One element as pydicom's write_data_element() encodes it, for the usual cases: an element as read
    (defined length, its bytes as they are) or a single printable ASCII value of UI, LO, SH, AE, CS or PN
    (the same bytes in every DICOM character set). None for anything else, which pydicom encodes."""
    vr, value = elem.VR, elem.value
    if elem.is_raw:
        if not isinstance(value, bytes) or elem.length == UNDEFINED or (vr is None and not implicit):
            return None
        data = value
    elif vr in TEXT_PADDING and _plain_text(vr, value):
        data = str(value).encode("ascii")
        data += TEXT_PADDING[vr] * (len(data) % 2)
    else:
        return None
    order = "<" if little else ">"
    head = struct.pack(order + "HH", elem.tag >> 16, elem.tag & 0xFFFF)
    if implicit:
        return head + struct.pack(order + "L", len(data)) + data
    code = vr.encode("ascii")
    if code in LONG_VRS:
        return head + code + struct.pack(order + "HL", 0, len(data)) + data
    if code not in ENCODED_VRS or len(data) > 0xFFFF:
        return None  # an ambiguous VR, or a value too long for its VR (pydicom writes it as UN)
    return head + code + struct.pack(order + "H", len(data)) + data


def _plain_text(vr: str, value: object) -> bool:
    """A single printable ASCII value; for PN, a new name of one component group (no "=", no bytes kept)."""
    if vr == "PN":
        if not isinstance(value, PersonName) or value.original_string is not None or "=" in str(value):
            return False
    elif not isinstance(value, str):
        return False
    text = str(value)
    return text.isascii() and text.isprintable()


def _write_body(fp: BinaryIO, ds: Dataset, source: Loaded, changed: frozenset[int]) -> None:
    encodings = ds.get("SpecificCharacterSet", default_encoding)
    pending = _buffer(ds)
    prefix = memoryview(source.prefix)
    original: BinaryIO | None = None
    own = not hasattr(source.file, "read")
    try:
        for tag, key in sorted((int(key), key) for key in ds.keys()):  # key: the data set's own tag object
            if tag & 0xFFFF == 0 and tag >> 16 > 6:  # retired group lengths, as pydicom's writer
                continue
            span = source.spans.get(tag)
            if span is None or (tag in changed and not _deferred(ds.get_item(key, keep_deferred=True))):
                element = ds.get_item(key)
                encoded = element_bytes(element, *ds.original_encoding)
                if encoded is None:
                    write_data_element(pending, element, encodings)
                else:
                    pending.write(encoded)
            elif span[1] <= len(prefix):
                pending.write(prefix[span[0]:span[1]])
            else:
                pending = _flush(fp, pending, ds)
                original = original or (open(source.file, "rb") if own else source.file)  # type: ignore[arg-type]
                _copy_range(original, fp, span[0], span[1] - span[0])
    finally:
        if original is not None and own:
            original.close()
    _flush(fp, pending, ds)


def _deferred(element: Any) -> bool:
    """True for a value pydicom left in the file (the writer copies it from there)."""
    return bool(element.is_raw and element.value is None)


def _buffer(ds: Dataset) -> DicomBytesIO:
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = ds.original_encoding
    return buffer


def _flush(fp: BinaryIO, pending: DicomBytesIO, ds: Dataset) -> DicomBytesIO:
    fp.write(pending.getvalue())
    return _buffer(ds)


def _copy_range(original: BinaryIO, fp: BinaryIO, start: int, length: int) -> None:
    """Copy length bytes at start of the input file to fp: in the kernel when both are files."""
    try:
        destination = fp.fileno()
    except (AttributeError, OSError):
        destination = -1
    if destination >= 0 and hasattr(os, "copy_file_range"):
        try:
            while length > 0:
                copied = os.copy_file_range(original.fileno(), destination, length, start)
                if copied == 0:
                    break
                start, length = start + copied, length - copied
            if length == 0:
                return
        except OSError:  # e.g. across file systems on old kernels: copy through memory
            pass
    original.seek(start)
    while length > 0:
        chunk = original.read(min(CHUNK, length))
        if not chunk:
            raise OSError(f"{original.name} ended while copying it")
        fp.write(chunk)
        start, length = start + len(chunk), length - len(chunk)


def write_atomic(ds: Dataset, output: Path, *, overwrite: bool, built_meta: bool, source: Loaded | None = None,
                 changed: frozenset[int] = frozenset()) -> bool:
    """Write ds to output through a temporary file; False (nothing written) if output exists and not overwrite."""
    folder, name = os.path.split(os.fspath(output))  # plain strings: once per file, Path objects cost
    temporary = os.path.join(folder, f".{name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        with _create(temporary, folder) as fp:
            encode(ds, fp, built_meta, source, changed)
        return _publish(temporary, os.fspath(output), overwrite)
    finally:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass


def _create(path: str, folder: str) -> Any:
    try:
        return open(path, "wb", buffering=0)
    except FileNotFoundError:  # the first file of its folder: the workers create folders as they go
        os.makedirs(folder or ".", exist_ok=True)
        return open(path, "wb", buffering=0)


def _publish(temporary: str, output: str, overwrite: bool) -> bool:
    if overwrite:
        os.replace(temporary, output)
        return True
    try:
        os.link(temporary, output)
    except FileExistsError:
        return False
    except OSError:  # file systems without hard links: check, then rename
        if os.path.exists(output):
            return False
        os.replace(temporary, output)
    return True


def encoded_bytes(ds: Dataset, built_meta: bool, source: Loaded | None = None,
                  changed: frozenset[int] = frozenset()) -> bytes:
    """Return what encode() writes, as bytes (for verify)."""
    import io

    buffer: Any = io.BytesIO()
    encode(ds, buffer, built_meta, source, changed)
    return bytes(buffer.getvalue())
