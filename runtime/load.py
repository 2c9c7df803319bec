"""Load what a run needs: a .rules or .json plan path in, a checked plan dict, its lookup tables and the key out.

Every refusal is a PlanError or UsageError naming the file (and the statement where there is one), raised
before any DICOM file is touched; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcmrules.compiler import check_plan, compile_rules
from dcmrules.runtime.errors import PlanError, UsageError, read_text
from dcmrules.runtime.keys import key_fingerprint as _fingerprint
from dcmrules.compiler.tables import parse_table

KEY_ENV = "DCMRULES_KEY"
KEYED_KINDS = frozenset({"uid", "hash", "keyed_shift", "clean"})


@dataclass(frozen=True)
class LoadedPlan:
    """A checked plan, where it came from (lookup tables are found next to it) and the compiler's warnings."""

    plan: dict[str, Any]
    path: Path
    warnings: tuple[str, ...] = ()
    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def load_plan(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the checked plan of a .rules file (compiled) or a .json plan (validated and re-checked)."""
    return read_plan(path).plan


def read_plan(path: str | os.PathLike[str]) -> LoadedPlan:
    """Compile or validate the plan at path, then load and check the lookup tables it names."""
    path = Path(path)
    text = read_text(path, "rules or plan file", PlanError)
    if _is_json_plan(path, text):
        plan, warnings = _check_json_plan(path, text)
    else:
        plan, warnings = _compile(path, text)
    tables = load_tables(plan, path)
    return LoadedPlan(plan=plan, path=path, warnings=warnings, tables=tables)


def _is_json_plan(path: Path, text: str) -> bool:
    if path.suffix.lower() == ".json":
        return True
    return path.suffix.lower() != ".rules" and text.lstrip().startswith("{")


def _compile(path: Path, text: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    # compiled for this process, not written for others: the schema check (and its library) is left to
    # `dcmrules compile` and the tests, which check every plan the compiler makes
    result = compile_rules(text, path=str(path), base_dir=path.parent, validate=False)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    warnings = tuple(str(d) for d in result.diagnostics if d.severity != "error")
    if result.plan is None or errors:
        raise PlanError(_diagnostic_listing(f"{path} does not compile", errors or result.diagnostics))
    return result.plan, warnings


def _check_json_plan(path: Path, text: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}:{exc.lineno}:{exc.colno}: not a JSON plan: {exc.msg}") from None
    if not isinstance(plan, dict):
        raise PlanError(f"{path}: not a plan: expected a JSON object, found {type(plan).__name__}")
    errors = check_plan(plan)
    if errors:
        raise PlanError(_diagnostic_listing(f"{path} is not a valid plan", errors))
    return plan, ()


def _diagnostic_listing(title: str, diagnostics: Any) -> str:
    lines = [f"{title}:"]
    for diagnostic in diagnostics:
        lines.append(f"  {diagnostic}")
        if getattr(diagnostic, "help", None):
            lines.append(f"    help: {diagnostic.help}")
    return "\n".join(lines)


# -- values -----------------------------------------------------------------------------------------


def iter_values(value: Any) -> Iterator[dict[str, Any]]:
    """Yield a value expression and every expression nested in it (inputs, defaults, concat parts)."""
    if not isinstance(value, dict):
        return
    yield value
    for key in ("input", "default"):
        yield from iter_values(value.get(key))
    for part in value.get("parts", ()):
        yield from iter_values(part)


def plan_values(plan: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield (operation, value expression) for every expression of every replace operation."""
    for op in plan.get("operations", ()):
        for value in iter_values(op.get("value")):
            yield op, value


def origin_text(origin: Mapping[str, Any] | None) -> str:
    """Return 'file:line:column' for an operation origin, or '' when there is none."""
    if not origin:
        return ""
    return f"{origin.get('file')}:{origin.get('line')}:{origin.get('column')}"


# -- key ----------------------------------------------------------------------------------------------


def keyed_origins(plan: Mapping[str, Any]) -> list[str]:
    """Return where the plan uses a keyed function (uid, hash, keyed shift, dummy UID), in plan order."""
    found: list[str] = []
    for op, value in plan_values(plan):
        if _is_keyed(op, value):
            where = origin_text(op.get("origin"))
            if where not in found:
                found.append(where)
    return found


def _is_keyed(op: Mapping[str, Any], value: Mapping[str, Any]) -> bool:
    if value.get("kind") in KEYED_KINDS:
        return True
    return value.get("kind") == "dummy" and _final_vr(op.get("target", {})) == "UI"


def _final_vr(target: Mapping[str, Any]) -> str | None:
    steps = target.get("steps") or [{}]
    last = steps[-1]
    if "vr" in last:
        return str(last["vr"])
    if "tag" in last:
        from pydicom.datadict import dictionary_VR

        try:
            return str(dictionary_VR(int(last["tag"], 16)))
        except KeyError:
            return None
    return None


def load_key(key_file: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> bytes | None:
    """Return the key from key_file (raw bytes, one trailing newline stripped) or DCMRULES_KEY (UTF-8), or None."""
    if key_file is not None:
        return _read_key_file(Path(key_file))
    value = (os.environ if environ is None else environ).get(KEY_ENV, "")
    return value.encode("utf-8") or None


def _read_key_file(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the key file: {exc.strerror}") from None
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        raise UsageError(f"{path}: the key file is empty")
    return data


def require_key(plan: Mapping[str, Any], key: bytes | None) -> None:
    """Raise UsageError when the plan uses keyed functions and no key was given."""
    where = keyed_origins(plan)
    if where and key is None:
        shown = ", ".join(where[:3]) + (f" and {len(where) - 3} more" if len(where) > 3 else "")
        raise UsageError(
            f"the plan uses keyed functions (uid(), hash(), shift(max_days=...)) at {shown}, "
            f"but no key was given: pass --key-file FILE or set {KEY_ENV}"
        )


def key_fingerprint(key: bytes | None) -> str | None:
    """Return a short public fingerprint of the key (never the key itself), or None without a key."""
    return None if key is None else _fingerprint(key)


# -- lookup tables ------------------------------------------------------------------------------------


def load_tables(plan: Mapping[str, Any], plan_path: Path) -> dict[str, dict[str, str]]:
    """Return {table path as written in the plan: {original: new}} for every lookup() of the plan."""
    tables: dict[str, dict[str, str]] = {}
    for op, value in plan_values(plan):
        if value.get("kind") != "lookup":
            continue
        table = value["table"]
        if table["path"] not in tables:
            where = origin_text(op.get("origin"))
            path = _find_table(table["path"], plan, plan_path, where)
            tables[table["path"]] = read_table(path, table["sha256"], where)
    return tables


def _find_table(name: str, plan: Mapping[str, Any], plan_path: Path, where: str) -> Path:
    candidates = [Path(name)] if Path(name).is_absolute() else [plan_path.parent / name]
    source = Path(str(plan.get("source", {}).get("path", "")))
    if not Path(name).is_absolute() and str(source):
        candidates.append(source.parent / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise PlanError(f"{where}: lookup table {name!r} not found (looked in {', '.join(str(c) for c in candidates)})")


def read_table(path: Path, sha256: str | None, where: str = "") -> dict[str, str]:
    """Parse a two-column CSV (original,new; an optional 'original,new' header row) after checking its sha256."""
    data = path.read_bytes()
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise PlanError(f"{where}: lookup table {path} changed since the plan was compiled (sha256 differs); "
                        "compile again")
    try:
        return parse_table(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise PlanError(f"{path}: the lookup table is not UTF-8 text") from None
    except (ValueError, csv.Error) as exc:
        raise PlanError(f"{path}: malformed lookup table: {exc}") from None
