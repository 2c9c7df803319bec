"""Target selection on real files and pydicom-written files: paths, [n]/[*], any depth, masks, private blocks."""

import io
import warnings
from pathlib import Path

import pytest
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset

from dcmrules.runtime.targets import build_index, parse_target, path_str, select

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def corpus(name: str) -> Dataset:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus file {name} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dcmread(path, force=True)


def written(ds: Dataset) -> Dataset:
    """The data set after a pydicom write and read (explicit VR little endian)."""
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, implicit_vr=False, little_endian=True)
    buffer.seek(0)
    return dcmread(buffer, force=True)


def nested_private() -> Dataset:
    """ACME 1.0 reserves block 0x11 at the top level but block 0x10 inside an item."""
    ds = Dataset()
    ds.PatientName = "Top^Level"
    for tag, vr, value in [(0x00090010, "LO", "OTHER"), (0x00090011, "LO", "ACME 1.0"),
                           (0x00091001, "LO", "other top"), (0x00091101, "LO", "acme top"),
                           (0x00091102, "SH", "acme top 2")]:
        ds.add_new(tag, vr, value)
    item = Dataset()
    for tag, vr, value in [(0x00090010, "LO", "ACME 1.0"), (0x00091001, "LO", "acme nested"),
                           (0x00091002, "SH", "acme nested 2"), (0x00090012, "LO", "OTHER"),
                           (0x00091201, "LO", "other nested")]:
        item.add_new(tag, vr, value)
    item.PatientName = "Nested^Name"
    second = Dataset()
    second.ReferencedSOPInstanceUID = "1.2.3"
    ds.ReferencedImageSequence = [item, second]
    return written(ds)


def step(spec, item=None, vr=None):
    out = {"mask": spec} if "X" in spec else {"tag": spec}
    out.update({k: v for k, v in (("item", item), ("vr", vr)) if v is not None})
    return out


def private(group, creator, element, item=None):
    out = {"private": {"group": group, "creator": creator, "element": element}}
    return out | ({"item": item} if item is not None else {})


def hits(ds, *steps, any_depth=False, insert=False):
    target = parse_target({"kind": "element", "any_depth": any_depth, "steps": list(steps)})
    return select(target, build_index(ds), insert=insert)


def locs(found):
    return sorted(path_str(h.loc) for h in found)


def count_all(ds, predicate):
    return sum(1 for elem in ds.iterall() if predicate(elem))


def test_path_str_is_pydicom_style():
    assert path_str((0x00100010,)) == "(0010,0010)"
    assert path_str((0x00081140, 0, 0x00081155)) == "(0008,1140)[0].(0008,1155)"


def test_top_level_tag_and_insertion_vr():
    ds = corpus("pydicom-3.0.2/CT_small.dcm")
    assert locs(hits(ds, step("00100010"))) == ["(0010,0010)"]
    assert hits(ds, step("00104000")) == []
    [insert] = hits(ds, step("00104000"), insert=True)
    assert (insert.exists, insert.vr) == (False, "LT")
    assert hits(ds, step("00280106"), insert=True)[0].vr == "US"  # "US or SS": first choice
    assert hits(ds, step("00110099"), insert=True) == []  # unknown VR: nothing to insert
    assert hits(ds, step("00110099", vr="LO"), insert=True)[0].vr == "LO"


def test_item_indexes_and_wildcards():
    ds = corpus("pydicom-3.0.2/liver_1frame.dcm")
    wild = hits(ds, step("00081115", 0), step("0008114A", "*"), step("00081155"))
    assert locs(wild) == [f"(0008,1115)[0].(0008,114A)[{i}].(0008,1155)" for i in range(3)]
    assert locs(hits(ds, step("00081115", 0), step("0008114A", 1), step("00081155"))) == [
        "(0008,1115)[0].(0008,114A)[1].(0008,1155)"]
    for missing in ([step("00081115", 5), step("00081155")],          # no such item
                    [step("00081140", 0), step("00081155")],          # no such sequence
                    [step("00100010", 0), step("00081155")]):         # not a sequence
        assert hits(ds, *missing, insert=True) == []


def test_replace_may_insert_the_final_element_of_an_existing_item():
    ds = corpus("pydicom-3.0.2/JPEG2000.dcm")
    [hit] = hits(ds, step("00082112", "*"), step("00100010"), insert=True)
    assert (path_str(hit.loc), hit.exists, hit.vr) == ("(0008,2112)[0].(0010,0010)", False, "PN")
    assert hits(ds, step("00082112", "*"), step("00100010")) == []


