"""A compiled plan (dict), one pydicom Dataset and a Context in, the Dataset edited in place and its Changes out."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from dcmrules.runtime.fastread import UNDEFINED
from dcmrules.runtime.markers import marker_values, set_markers
from dcmrules.runtime.remap import remap_uids
from dcmrules.runtime.stored import stored_val, stored_vr
from dcmrules.runtime.targets import (
    PIXEL_TAGS, ElementTarget, Hit, Loc, PrivateTarget, Target, build_index, creator_loc, keyword_of,
    parse_target, path_str, select, value_text,
)
from dcmrules.runtime.values import Env, NoOwnValue, Slot, ValueProblem, as_text, compute

IDENTIFIERS = {0x00100020: "PatientID", 0x0020000D: "StudyInstanceUID",
               0x0020000E: "SeriesInstanceUID", 0x00080018: "SOPInstanceUID"}
_SOP_INSTANCE_UID = 0x00080018
_MEDIA_SOP_INSTANCE_UID = 0x00020003
_ACTION_RANK = {"remove": 1, "replace": 2, "keep": 3}
_UID_KINDS = frozenset({"uid", "dummy", "clean"})
_SKIP = object()  # a replace whose value needs the target's own value, which is absent
Render = Callable[[Dataset, int], "str | None"]


@dataclass(frozen=True)
class Context:
    """What one application needs besides the plan: the key, the run's UID map and the lookup tables."""

    key: bytes | None = None
    uid_map: Mapping[str, str] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One element decided by the plan (or remapped), before and after."""

    path: str
    keyword: str
    action: str  # "replace" | "remove" | "keep" | "remap" | "insert"
    before: str | None
    after: str | None
    op_id: int | None
    origin: Mapping | None


class ApplyError(Exception):
    """An element-level failure; the message names the element and the statement's origin."""


