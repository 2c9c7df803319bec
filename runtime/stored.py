"""An element of a data set as read in, its VR and its value out as pydicom gives them, decoded straight from
the bytes read when they are plain ASCII text of an identifier-like VR (UI, LO, SH, CS).

pydicom converts an element it has read (decoding, validating, building UID objects) the first time the
element is asked for; most of the runtime's reads are of identifiers, whose text needs none of that. The
shortcut applies only where every DICOM character set decodes the bytes alike (printable ASCII, NUL padding)
and the VR's decoder is a split and a strip; everything else goes through pydicom. tests/test_runtime_stored.py
checks both against pydicom's conversion.
"""

from __future__ import annotations

from collections.abc import Callable

from pydicom import config
from pydicom.dataset import Dataset

from dcmrules.runtime.targets import element_vr
from dcmrules.runtime.values import Val, element_val

_PLAIN = bytes(range(0x20, 0x7F)) + b"\x00"  # printable ASCII and NUL padding: no escape sequences


def _ui(text: str) -> Val:  # convert_UI: UID() strips each value
    items = text.rstrip(" \x00").split("\\")
    if len(items) == 1:
        return (items[0].strip(),) if items[0].strip() else ()
    return tuple(item.strip() for item in items)


def _lo(text: str) -> Val:  # convert_text (LO, SH): each value right-stripped
    items = [item.rstrip("\x00 ") for item in text.split("\\")]
    return () if items == [""] else tuple(items)


def _cs(text: str) -> Val:  # convert_string (CS): the whole value right-stripped, then split
    items = text.rstrip(" \x00").split("\\")
    return () if items == [""] else tuple(items)


_DECODERS: dict[str, Callable[[str], Val]] = {"UI": _ui, "LO": _lo, "SH": _lo, "CS": _cs}


def stored_vr(ds: Dataset, tag: int) -> str:
    """The VR pydicom gives ds[tag], converting the element only when its dictionary VR is ambiguous."""
    vr = element_vr(ds, ds.get_item(tag, keep_deferred=True))
    return str(ds[tag].VR) if " or " in vr else vr


def stored_val(ds: Dataset, tag: int) -> Val:
    """element_val(ds[tag]) (text values, bytes or items), without converting plain identifier text."""
    raw = ds.get_item(tag, keep_deferred=True)
    if raw.is_raw and isinstance(raw.value, bytes) and config.data_element_callback is None:
        decode = _DECODERS.get(element_vr(ds, raw))
        if decode is not None and not raw.value.translate(None, _PLAIN):
            return decode(raw.value.decode("ascii"))
    return element_val(ds[tag])
