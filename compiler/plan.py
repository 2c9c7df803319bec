"""Plan dicts in and out of JSON: the schema check, the format version rules, deterministic bytes."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from dcmrules.specs import resource

FORMAT_VERSION = "1.0"
GENERATOR = "dcmrules"


@cache
def _validator() -> Any:
    import jsonschema  # imported on first use: `dcmrules lint` never needs it

    schema = json.loads(resource("plan.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def schema_errors(plan: Any) -> list[str]:
    """Every schema violation, sorted by where it is (empty when the plan is valid)."""
    errors = sorted(_validator().iter_errors(plan), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def version_error(plan: Any) -> str | None:
    """Why this runtime cannot run a plan of that format_version (None when it can)."""
    version = str(plan.get("format_version", "")) if isinstance(plan, dict) else ""
    major, _, minor = version.partition(".")
    ours_major, _, ours_minor = FORMAT_VERSION.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        return f"format_version {version!r} is not MAJOR.MINOR"
    if major != ours_major or int(minor) > int(ours_minor):
        return f"plan format {version} is not supported (this dcmrules reads {ours_major}.0 to {FORMAT_VERSION})"
    return None


def dumps(plan: dict[str, Any]) -> str:
    """The plan's canonical JSON text: sorted keys, two-space indent, newline at the end."""
    return json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