@dataclass(frozen=True)
class Operation:
    """One plan operation with its target parsed into a matcher."""

    id: int
    action: str
    level: str
    force: bool
    target: Target
    value: Mapping | None
    origin: Mapping

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Who wins an element: the rules file over the profile, then keep > replace > remove,
        then the more specific target, then the later operation."""
        from_rules = int(self.origin.get("kind") == "rules")
        return (from_rules, _ACTION_RANK[self.action], _specificity(self.target), self.id)


@dataclass(frozen=True)
class PreparedPlan:
    """A plan ready to apply to many data sets."""

    operations: tuple[Operation, ...]
    markers: Mapping[int, tuple[str, object]] = field(default_factory=dict)  # PS3.15 markers of a profile run


@dataclass(frozen=True)
class _Decision:
    op: Operation
    hit: Hit


def prepare(plan: Mapping) -> PreparedPlan:
    """Parse a (validated) plan once: targets become matchers, a profile's markers are computed.
    (Which statements need the key and which lookup tables to load is the loader's business: load.py.)"""
    major = str(plan.get("format_version", "")).split(".")[0]
    if major != "1":
        version = plan.get("format_version")
        raise ValueError(f"unsupported plan format_version {version!r} (this runtime reads 1.x)")
    ops = tuple(
        Operation(raw["id"], raw["action"], raw["level"], raw["force"], parse_target(raw["target"]),
                  raw.get("value"), raw["origin"])
        for raw in plan["operations"]
    )
    exprs = [e for op in ops if op.value is not None for e in _subexpressions(op.value)]
    profile = plan.get("profile")
    shifts = any(e["kind"] in ("shift", "keyed_shift") for e in exprs)
    found = marker_values(profile, plan["generator"]["version"], shifts) if profile else {}
    return PreparedPlan(ops, found)


def apply_plan(prepared: PreparedPlan, ds: Dataset, ctx: Context, *, describe: bool = True) -> list[Change]:
    """Apply the plan to `ds` in place (no I/O) and return every change in a deterministic order.

    describe=False leaves the before and after texts of decided elements out (None): a run only counts
    changes, and rendering a value means decoding it."""
    render = _render if describe else _no_text
    decisions = _decide(prepared, ds)
    env = Env(ds, ctx.key, ctx.tables)
    planned = [(d, render(d.hit.node.ds, d.hit.tag), _new_value(d, env)) for _, d in sorted(decisions.items())]
    changes = [change for d, before, value in planned for change in _execute(d, before, value, render)]
    touched = set(decisions) | {loc for loc, _ in changes}
    kept = {loc for loc, d in decisions.items() if d.op.action == "keep"}
    changes += _remap(ds, ctx.uid_map, touched, kept)
    changes += _markers(prepared, ds, decisions, render)
    changes.sort(key=lambda pair: pair[0])
    return [change for _, change in changes] + _follow_media_storage(ds, changes, render)


def _markers(prepared: PreparedPlan, ds: Dataset, decisions: Mapping[Loc, _Decision],
             render: Render) -> list[tuple[Loc, Change]]:
    """PS3.15 markers of a profile run, unless a statement of the rules file decided that element."""
    decided = {loc[0] for loc, d in decisions.items() if len(loc) == 1 and d.op.origin.get("kind") == "rules"}
    origin = {"kind": "profile", "file": "profiles/markers", "line": 1, "column": 1}
    return [((tag,), Change(path_str((tag,)), keyword, "insert" if before is None else "replace", before,
                            render(ds, tag), None, origin))
            for tag, keyword, before in set_markers(ds, prepared.markers, decided)]


def identifier_changes(prepared: PreparedPlan, ds: Dataset, ctx: Context) -> dict[str, str]:
    """{original: new} for the top-level identifiers the plan replaces and every UI element it
    regenerates with uid() (or a keyed dummy), without editing `ds`."""
    env = Env(ds, ctx.key, ctx.tables)
    out: dict[str, str] = {}
    for loc, d in sorted(_decide(prepared, ds).items()):
        if d.op.action != "replace" or not d.hit.exists:
            continue
        node, tag = d.hit.node.ds, d.hit.tag
        regenerated = _vr(stored_vr(node, tag)) == "UI" and d.op.value["kind"] in _UID_KINDS
        if not (regenerated or (len(loc) == 1 and loc[0] in IDENTIFIERS)):
            continue
        value = _new_value(d, env)
        if value is _SKIP:
            continue
        old = [v.strip(" \x00") for v in as_text(stored_val(node, tag))]
        new = _texts(value)
        if len(old) == len(new):
            out.update({o: n for o, n in zip(old, new) if o and o != n})
    return out


# --- deciding which operation owns each element -------------------------------------------

def _decide(prepared: PreparedPlan, ds: Dataset) -> dict[Loc, _Decision]:
    index = build_index(ds)
    pairs = [(op, hit) for op in prepared.operations
             for hit in select(op.target, index, insert=op.action == "replace")]
    blocks = _new_blocks([hit for _, hit in pairs])
    best: dict[Loc, _Decision] = {}
    for op, hit in pairs:
        if hit.new_creator is not None:
            block = blocks.get((hit.node.loc, hit.tag >> 16, hit.new_creator))
            if block is None:
                continue
            hit = Hit(hit.node, (hit.tag & 0xFFFF00FF) | block << 8, False, hit.vr, hit.new_creator)
        current = best.get(hit.loc)
        if current is None or op.rank > current.op.rank:
            best[hit.loc] = _Decision(op, hit)
    return _settle(best)


def _new_blocks(hits: list[Hit]) -> dict[tuple[Loc, int, str], int]:
    """A free block for each private creator to be reserved in a data set, in creator order."""
    wanted: dict[tuple[Loc, int], tuple[Hit, set[str]]] = {}
    for hit in hits:
        if hit.new_creator is not None:
            wanted.setdefault((hit.node.loc, hit.tag >> 16), (hit, set()))[1].add(hit.new_creator)
    out = {}
    for (loc, group), (hit, creators) in wanted.items():
        free = [b for b in range(0x10, 0x100) if (group << 16) | b not in hit.node.ds]
        out.update({(loc, group, creator): block for creator, block in zip(sorted(creators), free)})
    return out


def _settle(best: dict[Loc, _Decision]) -> dict[Loc, _Decision]:
    """Apply keep's reach (its subtree, its ancestors, its creator elements) and drop decisions
    made moot by a removed or replaced ancestor."""
    kept = {loc for loc, d in best.items() if d.op.action == "keep"}
    shielded = {c for loc in kept for a in _ancestors(loc) + [loc] for c in (a, creator_loc(a)) if c}
    settled = {loc: d for loc, d in best.items()
               if d.op.action == "keep" or not (loc in shielded or _under(loc, kept))}
    for loc in sorted(kept):
        creator = creator_loc(loc)
        node = best[loc].hit.node
        if creator and creator[-1] in node.ds and (creator not in settled or settled[creator].op.action != "keep"):
            settled[creator] = _Decision(best[loc].op, Hit(node, creator[-1], True))
    cut = {loc for loc, d in settled.items() if d.op.action != "keep"}
    return {loc: d for loc, d in settled.items() if not _under(loc, cut)}


def _ancestors(loc: Loc) -> list[Loc]:
    return [loc[:k] for k in range(1, len(loc) - 1, 2)]


def _under(loc: Loc, locs: set[Loc]) -> bool:
    return any(loc[:k] in locs for k in range(1, len(loc) - 1, 2))


def _specificity(target: Target) -> int:
    if isinstance(target, PrivateTarget):
        return 0 if target.creator is None else 1
    assert isinstance(target, ElementTarget)
    if target.steps[-1].kind == "mask":
        return 2
    return 3 if target.any_depth else 4


def _subexpressions(expr: Mapping) -> Iterator[Mapping]:
    yield expr
    for name in ("input", "default"):
        if isinstance(expr.get(name), Mapping):
            yield from _subexpressions(expr[name])
    for part in expr.get("parts", ()):
        yield from _subexpressions(part)


# --- evaluating and executing -------------------------------------------------------------

def _new_value(d: _Decision, env: Env) -> object:
    if d.op.action != "replace":
        return None
    hit = d.hit
    if hit.exists:
        ds, tag = hit.node.ds, hit.tag
        slot = Slot(_vr(stored_vr(ds, tag)), lambda: stored_val(ds, tag), hit.node.encodings)
    else:
        slot = Slot(_vr(hit.vr), None, hit.node.encodings)
    try:
        return compute(d.op.value, env, slot)
    except NoOwnValue:
        return _SKIP
    except ValueProblem as problem:
        raise ApplyError(_message(hit.loc, str(problem), d.op.origin)) from None


def _execute(d: _Decision, before: str | None, value: object, render: Render) -> list[tuple[Loc, Change]]:
    hit, op = d.hit, d.op
    ds = hit.node.ds
    if op.action == "keep":
        return [(hit.loc, _change(hit.loc, "keep", before, before, op))]
    if op.action == "remove":
        del ds[hit.tag]
        return [(hit.loc, _change(hit.loc, "remove", before, None, op))]
    if value is _SKIP:
        return []
    if hit.exists:
        _assign(ds, hit.tag, value)
        return [(hit.loc, _change(hit.loc, "replace", before, render(ds, hit.tag), op))]
    return _insert(d, value, render)


def _assign(ds: Dataset, tag: int, value: object) -> None:
    """Give ds[tag] a new value; an element still as read is replaced without decoding its old value.
    (Values come from values.convert(), which checked them against the VR already: pydicom need not.)"""
    raw = ds.get_item(tag, keep_deferred=True)
    vr = stored_vr(ds, tag) if raw.is_raw and raw.length != UNDEFINED else None
    if vr is None or vr == "SQ":  # converted already, or keeping its length encoding: as pydicom assigns it
        ds[tag].value = value
    else:
        ds[tag] = DataElement(tag, vr, value, validation_mode=config.IGNORE)


def _insert(d: _Decision, value: object, render: Render) -> list[tuple[Loc, Change]]:
    hit, op = d.hit, d.op
    ds, tag, out = hit.node.ds, hit.tag, []
    creator_tag = (tag & 0xFFFF0000) | (tag >> 8 & 0xFF)
    if hit.new_creator is not None and creator_tag not in ds:
        ds.add_new(creator_tag, "LO", hit.new_creator)
        loc = hit.node.loc + (creator_tag,)
        out.append((loc, _change(loc, "insert", None, hit.new_creator, op)))
    ds.add_new(tag, hit.vr, value)
    loc = hit.node.loc + (tag,)
    return out + [(loc, _change(loc, "insert", None, render(ds, tag), op))]


def _remap(ds: Dataset, uid_map: Mapping[str, str], touched: set[Loc], kept: set[Loc]) -> list[tuple[Loc, Change]]:
    """Every UI element, at any depth, whose value is a key of uid_map gets the mapped value,
    except elements an operation decided and everything under a kept element."""
    if not uid_map:
        return []
    found = remap_uids(ds, uid_map, lambda loc: loc in touched or _under(loc, kept))
    return [(loc, Change(path_str(loc), keyword_of(loc[-1]), "remap", before, after, None, None))
            for loc, before, after in found]


def _follow_media_storage(ds: Dataset, changes: list[tuple[Loc, Change]], render: Render) -> list[Change]:
    """MediaStorageSOPInstanceUID (file meta) follows a changed top-level SOPInstanceUID."""
    sop = next((c for loc, c in changes if loc == (_SOP_INSTANCE_UID,)), None)
    meta = getattr(ds, "file_meta", None)
    if sop is None or sop.action not in ("replace", "remap", "insert") or _SOP_INSTANCE_UID not in ds:
        return []
    if meta is None or _MEDIA_SOP_INSTANCE_UID not in meta:
        return []
    new = ds[_SOP_INSTANCE_UID].value  # a UID pydicom holds: checked when it was set or read
    if [str(new)] == [v.strip(" \x00") for v in as_text(stored_val(meta, _MEDIA_SOP_INSTANCE_UID))]:
        return []
    before = render(meta, _MEDIA_SOP_INSTANCE_UID)
    meta[_MEDIA_SOP_INSTANCE_UID] = DataElement(_MEDIA_SOP_INSTANCE_UID, "UI", new, validation_mode=config.IGNORE)
    return [Change("(0002,0003)", "MediaStorageSOPInstanceUID", sop.action, before, str(new), sop.op_id,
                   sop.origin)]


# --- small helpers ------------------------------------------------------------------------

def _vr(vr: object) -> str:
    """A VR as text; an ambiguous dictionary VR ("US or SS") is read as its first choice."""
    return str(vr).split(" or ")[0] if vr else "UN"


def _texts(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


def _no_text(ds: Dataset, tag: int) -> str | None:
    return None


def _render(ds: Dataset, tag: int) -> str | None:
    """A short text form of an element's value, None if the element is absent."""
    if tag not in ds:
        return None
    return value_text(tag, None if tag in PIXEL_TAGS else ds[tag].value)


def _change(loc: Loc, action: str, before: str | None, after: str | None, op: Operation) -> Change:
    return Change(path_str(loc), keyword_of(loc[-1]), action, before, after, op.id, op.origin)


def _message(loc: Loc, problem: str, origin: Mapping) -> str:
    keyword = keyword_of(loc[-1])
    head = path_str(loc) + (f" {keyword}" if keyword else "")
    where = f"{origin.get('file')}:{origin.get('line')}:{origin.get('column')}"
    return f"{head}: {problem} ({where})"
