"""fastread.py against pydicom's own reader: the same data set, file meta, prefix and spans, or no answer."""

from __future__ import annotations

import os

import pytest
from pydicom import dcmread

from dcmrules.runtime.fastread import fast_read
from dcmrules.runtime.files import sniff
from dcmrules.runtime.read import DEFER_SIZE, element_spans
from tests.runtime_support import make_set

ELEMENT_FIELDS = ("tag", "VR", "length", "value", "value_tell", "is_implicit_VR", "is_little_endian", "is_raw")


def _part10(folder):
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with open(path, "rb") as fp:
            if sniff(fp) == "part10":
                yield path


def _compare(path) -> bool:
    """Assert fast_read agrees with dcmread on path; return whether it answered at all."""
    with open(path, "rb") as fp:
        fast = fast_read(fp, DEFER_SIZE)
        if fast is None:
            return False
        ds, prefix, spans = fast
        fp.seek(0)
        expected = dcmread(fp, defer_size=DEFER_SIZE)
        assert (prefix, spans) == element_spans(expected, fp, os.fstat(fp.fileno()).st_size), path
    assert list(ds.keys()) == list(expected.keys()), path
    for tag in ds.keys():
        got, want = ds.get_item(tag, keep_deferred=True), expected.get_item(tag, keep_deferred=True)
        assert type(got) is type(want), (path, tag)
        assert [getattr(got, f, None) for f in ELEMENT_FIELDS] == [getattr(want, f, None) for f in ELEMENT_FIELDS], \
            (path, tag)
    assert ds.file_meta == expected.file_meta and ds.preamble == expected.preamble, path
    assert ds.original_encoding == expected.original_encoding, path
    assert ds.original_character_set == expected.original_character_set, path
    assert (ds.filename, ds.fileobj_type, ds.timestamp) == (expected.filename, expected.fileobj_type,
                                                            expected.timestamp), path
    return True


@pytest.mark.slow
def test_fast_read_agrees_with_pydicom_on_every_corpus_file(corpus):
    answered = [path for path in _part10(corpus) if _compare(path)]
    assert len(answered) >= 30  # the fast path does read most plain files


def test_fast_read_agrees_with_pydicom_on_a_generated_set(tmp_path):
    paths = make_set(tmp_path / "set")
    assert all(_compare(path) for path in paths)


def test_what_pydicom_must_read_gets_no_answer(tmp_path):
    source = make_set(tmp_path / "set")[0]
    data = source.read_bytes()
    cases = {
        "no-dicm": data[:128] + b"XXXX" + data[132:],
        "cut": data[:-3],  # ends inside the last element
        "trailing": data + b"\x00\x00\x00",  # bytes after the last element
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with open(path, "rb") as fp:
            assert fast_read(fp, DEFER_SIZE) is None, name
