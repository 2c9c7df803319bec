"""PS3.15 profiles: generated files are fresh, compile clean, and expand with the right precedence."""

from __future__ import annotations

import collections

import pytest

from dcmrules.compiler import compile_rules
from dcmrules.compiler.profiles import EDITIONS, OPTIONS
from tests.conftest import REPO

PROFILES = REPO / "specs" / "profiles"
SHARED = REPO.parent / "shared"


def load_generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_profiles", REPO / "specs" / "tools" / "make_profiles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_profiles_are_not_stale():
    if not (SHARED / "standard").is_dir():
        pytest.skip("the shared standard tables are not beside the checkout")
    expected = load_generator().render_all(SHARED)
    on_disk = {p.name: p.read_text() for p in PROFILES.glob("*.rules")}
    assert on_disk.keys() == expected.keys()
    stale = [name for name, text in expected.items() if on_disk[name] != text]
    assert stale == [], f"run python specs/tools/make_profiles.py: {stale}"


@pytest.mark.parametrize("edition", EDITIONS)
def test_basic_profiles_compile_with_zero_diagnostics(edition):
    path = PROFILES / f"basic-{edition}.rules"
    result = compile_rules(path.read_text(), path=str(path))
    assert result.diagnostics == () and result.plan is not None


@pytest.mark.parametrize("option", OPTIONS)
def test_option_files_compile_with_zero_diagnostics_under_a_profile(option):
    text = "profile basic\n" + (PROFILES / f"option-{option}.rules").read_text()
    assert compile_rules(text).diagnostics == ()


def operations(text):
    result = compile_rules(text)
    assert result.plan is not None, [str(d) for d in result.diagnostics]
    return result.plan["operations"]


def by_keyword(ops):
    found = collections.defaultdict(list)
    for op in ops:
        step = op["target"].get("steps", [{}])[-1]
        found[step.get("keyword", op["target"]["kind"])].append(op)
    return found


def test_profile_expands_into_operations_with_a_profile_origin():
    ops = by_keyword(operations("profile basic 2021b"))
    (name,) = ops["PatientName"]
    assert name["action"] == "replace" and name["value"] == {"kind": "empty"}
    assert name["target"]["any_depth"] and name["level"] == "patient"
    assert name["origin"]["kind"] == "profile" and name["origin"]["file"] == "profiles/basic-2021b.rules"
    assert ops["StudyInstanceUID"][0]["value"]["kind"] == "uid" and ops["StudyInstanceUID"][0]["force"]
    assert ops["private"][0]["action"] == "remove"


def test_combined_codes_take_the_safer_choice():
    ops = by_keyword(operations("profile basic 2024b"))
    assert ops["InstitutionName"][0]["action"] == "remove"        # X/Z/D
    assert ops["PatientID"][0]["value"]["kind"] == "hash"          # Z/D on the identifier: keyed pseudonym
    assert ops["ContentDate"][0]["value"] == {"kind": "dummy"}     # D is a dummy, not empty
    assert "ReferencedImageSequence" not in ops                    # X/Z/U*: kept, UIDs inside remapped
    assert ops["ReferencedSOPInstanceUID"][0]["value"]["kind"] == "uid"


def test_options_override_the_basic_profile():
    ops = by_keyword(operations("profile basic\noption retain-device-identity\noption retain-uids"))
    assert ops["DeviceSerialNumber"][0]["action"] == "keep"
    assert ops["StudyInstanceUID"][0]["action"] == "keep" and ops["StudyInstanceUID"][0]["force"]
    assert ops["StudyInstanceUID"][0]["origin"]["file"] == "profiles/option-retain-uids.rules"
    assert len(ops["DeviceSerialNumber"]) == 1


def test_the_file_replaces_the_profile_rule_on_the_same_target():
    text = "profile basic\n@patient keep **.PatientSex\n@study keep StudyDescription"
    ops = by_keyword(operations(text))
    assert [(op["origin"]["kind"], op["action"]) for op in ops["PatientSex"]] == [("rules", "keep")]
    assert sorted(op["origin"]["kind"] for op in ops["StudyDescription"]) == ["profile", "rules"]


def test_a_nested_path_in_the_file_does_not_override_the_profile():
    text = "profile basic\nreplace ReferencedImageSequence[0].ReferencedSOPInstanceUID with \"1.2.3\""
    ops = by_keyword(operations(text))
    assert sorted(op["origin"]["kind"] for op in ops["ReferencedSOPInstanceUID"]) == ["profile", "rules"]
