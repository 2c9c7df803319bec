"""Resolved Program in, plan dict out (and back: a plan read from disk becomes a Program to re-check)."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from dcmrules.compiler.dictionary import Level, json_tag
from dcmrules.compiler.model import Expr, ProfileRequest, Program, RStep, RTarget, Rule
from dcmrules.compiler.plan import FORMAT_VERSION, GENERATOR
from dcmrules.compiler.source import Span


def tool_version() -> str:
    try:
        return version("dcmrules")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def lower(program: Program, *, path: str, text: str, profile_rules: tuple[Rule, ...] = ()) -> dict[str, Any]:
    """The plan: the profile's operations (what the file did not override) first, then the file's."""
    profile = program.profile
    rules = profile_rules + program.rules
    return {
        "format_version": FORMAT_VERSION,
        "generator": {"name": GENERATOR, "version": tool_version()},
        "source": {"path": path, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()},
        "profile": None if profile is None else {
            "name": profile.name, "edition": profile.edition, "options": list(profile.options)},
        "operations": [operation(i, rule, path) for i, rule in enumerate(rules, 1)],
    }


def operation(number: int, rule: Rule, path: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "id": number,
        "action": rule.action,
        "level": rule.level.label,
        "force": rule.force,
        "target": target_json(rule.target),
        "origin": {"kind": rule.origin, "file": rule.origin_file or path, "line": rule.span.line,
                   "column": rule.span.column},
    }
    if rule.value is not None:
        op["value"] = value_json(rule.value)
    return op


def target_json(target: RTarget) -> dict[str, Any]:
    if target.kind == "private":
        return {"kind": "private", "creator": target.creator}
    return {"kind": "element", "any_depth": target.any_depth, "steps": [step_json(s) for s in target.steps]}


def step_json(step: RStep) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if step.tag is not None:
        out["tag"] = json_tag(step.tag)
    elif step.mask is not None:
        out["mask"] = step.mask
    elif step.private is not None:
        group, creator, element = step.private
        out["private"] = {"group": group, "creator": creator, "element": element}
    if step.keyword:
        out["keyword"] = step.keyword
    if step.vr:
        out["vr"] = step.vr
    if step.index is not None:
        out["item"] = step.index
    return out


def value_json(expr: Expr) -> dict[str, Any]:
    kind = expr.kind
    if kind == "literal":
        return {"kind": kind, "text": expr.text}
    if kind in ("empty", "dummy", "clean"):
        return {"kind": kind}
    if kind == "element":
        return {"kind": kind, "tag": json_tag(expr.tag or 0), **({"keyword": expr.keyword} if expr.keyword else {})}
    if kind == "concat":
        return {"kind": kind, "parts": [value_json(p) for p in expr.parts]}
    source = value_json(expr.input) if expr.input is not None else None
    if kind == "uid":
        return {"kind": kind, "input": source}
    if kind == "hash":
        return {"kind": kind, "input": source, "length": expr.number}
    if kind == "shift":
        return {"kind": kind, "seconds": expr.number}
    if kind == "keyed_shift":
        return {"kind": kind, "max_days": expr.number}
    path, digest = expr.table or ("", "")
    default = value_json(expr.default) if expr.default is not None else None
    return {"kind": kind, "table": {"path": path, "sha256": digest}, "input": source, "default": default}


# ---- back from a plan ---------------------------------------------------------------


def program_from_plan(plan: dict[str, Any]) -> Program:
    """A schema-valid plan as a Program, so the static checks can run on it again."""
    rules = tuple(_rule(op) for op in plan["operations"])
    profile = plan.get("profile")
    request = None if profile is None else ProfileRequest(profile["name"], profile["edition"],
                                                          tuple(profile["options"]), Span(1, 1, 1, 1))
    return Program(rules, request)


def _rule(op: dict[str, Any]) -> Rule:
    origin = op["origin"]
    span = Span(origin["line"], origin["column"], origin["line"], origin["column"] + 1)
    force_spans = (span,) if op["force"] else ()
    value = _expr(op["value"], span) if "value" in op else None
    return Rule(op["action"], _target(op["target"], span), value, Level[op["level"].upper()], op["force"],
                span, None, force_spans, origin["kind"], origin["file"] if origin["kind"] == "profile" else None)


def _target(target: dict[str, Any], span: Span) -> RTarget:
    if target["kind"] == "private":
        return RTarget("private", span, creator=target["creator"])
    return RTarget("element", span, tuple(_step(s, span) for s in target["steps"]), target["any_depth"])


def _step(step: dict[str, Any], span: Span) -> RStep:
    private = step.get("private")
    return RStep(span, tag=int(step["tag"], 16) if "tag" in step else None, mask=step.get("mask"),
                 private=(private["group"], private["creator"], private["element"]) if private else None,
                 keyword=step.get("keyword", ""), vr=step.get("vr"), index=step.get("item"))


def _expr(value: dict[str, Any], span: Span) -> Expr:
    def sub(key: str) -> Expr | None:
        return _expr(value[key], span) if value.get(key) is not None else None

    kind = value["kind"]
    table = value.get("table")
    number = value.get("length", value.get("seconds", value.get("max_days")))
    return Expr(kind, span, text=value.get("text"), tag=int(value["tag"], 16) if "tag" in value else None,
                keyword=value.get("keyword", ""), input=sub("input"), default=sub("default"),
                parts=tuple(_expr(p, span) for p in value.get("parts", ())), number=number,
                table=(table["path"], table["sha256"]) if table else None)
