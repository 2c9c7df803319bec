"""Keyed functions: UIDs, hashes fitted to VRs, per-patient day offsets, key fingerprints."""

import hashlib
import hmac
import re

import pytest

from dcmrules.runtime.keys import hash_for, key_fingerprint, keyed_days, uid_for

KEY = b"test key"
OTHER_KEY = b"other key"
UID = re.compile(r"^2\.25\.(0|[1-9][0-9]*)$")


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


@pytest.mark.parametrize("original", [
    "1.2.840.113619.2.1.1.322987881.621.736170080.681",
    "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322",
    "2.25.0",
    "x",
])
def test_uid_for_follows_the_contract_formula(original):
    expected = "2.25." + str(int.from_bytes(_mac(KEY, b"uid:" + original.encode())[:16], "big"))
    new = uid_for(KEY, original)
    assert new == expected
    assert UID.match(new) and len(new) <= 64
    assert uid_for(KEY, original + "\x00") == uid_for(KEY, " " + original + " ") == new
    assert uid_for(OTHER_KEY, original) != new


def test_uid_for_separates_originals():
    originals = [f"1.2.3.{n}" for n in range(500)]
    assert len({uid_for(KEY, o) for o in originals}) == 500


HASH_CASES = [  # vr, requested length, produced length, alphabet
    ("LO", None, 16, "[A-Z0-9]"),
    ("LO", 8, 8, "[A-Z0-9]"),
    ("LO", 64, 64, "[A-Z0-9]"),
    ("LO", 200, 64, "[A-Z0-9]"),
    ("SH", None, 16, "[A-Z0-9]"),
    ("SH", 40, 16, "[A-Z0-9]"),
    ("PN", 64, 64, "[A-Z0-9]"),
    ("CS", None, 16, "[A-Z0-9]"),
    ("AE", 20, 16, "[A-Z0-9]"),
    ("LT", 300, 300, "[A-Z0-9]"),
    ("UT", 1000, 1000, "[A-Z0-9]"),
    ("IS", None, 9, "[0-9]"),
    ("IS", 12, 9, "[0-9]"),
    ("IS", 4, 4, "[0-9]"),
    ("DS", None, 16, "[0-9]"),
]


@pytest.mark.parametrize("vr, length, produced, alphabet", HASH_CASES)
def test_hash_for_fits_the_vr(vr, length, produced, alphabet):
    value = hash_for(KEY, "PAT-0001", length, vr)
    assert re.fullmatch(f"{alphabet}{{{produced}}}", value), value
    assert hash_for(KEY, "PAT-0001", length, vr) == value
    assert hash_for(OTHER_KEY, "PAT-0001", length, vr) != value
    if vr == "IS":
        assert int(value) < 2**31


def test_hash_for_is_prefix_stable_and_the_same_in_every_text_vr():
    long = hash_for(KEY, "Doe^John", 64, "LO")
    for vr in ("LO", "SH", "PN", "CS", "AE", "LT", "ST", "UT", "UC"):
        for length in (1, 8, 16):
            assert hash_for(KEY, "Doe^John", length, vr) == long[:length]
    assert hash_for(KEY, "Doe^John ", 8, "LO") == long[:8]  # padding is not part of the value
    assert hash_for(KEY, "12", None, "IS") == hash_for(KEY, "12", 40, "DS")[:9]


def test_hash_for_ui_is_a_uid():
    for length in (None, 10, 64):
        value = hash_for(KEY, "1.2.3", length, "UI")
        assert UID.match(value) and len(value) <= 64


def test_hash_for_separates_values():
    assert len({hash_for(KEY, f"P{n}", 8, "LO") for n in range(1000)}) == 1000


@pytest.mark.parametrize("vr", ["DA", "TM", "US", "SQ", "OB"])
def test_hash_for_refuses_vrs_it_cannot_serve(vr):
    with pytest.raises(ValueError, match=vr):
        hash_for(KEY, "x", None, vr)


def test_keyed_days_follows_the_contract_formula():
    for patient, max_days in [("PAT-0001", 365), ("", 30), ("Ω-42", 1), ("123", 10_000)]:
        digest = _mac(KEY, b"shift:" + patient.encode())
        expected = -(1 + int.from_bytes(digest, "big") % max_days)
        assert keyed_days(KEY, patient, max_days) == expected
        assert -max_days <= expected <= -1
    assert keyed_days(KEY, "PAT-0001 ", 365) == keyed_days(KEY, "PAT-0001", 365)


def test_keyed_days_spread_over_the_range():
    days = [keyed_days(KEY, f"P{n}", 365) for n in range(400)]
    assert min(days) >= -365 and max(days) <= -1
    assert len(set(days)) > 200
    with pytest.raises(ValueError):
        keyed_days(KEY, "P", 0)


def test_key_fingerprint_hides_the_key():
    fingerprint = key_fingerprint(KEY)
    assert fingerprint == hashlib.sha256(b"dcmrules-key:" + KEY).hexdigest()[:16]
    assert re.fullmatch("[0-9a-f]{16}", fingerprint) and KEY.hex() not in fingerprint
