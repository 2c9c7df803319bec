"""An Orthanc /modify or /anonymize request body (a JSON dict) and its level in, the equivalent .rules text out.

    result = translate({"Replace": {"StudyDescription": "x"}, "Force": True}, "study")
    result.text    # the rules file, Orthanc's implicit identifier regeneration written out
    result.notes   # what Orthanc itself would refuse (errors) and what the file cannot say (warnings)

The translation follows Orthanc 1.10.1 (specs/orthanc-differences.md lists where dcmrules means something
else on purpose). Requests Orthanc refuses for a level or identifier rule are written as they are, so that
linting the file reports the matching diagnostic (DR203, DR204, DR205, DR208); requests Orthanc refuses for
their JSON form (a number as a value, a malformed path) are notes with Orthanc's own message. `IMPORT_COMMAND`
is the `dcmrules import orthanc BODY.json --level LEVEL [--anonymize] [-o OUT.rules]` subcommand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dcmrules.compiler.dictionary import Level, level_of
from dcmrules.runtime.orthanc_paths import Target, as_is, is_sequence, parse_path

LEVELS = ("patient", "study", "series", "instance")
IDENTIFIERS = {0x00100020: "patient", 0x0020000D: "study", 0x0020000E: "series", 0x00080018: "instance"}
NAMES = {0x00100020: "PatientID", 0x0020000D: "StudyInstanceUID", 0x0020000E: "SeriesInstanceUID",
         0x00080018: "SOPInstanceUID"}
PATIENT_NAME = 0x00100010
# Orthanc's DicomVersion -> the shipped edition that stands for it (2008 and 2017c are not shipped; every
# tag they act on is in 2021b, which is also Orthanc 1.10.1's default).
EDITIONS = {"2008": "2021b", "2017c": "2021b", "2021b": "2021b", "2023b": "2023b"}
DEFAULT_EDITION = "2021b"
# Members that change nothing a rules file can say (job control, storage, transcoding).
IGNORED = ("KeepSource", "Synchronous", "Asynchronous", "Priority", "Permissive", "UserData", "KeepLabels",
           "Transcode", "LossyQuality", "Resources")


@dataclass(frozen=True)
class Note:
    """Something the import says about the request: an error (Orthanc refuses it) or a warning."""

    severity: str  # "error" | "warning"
    message: str


@dataclass(frozen=True)
class Translation:
    text: str
    notes: tuple[Note, ...]
    level: str  # the level Orthanc works at (anonymization: patient; /instances: detected)

    @property
    def errors(self) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.severity == "error")


@dataclass(frozen=True)
class _Entry:
    action: str  # "remove" | "replace" | "keep"
    raw: str
    target: Target | None  # None: malformed, see the note
    value: str | None = None  # the rules value of a replace


class _Notes:
    def __init__(self) -> None:
        self.items: list[Note] = []

    def error(self, message: str) -> None:
        self.items.append(Note("error", message))

    def warn(self, message: str) -> None:
        self.items.append(Note("warning", message))


def translate(body: object, level: str, *, anonymize: bool = False) -> Translation:
    """The rules file equivalent to POSTing `body` to /{level}/{id}/modify (or /anonymize)."""
    notes = _Notes()
    if not isinstance(body, Mapping):
        raise ValueError("Bad file format: the request body must be a JSON object")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r} (one of {', '.join(LEVELS)})")
    level = _level(body, level, anonymize, notes)
    force = _flag(body, "Force", notes)
    creator = body.get("PrivateCreator")
    if creator is not None and (not isinstance(creator, str) or '"' in creator or "\n" in creator):
        notes.error(f"PrivateCreator {json.dumps(creator)} cannot be written as a private creator")
        creator = None
    entries = _entries(body, creator, notes)
    if not anonymize and "Level" not in body and level == "instance":
        level = _detect_level(entries)
    _other_members(body, anonymize, notes)
    lines = _header(body, level, anonymize, notes)
    lines += _statements(_precedence(entries, notes), level, force, anonymize, notes)
    lines += _implicit(entries, level, anonymize, body, notes)
    return Translation("\n".join(lines) + "\n", tuple(notes.items), level)


# --- reading the request --------------------------------------------------------------------------------

def _level(body: Mapping, level: str, anonymize: bool, notes: _Notes) -> str:
    if anonymize:
        return "patient"
    explicit = body.get("Level")
    if explicit is None:
        return level
    if not isinstance(explicit, str) or explicit.lower() not in LEVELS:
        notes.error(f"Level {json.dumps(explicit)}: Parameter out of range")
        return level
    return explicit.lower()


def _flag(body: Mapping, name: str, notes: _Notes) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        notes.error(f'Member "{name}" should be a Boolean value')
        return False
    return value


def _entries(body: Mapping, creator: str | None, notes: _Notes) -> list[_Entry]:
    entries: list[_Entry] = []
    for action, member in (("remove", "Remove"), ("replace", "Replace"), ("keep", "Keep")):
        raw = body.get(member)
        if raw is None:
            continue
        if action == "replace":
            if not isinstance(raw, Mapping):
                notes.error('Bad file format: "Replace" must be an object of tag -> value')
                continue
            for key, value in raw.items():
                target = _target(key, creator, notes)
                entries.append(_Entry(action, key, target, _value(key, value, target, notes)))
        elif not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            notes.error(f'Bad file format: "{member}" must be an array of tags or paths')
        else:
            entries += [_Entry(action, key, _target(key, None, notes)) for key in raw]
    return entries


def _target(raw: str, creator: str | None, notes: _Notes) -> Target | None:
    parsed = parse_path(raw, creator)
    if isinstance(parsed, str):
        notes.error(f"{json.dumps(raw)}: {parsed} (Orthanc answers 400)")
        return None
    return parsed


def _value(key: str, value: object, target: Target | None, notes: _Notes) -> str | None:
    """A JSON value of Replace as a rules value; None (and a note) when a rules file cannot say it."""
    if value is None or value == "" or value == []:
        return "empty"
    if isinstance(value, str):
        if value.startswith("data:") and ";base64," in value:
            notes.error(f"{json.dumps(key)}: a binary value (data: URI) cannot be written in a rules file")
            return None
        if "\n" in value or "\r" in value:
            notes.error(f"{json.dumps(key)}: a value with a line break cannot be written in a rules file")
            return None
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
        notes.error(f"{json.dumps(key)}: replacing a sequence by new items cannot be written in a rules file "
                    "(only [] translates, to `empty`); edit the existing items with paths such as Seq[0].Tag")
        return None
    shown = target.text if target else key
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        notes.error(f"Bad Parameter type for tag {shown}: Orthanc wants numbers as JSON strings "
                    f"(written as \"{value}\")")
        return f'"{value}"'
    notes.error(f"Bad Parameter type for tag {shown}: {json.dumps(value)}")
    return None


def _detect_level(entries: list[_Entry]) -> str:
    """/instances/{id}/modify works at the level of the highest identifier it replaces (DetectModifyLevel)."""
    replaced = {e.target.tag for e in entries if e.action == "replace" and e.target is not None}
    for tag, level in IDENTIFIERS.items():
        if tag in replaced:
            return level
    return "instance"


def _other_members(body: Mapping, anonymize: bool, notes: _Notes) -> None:
    known = {"Replace", "Remove", "Keep", "Force", "PrivateCreator", "Level", *IGNORED}
    known |= {"DicomVersion", "KeepPrivateTags", "RemovePrivateTags"} if anonymize else {"RemovePrivateTags"}
    for name in body:
        if name not in known:
            here = " here" if name in ("DicomVersion", "KeepPrivateTags") else ""
            notes.warn(f'member "{name}" is ignored by Orthanc{here}')
    if "Transcode" in body:
        notes.warn("Transcode changes the transfer syntax, which a rules file does not do; it is left out")
    if anonymize and "RemovePrivateTags" in body:
        notes.warn("RemovePrivateTags is ignored by /anonymize (private tags are removed unless KeepPrivateTags)")


# --- writing the rules ----------------------------------------------------------------------------------

def _header(body: Mapping, level: str, anonymize: bool, notes: _Notes) -> list[str]:
    route = "anonymize" if anonymize else "modify"
    lines = [f"# Imported by `dcmrules import orthanc` from an Orthanc /{route} request "
             f"({'anonymization runs at patient level' if anonymize else f'{level} level'})."]
    if anonymize:
        version = body.get("DicomVersion", DEFAULT_EDITION)
        edition = EDITIONS.get(version, version) if isinstance(version, str) else DEFAULT_EDITION
        if not isinstance(version, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", version):
            notes.error(f"Unknown specific version of the DICOM standard: {json.dumps(version)}")
        elif edition != version:
            notes.warn(f"DicomVersion {version} is not shipped; the nearest edition, {edition}, is used")
        lines += [f"# DicomVersion {version}" + (f": not shipped, {edition} is the nearest edition"
                                                  if edition != version else ""), f"profile basic {edition}"]
        if _flag(body, "KeepPrivateTags", notes):
            lines.append("keep private  # KeepPrivateTags")
    elif _flag(body, "RemovePrivateTags", notes):
        lines.append(f"@{level} remove private  # RemovePrivateTags (dcmrules also removes nested ones)")
    return lines


def _precedence(entries: list[_Entry], notes: _Notes) -> list[_Entry]:
    """Orthanc's precedence for one tag or path: keep > replace > remove; the losers are dropped."""
    rank = {"remove": 0, "replace": 1, "keep": 2}
    best: dict[str, _Entry] = {}
    for entry in entries:
        if entry.target is None:
            continue
        key = entry.target.text
        if key in best and best[key].action != entry.action:
            loser, winner = sorted((best[key], entry), key=lambda e: rank[e.action])
            notes.warn(f"{json.dumps(loser.raw)} is in both {loser.action.title()} and {winner.action.title()}: "
                       f"Orthanc applies {winner.action.title()}")
            best[key] = winner
        else:
            best.setdefault(key, entry)
    kept = [e for e in entries if e.target is not None and best[e.target.text] is e]
    for keep in (e for e in kept if e.action == "keep" and e.target.tag is not None):
        for inner in (e for e in kept if e.action != "keep" and e.target.text.startswith(keep.target.text + "[")):
            notes.warn(f"{json.dumps(inner.raw)} lies inside the kept {json.dumps(keep.raw)}: Orthanc applies it, "
                       "dcmrules keeps the whole subtree (keep > replace > remove)")
    return kept + [e for e in entries if e.target is None]


