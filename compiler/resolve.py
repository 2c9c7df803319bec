"""Syntax tree in, resolved Program out: names, tags and functions resolved against the DICOM dictionary."""

from __future__ import annotations

import csv
import difflib
import hashlib
from functools import cache
from pathlib import Path

from dcmrules.compiler import diagnostics as codes
from dcmrules.compiler import nodes as n
from dcmrules.compiler.diagnostics import Diagnostic, diagnostic
from dcmrules.compiler.dictionary import (
    Level, ParsedTag, is_retired, keyword_for_tag, level_of, parse_tag, repeater_mask, suggest_keyword,
    tag_for_keyword, vr_of)
from dcmrules.compiler.model import Expr, ProfileRequest, Program, RStep, RTarget, Rule
from dcmrules.compiler.profiles import EDITIONS, NEWEST_EDITION, OPTION_ALIASES, OPTIONS, PROFILES
from dcmrules.compiler.source import Span
from dcmrules.compiler.tables import parse_table
from dcmrules.compiler.values import CONSTANTS, FUNCTIONS, SHIFT_UNITS

LEVELS = {level.label: level for level in Level}
ANNOTATIONS = (*LEVELS, "force")


class Resolver:
    """Resolves one file; collects diagnostics (each reported once, even for shared block annotations)."""

    def __init__(self, base_dir: Path | None) -> None:
        self.base_dir = base_dir
        self.problems: dict[tuple[str, Span], Diagnostic] = {}

    def report(self, code: codes.Code, message: str, span: Span, help: str = "") -> None:
        self.problems.setdefault((code.id, span), diagnostic(code, message, span, help))

    # ---- file ---------------------------------------------------------------------

    def resolve(self, tree: n.RuleFile) -> Program:
        rules = tuple(r for r in (self.statement(s) for s in tree.statements) if r is not None)
        profile = self.profile(tree)
        blocks = tuple(tuple(a.span for a in notes) for notes in tree.blocks)
        return Program(rules, profile, blocks)

    def statement(self, stmt: n.Statement) -> Rule | None:
        before = len(self.problems)
        level, level_span, force_spans = self.annotations(stmt.annotations)
        known_level = len(self.problems) == before and not self._bad_annotation(stmt.annotations)
        target = self.target(stmt.target)
        value = self.value(stmt.value) if stmt.value is not None else None
        if target is None or (stmt.value is not None and value is None) or not known_level:
            return None  # the statement's mistakes are reported; checks on a half-known statement would be noise
        if stmt.action == "replace" and target.kind == "private":
            self.report(codes.INVALID_TARGET, "`replace` needs one element, not a private block", target.span,
                        "use `remove private ...` or `keep private ...`, or name one private element")
            return None
        return Rule(stmt.action, target, value, level, bool(force_spans), stmt.span, level_span, force_spans)

    def _bad_annotation(self, notes: tuple[n.Annotation, ...]) -> bool:
        return any((codes.UNKNOWN_ANNOTATION.id, a.span) in self.problems
                   or (codes.CONFLICTING_ANNOTATIONS.id, a.span) in self.problems for a in notes)

    def annotations(self, notes: tuple[n.Annotation, ...]) -> tuple[Level, Span | None, tuple[Span, ...]]:
        level, level_span, forces, seen = Level.INSTANCE, None, [], set()
        for note in notes:
            name = note.name
            if name in seen:
                self.report(codes.CONFLICTING_ANNOTATIONS, f"@{name} is given twice", note.span,
                            "remove one of them (a block's annotations apply to every statement in it)")
            seen.add(name)
            if name == "force":
                forces.append(note.span)
            elif name in LEVELS:
                if level_span is not None and LEVELS[name] != level:
                    self.report(codes.CONFLICTING_ANNOTATIONS, f"@{name} conflicts with @{level.label}",
                                note.span, "a statement runs at one level: keep one of the level annotations")
                level, level_span = LEVELS[name], note.span
            else:
                self.report(codes.UNKNOWN_ANNOTATION, f"unknown annotation @{name}", note.span,
                            _did_you_mean(name, ANNOTATIONS, "@") or "annotations are @patient @study "
                            "@series @instance and @force")
        return level, level_span, tuple(forces)

    # ---- targets ------------------------------------------------------------------

    def target(self, target: n.Target) -> RTarget | None:
        if isinstance(target, n.PrivateTarget):
            return RTarget("private", target.span, creator=target.creator)
        steps = [self.step(s) for s in target.steps]
        if any(s is None for s in steps):
            return None
        resolved = tuple(s for s in steps if s is not None)
        if not self.path_is_wellformed(resolved, target):
            return None
        return RTarget("element", target.span, resolved, target.any_depth)

    def path_is_wellformed(self, steps: tuple[RStep, ...], target: n.PathTarget) -> bool:
        for step in steps[:-1]:
            if step.index is None:
                self.report(codes.MALFORMED_PATH, f"{step.label()} needs an item index to descend into it",
                            step.span, f"write {step.label()}[0] for the first item or [*] for every item")
                return False
            if step.vr not in (None, "SQ"):
                self.report(codes.MALFORMED_PATH, f"{step.label()} is not a sequence (VR {step.vr})", step.span,
                            "only sequences (VR SQ) have items to descend into")
                return False
        if steps[-1].index is not None:
            self.report(codes.MALFORMED_PATH, "a path ends with an element, not an item", steps[-1].span,
                        "to edit a whole sequence, name it without an index")
            return False
        if target.any_depth and len(steps) > 1:
            self.report(codes.MALFORMED_PATH, "`**.` takes one element, not a path", target.span,
                        "write **.Keyword: it matches that element at the top level and at every depth")
            return False
        return True

    def step(self, step: n.Step) -> RStep | None:
        if isinstance(step.index, str) and step.index != "*":
            self.report(codes.MALFORMED_PATH, f"{step.index} is not an item index", step.span,
                        "indices are 0-based numbers, or * for every item: Sequence[0], Sequence[*]")
            return None
        element = step.element
        if isinstance(element, n.KeywordElement):
            return self.keyword_step(element, step)
        parsed = parse_tag(element.name)
        if isinstance(parsed, str):
            self.report(codes.MALFORMED_TAG, f"malformed tag {element.name}", element.span, parsed)
            return None
        return self.tag_step(parsed, element, step)

    def keyword_step(self, element: n.KeywordElement, step: n.Step) -> RStep | None:
        mask = repeater_mask(element.name)
        if mask is not None:
            return RStep(step.span, mask=mask, keyword=element.name, index=step.index)
        tag = _tag_for_keyword(element.name)
        if tag is None:
            guess = suggest_keyword(element.name)
            self.report(codes.UNKNOWN_KEYWORD, f"`{element.name}` is not a DICOM keyword", element.span,
                        f"did you mean `{guess}`?" if guess else "keywords are case-sensitive, as in PS3.6 "
                        "(PatientName); a tag such as (0010,0010) works too")
            return None
        resolved = self.checked_step(RStep(step.span, tag=tag, keyword=element.name, vr=vr_of(tag), index=step.index))
        if resolved is not None and is_retired(tag):
            self.report(codes.RETIRED_KEYWORD, f"{element.name} is retired from the DICOM standard", step.span,
                        "it may still be in old files; write its tag, e.g. (0008,0024), to say you mean it")
        return resolved

    def tag_step(self, parsed: ParsedTag, element: n.TagElement, step: n.Step) -> RStep | None:
        if parsed.tag is not None:
            tag = parsed.tag
            return self.checked_step(RStep(step.span, tag=tag, keyword=keyword_for_tag(tag) if vr_of(tag) else "",
                                           vr=vr_of(tag), index=step.index))
        if parsed.mask is not None:
            if parsed.mask.startswith("0002"):
                self.report(codes.FILE_META_EDIT, "the file meta group (0002,xxxx) cannot be edited", element.span,
                            "file meta is rewritten from the data set (MediaStorageSOPInstanceUID follows "
                            "SOPInstanceUID)")
                return None
            return RStep(step.span, mask=parsed.mask, index=step.index)
        return RStep(step.span, private=parsed.private, index=step.index)

    def checked_step(self, step: RStep) -> RStep | None:
        tag = step.tag or 0
        if tag >> 16 == 0x0002:
            self.report(codes.FILE_META_EDIT, f"{step.label()} is in the file meta group (0002,xxxx)", step.span,
                        "file meta is rewritten from the data set (MediaStorageSOPInstanceUID follows "
                        "SOPInstanceUID)")
            return None
        return step

    # ---- values -------------------------------------------------------------------

    def value(self, value: n.Value) -> Expr | None:
        if isinstance(value, n.Text):
            return Expr("literal", value.span, text=value.value)
        if isinstance(value, n.Number):
            return Expr("literal", value.span, text=value.text)
        if isinstance(value, n.Name):
            return self.name(value)
        if isinstance(value, n.TagValue):
            return self.tag_reference(value)
        if isinstance(value, n.Concat):
            parts = [self.value(p) for p in value.parts]
            return Expr("concat", value.span, parts=tuple(parts)) if all(parts) else None  # type: ignore[arg-type]
        return self.call(value)

    def name(self, value: n.Name) -> Expr | None:
        if value.name in CONSTANTS:
            return Expr(value.name, value.span)
        tag = _tag_for_keyword(value.name)
        if tag is None:
            guess = suggest_keyword(value.name) or _did_you_mean(value.name, CONSTANTS, "")
            self.report(codes.UNKNOWN_KEYWORD, f"`{value.name}` is neither a DICOM keyword nor a value", value.span,
                        f"did you mean `{guess.lstrip('`')}`?" if guess else 'text values are quoted: "text"')
            return None
        return Expr("element", value.span, tag=tag, keyword=value.name)

    def tag_reference(self, value: n.TagValue) -> Expr | None:
        parsed = parse_tag(value.text)
        if isinstance(parsed, str) or parsed.tag is None:
            help = parsed if isinstance(parsed, str) else "a value can read one public element, e.g. (0010,0020)"
            self.report(codes.MALFORMED_TAG, f"{value.text} cannot be read as a value", value.span, help)
            return None
        return Expr("element", value.span, tag=parsed.tag, keyword=keyword_for_tag(parsed.tag))

    def call(self, call: n.Call) -> Expr | None:
        function = FUNCTIONS.get(call.name)
        if function is None:
            guess = _did_you_mean(call.name, (*FUNCTIONS, *CONSTANTS), "")
            self.report(codes.UNKNOWN_FUNCTION, f"unknown function `{call.name}`", call.name_span,
                        f"did you mean `{guess}`?" if guess else "functions are uid(), hash(), shift() and lookup()")
            return None
        positional = [a for a in call.arguments if a.name is None]
        named = {a.name: a for a in call.arguments if a.name is not None}
        bad = [a for a in named.values() if a.name not in function.keywords]
        if len(positional) > function.max_positional or bad:
            where = bad[0].span if bad else call.span
            self.report(codes.BAD_ARGUMENTS, f"wrong arguments for {call.name}()", where, function.help)
            return None
        return getattr(self, f"call_{call.name}")(call, positional, named)

    def call_uid(self, call: n.Call, positional: list[n.Argument], named: dict) -> Expr | None:
        source = self.value(positional[0].value) if positional else None
        return None if positional and source is None else Expr("uid", call.span, input=source)

    def call_hash(self, call: n.Call, positional: list[n.Argument], named: dict) -> Expr | None:
        args = [a.value for a in positional]
        length = None
        if args and isinstance(args[-1], n.Number):
            length = _positive_int(args.pop().text)
            if length is None:
                self.report(codes.BAD_ARGUMENTS, "the length of hash() is a positive whole number", call.span,
                            FUNCTIONS["hash"].help)
                return None
        if len(args) > 1:
            self.report(codes.BAD_ARGUMENTS, "hash() reads one input", call.span, FUNCTIONS["hash"].help)
            return None
        source = self.value(args[0]) if args else None
        return None if args and source is None else Expr("hash", call.span, input=source, number=length)

    def call_shift(self, call: n.Call, positional: list[n.Argument], named: dict) -> Expr | None:
        numbers = {k: _whole(a.value) for k, a in named.items()}
        if not named or None in numbers.values() or ("max_days" in named and len(named) > 1):
            self.report(codes.BAD_ARGUMENTS, "shift() takes whole numbers: days=, hours=, minutes=, seconds=, "
                        "or max_days= alone", call.span, FUNCTIONS["shift"].help)
            return None
        if "max_days" in numbers:
            if numbers["max_days"] < 1:  # type: ignore[operator]
                self.report(codes.BAD_ARGUMENTS, "max_days must be at least 1", call.span, FUNCTIONS["shift"].help)
                return None
            return Expr("keyed_shift", call.span, number=numbers["max_days"])
        seconds = sum(SHIFT_UNITS[k] * v for k, v in numbers.items())  # type: ignore[misc]
        return Expr("shift", call.span, number=seconds)

    def call_clean(self, call: n.Call, positional: list[n.Argument], named: dict) -> Expr | None:
        return Expr("clean", call.span)

    def call_lookup(self, call: n.Call, positional: list[n.Argument], named: dict) -> Expr | None:
        if not positional or not isinstance(positional[0].value, n.Text):
            self.report(codes.BAD_ARGUMENTS, "lookup() needs the table's file name first, as a string", call.span,
                        FUNCTIONS["lookup"].help)
            return None
        table = self.table(positional[0].value)
        source = self.value(positional[1].value) if len(positional) > 1 else None
        default = self.value(named["default"].value) if "default" in named else None
        if table is None or (len(positional) > 1 and source is None) or ("default" in named and default is None):
            return None
        return Expr("lookup", call.span, table=table, input=source, default=default)

    def table(self, name: n.Text) -> tuple[str, str] | None:
        path = Path(name.value)
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        problem, digest = _read_table(path)
        if problem:
            self.report(codes.LOOKUP_TABLE, f"lookup table {name.value}: {problem}", name.span,
                        "a lookup table is a CSV file of two columns, original,new; paths are relative "
                        "to the rules file")
            return None
        return name.value, digest

    # ---- profile and options ----------------------------------------------------------

    def profile(self, tree: n.RuleFile) -> ProfileRequest | None:
        for extra in tree.profiles[1:]:
            self.report(codes.DUPLICATE_PROFILE, "only one profile line per file", extra.span,
                        "keep one profile line and add option lines for the variations")
        options = self.options(tree.options)
        if not tree.profiles:
            for option in tree.options:
                self.report(codes.OPTION_WITHOUT_PROFILE, f"option {option.name} has no profile to modify",
                            option.span, "add `profile basic` above the options")
            return None
        line = tree.profiles[0]
        if line.name not in PROFILES:
            self.report(codes.UNKNOWN_PROFILE, f"unknown profile `{line.name}`", line.name_span,
                        _did_you_mean(line.name, PROFILES, "") or "the profile is `basic` (PS3.15 Basic Profile)")
            return None
        if line.edition is not None and line.edition not in EDITIONS:
            self.report(codes.UNKNOWN_PROFILE, f"no edition {line.edition} of the basic profile is shipped",
                        line.edition_span or line.span, "editions: " + ", ".join(EDITIONS))
            return None
        return ProfileRequest(line.name, line.edition or NEWEST_EDITION, options, line.span)

    def options(self, lines: tuple[n.OptionLine, ...]) -> tuple[str, ...]:
        chosen: list[str] = []
        for line in lines:
            name = OPTION_ALIASES.get(line.name, line.name)
            if name not in OPTIONS:
                guess = _did_you_mean(line.name, (*OPTIONS, *OPTION_ALIASES), "")
                self.report(codes.UNKNOWN_OPTION, f"unknown option `{line.name}`", line.name_span,
                            guess and f"did you mean `{guess}`?" or "options: " + ", ".join(OPTIONS))
            elif name in chosen:
                self.report(codes.DUPLICATE_PROFILE, f"option {name} is given twice", line.span, "remove one")
            else:
                chosen.append(name)
        return tuple(chosen)


