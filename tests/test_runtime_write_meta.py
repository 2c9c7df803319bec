"""write.file_meta_bytes() against pydicom's write_file_meta_info(): the same bytes, or no answer."""

from __future__ import annotations

import io
import warnings

import pytest
from pydicom.filewriter import write_file_meta_info

from dcmrules.runtime.files import ReadFailure, sniff
from dcmrules.runtime.read import read_full
from dcmrules.runtime.write import file_meta_bytes
from tests.runtime_support import make_set


def _pydicoms(meta) -> bytes:
    buffer = io.BytesIO()
    write_file_meta_info(buffer, meta, enforce_standard=False)
    return buffer.getvalue()


def _metas(paths):
    for path in paths:
        with open(path, "rb") as fp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kind = sniff(fp)
            try:
                meta = read_full(fp, kind).ds.file_meta if kind else None
            except ReadFailure:
                continue
            if meta:
                yield path, meta


def _agree(path, meta) -> bool:
    """Assert file_meta_bytes equals pydicom's encoding, before and after a new instance UID; answered?"""
    answered = False
    for new_uid in (None, "2.25.98765432109876543210", "2.25.1"):
        if new_uid is not None and 0x00020003 in meta:
            meta.MediaStorageSOPInstanceUID = new_uid
        if new_uid == "2.25.1":
            meta.ImplementationVersionName = "ODD"  # odd lengths: UI padded with NUL, SH with a space
        ours = file_meta_bytes(meta)
        if ours is not None:
            assert ours == _pydicoms(meta), path
            answered = True
    return answered


@pytest.mark.slow
def test_file_meta_bytes_are_pydicoms_on_every_corpus_file(corpus):
    answered = [path for path, meta in _metas(sorted(p for p in corpus.rglob("*") if p.is_file()))
                if _agree(path, meta)]
    assert len(answered) >= 60


def test_file_meta_bytes_are_pydicoms_on_a_generated_set(tmp_path):
    metas = list(_metas(make_set(tmp_path / "set")))
    assert metas and all(_agree(path, meta) for path, meta in metas)


def test_what_pydicom_must_encode_gets_no_answer(tmp_path):
    (path, meta), *_ = _metas(make_set(tmp_path / "set"))
    meta.ImplementationVersionName = ["TWO", "VALUES"]
    assert file_meta_bytes(meta) is None
    meta.ImplementationVersionName = "NAÏVE"
    assert file_meta_bytes(meta) is None
