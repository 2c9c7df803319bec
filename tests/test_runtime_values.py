"""Value expressions evaluated for a target element's VR: every value form, VR conversion, charsets."""

import json

import pytest
from jsonschema import Draft202012Validator
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dcmrules.compiler.tables import parse_table
from dcmrules.runtime.keys import hash_for, keyed_days, uid_for
from dcmrules.runtime.values import (
    Env, NoOwnValue, Slot, ValueProblem, compute, element_val, encodable, shift_text,
)
from dcmrules.specs import resource

KEY = b"values key"
SCHEMA = Draft202012Validator(json.loads(resource("plan.schema.json").read_text()))
ORIGIN = {"kind": "rules", "file": "v.rules", "line": 1, "column": 1}
TABLE = {"path": "ids.csv", "sha256": "0" * 64}
ASCII = ("iso8859",)


def checked(expr: dict) -> dict:
    """The expression, after checking it is a valid plan value."""
    op = {"id": 1, "action": "replace", "level": "instance", "force": False,
          "target": {"kind": "element", "any_depth": False, "steps": [{"tag": "00100010"}]},
          "value": expr, "origin": ORIGIN}
    SCHEMA.validate({"format_version": "1.0", "generator": {"name": "dcmrules", "version": "0"},
                     "source": {"path": "v.rules", "sha256": "0" * 64}, "profile": None, "operations": [op]})
    return expr


def lit(text):
    return {"kind": "literal", "text": text}


def el(keyword_tag):
    return {"kind": "element", "tag": keyword_tag}


def root():
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientID = "PAT-0001"
    ds.PatientName = "Doe^John"
    ds.OtherPatientIDs = ["A1", "B2"]
    ds.StudyDate = "20200315"
    ds.ReferencedImageSequence = [Dataset()]
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "1.2.3.4"
    return ds


def run(expr, vr, own=None, *, ds=None, key=KEY, tables=None, encodings=("latin_1",)):
    ds = ds if ds is not None else root()
    elem = None if own is None else DataElement(0x00091001, vr, own)
    env = Env(ds, key, tables or {})
    return compute(checked(expr), env, Slot(vr, None if elem is None else lambda: element_val(elem), encodings))


LITERALS = [  # vr, text, stored value
    ("PN", "Doe^John", "Doe^John"),
    ("LO", "a\\b", ["a", "b"]),
    ("LT", "line\\with backslash", "line\\with backslash"),
    ("CS", "ORIGINAL\\PRIMARY", ["ORIGINAL", "PRIMARY"]),
    ("DA", "20240229", "20240229"),
    ("IS", "12", "12"),
    ("DS", "1.5\\-2", ["1.5", "-2"]),
    ("US", "1\\2", [1, 2]),
    ("US", "65535", 65535),
    ("SS", "-5", -5),
    ("UL", "4294967295", 4294967295),
    ("FD", "1.5", 1.5),
    ("FL", "-0.25\\2", [-0.25, 2.0]),
    ("AT", "00100010", 0x00100010),
    ("AT", "(0008,1155)", 0x00081155),
    ("OB", "ab", b"ab"),
    ("OB", "abc", b"abc\x00"),
    ("UN", "x", b"x\x00"),
    ("UI", "1.2.3", "1.2.3"),
    ("CS", "", ""),
    ("US", "", None),
    ("SQ", "", []),
]


@pytest.mark.parametrize("vr, text, stored", LITERALS)
def test_literal_is_converted_to_the_vr(vr, text, stored):
    value = run(lit(text), vr)
    assert (list(value) if isinstance(value, Sequence) else value) == stored


BAD_LITERALS = [
    ("US", "70000", "out of range"), ("US", "x", "not an integer"), ("SS", "1.5", "not an integer"),
    ("FD", "one", "not a number"), ("AT", "PatientName", "not a tag"), ("CS", "lower case", "CS"),
    ("DA", "2020-01-01", "DA"), ("LO", "x" * 65, "LO"), ("IS", "1.5", "IS"), ("SQ", "x", "sequence"),
    ("SH", "Я", "character set"), ("CS", "É", "CS"),
]


@pytest.mark.parametrize("vr, text, reason", BAD_LITERALS)
def test_invalid_literal_is_a_value_problem(vr, text, reason):
    with pytest.raises(ValueProblem, match=reason):
        run(lit(text), vr)


DUMMIES = [
    ("PN", "ANONYMOUS"), ("LO", "ANONYMOUS"), ("SH", "ANONYMOUS"), ("CS", "ANONYMOUS"), ("AE", "ANONYMOUS"),
    ("LT", "ANONYMOUS"), ("UT", "ANONYMOUS"), ("UC", "ANONYMOUS"), ("DA", "19000101"), ("TM", "000000"),
    ("DT", "19000101000000"), ("AS", "000Y"), ("IS", "0"), ("DS", "0"), ("US", 0), ("FD", 0.0),
    ("UR", "http://anonymous"), ("OB", b"\x00\x00"), ("OW", b"\x00\x00"), ("OF", b"\x00" * 4),
    ("OD", b"\x00" * 8), ("AT", 0),
]


