"""The first pass: input files in (headers only, never pixel data), the identifier map and the set index out.

For every input file it reads the header up to the last tag the identifier operations need, asks
identifier_changes() which identifiers (and other uid() targets) the plan regenerates, and records the
patient -> study -> series -> instance position. The merged {original UID: new UID} map is what every worker
of the second pass uses to remap references, so references between output files resolve.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcmrules.runtime.apply import ApplyError, Context, identifier_changes, prepare
from dcmrules.runtime.files import (DICOMDIR_REASON, NOT_DICOM, Source, describe_error, is_dicomdir, read_header,
                                    sniff)
from dcmrules.runtime.load import iter_values
from dcmrules.runtime.pool import run_tasks
from dcmrules.runtime.report import Progress
from dcmrules.runtime.scan import scan_header
from dcmrules.runtime.stored import stored_val
from dcmrules.runtime.values import join_text

IDENTIFIER_TAGS = {"00100020": "PatientID", "0020000D": "StudyInstanceUID",
                   "0020000E": "SeriesInstanceUID", "00080018": "SOPInstanceUID"}
HIERARCHY_TAGS = (0x00100020, 0x0020000D, 0x0020000E, 0x00080018)
REGENERATING_KINDS = frozenset({"uid", "dummy"})
LOST_WORKER = "the worker process died while reading this file"


@dataclass(frozen=True)
class HeaderEntry:
    """One file's place in the set and the identifier changes the plan makes to it (or why it was settled early)."""

    index: int
    keys: tuple[str, str, str, str] = ("", "", "", "")
    changes: Mapping[str, str] = field(default_factory=dict)
    status: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SetIndex:
    """The input set: identifier map, patient -> study -> series -> [instance], files settled in the first pass."""

    uid_map: Mapping[str, str]
    patients: Mapping[str, Mapping[str, Mapping[str, Sequence[str]]]]
    settled: Mapping[int, tuple[str, str]]
    conflicts: tuple[str, ...] = ()

    def summary(self) -> dict[str, int]:
        """Return counts of patients, studies, series, instances and regenerated identifiers (no values)."""
        studies = [s for p in self.patients.values() for s in p.values()]
        series = [r for s in studies for r in s.values()]
        return {"patients": len(self.patients), "studies": len(studies), "series": len(series),
                "instances": sum(len(r) for r in series), "regenerated_uids": len(self.uid_map)}


@dataclass(frozen=True)
class IndexJob:
    """What an index worker needs: the plan, key and tables, and the top-level tags to read (None: all)."""

    plan: Mapping[str, Any]
    key: bytes | None
    tables: Mapping[str, Mapping[str, str]]
    tags: frozenset[int] | None


def header_tags(plan: Mapping[str, Any]) -> frozenset[int] | None:
    """Return the top-level tags identifier_changes() can read (the identifiers and what their values use),
    or None when an identifier operation may read any element (**., masks, private targets)."""
    tags = set(HIERARCHY_TAGS)
    for op in plan.get("operations", ()):
        if not _regenerates(op):
            continue
        target = op["target"]
        if target["kind"] != "element" or target["any_depth"] or "tag" not in target["steps"][0]:
            return None
        tags.add(int(target["steps"][0]["tag"], 16))
        tags.update(int(v["tag"], 16) for v in iter_values(op.get("value")) if v.get("kind") == "element")
        if any(v.get("kind") == "keyed_shift" for v in iter_values(op.get("value"))):
            tags.add(0x00100020)
    return frozenset(tags)


def identifier_plan(plan: Mapping[str, Any], tags: frozenset[int] | None) -> dict[str, Any]:
    """The plan as identifier_changes() sees it on a header read for `tags`: an operation on one top-level
    element outside them can neither hit that header nor outrank an operation that does, so it is left out."""
    if tags is None:
        return dict(plan)
    return dict(plan, operations=[op for op in plan.get("operations", ()) if not _elsewhere(op["target"], tags)])


def _elsewhere(target: Mapping[str, Any], tags: frozenset[int]) -> bool:
    steps = target.get("steps") or [{}]
    plain = target["kind"] == "element" and not target.get("any_depth") and "tag" in steps[0]
    return plain and int(steps[0]["tag"], 16) not in tags


