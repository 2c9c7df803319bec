"""Loading plans, keys and lookup tables; the synthetic set generator; the first pass's header reading."""

from __future__ import annotations

import json

import pytest
from pydicom import dcmread

from dcmrules.compiler import dumps
from dcmrules.runtime.errors import PlanError, UsageError
from dcmrules.runtime.files import read_header, sniff
from dcmrules.runtime.index import header_tags
from dcmrules.runtime.load import key_fingerprint, load_key, load_plan, read_plan, require_key
from dcmrules.runtime.synth import SynthSpec, generate
from dcmrules.runtime.write import complete_file_meta, write_atomic
from tests.runtime_support import REGENERATE, tree_digest, write_rules


def test_rules_and_json_plans_load_to_the_same_plan(tmp_path):
    rules = write_rules(tmp_path)
    (tmp_path / "plan.json").write_text(dumps(rules.plan))
    assert load_plan(tmp_path / "plan.json") == rules.plan == load_plan(tmp_path / "plan.rules")


def test_a_hand_edited_plan_is_refused_with_the_static_rule(tmp_path):
    plan = write_rules(tmp_path).plan
    for op in plan["operations"]:
        op["force"] = False
    (tmp_path / "edited.json").write_text(json.dumps(plan))
    with pytest.raises(PlanError, match=r"edited.json is not a valid plan:\n.*plan.rules:2:"):
        load_plan(tmp_path / "edited.json")


@pytest.mark.parametrize("text, message", [
    ("{not json", "not a JSON plan"),
    ("[1, 2]", "expected a JSON object"),
    ('{"format_version": "2.0"}', "is not a valid plan"),
])
def test_broken_plans_are_refused_clearly(tmp_path, text, message):
    (tmp_path / "p.json").write_text(text)
    with pytest.raises(PlanError, match=message):
        load_plan(tmp_path / "p.json")


def test_lookup_tables_are_loaded_and_checked(tmp_path):
    (tmp_path / "ids.csv").write_text("original,new\nA,B\n")
    loaded = write_rules(tmp_path, '@patient @force replace PatientID with lookup("ids.csv")\n')
    assert loaded.tables == {"ids.csv": {"A": "B"}}
    (tmp_path / "plan.json").write_text(dumps(loaded.plan))
    assert read_plan(tmp_path / "plan.json").tables == {"ids.csv": {"A": "B"}}
    (tmp_path / "ids.csv").write_text("original,new\nA,C\n")
    with pytest.raises(PlanError, match="changed since the plan was compiled"):
        read_plan(tmp_path / "plan.json")


def test_keys_come_from_a_file_or_the_environment(tmp_path):
    (tmp_path / "k").write_bytes(b"secret\n")
    (tmp_path / "crlf").write_bytes(b"secret\r\n")
    (tmp_path / "raw").write_bytes(b"\x00\x01\n\n")
    assert load_key(tmp_path / "k", {}) == load_key(tmp_path / "crlf", {}) == b"secret"
    assert load_key(tmp_path / "raw", {}) == b"\x00\x01\n"
    assert load_key(None, {"DCMRULES_KEY": "secret"}) == b"secret"
    assert load_key(None, {}) is None
    with pytest.raises(UsageError, match="cannot read the key file"):
        load_key(tmp_path / "missing", {})
    assert key_fingerprint(b"secret") == key_fingerprint(b"secret") != key_fingerprint(b"other")
    assert len(key_fingerprint(b"secret")) == 16 and "secret" not in key_fingerprint(b"secret")


def test_a_missing_key_names_the_keyed_statements(tmp_path):
    plan = write_rules(tmp_path).plan
    with pytest.raises(UsageError, match=r"plan.rules:2:5, .*plan.rules:9:5, .*and 2 more"):
        require_key(plan, None)
    require_key(plan, b"k")
    require_key(write_rules(tmp_path, 'replace ImageComments with "x"\n', "plain.rules").plan, None)


def test_the_synthetic_set_is_deterministic(tmp_path):
    spec = SynthSpec(patients=1, studies=1, series=2, instances=2, seed=9)
    generate(tmp_path / "a", spec)
    generate(tmp_path / "b", spec)
    generate(tmp_path / "c", SynthSpec(patients=1, studies=1, series=2, instances=2, seed=10))
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b") != tree_digest(tmp_path / "c")
    ct = generate(tmp_path / "ct", SynthSpec(patients=1, studies=1, series=1, instances=1, kind="ct", rtstruct=False))
    image = dcmread(ct[0])
    assert (image.Rows, image.Columns, image.BitsAllocated, len(image.PixelData)) == (512, 512, 16, 512 * 512 * 2)


def test_the_first_pass_reads_only_what_identifier_operations_need(tmp_path):
    simple = write_rules(tmp_path).plan
    assert header_tags(simple) == {0x00100020, 0x0020000D, 0x0020000E, 0x00080018, 0x00200052}
    nested = write_rules(tmp_path, REGENERATE + "replace **.ReferencedSOPInstanceUID with uid()\n", "n.rules").plan
    assert header_tags(nested) is None
    path = generate(tmp_path / "set", SynthSpec(patients=1, studies=1, series=1, instances=1, rtstruct=False))[0]
    header = read_header(path, sniff(path), header_tags(simple))
    assert set(header.keys()) == {0x00080005, 0x00100020, 0x0020000D, 0x0020000E, 0x00080018, 0x00200052}