@pytest.mark.parametrize("vr, stored", DUMMIES)
def test_dummy_is_a_fixed_valid_value(vr, stored):
    assert run({"kind": "dummy"}, vr, None) == stored


def test_dummy_sequence_and_uid():
    assert list(run({"kind": "dummy"}, "SQ", [Dataset()])) == []
    assert run({"kind": "dummy"}, "UI", "1.2.3") == uid_for(KEY, "1.2.3")
    assert run({"kind": "dummy"}, "UI", "") == "2.25.0"
    with pytest.raises(ValueProblem, match="needs a key"):
        run({"kind": "dummy"}, "UI", "1.2.3", key=None)


def test_empty_for_every_kind_of_vr():
    assert run({"kind": "empty"}, "PN", "Doe") == ""
    assert run({"kind": "empty"}, "US", 5) is None
    assert run({"kind": "empty"}, "OB", b"ab") == b""
    assert list(run({"kind": "empty"}, "SQ", [Dataset()])) == []


def test_element_reference_reads_the_top_level_original():
    assert run(el("00100020"), "LO", "old") == "PAT-0001"
    assert run(el("00101000"), "LO", None) == ["A1", "B2"]
    copied = run(el("00081140"), "SQ", None)
    assert copied[0].ReferencedSOPInstanceUID == "1.2.3.4"
    assert copied[0] is not root().ReferencedImageSequence[0]
    with pytest.raises(ValueProblem, match="absent"):
        run(el("00101010"), "AS", None)
    with pytest.raises(ValueProblem, match="sequence cannot fill"):
        run(el("00081140"), "LO", None)


def test_uid_of_own_value_and_of_an_input():
    assert run({"kind": "uid", "input": None}, "UI", "1.2.3") == uid_for(KEY, "1.2.3")
    assert run({"kind": "uid", "input": None}, "UI", ["1.2", "1.3"]) == [uid_for(KEY, "1.2"), uid_for(KEY, "1.3")]
    assert run({"kind": "uid", "input": el("00100020")}, "UI", "9") == uid_for(KEY, "PAT-0001")
    assert run({"kind": "uid", "input": None}, "UI", "") == ""
    with pytest.raises(NoOwnValue):
        run({"kind": "uid", "input": None}, "UI", None)
    with pytest.raises(ValueProblem, match="needs a key"):
        run({"kind": "uid", "input": None}, "UI", "1.2.3", key=None)


def test_hash_of_own_value_matches_hash_of_the_same_value_elsewhere():
    own = run({"kind": "hash", "input": None, "length": None}, "LO", "PAT-0001")
    assert own == hash_for(KEY, "PAT-0001", None, "LO")
    other = run({"kind": "hash", "input": el("00100020"), "length": 8}, "SH", None)
    assert other == own[:8]
    assert run({"kind": "hash", "input": None, "length": 4}, "LO", ["A1", "B2"]) == [
        hash_for(KEY, "A1", 4, "LO"), hash_for(KEY, "B2", 4, "LO")]
    assert len(run({"kind": "hash", "input": None, "length": None}, "PN", "Doe^John")) == 16
    with pytest.raises(ValueProblem, match="DA"):
        run({"kind": "hash", "input": None, "length": None}, "DA", "20200101")


SHIFTS = [  # vr, original, seconds, shifted
    ("DA", "20200315", -86400 * 30, "20200214"),
    ("DA", "20200301", -1, "20200229"),
    ("DA", "2020.03.15", 86400, "20200316"),
    ("DT", "20200315103000", 3600, "20200315113000"),
    ("DT", "20200315103000.123+0100", -86400, "20200314103000.123+0100"),
    ("DT", "202003", -86400 * 29, "202002"),
    ("DT", "2020", 86400 * 366, "2021"),
    ("DT", "2020031523", 7200, "2020031601"),
    ("TM", "235959", 2, "000001"),
    ("TM", "101010.5", -3600, "091010.5"),
    ("TM", "10:10:10", 60, "101110"),
    ("TM", "1010", 30, "1010"),
    ("TM", "07", -3600 * 8, "23"),
]


@pytest.mark.filterwarnings("ignore:Invalid value for VR")
@pytest.mark.parametrize("vr, original, seconds, shifted", SHIFTS)
def test_shift_keeps_format_and_precision(vr, original, seconds, shifted):
    assert shift_text(vr, original, seconds) == shifted
    assert run({"kind": "shift", "seconds": seconds}, vr, original) == shifted