def _statements(entries: list[_Entry], level: str, force: bool, anonymize: bool, notes: _Notes) -> list[str]:
    lines = []
    for entry in entries:
        source = f"# {entry.action.title()} {json.dumps(entry.raw)}"
        target = entry.target
        if target is None and entry.action != "replace":
            target = as_is(entry.raw)  # written as is when it still reads as a path: lint says what is wrong
        if target is None or (entry.action == "replace" and entry.value is None):
            lines.append(f"{source}: not translated")
            continue
        if entry.action == "keep" and not anonymize and target.tag is None:
            notes.warn(f"{json.dumps(entry.raw)}: Keep of a path has no effect in Orthanc's /modify; left out")
            lines.append(f"{source}: no effect in /modify")
            continue
        identifier = target.tag in IDENTIFIERS
        upward = entry.action != "keep" and level_of(target.head) < Level[level.upper()]
        forced = "@force " if force and (identifier or upward) else ""
        text = target.text
        if anonymize and target.tag is not None and not identifier and entry.action != "replace" \
                and not (entry.action == "keep" and is_sequence(target.tag)):
            text = "**." + text  # Orthanc's Keep and Remove of a tag act at every depth when anonymizing
        statement = f"{entry.action} {text}" + (f" with {entry.value}" if entry.action == "replace" else "")
        lines.append(f"@{level} {forced}{statement}  {source}")
    return lines


