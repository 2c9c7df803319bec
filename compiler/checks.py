"""Resolved Program in, diagnostics out: the static rules of the language, one small function each."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dcmrules.compiler import diagnostics as codes
from dcmrules.compiler.diagnostics import Diagnostic, diagnostic
from dcmrules.compiler.dictionary import IDENTIFIER_OF_LEVEL, IDENTIFIERS, Level, keyword_for_tag, level_of
from dcmrules.compiler.model import Program, Rule
from dcmrules.compiler.source import Span
from dcmrules.compiler.values import FUNCTIONS, MAX_LENGTH, literal_problem

Check = Callable[[Program], Iterator[Diagnostic]]
EDITS = ("replace", "remove")
VERB = {"replace": "replaced", "remove": "removed", "keep": "kept"}


def _plural(level: Level) -> str:
    return {"study": "studies", "series": "series"}.get(level.label, level.label + "s")


def _needs_force(rule: Rule) -> bool:
    upward = rule.action in EDITS and rule.target.home_level < rule.level
    return rule.target.identifier is not None or upward


def check_upward_edit(program: Program) -> Iterator[Diagnostic]:
    """Rule 1: an edit may not reach above its level; a parent's identifier never."""
    for rule in program.rules:
        home = rule.target.home_level
        if rule.action not in EDITS or home >= rule.level:
            continue
        name, level = rule.target.label(), rule.level.label
        if rule.target.identifier is not None:
            yield diagnostic(codes.PARENT_IDENTIFIER, f"When modifying a{'n' if level == 'instance' else ''} "
                             f"{level}, the parent {name} cannot be manually modified", rule.target.span,
                             f"edit {name} in an @{home.label} statement")
        elif rule.force:
            yield diagnostic(codes.FORCED_UPWARD_EDIT, f"{name} lives at {home.label} level; edited per {level} "
                             f"with @force, other {_plural(rule.level)} of one {home.label} may disagree", rule.target.span,
                             f"move it to @{home.label} to keep every {level} consistent")
        else:
            yield diagnostic(codes.UPWARD_EDIT, f"{name} lives at {home.label} level, above this @{level} "
                             f"statement: the other {_plural(rule.level)} of the {home.label} would disagree",
                             rule.target.span, f"move it to @{home.label}, or add @force to accept the difference")


def check_identifier_needs_force(program: Program) -> Iterator[Diagnostic]:
    """Rule 2: replace or keep of an identifier requires @force (Orthanc's Force option)."""
    for rule in program.rules:
        if rule.action in ("replace", "keep") and rule.target.identifier is not None and not rule.force:
            name = rule.target.label()
            yield diagnostic(codes.IDENTIFIER_NEEDS_FORCE, f'Marking tag "{name}" as to be {VERB[rule.action]} '
                             'requires @force', rule.target.span,
                             f"{name} identifies the {IDENTIFIERS[rule.target.identifier].label}; add @force if "
                             "this is intended")


def check_identifier_removal(program: Program) -> Iterator[Diagnostic]:
    """Rule 3: identifiers are never removed, even with @force."""
    for rule in program.rules:
        if rule.action == "remove" and rule.target.identifier is not None:
            yield diagnostic(codes.IDENTIFIER_REMOVAL, f"It is forbidden to remove one of the main DICOM "
                             f"identifiers ({rule.target.label()})", rule.target.span,
                             "replace it with uid() (or hash() for PatientID) instead")


def check_merge_by_constant(program: Program) -> Iterator[Diagnostic]:
    """Rule 4: a lower level's identifier set to one value from above merges the lower resources."""
    for rule in program.rules:
        tag = rule.target.identifier
        if rule.action != "replace" or tag is None or rule.value is None or rule.value.is_per_original(tag):
            continue
        name, home = rule.target.label(), IDENTIFIERS[tag]
        if home > rule.level:
            yield diagnostic(codes.MERGE_BY_CONSTANT, f"every {home.label} of one {rule.level.label} would get "
                             f"the same {name}: they would merge into one", rule.value.span,
                             f"use uid() for one new {name} per original")
        elif home == rule.level:
            yield diagnostic(codes.CONSTANT_IDENTIFIER, f"every {home.label} in the run gets the same {name}",
                             rule.value.span, f"use uid() or hash() unless the input holds one {home.label}")


def check_input_level(program: Program) -> Iterator[Diagnostic]:
    """Rule 5: a value reads only attributes at the statement's level or above."""
    for rule in program.rules:
        if rule.value is None:
            continue
        for read in rule.value.reads():
            home = level_of(read.tag)
            if home > rule.level:
                name = read.keyword or f"({read.tag:08X})"
                yield diagnostic(codes.INPUT_LEVEL, f"{name} is {home.label} level: it may differ between the "
                                 f"{_plural(home)} of one {rule.level.label}", read.span,
                                 f"move the statement to @{home.label}, or read a {rule.level.label}-level "
                                 "attribute")


