"""Explain a plan on one file: plan and DICOM file in, every element it touches (before, after, deciding statement) out.

Nothing is written. References are remapped as a run remaps them when the run's inputs are given
(input_set, --set); otherwise only references to the file's own identifiers are. Without a key, keyed
values are computed with a throwaway key and flagged as such: they show the shape of the result, not the
real values.
"""

from __future__ import annotations

import json
import warnings
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dcmrules.runtime.apply import ApplyError, Change, Context, apply_plan, identifier_changes, prepare
from dcmrules.runtime.errors import UsageError
from dcmrules.runtime.files import NOT_DICOM, ReadFailure, discover, sniff
from dcmrules.runtime.read import read_full
from dcmrules.runtime.index import build_index
from dcmrules.runtime.load import keyed_origins, load_tables
from dcmrules.runtime.load import origin_text as _origin_text

WIDTH = 48
ACTION_WORDS = {"replace": "replaced", "remove": "removed", "keep": "kept", "remap": "remapped", "insert": "inserted"}


@dataclass(frozen=True)
class Explanation:
    """The changes the plan makes to one file, and whether keyed values used a throwaway key."""

    file: str
    changes: tuple[Change, ...]
    throwaway_key: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: the file, the key note and every change with its origin."""
        return {"file": self.file, "throwaway_key": self.throwaway_key,
                "changes": [_change_dict(c) for c in self.changes]}


def explain_file(plan: Mapping[str, Any], path: str | Path, *, key: bytes | None = None,
                 tables: Mapping[str, Mapping[str, str]] | None = None,
                 input_set: Sequence[str | Path] = ()) -> Explanation:
    """Apply plan to the file in memory and return what changed; UsageError if it cannot be read.

    input_set: the files and folders of the run, indexed so that references to other files are remapped
    as the run remaps them (default: the file alone).
    """
    path = Path(path)
    ds = _read(path)
    throwaway = key is None and bool(keyed_origins(plan))
    key = secrets.token_bytes(32) if throwaway else key
    tables = load_tables(plan, Path(str(plan["source"]["path"]))) if tables is None else tables
    prepared = prepare(dict(plan))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _explain(plan, path, ds, prepared, key, tables, input_set, throwaway)


def _explain(plan: Mapping[str, Any], path: Path, ds: Any, prepared: Any, key: bytes | None,
             tables: Mapping[str, Mapping[str, str]], input_set: Sequence[str | Path], throwaway: bool) -> Explanation:
    try:
        uid_map = dict(identifier_changes(prepared, ds, Context(key=key, tables=tables)))
        if input_set:
            uid_map |= build_index(plan, discover(input_set, None), key=key, tables=tables, jobs=1).uid_map
        changes = apply_plan(prepared, ds, Context(key=key, uid_map=uid_map, tables=tables))
    except ApplyError as exc:
        raise UsageError(f"{path}: {exc}") from None
    return Explanation(str(path), tuple(changes), throwaway)


def _read(path: Path) -> Any:
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    kind = sniff(path)
    if kind is None:
        raise UsageError(f"{path}: {NOT_DICOM}")
    try:
        return read_full(path, kind).ds
    except ReadFailure as exc:
        raise UsageError(f"{path}: {exc}") from None


def render_text(explanation: Explanation) -> str:
    """Return one line per change: element, action, before -> after, and the statement that decided it."""
    lines = [f"{explanation.file}: {len(explanation.changes)} element(s) decided by the plan"]
    if explanation.throwaway_key:
        lines.append("note: no key given; keyed values below use a throwaway key and differ from a real run")
    for change in explanation.changes:
        lines.append(_line(change))
    counts: dict[str, int] = {}
    for change in explanation.changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    if counts:
        lines.append(", ".join(f"{n} {ACTION_WORDS.get(a, a)}" for a, n in sorted(counts.items())))
    return "\n".join(lines) + "\n"


def render_json(explanation: Explanation) -> str:
    """Return the explanation as indented JSON."""
    return json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _line(change: Change) -> str:
    element = f"{change.path} {change.keyword}".strip()
    if change.action == "keep":
        values = f"{_show(change.before)} (kept)"
    elif change.action == "remove":
        values = f"{_show(change.before)} -> (removed)"
    else:
        values = f"{_show(change.before)} -> {_show(change.after)}"
    return f"  {element:<{WIDTH}} {change.action:<8} {values}  [{_why(change)}]"


def _why(change: Change) -> str:
    if change.action == "remap":
        return "reference to a regenerated UID"
    origin = change.origin or {}
    where = f"{origin.get('file')}:{origin.get('line')}"
    return f"profile {where}" if origin.get("kind") == "profile" else where


def _show(value: str | None) -> str:
    if value is None:
        return "(absent)"
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _change_dict(change: Change) -> dict[str, Any]:
    return {"path": change.path, "keyword": change.keyword, "action": change.action, "before": change.before,
            "after": change.after, "operation": change.op_id,
            "origin": dict(change.origin) if change.origin else None,
            "where": _origin_text(change.origin) if change.origin else None}
