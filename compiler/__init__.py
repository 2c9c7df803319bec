"""The dcmrules compiler: rules text in, diagnostics and a JSON plan out.

    result = compile_rules(text, path="site.rules")
    result.diagnostics   # every finding, in source order
    result.plan          # the plan dict, or None when there is an error
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dcmrules.compiler.checks import check
from dcmrules.compiler.diagnostics import CODES, Diagnostic, Severity
from dcmrules.compiler.expand import conflicting_options, expand
from dcmrules.compiler.lower import lower, program_from_plan
from dcmrules.compiler.model import Program
from dcmrules.compiler.plan import FORMAT_VERSION, dumps, schema_errors, version_error
from dcmrules.compiler.resolve import resolve
from dcmrules.compiler.source import Source, Span

__all__ = ["CODES", "FORMAT_VERSION", "CompileResult", "Diagnostic", "Severity", "Source", "Span",
           "check_plan", "check_rules", "compile_rules", "dumps"]


@dataclass(frozen=True)
class CompileResult:
    plan: dict[str, Any] | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.plan is not None

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)


def check_rules(text: str, *, path: str = "<string>", base_dir: Path | None = None) -> list[Diagnostic]:
    """Every diagnostic of a rules file, sorted by position (what `dcmrules lint` prints)."""
    return list(_analyse(text, path, base_dir)[1])


def compile_rules(text: str, *, path: str = "<string>", base_dir: Path | None = None,
                  validate: bool = True) -> CompileResult:
    """Parse, resolve, check and lower one rules file. Never raises for a mistake in the text.

    validate=True checks the plan against the schema (a plan that fails it is a bug of ours); a caller that
    runs the plan in this process right away (`dcmrules run site.rules`) may skip it and the schema
    library's import."""
    program, diagnostics = _analyse(text, path, base_dir)
    if program is None or any(d.is_error for d in diagnostics):
        return CompileResult(None, diagnostics)
    plan = lower(program, path=path, text=text, profile_rules=expand(program))
    errors = schema_errors(plan) if validate else []
    if errors:  # a bug of ours, never a user mistake
        raise AssertionError(f"compiled plan fails the schema: {errors}")
    return CompileResult(plan, diagnostics)


def _analyse(text: str, path: str, base_dir: Path | None) -> tuple[Program | None, tuple[Diagnostic, ...]]:
    from dcmrules.compiler.parse import parse  # Lark is imported here: checking a JSON plan never needs it

    tree, problems = parse(Source(text, path))
    program = None
    if tree is not None:
        program, resolve_problems = resolve(tree, base_dir if base_dir is not None else _base_dir(path))
        problems += resolve_problems + check(program)
        if program.profile is not None:
            problems += conflicting_options(program.profile)
    ordered = sorted((replace(p, path=path) for p in problems), key=Diagnostic.sort_key)
    return program, tuple(ordered)


def check_plan(plan: Any) -> list[str]:
    """Why a plan read from disk must not run: schema, format version, static rules (empty when fine)."""
    errors = schema_errors(plan)
    if errors:
        return errors
    problem = version_error(plan)
    if problem:
        return [problem]
    found = check(program_from_plan(plan))
    return [f"{plan['source']['path']}:{d.span.line}:{d.span.column}: {d.code.id} {d.message}"
            for d in sorted(found, key=Diagnostic.sort_key) if d.is_error]


def _base_dir(path: str) -> Path | None:
    return Path(path).parent if path and not path.startswith("<") else None