def check_patient_identity(program: Program) -> Iterator[Diagnostic]:
    """Rule 6: patient edits need a new PatientID or an explicit, forced keep of it."""
    patient_id = IDENTIFIER_OF_LEVEL[Level.PATIENT]
    handled = program.profile is not None or any(
        rule.target.identifier == patient_id and (rule.action == "replace" or (rule.action == "keep" and rule.force))
        for rule in program.rules)
    if handled:
        return
    for rule in program.rules:
        if (rule.level is Level.PATIENT and rule.action in EDITS and rule.target.home_level is Level.PATIENT
                and rule.target.identifier is None):
            yield diagnostic(codes.PATIENT_IDENTITY, "When modifying a patient, her PatientID is required to be "
                             "modified", rule.span, "add `@patient @force replace PatientID with hash()`, or "
                             "`@force keep PatientID` to keep it on purpose")


def check_identifier_cascade(program: Program) -> Iterator[Diagnostic]:
    """Rule 7: a regenerated UID needs the UIDs below it regenerated too."""
    replaced = {r.target.identifier for r in program.rules if r.action == "replace"}
    if program.profile is not None and "retain-uids" not in program.profile.options:
        replaced |= set(IDENTIFIERS)
    for rule in program.rules:
        tag = rule.target.identifier
        if rule.action != "replace" or tag is None or IDENTIFIERS[tag] is Level.PATIENT:
            continue
        missing = [t for t, level in IDENTIFIERS.items() if level > IDENTIFIERS[tag] and t not in replaced]
        if missing:
            names = " and ".join(keyword_for_tag(t) for t in missing)
            yield diagnostic(codes.IDENTIFIER_CASCADE, f"a new {rule.target.label()} with the old {names}: the "
                             f"same {keyword_for_tag(missing[0]).removesuffix('InstanceUID').lower()} would "
                             "sit under two parents", rule.target.span,
                             f"also regenerate {names} with uid()")


def check_unnecessary_force(program: Program) -> Iterator[Diagnostic]:
    """Rule 8: @force where no statement it covers needs it."""
    used: dict[Span, bool] = {}
    for rule in program.rules:
        for span in rule.force_spans:
            used[span] = used.get(span, False) or _needs_force(rule)
    for span, needed in sorted(used.items()):
        if not needed:
            yield diagnostic(codes.UNNECESSARY_FORCE, "@force is not needed here", span,
                             "@force is for identifiers and edits above the statement's level; remove it")


def check_conflicts(program: Program) -> Iterator[Diagnostic]:
    """Rule 9: two statements on one target must agree; an exact duplicate is a warning."""
    first: dict[tuple[object, ...], Rule] = {}
    for rule in program.rules:
        key = rule.target.key()
        earlier = first.setdefault(key, rule)
        if earlier is rule:
            continue
        where = f"line {earlier.span.line}"
        if earlier.action == rule.action and earlier.key() == rule.key():
            yield diagnostic(codes.DUPLICATE_STATEMENT, f"the same statement as {where}", rule.span,
                             "remove one of them")
        else:
            yield diagnostic(codes.CONFLICTING_STATEMENTS, f"{rule.target.label()} is also decided on {where} "
                             f"({earlier.action}); the two statements disagree", rule.span,
                             "keep one statement per target (keep > replace > remove applies only to "
                             "overlapping targets)")


def check_literal_values(program: Program) -> Iterator[Diagnostic]:
    """Rule 10: a literal must be valid for the target's VR."""
    for rule in program.rules:
        value = rule.value
        if value is not None and value.kind == "literal" and value.text is not None:
            problem = literal_problem(rule.target.vr, value.text)
            if problem:
                yield diagnostic(codes.INVALID_VALUE, f"invalid value for {rule.target.label()} "
                                 f"(VR {rule.target.vr}): {problem}", value.span, _vr_help(rule.target.vr))


def check_function_vr(program: Program) -> Iterator[Diagnostic]:
    """Rule 10: a function must be able to produce the target's VR."""
    for rule in program.rules:
        value, vr = rule.value, rule.target.vr
        if value is None or vr is None or " or " in vr:
            continue
        name = "shift" if value.kind == "keyed_shift" else value.kind
        function = FUNCTIONS.get(name)
        if function is not None and function.vrs is not None and vr not in function.vrs:
            yield diagnostic(codes.FUNCTION_VR_MISMATCH, f"{name}() cannot produce a {vr} value for "
                             f"{rule.target.label()}", value.span, function.help)
        elif name == "hash" and value.number and (MAX_LENGTH.get(vr) or 1 << 30) < value.number:
            yield diagnostic(codes.FUNCTION_VR_MISMATCH, f"hash({value.number}) is longer than {vr} allows "
                             f"({MAX_LENGTH[vr]})", value.span, function.help if function else "")


def _vr_help(vr: str | None) -> str:
    return f"see PS3.5 Table 6.2-1 for what a {vr} holds" if vr else ""


CHECKS: tuple[Check, ...] = (
    check_upward_edit,
    check_identifier_needs_force,
    check_identifier_removal,
    check_merge_by_constant,
    check_input_level,
    check_patient_identity,
    check_identifier_cascade,
    check_unnecessary_force,
    check_conflicts,
    check_literal_values,
    check_function_vr,
)


def check(program: Program) -> list[Diagnostic]:
    return [problem for run in CHECKS for problem in run(program)]
