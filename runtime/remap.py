"""A data set and the run's UID map in, every UI element (at any depth) holding a mapped UID rewritten, and
(location, before, after) of each out.

Elements are visited as read: only sequences are converted (to descend into them), and a UI value still in
its raw form is compared with the map first, so a UI element that keeps its value is never decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pydicom import config
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import validate_value

from dcmrules.runtime.targets import PIXEL_TAGS, Loc, make_node, value_text, walk


def remap_uids(ds: Dataset, uid_map: Mapping[str, str], leave: Callable[[Loc], bool]) -> list[tuple[Loc, str, str]]:
    """Give every UI element whose value is a key of uid_map the mapped value, except where leave(loc)."""
    out = []
    for node, tag, _ in walk(make_node(ds), only="UI"):
        loc = node.loc + (int(tag),)  # plain ints: locations are compared and sorted a lot
        if tag in PIXEL_TAGS or leave(loc):
            continue
        texts = _remap_element(node.ds, tag, uid_map)
        if texts is not None:
            out.append((loc, *texts))
    return out


def _remap_element(ds: Dataset, tag: int, uid_map: Mapping[str, str]) -> tuple[str, str] | None:
    raw = ds.get_item(tag, keep_deferred=True)
    as_read = raw.is_raw and isinstance(raw.value, bytes) and config.data_element_callback is None
    old = _raw_uids(raw.value, uid_map) if as_read else _uids(ds, tag)
    new = [uid_map.get(v.strip(" \x00"), v) for v in old]
    if new == old:
        return None
    value = new[0] if len(new) == 1 else new
    if as_read:  # the element pydicom would hold after converting it and assigning the value
        ds.add_new(tag, "UI", value)
    else:
        ds[tag].value = value
    return "\\".join(old), value_text(tag, ds[tag].value)


def _uids(ds: Dataset, tag: int) -> list[str]:
    """A converted element's values as text ([] when empty or not UI)."""
    elem = ds[tag]
    if elem.VR != "UI" or not elem.value:
        return []
    return [str(v) for v in (elem.value if isinstance(elem.value, MultiValue) else [elem.value])]


def _raw_uids(data: bytes, uid_map: Mapping[str, str]) -> list[str]:
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
