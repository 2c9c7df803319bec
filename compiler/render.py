"""Diagnostics in, text out: the lint formats (text, concise, json, sarif, github)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from dcmrules.compiler.diagnostics import CODES, Diagnostic
from dcmrules.compiler.lower import tool_version
from dcmrules.compiler.source import Source

Renderer = Callable[[Sequence[Diagnostic], Mapping[str, Source]], str]
DOCS = "specs/diagnostics.md"


def render_text(diagnostics: Sequence[Diagnostic], sources: Mapping[str, Source]) -> str:
    """rustc/ruff style: the message, the source line with a caret under the span, the help line."""
    blocks = [_text_block(d, sources.get(d.path)) for d in diagnostics]
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    summary = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}" if diagnostics else "no problems"
    return "".join(blocks) + f"{summary} in {_plural(len(sources), 'file')}\n"


def _text_block(d: Diagnostic, source: Source | None) -> str:
    s = d.span
    lines = [f"{d.severity}[{d.code.id}] {d.code.name}: {d.message}", f"  --> {d.path}:{s.line}:{s.column}"]
    if source is not None:
        text = source.line_text(s.line).expandtabs(1)
        gutter = " " * len(str(s.line))
        end = s.end_column if s.end_line == s.line else len(text) + 1
        width = max(1, min(end, len(text) + 1) - s.column)
        lines += [f"{gutter} |", f"{s.line} | {text}", f"{gutter} | {' ' * (s.column - 1)}{'^' * width}"]
        if d.help:
            lines.append(f"{gutter} = help: {d.help}")
    elif d.help:
        lines.append(f"  = help: {d.help}")
    return "\n".join(lines) + "\n\n"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_concise(diagnostics: Sequence[Diagnostic], sources: Mapping[str, Source]) -> str:
    return "".join(f"{d}\n" for d in diagnostics)


def as_record(d: Diagnostic) -> dict[str, object]:
    s = d.span
    return {"path": d.path, "line": s.line, "column": s.column, "end_line": s.end_line,
            "end_column": s.end_column, "code": d.code.id, "name": d.code.name, "severity": d.severity,
            "message": d.message, "help": d.help}


def render_json(diagnostics: Sequence[Diagnostic], sources: Mapping[str, Source]) -> str:
    return json.dumps([as_record(d) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


def render_sarif(diagnostics: Sequence[Diagnostic], sources: Mapping[str, Source]) -> str:
    """SARIF 2.1.0 with one rule per diagnostic code."""
    rules = [{"id": c.id, "name": c.name, "shortDescription": {"text": c.summary},
              "helpUri": f"{DOCS}#{c.id.lower()}-{c.name}",
              "defaultConfiguration": {"level": c.severity.value}} for c in CODES]
    index = {c.id: i for i, c in enumerate(CODES)}
    results = [{
        "ruleId": d.code.id, "ruleIndex": index[d.code.id], "level": d.severity,
        "message": {"text": f"{d.message}" + (f" (help: {d.help})" if d.help else "")},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": d.path},
            "region": {"startLine": d.span.line, "startColumn": d.span.column,
                       "endLine": d.span.end_line, "endColumn": d.span.end_column}}}],
    } for d in diagnostics]
    log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "dcmrules", "version": tool_version(), "rules": rules}},
                     "results": results}]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def render_github(diagnostics: Sequence[Diagnostic], sources: Mapping[str, Source]) -> str:
    """GitHub Actions workflow commands: one ::error or ::warning annotation per diagnostic."""
    out = []
    for d in diagnostics:
        s = d.span
        message = _escape(f"{d.message}" + (f" (help: {d.help})" if d.help else ""))
        out.append(f"::{d.severity} title={d.code.id} {d.code.name},file={_escape_property(d.path)},"
                   f"line={s.line},col={s.column},endLine={s.end_line},endColumn={s.end_column}::{message}\n")
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


RENDERERS: dict[str, Renderer] = {
    "text": render_text,
    "concise": render_concise,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}
