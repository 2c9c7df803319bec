"""Sequences rewritten as bytes (rawseq.py) against the same sequences converted by pydicom: same bytes out.

Every UID of each file (at any depth) is mapped to a new one, then the file is remapped twice: as read (raw
sequences rewritten as bytes) and with every sequence converted first (pydicom walks and encodes them). The
written bytes and the listed changes must be the same.
"""

from __future__ import annotations

import hashlib

import pytest

from dcmrules.runtime.files import sniff
from dcmrules.runtime.rawseq import rewrite_uids
from dcmrules.runtime.read import read_full
from dcmrules.runtime.remap import remap_uids
from dcmrules.runtime.targets import make_node, walk
from dcmrules.runtime.write import changed_tags, complete_file_meta, encoded_bytes
from tests.runtime_support import make_set

UNREADABLE = ("bad.dcm", "_truncated", "too_short", "no_meta", "zipMR", "DICOMDIR")


def _new_uid(uid: str) -> str:
    return "2.25." + str(int.from_bytes(hashlib.sha256(uid.encode()).digest()[:15], "big"))


def _uid_map(path) -> dict[str, str]:
    """Every UI value of the file, at any depth, mapped to a new UID."""
    with open(path, "rb") as fp:
        ds = read_full(fp, sniff(fp)).ds
    values = set()
    for node, tag, _vr in walk(make_node(ds), only="UI"):
        value = node.ds[tag].value
        values.update(str(v).strip(" \x00") for v in (value if isinstance(value, list) else [value]) if v)
    return {v: _new_uid(v) for v in values}


def _remapped(path, uid_map, convert_first: bool):
    with open(path, "rb") as fp:
        loaded = read_full(fp, sniff(fp))
        if convert_first:
            list(walk(make_node(loaded.ds)))  # converts every sequence, at every depth
        found = remap_uids(loaded.ds, uid_map, lambda loc: False)
        built = complete_file_meta(loaded.ds)
        changed = changed_tags(f"({loc[0] >> 16:04X},{loc[0] & 0xFFFF:04X})" for loc, _, _ in found)
        as_bytes = {loc[0] for loc, _, _ in found if len(loc) > 1 and loaded.ds.get_item(loc[0]).is_raw}
        return encoded_bytes(loaded.ds, built, loaded, changed), found, as_bytes


def _readable(corpus):
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix not in (".tsv", ".md", ".txt")
                  and not any(part in str(p) for part in UNREADABLE) and _is_dicom(p))


def _is_dicom(path) -> bool:
    with open(path, "rb") as fp:
        return sniff(fp) is not None


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")  # the corpus holds invalid UIDs on purpose
def test_raw_rewrite_writes_what_pydicom_writes_on_every_corpus_file(corpus):
    rewritten = 0
    for path in _readable(corpus):
        uid_map = _uid_map(path)
        raw_bytes, raw_found, as_bytes = _remapped(path, uid_map, convert_first=False)
        converted_bytes, converted_found, _ = _remapped(path, uid_map, convert_first=True)
        assert raw_found == converted_found, path
        assert raw_bytes == converted_bytes, path
        rewritten += bool(as_bytes)
    assert rewritten >= 5  # files whose sequences were rewritten as bytes: the raw path did the work


def test_raw_rewrite_writes_what_pydicom_writes_on_a_generated_set(tmp_path):
    paths = make_set(tmp_path / "set")
    rewritten = 0
    for path in paths:
        uid_map = _uid_map(path)
        raw_bytes, raw_found, as_bytes = _remapped(path, uid_map, convert_first=False)
        assert (raw_bytes, raw_found) == _remapped(path, uid_map, convert_first=True)[:2]
        rewritten += bool(as_bytes)
    assert rewritten > len(paths) // 2  # most generated files reference others from their sequences


def _item(body: bytes) -> bytes:
    return b"\xfe\xff\x00\xe0" + len(body).to_bytes(4, "little") + body


def _ui(tag: bytes, value: bytes) -> bytes:
    value += b"\x00" * (len(value) % 2)
    return tag + b"UI" + len(value).to_bytes(2, "little") + value


def test_lengths_of_items_and_nested_sequences_follow_the_new_value():
    nested = _item(_ui(b"\x08\x00\x55\x11", b"1.2.3"))
    inner = b"\x08\x00\x4a\x11SQ\x00\x00" + len(nested).to_bytes(4, "little") + nested
    data = _item(_ui(b"\x08\x00\x50\x11", b"1.2.840.10008.5.1.4.1.1.2") + inner)
    new, found = rewrite_uids(data, (0x00081140,), False, True, {"1.2.3": "2.25.99"}, lambda loc: False)
    assert found == [((0x00081140, 0, 0x0008114A, 0, 0x00081155), "1.2.3", "2.25.99")]
    expected_nested = _item(_ui(b"\x08\x00\x55\x11", b"2.25.99"))
    expected = _item(_ui(b"\x08\x00\x50\x11", b"1.2.840.10008.5.1.4.1.1.2")
                     + b"\x08\x00\x4a\x11SQ\x00\x00" + len(expected_nested).to_bytes(4, "little") + expected_nested)
    assert new == expected


def test_left_elements_and_unmapped_values_keep_their_bytes():
    data = _item(_ui(b"\x08\x00\x55\x11", b"1.2.3"))
    assert rewrite_uids(data, (0x00081140,), False, True, {"1.2.3": "2.25.99"}, lambda loc: True) == (None, [])
    assert rewrite_uids(data, (0x00081140,), False, True, {"9.9": "2.25.99"}, lambda loc: False) == (None, [])


@pytest.mark.parametrize("data", [
    _item(b"\x08\x00\x55\x11UN\x00\x00\x04\x00\x00\x001.2\x00"),  # UN: pydicom may read it as UI
    _item(b"\x09\x00\x10\x10LO\x02\x00AB")[:-1],  # the item ends inside its element
    b"\xfe\xff\x0d\xe0\x00\x00\x00\x00",  # an item delimiter where an item should start
])
def test_what_pydicom_must_read_falls_back(data):
    assert rewrite_uids(data, (0x00081140,), False, True, {"1.2": "2.25.1"}, lambda loc: False) is None