def _regenerates(op: Mapping[str, Any]) -> bool:
    if op["action"] != "replace":
        return False
    steps = op["target"].get("steps") or [{}]
    if len(steps) == 1 and steps[0].get("tag") in IDENTIFIER_TAGS:
        return True
    return any(v.get("kind") in REGENERATING_KINDS for v in iter_values(op.get("value")))


def build_index(plan: Mapping[str, Any], sources: Sequence[Source], *, key: bytes | None,
                tables: Mapping[str, Mapping[str, str]], jobs: int, progress: bool = False) -> SetIndex:
    """Read every source's header (in jobs processes) and merge the identifier changes in input order."""
    tags = header_tags(plan)
    job = IndexJob(identifier_plan(plan, tags), key, tables, tags)
    entries: list[HeaderEntry | None] = [None] * len(sources)
    with Progress(len(sources), "indexing", enabled=progress) as bar:
        for entry in run_tasks(_setup, job, index_file, sources, jobs):
            entries[entry.index] = entry
            bar.update()
    return merge([e or HeaderEntry(i, status="failed", reason=LOST_WORKER) for i, e in enumerate(entries)])


def _setup(job: IndexJob) -> tuple[Any, Context, frozenset[int] | None]:
    return prepare(dict(job.plan)), Context(key=job.key, uid_map={}, tables=job.tables), job.tags


def index_file(state: tuple[Any, Context, frozenset[int] | None], source: Source) -> HeaderEntry:
    """Read one file's header and return its identifiers and identifier changes (never raises).

    Reader warnings are silenced here; the second pass records them in the report.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _index_file(state, source)


def _index_file(state: tuple[Any, Context, frozenset[int] | None], source: Source) -> HeaderEntry:
    prepared, context, tags = state
    if source.collision:
        return HeaderEntry(source.index, status="failed", reason=source.collision)
    try:
        with open(source.input, "rb") as fp:
            kind = sniff(fp)
            if kind is None:
                return HeaderEntry(source.index, status="skipped", reason=NOT_DICOM)
            ds = (scan_header(fp, tags) if tags is not None and kind == "part10" else None) \
                or read_header(fp, kind, tags)
    except Exception as exc:  # unreadable or malformed input: a reason for the report
        return HeaderEntry(source.index, status="failed", reason=f"cannot read: {describe_error(exc)}")
    if is_dicomdir(ds):
        return HeaderEntry(source.index, status="skipped", reason=DICOMDIR_REASON)
    return _entry(source.index, prepared, ds, context)


def _entry(index: int, prepared: Any, ds: Any, context: Context) -> HeaderEntry:
    try:
        keys = tuple(_text(ds, tag) for tag in HIERARCHY_TAGS)
        changes = identifier_changes(prepared, ds, context)
    except ApplyError as exc:
        return HeaderEntry(index, status="failed", reason=str(exc))
    except Exception as exc:  # malformed values surface when converted
        return HeaderEntry(index, status="failed", reason=f"cannot read identifiers: {describe_error(exc)}")
    return HeaderEntry(index, keys=keys, changes=dict(changes))  # type: ignore[arg-type]


def _text(ds: Any, tag: int) -> str:
    return join_text(stored_val(ds, tag)).strip(" \x00") if tag in ds else ""


def merge(entries: Sequence[HeaderEntry]) -> SetIndex:
    """Merge entries in input order: the first new value of an original wins; later disagreements are noted."""
    uid_map: dict[str, str] = {}
    conflicts: list[str] = []
    patients: dict[str, dict[str, dict[str, list[str]]]] = {}
    settled: dict[int, tuple[str, str]] = {}
    for entry in entries:
        if entry.status is not None:
            settled[entry.index] = (entry.status, entry.reason or "")
            continue
        for original, new in entry.changes.items():
            if uid_map.setdefault(original, new) != new and len(conflicts) < 20:
                conflicts.append(f"file #{entry.index + 1}: one original identifier gets two new values; "
                                 "the first is used")
        patient, study, series, instance = entry.keys
        patients.setdefault(patient, {}).setdefault(study, {}).setdefault(series, []).append(instance)
    return SetIndex(uid_map=uid_map, patients=patients, settled=settled, conflicts=tuple(conflicts))
