"""A data set and the run's UID map in, every UI element (at any depth) holding a mapped UID rewritten, and
(location, before, after) of each out.

Elements are visited as read. A UI value still in its raw form is compared with the map first, so a UI
element that keeps its value is never decoded. A sequence still in its raw form is rewritten as bytes
(rawseq.py) and stays raw, so the writer copies it as it is; only a sequence rawseq cannot read, or one
already converted, is walked as pydicom data sets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter

from pydicom import config
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from dcmrules.runtime.rawseq import raw_uids, rewrite_uids
from dcmrules.runtime.targets import PIXEL_TAGS, Loc, Node, element_vr, make_node, sequence_items, value_text

Found = list[tuple[Loc, str, str]]


def remap_uids(ds: Dataset, uid_map: Mapping[str, str], leave: Callable[[Loc], bool]) -> Found:
    """Give every UI element whose value is a key of uid_map the mapped value, except where leave(loc)."""
    found: Found = []
    _remap_node(make_node(ds), uid_map, leave, found)
    return found


def _remap_node(node: Node, uid_map: Mapping[str, str], leave: Callable[[Loc], bool], found: Found) -> None:
    ds, converting = node.ds, config.data_element_callback is not None
    for tag, key, elem in sorted(zip(map(int, ds.keys()), ds.keys(), ds.values()), key=itemgetter(0)):
        vr = elem.VR
        if elem.is_raw and (vr is None or vr == "UN" or converting):
            vr = element_vr(ds, elem)
        if vr == "UI" and tag not in PIXEL_TAGS:
            loc = node.loc + (tag,)
            texts = None if leave(loc) else _remap_element(ds, key, uid_map)
            if texts is not None:
                found.append((loc, *texts))
        elif vr == "SQ" and not _rewrite_raw(node, key, elem, uid_map, leave, found):
            for child in sequence_items(node, key):
                _remap_node(child, uid_map, leave, found)


def _rewrite_raw(node: Node, tag: int, elem: object, uid_map: Mapping[str, str], leave: Callable[[Loc], bool],
                 found: Found) -> bool:
    """Rewrite a sequence still as read, in place as a raw element; False if it must be converted."""
    if not (isinstance(elem, RawDataElement) and isinstance(elem.value, bytes)) or config.data_element_callback:
        return False
    loc = node.loc + (int(tag),)
    result = rewrite_uids(elem.value, loc, bool(elem.is_implicit_VR), bool(elem.is_little_endian), uid_map, leave)
    if result is None:
        return False
    new, changes = result
    if new is not None:
        node.ds[tag] = elem._replace(value=new, length=len(new))
        found.extend(changes)
    return True


def _remap_element(ds: Dataset, tag: int, uid_map: Mapping[str, str]) -> tuple[str, str] | None:
    raw = ds.get_item(tag, keep_deferred=True)
    as_read = raw.is_raw and isinstance(raw.value, bytes) and config.data_element_callback is None
    old = raw_uids(raw.value, uid_map) if as_read else _uids(ds, tag)
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