# ---- helpers -----------------------------------------------------------------------------


@cache
def _tag_for_keyword(name: str) -> int | None:
    return tag_for_keyword(name)


def _did_you_mean(name: str, choices: tuple[str, ...], prefix: str) -> str:
    close = difflib.get_close_matches(name.lower(), choices, n=1, cutoff=0.6)
    return f"did you mean `{prefix}{close[0]}`?" if close else ""


def _positive_int(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) > 0 else None


def _whole(value: n.Value) -> int | None:
    if isinstance(value, n.Number):
        try:
            return int(value.text)
        except ValueError:
            return None
    return None


def _read_table(path: Path) -> tuple[str, str]:
    """('', sha256) for a good lookup table, else (what is wrong, '')."""
    try:
        data = path.read_bytes()
        parse_table(data.decode("utf-8-sig"))
    except OSError as error:
        return (f"cannot be read ({error.strerror or error})", "")
    except UnicodeDecodeError as error:
        return (f"is not UTF-8 text ({error})", "")
    except (ValueError, csv.Error) as error:
        return (f"is not a two-column CSV: {error}", "")
    return ("", hashlib.sha256(data).hexdigest())


def resolve(tree: n.RuleFile, base_dir: Path | None = None) -> tuple[Program, list[Diagnostic]]:
    resolver = Resolver(base_dir)
    program = resolver.resolve(tree)
    return program, list(resolver.problems.values())
