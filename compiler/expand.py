"""A resolved Program with a `profile` line in, the profile's rules out: PS3.15 statements the file did not override."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from dcmrules.compiler import diagnostics as codes
from dcmrules.compiler.diagnostics import Diagnostic, diagnostic
from dcmrules.compiler.model import ProfileRequest, Program, Rule
from dcmrules.compiler.resolve import resolve
from dcmrules.compiler.source import Source
from dcmrules.specs import resource

# Options that cannot be combined: they say opposite things about the same attributes.
EXCLUSIVE = (("retain-longitudinal-full-dates", "retain-longitudinal-modified-dates"),)


@cache
def profile_rules(name: str) -> tuple[Rule, ...]:
    """The rules of one shipped profile file (specs/profiles/NAME.rules), marked with a profile origin."""
    from dcmrules.compiler.parse import parse  # Lark only when a profile is expanded, never to check a plan

    origin = f"profiles/{name}.rules"
    tree, problems = parse(Source(resource("profiles", f"{name}.rules").read_text(encoding="utf-8"), origin))
    if tree is None or problems:
        raise AssertionError(f"shipped profile {origin} does not parse: {problems}")
    program, problems = resolve(tree)
    if any(p.is_error for p in problems):
        raise AssertionError(f"shipped profile {origin} does not resolve: {problems}")
    return tuple(replace(rule, origin="profile", origin_file=origin) for rule in program.rules)


def conflicting_options(request: ProfileRequest) -> list[Diagnostic]:
    return [diagnostic(codes.CONFLICTING_OPTIONS, f"options {a} and {b} cannot be combined", request.span,
                       "PS3.15 keeps dates either as they are or modified; choose one option")
            for a, b in EXCLUSIVE if a in request.options and b in request.options]


def expand(program: Program) -> tuple[Rule, ...]:
    """Basic Profile rules, replaced by the options' rules on the same target, minus the targets the
    file itself states. Where a file statement and a profile rule reach the same element by different
    targets (PatientName and **.PatientName), the runtime lets the file's statement decide that element
    and the profile the others (nested copies stay de-identified)."""
    request = program.profile
    if request is None:
        return ()
    chosen = {rule.target.key(): rule for rule in profile_rules(f"basic-{request.edition}")}
    for option in request.options:
        chosen.update((rule.target.key(), rule) for rule in profile_rules(f"option-{option}"))
    stated = {rule.target.key() for rule in program.rules}
    return tuple(rule for key, rule in chosen.items() if key not in stated)