@pytest.mark.filterwarnings("ignore:Invalid value for VR")
@pytest.mark.parametrize("vr, original", [("DA", "2020-03-15"), ("DA", "20201340"), ("TM", "2500"),
                                          ("DT", "20200315T10"), ("DA", "00010101"), ("LO", "20200101")])
def test_shift_of_a_bad_value_is_a_value_problem(vr, original):
    with pytest.raises(ValueProblem):
        run({"kind": "shift", "seconds": -86400 * 400}, vr, original)


def test_keyed_shift_is_one_offset_per_patient():
    days = keyed_days(KEY, "PAT-0001", 100)
    shifted = run({"kind": "keyed_shift", "max_days": 100}, "DA", "20200315")
    assert shifted == shift_text("DA", "20200315", days * 86400)
    assert run({"kind": "keyed_shift", "max_days": 100}, "DT", "20200315101010") == shift_text(
        "DT", "20200315101010", days * 86400)
    assert run({"kind": "keyed_shift", "max_days": 100}, "TM", "101010") == "101010"
    other = root()
    other.PatientID = "PAT-0002"
    assert run({"kind": "keyed_shift", "max_days": 100}, "DA", "20200315", ds=other) != shifted or \
        keyed_days(KEY, "PAT-0002", 100) == days


def test_lookup_hit_default_and_miss():
    tables = {"ids.csv": {"PAT-0001": "SUBJ-01", "A1": "SUBJ-A"}}
    expr = {"kind": "lookup", "table": TABLE, "input": None, "default": None}
    assert run(expr, "LO", "PAT-0001", tables=tables) == "SUBJ-01"
    assert run(dict(expr, input=el("00100020")), "LO", None, tables=tables) == "SUBJ-01"
    with_default = dict(expr, default=lit("UNKNOWN"))
    assert run(with_default, "LO", ["A1", "B2"], tables=tables) == ["SUBJ-A", "UNKNOWN"]
    with pytest.raises(ValueProblem, match="lookup miss for 'B2'"):
        run(expr, "LO", "B2", tables=tables)
    with pytest.raises(ValueProblem, match="not loaded"):
        run(expr, "LO", "B2", tables={})


def test_concat_of_parts():
    expr = {"kind": "concat", "parts": [lit("ANON-"), {"kind": "hash", "input": el("00100020"), "length": 8}]}
    assert run(expr, "LO", "x") == "ANON-" + hash_for(KEY, "PAT-0001", 8, "LO")
    assert run({"kind": "concat", "parts": [lit("A\\"), lit("B")]}, "CS", None) == ["A", "B"]
    assert run({"kind": "concat", "parts": [el("00100010"), lit(" (copy)")]}, "LO", None) == "Doe^John (copy)"


ENCODABLE = [
    ("Люкceмбypг", ("iso_ir_144",), True),
    ("Люкceмбypг", ("latin_1",), False),
    ("Buc^Jérôme", ("latin_1",), True),
    ("Buc^Jérôme", ("iso8859",), False),
    ("Buc^Jerome", ("iso8859",), True),
    ("Yamada^Tarou=山田^太郎=やまだ^たろう", ("iso8859", "iso2022_jp"), True),
    ("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎", ("shift_jis", "iso2022_jp"), True),
    ("قباني", ("iso8859", "iso2022_jp"), False),
    ("Wang^XiaoDong=王^小東", ("UTF8",), True),
    ("Wang^XiaoDong=王^小东", ("GB18030",), True),
    ("Hong^Gildong=洪^吉洞=홍^길동", ("iso8859", "euc_kr"), True),
]


@pytest.mark.parametrize("text, encodings, ok", ENCODABLE)
def test_encodable_in_a_character_set(text, encodings, ok):
    assert encodable(text, encodings) is ok


def test_text_that_the_charset_cannot_hold_is_refused():
    assert run(lit("Люкceмбypг"), "PN", None, encodings=("iso_ir_144",)) == "Люкceмбypг"
    with pytest.raises(ValueProblem, match="cannot be encoded in the file's character set"):
        run(lit("Люкceмбypг"), "PN", None, encodings=ASCII)


TABLES = [
    ("original,new\nPAT-1,S-1\n\nPAT-2 , S-2\n", {"PAT-1": "S-1", "PAT-2": "S-2"}),
    ('PAT-1,"S, 1"\n"PAT,2",S-2\n', {"PAT-1": "S, 1", "PAT,2": "S-2"}),
    ("a,b\na,b\n", {"a": "b"}),
    ("", {}),
]


@pytest.mark.parametrize("text, table", TABLES)
def test_parse_table(text, table):
    assert parse_table(text) == table


@pytest.mark.parametrize("text, reason", [("a,b,c\n", "row 1"), ("a\n", "row 1"), ("a,b\na,c\n", "row 2"),
                                          ("x,y\n,z\n", "row 2")])
def test_parse_table_refuses_malformed_rows(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_table(text)