@pytest.mark.parametrize("name, keyword", [
    ("pydicom-3.0.2/liver_1frame.dcm", "ReferencedSOPInstanceUID"),
    ("pydicom-3.0.2/test-SR.dcm", "ReferencedSOPInstanceUID"),
    ("pydicom-3.0.2/test-SR.dcm", "CodeMeaning"),
    ("pydicom-data-1.0.0/eCT_Supplemental.dcm", "ReferencedSOPInstanceUID"),
    ("pydicom-3.0.2/rtplan.dcm", "ReferencedSOPInstanceUID"),
    ("pydicom-3.0.2/UN_sequence.dcm", "SeriesInstanceUID"),
])
def test_any_depth_finds_every_occurrence(name, keyword):
    ds = corpus(name)
    from pydicom.datadict import tag_for_keyword
    tag = tag_for_keyword(keyword)
    found = hits(ds, step(f"{tag:08X}"), any_depth=True, insert=True)
    assert len(found) == count_all(ds, lambda e: e.tag == tag) > 0
    assert all(h.exists for h in found)


def test_any_depth_includes_the_top_level():
    ds = nested_private()
    assert locs(hits(ds, step("00100010"), any_depth=True)) == ["(0008,1140)[0].(0010,0010)", "(0010,0010)"]


def test_masked_tags():
    ds = corpus("pydicom-data-1.0.0/MR-SIEMENS-DICOM-WithOverlays.dcm")
    assert locs(hits(ds, step("60XX3000"))) == ["(6000,3000)"]
    assert len(hits(ds, step("6000XXXX"))) == 10
    assert len(hits(ds, step("60XXXXXX"), any_depth=True)) == count_all(ds, lambda e: e.tag.group == 0x6000)
    assert hits(ds, step("60XX3000"), insert=True)[0].exists  # a mask never inserts
    assert hits(ds, step("50XXXXXX"), insert=True) == []


def test_private_element_by_creator_whatever_the_block():
    ds = corpus("pydicom-3.0.2/CT_small.dcm")
    assert locs(hits(ds, private("0009", "GEMS_IDEN_01", "01"))) == ["(0009,1001)"]
    assert locs(hits(ds, private("0043", "GEMS_PARM_01", "10"))) == ["(0043,1010)"]
    nested = nested_private()
    assert locs(hits(nested, private("0009", "ACME 1.0", "01"))) == ["(0009,1101)"]
    assert locs(hits(nested, step("00081140", 0), private("0009", "ACME 1.0", "01"))) == [
        "(0008,1140)[0].(0009,1001)"]
    assert locs(hits(nested, private("0009", "ACME 1.0", "02"), any_depth=True)) == [
        "(0008,1140)[0].(0009,1002)", "(0009,1102)"]
    assert hits(nested, private("0009", "NOBODY", "01"), any_depth=True) == []


def test_private_insertion_needs_a_known_vr():
    ds = corpus("pydicom-3.0.2/CT_small.dcm")
    [hit] = hits(ds, private("0009", "GEMS_IDEN_01", "17"), insert=True)
    assert (path_str(hit.loc), hit.vr, hit.new_creator) == ("(0009,1017)", "LT", None)
    assert hits(ds, private("0009", "GEMS_IDEN_01", "99"), insert=True) == []
    [new_block] = hits(ds, private("0011", "GEMS_IDEN_01", "01") | {"vr": "LO"}, insert=True)
    assert (path_str(new_block.loc), new_block.new_creator) == ("(0011,1101)", "GEMS_IDEN_01")


@pytest.mark.parametrize("name", [
    "pydicom-3.0.2/CT_small.dcm", "pydicom-3.0.2/nested_priv_SQ.dcm", "pydicom-3.0.2/meta_missing_tsyntax.dcm",
    "pydicom-3.0.2/UN_sequence.dcm", "pydicom-3.0.2/waveform_ecg.dcm", "pydicom-3.0.2/priv_SQ.dcm",
    "dicognito-0.19.0/global_patient_id_implicit_vr.dcm", "pydicom-data-1.0.0/JPGLosslessP14SV1_1s_1f_8b.dcm",
])
def test_private_selects_every_private_element_at_every_depth(name):
    ds = corpus(name)
    found = select(parse_target({"kind": "private", "creator": None}), build_index(ds), insert=False)
    assert len(found) == count_all(ds, lambda e: e.tag.is_private) > 0


def test_private_creator_selects_its_blocks_and_creators_only():
    ds = corpus("pydicom-3.0.2/CT_small.dcm")
    found = select(parse_target({"kind": "private", "creator": "GEMS_IDEN_01"}), build_index(ds), insert=False)
    assert locs(found) == sorted(f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in ds.keys() if t >> 16 == 9)
    nested = nested_private()
    found = select(parse_target({"kind": "private", "creator": "ACME 1.0"}), build_index(nested), insert=False)
    assert locs(found) == ["(0008,1140)[0].(0009,0010)", "(0008,1140)[0].(0009,1001)",
                           "(0008,1140)[0].(0009,1002)", "(0009,0011)", "(0009,1101)", "(0009,1102)"]