def _implicit(entries: list[_Entry], level: str, anonymize: bool, body: Mapping, notes: _Notes) -> list[str]:
    """Orthanc's implicit identifiers: regenerated UIDs (modify), new PatientID and PatientName (anonymize)."""
    touched = {e.target.tag for e in entries if e.target is not None and e.target.tag is not None}
    if anonymize:
        lines = ["# Orthanc: PatientID becomes a random UUID, PatientName `Anonymized<N>`; here both are the",
                 "# same keyed pseudonym of the original PatientID (stable across runs with the same key),",
                 "# nested copies included."]
        if 0x00100020 not in touched:
            lines.append("@patient @force replace **.PatientID with hash()")
        elif any(e.action == "keep" and e.target and e.target.tag == 0x00100020 for e in entries):
            notes.warn("Orthanc 1.10.1 refuses to keep PatientID when anonymizing (When modifying a patient, her "
                       "PatientID is required to be modified); Orthanc 1.11.3 and later, and dcmrules, accept it")
        if PATIENT_NAME not in touched:
            lines.append("@patient replace **.PatientName with hash(PatientID)")
        return lines if len(lines) > 3 else []
    depth = LEVELS.index(level)
    regenerated = [tag for tag, home in IDENTIFIERS.items()
                   if LEVELS.index(home) >= depth and home != "patient" and tag not in touched]
    patient_edits = any(e.action != "keep" and e.target is not None and e.target.head is not None
                        and IDENTIFIERS.get(e.target.head) is None and level_of(e.target.head) is Level.PATIENT
                        for e in entries)
    if level == "patient" and 0x00100020 not in touched and not patient_edits:
        notes.warn("Orthanc refuses a patient-level modify that keeps PatientID (When modifying a patient, her "
                   "PatientID is required to be modified); dcmrules asks for it only when patient attributes "
                   "are edited (DR208)")
    if not regenerated:
        return []
    lines = [f"# Orthanc regenerates these at {level} level:"]
    for tag in regenerated:
        home = IDENTIFIERS[tag]
        lines.append(f"@{home} @force replace {NAMES[tag]} with uid()")
    return lines


