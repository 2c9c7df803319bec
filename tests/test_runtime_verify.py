"""verify finds what a wrong output looks like; explain says what a plan does to one file, and why."""

from __future__ import annotations

import shutil

import pytest
from pydicom import dcmread

from dcmrules.runtime.explain import explain_file, render_json, render_text
from dcmrules.runtime.run import run_plan
from dcmrules.runtime.verify import verify
from tests.runtime_support import KEY, make_set, write_rules


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("verify")
    make_set(work / "input")
    loaded = write_rules(work)
    run_plan(loaded.plan, [work / "input"], work / "output", jobs=1, key=KEY, tables=loaded.tables)
    return work, loaded


@pytest.fixture
def tampered(tmp_path, good_run):
    work, loaded = good_run
    shutil.copytree(work / "output", tmp_path / "output")
    return tmp_path / "output", work / "input", loaded


def _edit(path, change):
    ds = dcmread(path)
    change(ds)
    ds.save_as(path)


@pytest.mark.parametrize("options", [{}, {"sources": True}, {"sources": True, "key": KEY}],
                         ids=["alone", "source", "source+key"])
def test_a_good_output_verifies(good_run, options):
    work, loaded = good_run
    sources = [work / "input"] if options.get("sources") else []
    report = verify(loaded.plan, work / "output", sources=sources, key=options.get("key"), tables=loaded.tables)
    assert report.problems == () and report.files == 28 and report.exit_code == 0


def test_a_removed_element_put_back_is_found(tampered):
    output, source, loaded = tampered
    image = next(output.rglob("IM0002.dcm"))
    _edit(image, lambda ds: setattr(ds, "PatientBirthDate", "19700101"))
    alone = verify(loaded.plan, output, tables=loaded.tables)
    assert [p.element for p in alone.problems] == ["(0010,0030) PatientBirthDate"]
    assert "still present" in alone.problems[0].message and "plan.rules:4" in alone.problems[0].message
    exact = verify(loaded.plan, output, sources=[source], key=KEY, tables=loaded.tables)
    assert any("PatientBirthDate" in p.element for p in exact.problems) and exact.exit_code == 1


def test_a_replaced_value_not_as_planned_is_found(tampered):
    output, _source, loaded = tampered
    _edit(next(output.rglob("IM0003.dcm")), lambda ds: setattr(ds, "PatientName", "DOE^JOHN"))
    report = verify(loaded.plan, output, tables=loaded.tables)
    assert [p.element for p in report.problems] == ["(0010,0010) PatientName"]
    assert "'DOE^JOHN', the plan makes it 'ANONYMOUS'" in report.problems[0].message


def test_a_surviving_original_identifier_is_found_anywhere(tampered):
    output, source, loaded = tampered
    original = dcmread(next(source.rglob("IM0001.dcm"))).StudyInstanceUID
    _edit(next(output.rglob("IM0001.dcm")), lambda ds: setattr(ds, "ImageComments", original))
    report = verify(loaded.plan, output, sources=[source], tables=loaded.tables)
    assert any(p.element == "(0020,4000) ImageComments" and "original identifier" in p.message
               for p in report.problems)


def test_a_broken_reference_is_found(tampered):
    output, source, loaded = tampered
    image = next(output.rglob("SE02/IM0002.dcm"))
    _edit(image, lambda ds: setattr(ds.ReferencedImageSequence[0], "ReferencedSOPInstanceUID", "2.25.1234"))
    report = verify(loaded.plan, output, sources=[source], tables=loaded.tables)
    assert any(p.element == "(0008,1140)[0].(0008,1155) ReferencedSOPInstanceUID" and "resolves to no file" in p.message
               for p in report.problems)


def test_explain_shows_before_after_and_the_statement(good_run):
    work, loaded = good_run
    image = next((work / "input").rglob("SE02/IM0002.dcm"))
    explanation = explain_file(loaded.plan, image, key=KEY, tables=loaded.tables, input_set=[work / "input"])
    text = render_text(explanation)
    assert "(0010,0010) PatientName" in text and "-> 'ANONYMOUS'" in text and "plan.rules:3" in text
    assert "(0010,0030) PatientBirthDate" in text and "(removed)" in text
    remapped = [c for c in explanation.changes if c.path == "(0008,1115)[0].(0020,000E)"]
    assert remapped and remapped[0].action == "remap"
    expected = dcmread(next((work / "output").rglob("SE02/IM0002.dcm")))
    assert remapped[0].after == expected.ReferencedSeriesSequence[0].SeriesInstanceUID
    assert '"action": "remap"' in render_json(explanation)


def test_explain_without_key_says_its_keyed_values_are_not_real(good_run):
    work, loaded = good_run
    explanation = explain_file(loaded.plan, next((work / "input").rglob("IM0001.dcm")), tables=loaded.tables)
    assert explanation.throwaway_key and "throwaway key" in render_text(explanation)
