"""The deliberate differences of specs/orthanc-differences.md: a Case in, its element differences sorted by reason out.

    explain(case)  ->  {"references-remapped": [...], None: [...unexplained...]}

Each element-level difference has a predicate that recognises it precisely (a remapped reference must point at
the new value of the identifier it referred to, a dummy must sit where the profile says D, ...). Differences in
whether a request is accepted at all are asserted by their own tests; their ids are in OUTCOME_DIFFERENCES.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from compare import Difference, flatten, uids_of
from harness import Case

UUID = re.compile(r"^LO:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
IDENTIFIER_TAGS = ("(0010,0020)", "(0020,000D)", "(0020,000E)", "(0008,0018)")
MARKERS = ("(0012,0063)", "(0012,0064)", "(0028,0303)")


@dataclass(frozen=True)
class Context:
    """What the predicates need beside the difference itself."""

    remapped: Mapping[str, str]  # original UID -> dcmrules' label for its new value (top-level identifiers)
    dummy_tags: frozenset[str]  # "(gggg,eeee)" given a dummy at every depth (the profile's action D)
    profile_tags: frozenset[str]  # every "(gggg,eeee)" removed, emptied or replaced at every depth (`**.`)
    our_patient_id: str | None


def _context(case: Case) -> Context:
    originals = uids_of(case.inputs.values())
    ours = flatten(case.ours.outputs, originals, set(case.literals))
    remapped = {}
    for name, ds in case.inputs.items():
        for elem in ds:
            path = f"({elem.tag.group:04X},{elem.tag.element:04X})"
            label = ours.get(name, {}).get(path, "")
            if elem.VR == "UI" and elem.value and label.startswith("UI:") and not label.startswith("UI:="):
                remapped[str(elem.value).strip(" \x00")] = label
    ops = [op for op in (case.ours.plan or {}).get("operations", ()) if op["target"].get("any_depth")]

    def tags(choose: Callable[[dict], bool]) -> frozenset[str]:
        return frozenset(_tag(op) for op in ops if choose(op) and _tag(op))
    patient = next((ds.get("PatientID") for ds in case.ours.outputs.values()), None)
    return Context(remapped, tags(lambda op: (op.get("value") or {}).get("kind") == "dummy"),
                   tags(lambda op: op["action"] != "keep"), None if patient is None else str(patient))


def _tag(op: dict) -> str | None:
    steps = op["target"].get("steps") or []
    if len(steps) != 1 or "tag" not in steps[0]:
        return None
    tag = steps[0]["tag"]
    return f"({tag[:4]},{tag[4:]})"


def _value(text: str | None) -> str:
    return "" if text is None else text.split(":", 1)[1]


def references_remapped(d: Difference, ctx: Context) -> bool:
    """A nested reference to an identifier the run regenerates follows it (Orthanc's /modify leaves it)."""
    return (d.nested and (d.orthanc or "").startswith("UI:=")
            and d.dcmrules == ctx.remapped.get(_value(d.orthanc)[1:]))


def dummy_not_empty(d: Difference, ctx: Context) -> bool:
    """PS3.15 D: a dummy value where Orthanc writes an empty one."""
    return d.tag in ctx.dummy_tags and d.orthanc is not None and _value(d.orthanc) == "" and bool(_value(d.dcmrules))


def nested_phi_removed(d: Difference, ctx: Context) -> bool:
    """The profile at every depth: a nested element Orthanc leaves with its value is removed, emptied or replaced."""
    return (d.nested and d.tag in ctx.profile_tags and bool(_value(d.orthanc))
            and (d.dcmrules is None or _value(d.dcmrules) != _value(d.orthanc)))


def patient_id_pseudonym(d: Difference, ctx: Context) -> bool:
    """PatientID is a keyed pseudonym, not a random UUID (at the top level and in nested copies)."""
    return d.tag == "(0010,0020)" and bool(UUID.match(d.orthanc or "")) and _value(d.dcmrules) == ctx.our_patient_id


def patient_name_pseudonym(d: Difference, ctx: Context) -> bool:
    """PatientName is the PatientID pseudonym, not Orthanc's `Anonymized<N>` counter."""
    return (d.path == "(0010,0010)" and bool(re.match(r"^PN:Anonymized\d+$", d.orthanc or ""))
            and _value(d.dcmrules) == ctx.our_patient_id)


def deidentification_markers(d: Difference, ctx: Context) -> bool:
    """DeidentificationMethod names dcmrules, the code sequence and the temporal flag are written."""
    return not d.nested and d.tag in MARKERS or d.path.startswith("(0012,0064)[")


def private_vr_kept(d: Difference, ctx: Context) -> bool:
    """A replaced private element keeps its VR; Orthanc writes UN with the same bytes."""
    return (_private(d.tag) and (d.orthanc or "").startswith("UN:") and d.dcmrules is not None
            and not d.dcmrules.startswith("UN:") and _value(d.orthanc) == _value(d.dcmrules))


def kept_private_creator(d: Difference, ctx: Context) -> bool:
    """A kept private element keeps its creator element; Orthanc removes the creator."""
    return _private(d.tag) and int(d.tag[6:10], 16) < 0x100 and d.orthanc is None and d.dcmrules is not None


def nested_private_removed(d: Difference, ctx: Context) -> bool:
    """`remove private` (RemovePrivateTags) reaches nested private elements; Orthanc's stops at the top level."""
    return d.nested and _private(d.tag) and d.orthanc is not None and d.dcmrules is None


def private_not_inserted(d: Difference, ctx: Context) -> bool:
    """An absent private element whose VR nobody knows is not inserted; Orthanc inserts it as UN."""
    return _private(d.tag) and (d.orthanc or "").startswith("UN:") and d.dcmrules is None


def consistent_across_calls(d: Difference, ctx: Context) -> bool:
    """Keyed UIDs: one original gets one new UID in every call and run; Orthanc's separate calls disagree."""
    ours, theirs = _value(d.dcmrules), _value(d.orthanc)
    return (not d.nested and d.tag in IDENTIFIER_TAGS and theirs == f"new@{d.file}:{d.path}"
            and ours.startswith("new@") and ours.endswith(":" + d.path) and ours != theirs)


def overlays_removed(d: Difference, ctx: Context) -> bool:
    """Overlay data and comments (60xx,3000), (60xx,4000) are removed (X); Orthanc 1.10.1 leaves them."""
    return (not d.nested and d.tag[1:3] == "60" and d.tag[6:10] in ("3000", "4000")
            and d.orthanc is not None and d.dcmrules is None)


def empty_uid_stays_empty(d: Difference, ctx: Context) -> bool:
    """A UID element that is empty stays empty (nothing to remap); Orthanc puts a new UID in it."""
    return d.dcmrules == "UI:" and (d.orthanc or "").startswith("UI:new@")


def _private(tag: str) -> bool:
    return int(tag[1:5], 16) % 2 == 1


ELEMENT_DIFFERENCES: dict[str, Callable[[Difference, Context], bool]] = {
    "references-remapped": references_remapped,
    "dummy-not-empty": dummy_not_empty,
    "nested-phi-removed": nested_phi_removed,
    "patient-id-pseudonym": patient_id_pseudonym,
    "patient-name-pseudonym": patient_name_pseudonym,
    "deidentification-markers": deidentification_markers,
    "private-vr-kept": private_vr_kept,
    "kept-private-creator": kept_private_creator,
    "nested-private-removed": nested_private_removed,
    "private-not-inserted": private_not_inserted,
    "consistent-across-calls": consistent_across_calls,
    "overlays-removed": overlays_removed,
    "empty-uid-stays-empty": empty_uid_stays_empty,
}
# Differences in whether a request is accepted, or across requests; each has its own test.
OUTCOME_DIFFERENCES = (
    "no-merge-by-constant",
    "upward-edit-needs-force",
    "patient-level-without-patient-edits",
    "keep-patient-id-when-anonymizing",
    "level-rules-static",
    "keep-shields-subtree",
    "numbers-as-values",
    "nearest-edition",
)


def explain(case: Case) -> dict[str | None, list[Difference]]:
    """The case's differences by the id of the documented difference that explains each (None: unexplained)."""
    ctx = _context(case)
    found: dict[str | None, list[Difference]] = {}
    for d in case.diffs:
        reason = next((name for name, test in ELEMENT_DIFFERENCES.items() if test(d, ctx)), None)
        found.setdefault(reason, []).append(d)
    return found


def reasons(case: Case) -> set[str | None]:
    """The ids of the documented differences the case shows (None stands for unexplained ones)."""
    return set(explain(case))


def unexplained(case: Case) -> list[str]:
    return [str(d) for d in explain(case).get(None, [])]