# --- the command ----------------------------------------------------------------------------------------

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=("orthanc",), help="the kind of request to import")
    parser.add_argument("body", metavar="BODY.json", help="the JSON body of the request")
    parser.add_argument("--level", type=str.lower, choices=LEVELS,
                        help="the level of the URL: /patients, /studies, /series or /instances "
                             "(not needed with --anonymize or a bulk-modify \"Level\")")
    parser.add_argument("--anonymize", action="store_true", help="the body is for /anonymize, not /modify")
    parser.add_argument("-o", "--output", metavar="OUT.rules", help="write the rules here (default: standard output)")


def handle(args: argparse.Namespace) -> int:
    """Translate, write the file, print the notes and the file's lint diagnostics; 1 if any is an error."""
    from dcmrules.compiler import check_rules
    from dcmrules.compiler.render import render_text
    from dcmrules.compiler.source import Source

    try:
        body = json.loads(Path(args.body).read_text(encoding="utf-8"))
        level = args.level or ("patient" if args.anonymize else _body_level(body))
        result = translate(body, level, anonymize=args.anonymize)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        print(f"dcmrules import: error: {args.body}: {error}", file=sys.stderr)
        return 2
    path = args.output or "<import>"
    if args.output:
        Path(args.output).write_text(result.text, encoding="utf-8")
    else:
        sys.stdout.write(result.text)
    for note in result.notes:
        print(f"{args.body}: {note.severity}: {note.message}", file=sys.stderr)
    diagnostics = check_rules(result.text, path=path)
    if diagnostics:
        sys.stderr.write(render_text(diagnostics, {path: Source(result.text, path)}))
    return 1 if result.errors or any(d.is_error for d in diagnostics) else 0


def _body_level(body: object) -> str:
    if isinstance(body, Mapping) and isinstance(body.get("Level"), str) and body["Level"].lower() in LEVELS:
        return body["Level"].lower()
    raise ValueError("--level is required (the body has no \"Level\")")


IMPORT_COMMAND = ("import", "write the rules file equivalent to an Orthanc /modify or /anonymize request",
                  configure, handle)
