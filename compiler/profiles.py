"""Names the `profile` and `option` lines may use: PS3.15 Annex E profiles, editions and options."""

from __future__ import annotations

PROFILES = ("basic",)
# Editions shipped in specs/profiles: Orthanc's 2021b and 2023b tables, and PS3.15 Table E.1-1
# 2024b (every option column); 2026c is 2024b plus the attributes added to the Basic Profile since.
EDITIONS = ("2021b", "2023b", "2024b", "2026c")
NEWEST_EDITION = "2026c"

# PS3.15 E.1-1 option columns, kebab-case, in table order, with their CID 7050 codes.
OPTIONS: dict[str, str] = {
    "retain-safe-private": "113111",
    "retain-uids": "113110",
    "retain-device-identity": "113109",
    "retain-institution-identity": "113112",
    "retain-patient-characteristics": "113108",
    "retain-longitudinal-full-dates": "113106",
    "retain-longitudinal-modified-dates": "113107",
    "clean-descriptors": "113105",
    "clean-structured-content": "113104",
    "clean-graphics": "113103",
}
# Other spellings people use for the same options.
OPTION_ALIASES = {
    "retain-long-full-dates": "retain-longitudinal-full-dates",
    "retain-long-modified-dates": "retain-longitudinal-modified-dates",
    "retain-full-dates": "retain-longitudinal-full-dates",
    "retain-modified-dates": "retain-longitudinal-modified-dates",
}