@pytest.mark.parametrize("extra", [
    "",  # REGENERATE: identifiers and a UID regenerated, top-level and nested removes, remove private
    '@study replace StudyDescription with "X"\nremove ReferencedImageSequence\nkeep SOPClassUID\n',
])
def test_the_first_pass_finds_what_the_whole_file_gives(corpus, tmp_path, extra):
    """The first pass reads a header and a plan without operations on other top-level elements; what it
    finds must be what identifier_changes() finds with the whole plan on the whole file."""
    from dcmrules.runtime.apply import Context, identifier_changes, prepare
    from dcmrules.runtime.index import identifier_plan
    from dcmrules.runtime.read import read_full

    plan = write_rules(tmp_path, REGENERATE + extra).plan
    tags = header_tags(plan)
    assert tags is not None
    reduced = identifier_plan(plan, tags)
    assert 0 < len(reduced["operations"]) < len(plan["operations"])
    full, part, context = prepare(plan), prepare(reduced), Context(key=b"k")
    synthetic = generate(tmp_path / "set", SynthSpec(patients=1, studies=1, series=2, instances=2))
    compared = 0
    for path in [p for p in sorted(corpus.rglob("*")) if p.is_file() and sniff(p)] + synthetic:
        try:
            whole = read_full(path, sniff(path)).ds
            expected = identifier_changes(full, whole, context)
        except Exception:  # unreadable or truncated, or values the run reports as a failure
            continue
        header = read_header(path, sniff(path), tags)
        assert identifier_changes(part, header, context) == expected, path
        compared += bool(expected)
    assert compared > 40


def test_a_data_set_without_file_meta_is_written_as_a_part_10_file(tmp_path):
    path = generate(tmp_path / "set", SynthSpec(patients=1, studies=1, series=1, instances=1, rtstruct=False))[0]
    ds = dcmread(path)
    ds.preamble, ds.file_meta = None, type(ds.file_meta)()
    ds.save_as(tmp_path / "bare.dcm", implicit_vr=True, little_endian=True)
    assert sniff(tmp_path / "bare.dcm") == "raw"
    bare = dcmread(tmp_path / "bare.dcm", force=True)
    assert complete_file_meta(bare) is True
    assert write_atomic(bare, tmp_path / "out.dcm", overwrite=False, built_meta=True)
    back = dcmread(tmp_path / "out.dcm")  # no force needed
    assert back.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2" and back.original_encoding == (True, True)
    assert back.file_meta.MediaStorageSOPInstanceUID == back.SOPInstanceUID and back.PixelData == ds.PixelData
    assert not write_atomic(bare, tmp_path / "out.dcm", overwrite=False, built_meta=True)  # never clobbers


def test_the_fast_header_scan_agrees_with_pydicom(corpus, tmp_path):
    from dcmrules.runtime.scan import scan_header

    tags = {0x00100020, 0x0020000D, 0x0020000E, 0x00080018, 0x00200052}
    synthetic = generate(tmp_path / "set", SynthSpec(patients=1, studies=1, series=2, instances=2, implicit_vr=True))
    paths = [p for p in sorted(corpus.rglob("*")) if p.is_file() and sniff(p)] + synthetic
    scanned = 0
    for path in paths:
        fast = scan_header(path, tags)
        if fast is None:  # not a plain Part 10 file: the caller reads it with pydicom
            continue
        scanned += 1
        slow = read_header(path, sniff(path), tags)
        assert {t: str(fast[t].value) for t in tags if t in fast} == {t: str(slow[t].value) for t in tags if t in slow}
        assert fast.original_encoding == slow.original_encoding, path
    assert scanned >= len(paths) - 25


def test_big_values_stay_on_disk_and_are_copied_file_to_file(tmp_path):
    from dcmrules.runtime.read import read_full

    path = generate(tmp_path / "ct", SynthSpec(patients=1, studies=1, series=1, instances=1, kind="ct",
                                               rtstruct=False))[0]
    with open(path, "rb") as fp:
        loaded = read_full(fp, sniff(fp))
        pixels = loaded.ds.get_item(0x7FE00010, keep_deferred=True)
        assert pixels.is_raw and pixels.value is None  # deferred: never read into memory
        assert len(loaded.prefix) < 2000
        loaded.ds.PatientName = "ANONYMOUS"
        assert write_atomic(loaded.ds, tmp_path / "out.dcm", overwrite=False, built_meta=False, source=loaded,
                            changed=frozenset({0x00100010}))
    written, original = dcmread(tmp_path / "out.dcm"), dcmread(path)
    assert written.PixelData == original.PixelData and written.PatientName == "ANONYMOUS"
    assert written.StudyInstanceUID == original.StudyInstanceUID


def test_clean_needs_a_key(tmp_path):
    plan = write_rules(tmp_path, "@study replace StudyDescription with clean()\n", "clean.rules").plan
    with pytest.raises(UsageError, match="clean.rules:1:1"):
        require_key(plan, None)
