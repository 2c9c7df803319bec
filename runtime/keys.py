"""A key and an original value in, a keyed pseudonym out: a 2.25 UID, a hash fitted to a VR, or a day offset."""

from __future__ import annotations

import hashlib
import hmac

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_DIGITS = "0123456789"
_TEXT_VRS = ("AE", "CS", "SH", "LO", "PN", "LT", "ST", "UT", "UC")

#: The characters a hash may use for each VR it can serve.
ALPHABETS: dict[str, str] = {vr: _UPPER for vr in _TEXT_VRS} | {"IS": _DIGITS, "DS": _DIGITS, "UI": _DIGITS}

#: The longest hash each VR accepts. IS is capped at 9 digits so the integer always fits the
#: IS range (-2**31 .. 2**31-1); UI counts the whole "2.25.<digits>" string.
MAX_LENGTHS: dict[str, int] = {
    "AE": 16, "CS": 16, "SH": 16, "LO": 64, "PN": 64, "LT": 10240, "ST": 1024,
    "UT": 2**32 - 2, "UC": 2**32 - 2, "IS": 9, "DS": 16, "UI": 64,
}
DEFAULT_LENGTH = 16
DEFAULT_UI_LENGTH = 44  # as long as the longest uid_for() result
_UID_ROOT = "2.25."
_SAFETY_BITS = 64  # each 256-bit block yields only digits whose bias stays below 2**-64


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, "sha256")  # HMAC-SHA256 in one call (OpenSSL's one-shot path)


def _clean(value: str) -> bytes:
    return value.strip(" \x00").encode("utf-8")


def uid_for(key: bytes, original: str) -> str:
    """Return "2.25." + the first 128 bits of HMAC-SHA256(key, b"uid:" + original) as a decimal integer."""
    digest = _mac(key, b"uid:" + _clean(original))
    return _UID_ROOT + str(int.from_bytes(digest[:16], "big"))


def keyed_days(key: bytes, patient_id: str, max_days: int) -> int:
    """Return the patient's keyed day offset: -(1 + HMAC(key, b"shift:" + patient_id) mod max_days)."""
    if max_days < 1:
        raise ValueError(f"max_days must be at least 1, got {max_days}")
    digest = _mac(key, b"shift:" + _clean(patient_id))
    return -(1 + int.from_bytes(digest, "big") % max_days)


def key_fingerprint(key: bytes) -> str:
    """Return the printable fingerprint of a key: sha256(b"dcmrules-key:" + key), first 16 hex digits."""
    return hashlib.sha256(b"dcmrules-key:" + key).hexdigest()[:16]


def hash_length(vr: str, length: int | None) -> int:
    """Return the number of characters hash_for produces for a VR and a requested length (None: default)."""
    if vr not in ALPHABETS:
        raise ValueError(f"hash() cannot produce a value for VR {vr}")
    default = DEFAULT_UI_LENGTH if vr == "UI" else DEFAULT_LENGTH
    return max(1, min(default if length is None else length, MAX_LENGTHS[vr]))


def _stream(key: bytes, value: str, alphabet: str, count: int) -> str:
    """Return `count` characters of the value's keyed character stream (prefix-stable in `count`)."""
    base = len(alphabet)
    per_block = int((256 - _SAFETY_BITS) / base.bit_length())
    block = _mac(key, b"hash:" + _clean(value))
    out: list[str] = []
    while len(out) < count:
        number = int.from_bytes(block, "big") % base**per_block
        chunk = []
        for _ in range(per_block):
            number, digit = divmod(number, base)
            chunk.append(alphabet[digit])
        out.extend(chunk)
        block = _mac(key, b"hash-next:" + block)
    return "".join(out[:count])


def hash_for(key: bytes, value: str, length: int | None, vr: str) -> str:
    """Return the keyed pseudonym of `value` in the VR's alphabet (A-Z0-9 for text VRs, digits for IS/DS/UI).

    The same value and key give the same characters whatever the VR's alphabet class and length:
    a shorter hash is a prefix of a longer one. For UI the result is "2.25." + digits (no leading zero).
    """
    count = hash_length(vr, length)
    if vr != "UI":
        return _stream(key, value, ALPHABETS[vr], count)
    digits = _stream(key, value, _DIGITS, max(1, count - len(_UID_ROOT)))
    return _UID_ROOT + (digits.lstrip("0") or "0")
