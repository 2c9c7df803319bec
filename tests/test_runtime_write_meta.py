"""write.file_meta_bytes() and write.element_bytes() against pydicom's encoders: the same bytes, or no answer."""

from __future__ import annotations

import io
import warnings

import pytest
from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_file_meta_info

from dcmrules.runtime.files import ReadFailure, sniff
from dcmrules.runtime.read import read_full
from dcmrules.runtime.stored import stored_vr
from dcmrules.runtime.write import element_bytes, file_meta_bytes
from tests.runtime_support import make_set


def _pydicoms(meta) -> bytes:
    buffer = io.BytesIO()
    write_file_meta_info(buffer, meta, enforce_standard=False)
    return buffer.getvalue()


def _datasets(paths):
    for path in paths:
        with open(path, "rb") as fp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kind = sniff(fp)
            try:
                ds = read_full(fp, kind).ds if kind else None
            except ReadFailure:
                continue
            if ds is not None:
                yield path, ds


def _metas(paths):
    for path, ds in _datasets(paths):
        if getattr(ds, "file_meta", None):
            yield path, ds.file_meta


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


NEW_TEXTS = ("1.2.840.10008.1.2", "ODD", "", "A^B C", "NAÏVE", "TAB\tTAB", "A=B", "ALL^FIVE^NAME^PARTS^X")


def _pydicom_element(element, implicit, little, encodings) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = implicit, little
    write_data_element(buffer, element, encodings)
    return buffer.getvalue()


def _elements_agree(path, ds) -> int:
    """Assert element_bytes equals pydicom's encoding for every top-level element as read and for new text
    values of its text elements; return how many it answered."""
    implicit, little = ds.original_encoding
    encodings = ds.get("SpecificCharacterSet", default_encoding)
    answered = 0
    for tag in list(ds.keys()):
        raw = ds.get_item(tag, keep_deferred=True)
        candidates = [] if raw.is_raw and raw.value is None else [raw]  # values left on disk are copied
        vr = stored_vr(ds, tag)
        if vr in ("UI", "LO", "SH", "AE", "CS", "PN"):
            candidates += [DataElement(tag, vr, text, validation_mode=0) for text in NEW_TEXTS]
        for element in candidates:
            ours = element_bytes(element, implicit, little)
            if ours is not None:
                assert ours == _pydicom_element(element, implicit, little, encodings), (path, tag)
                answered += 1
            elif element is not raw and vr != "PN":  # only non-ASCII or control characters are left to pydicom
                assert not (element.value.isascii() and element.value.isprintable()), (path, tag)
    return answered


@pytest.mark.slow
def test_element_bytes_are_pydicoms_on_every_corpus_element(corpus):
    answered = [_elements_agree(path, ds) for path, ds in _datasets(sorted(p for p in corpus.rglob("*")
                                                                             if p.is_file()))]
    assert sum(answered) > 3000 and sum(1 for n in answered if n) >= 80


def test_element_bytes_are_pydicoms_on_a_generated_set(tmp_path):
    assert all(_elements_agree(path, ds) for path, ds in _datasets(make_set(tmp_path / "set")))
