"""Properties of applying random plans to real files: deterministic bytes, removals hold, file meta kept."""

import io
import json
import re
import warnings
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydicom import dcmread, dcmwrite
from pydicom.datadict import tag_for_keyword
from pydicom.sequence import Sequence

from dcmrules.runtime.apply import ApplyError, Context, apply_plan, prepare
from dcmrules.specs import resource

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
SCHEMA = Draft202012Validator(json.loads(resource("plan.schema.json").read_text()))
FILES = ["pydicom-3.0.2/CT_small.dcm", "pydicom-3.0.2/liver_1frame.dcm", "pydicom-3.0.2/JPEG2000.dcm",
         "pydicom-3.0.2/rtplan.dcm", "pydicom-3.0.2/charset_files/chrX1.dcm", "pydicom-3.0.2/nested_priv_SQ.dcm",
         "dicognito-0.19.0/global_patient_id_implicit_vr.dcm", "pydicom-3.0.2/MR_small_bigendian.dcm",
         "pydicom-3.0.2/test-SR.dcm", "pydicom-3.0.2/rtstruct.dcm"]
UID = {"kind": "uid", "input": None}
VALUES = {  # keyword -> value expressions valid for its VR
    "PatientName": [{"kind": "literal", "text": "Anon^Person"}, {"kind": "dummy"}, {"kind": "empty"},
                    {"kind": "hash", "input": None, "length": 12}],
    "PatientID": [{"kind": "hash", "input": None, "length": None}, {"kind": "literal", "text": "P-1"}],
    "StudyDate": [{"kind": "shift", "seconds": -86400 * 10}, {"kind": "keyed_shift", "max_days": 50}],
    "StudyTime": [{"kind": "shift", "seconds": 3600}],
    "SOPInstanceUID": [UID], "StudyInstanceUID": [UID], "ReferencedSOPInstanceUID": [UID],
    "InstitutionName": [{"kind": "empty"}, {"kind": "literal", "text": "Hospital"}],
    "AccessionNumber": [{"kind": "concat", "parts": [{"kind": "literal", "text": "A-"},
                                                      {"kind": "hash", "input": None, "length": 6}]}],
    "ImageType": [{"kind": "literal", "text": "DERIVED\\SECONDARY"}],
    "Modality": [{"kind": "literal", "text": "OT"}],
}


def element_target(keyword, any_depth):
    return {"kind": "element", "any_depth": any_depth,
            "steps": [{"tag": f"{tag_for_keyword(keyword):08X}", "keyword": keyword}]}


KEYWORD_TARGETS = st.tuples(st.sampled_from(sorted(VALUES)), st.booleans())
OTHER_TARGETS = st.sampled_from([
    {"kind": "private", "creator": None}, {"kind": "private", "creator": "GEMS_IDEN_01"},
    {"kind": "private", "creator": "MITRA LINKED ATTRIBUTES 1.0"},
    {"kind": "element", "any_depth": True, "steps": [{"mask": "0009XXXX"}]},
    {"kind": "element", "any_depth": False,
     "steps": [{"tag": "00081115", "item": "*"}, {"tag": "00081199", "item": 0}, {"tag": "00081155"}]},
])


@st.composite
def operations(draw):
    action = draw(st.sampled_from(["remove", "keep", "replace"]))
    if action == "replace":
        keyword, any_depth = draw(KEYWORD_TARGETS)
        target, value = element_target(keyword, any_depth), draw(st.sampled_from(VALUES[keyword]))
    else:
        target, value = draw(st.one_of(KEYWORD_TARGETS.map(lambda k: element_target(*k)), OTHER_TARGETS)), None
    kind = draw(st.sampled_from(["rules", "profile"]))
    return {"action": action, "level": "instance", "force": True, "target": target,
            "origin": {"kind": kind, "file": "p.rules", "line": 1, "column": 1}} | (
        {"value": value} if value is not None else {})


def make_plan(ops):
    out = {"format_version": "1.0", "generator": {"name": "dcmrules", "version": "0.1.0"},
           "source": {"path": "p.rules", "sha256": "0" * 64}, "profile": None,
           "operations": [{"id": n} | o for n, o in enumerate(ops, start=1)]}
    SCHEMA.validate(out)
    return out


@cache
def raw(name):
    path = CORPUS / name
    return path.read_bytes() if path.exists() else None


def read(name):
    data = raw(name)
    if data is None:
        pytest.skip(f"corpus file {name} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dcmread(io.BytesIO(data), force=True)


def to_bytes(ds):
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=False)
    return buffer.getvalue()


def resolve(ds, path):
    """The element at a Change path, None if it is absent."""
    node = ds
    for tag, item in re.findall(r"\(([0-9A-F]{4},[0-9A-F]{4})\)(?:\[(\d+)\])?", path):
        tag = int(tag.replace(",", ""), 16)
        if tag not in node:
            return None
        if not item:
            return node[tag]
        node = node[tag].value[int(item)]
    return None


def meta_items(ds):
    meta = getattr(ds, "file_meta", None) or []
    return [(e.tag, e.value) for e in meta if e.tag != 0x00020003]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FILES), ops=st.lists(operations(), max_size=6), key=st.binary(min_size=1, max_size=8))
def test_random_plans_are_deterministic_and_keep_their_promises(name, ops, key):
    prepared = prepare(make_plan(ops))
    results = []
    for _ in range(2):
        ds = read(name)
        meta, sop = meta_items(ds), ds.get("SOPInstanceUID")
        try:
            changes = apply_plan(prepared, ds, Context(key))
        except ApplyError as error:
            results.append(str(error))
            continue
        results.append((changes, to_bytes(ds)))
        assert meta_items(ds) == meta
        meta_has_media = 0x00020003 in (getattr(ds, "file_meta", None) or {})
        if "SOPInstanceUID" in ds and ds.SOPInstanceUID != sop and meta_has_media:
            assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        for change in changes:
            if change.action == "remove":
                assert resolve(ds, change.path) is None
            elif change.path != "(0002,0003)":
                assert resolve(ds, change.path) is not None
        if not any(o["action"] != "remove" for o in ops):
            for o in ops:
                if o["target"]["kind"] == "element" and "tag" in o["target"]["steps"][-1] \
                        and len(o["target"]["steps"]) == 1:
                    assert int(o["target"]["steps"][0]["tag"], 16) not in ds
                if o["target"] == {"kind": "private", "creator": None}:
                    assert not any(e.tag.is_private for e in ds.iterall())
        assert not any(isinstance(e.value, Sequence) and e.VR != "SQ" for e in ds.iterall())
    assert results[0] == results[1]
