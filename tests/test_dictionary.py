"""The compiler's view of the DICOM dictionary agrees with pydicom's own, entry by entry."""

from __future__ import annotations

from pydicom import datadict

from dcmrules.compiler import dictionary as d


def test_every_keyword_tag_vr_and_retired_flag_agree_with_pydicom():
    for keyword, tag in datadict.keyword_dict.items():
        if not keyword:
            continue
        assert d.tag_for_keyword(keyword) == tag
        assert d.keyword_for_tag(tag) == keyword
        assert d.vr_of(tag) == datadict.dictionary_VR(tag)
        assert d.is_retired(tag) == bool(datadict.dictionary_is_retired(tag))


def test_repeating_groups_resolve_like_pydicom():
    for tag in (0x60003000, 0x60223000, 0x50000005, 0x601E4000):
        assert d.vr_of(tag) == datadict.dictionary_VR(tag)
        assert d.keyword_for_tag(tag) == datadict.keyword_for_tag(tag)
    assert d.repeater_mask("OverlayData") == "60XX3000"
    assert d.repeater_mask("PatientName") is None


def test_private_and_unknown_tags_have_no_vr():
    assert d.vr_of(0x00091010) is None and d.vr_of(0x00083FFF) is None and d.tag_for_keyword("Nope") is None
