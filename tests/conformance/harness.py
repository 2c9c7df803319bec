"""One case on both sides: input files and a request in, Orthanc's outcome and dcmrules' outcome out.

    theirs = orthanc_side(server, files, "study", {"Replace": {...}, "Force": True})
    ours = dcmrules_side(translate(body, "study").text, theirs.processed, tmp_path)

Orthanc gets the files uploaded, the request POSTed to /{level}/{id}/modify (or /anonymize) and its new
instances downloaded and matched to the inputs through their ModifiedFrom/AnonymizedFrom metadata. dcmrules
compiles the rules and runs the plan over the same files (those Orthanc processed) with run_plan.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from dcmrules.compiler import compile_rules
from dcmrules.runtime.orthanc import Translation, translate
from dcmrules.runtime.run import run_plan

from compare import Difference, differences

KEY = b"conformance-suite-key"
PLURAL = {"patient": "patients", "study": "studies", "series": "series", "instance": "instances"}
PARENT = {"patient": "ParentPatient", "study": "ParentStudy", "series": "ParentSeries", "instance": "ID"}


@dataclass(frozen=True)
class Outcome:
    """What one side did: refused (with Orthanc's details or dcmrules' diagnostic codes) or its outputs."""

    refused: bool
    details: str = ""
    codes: frozenset[str] = frozenset()
    outputs: Mapping[str, Dataset] = field(default_factory=dict)
    processed: Mapping[str, bytes] = field(default_factory=dict)  # the inputs the request covered, by name
    status: int = 200
    plan: Mapping | None = None


@dataclass(frozen=True)
class Case:
    """Both sides of one request, the rules dcmrules ran and the element differences between the outputs."""

    theirs: Outcome
    ours: Outcome
    translation: Translation
    inputs: Mapping[str, Dataset]
    diffs: tuple[Difference, ...]
    literals: frozenset[str] = frozenset()


def run_case(server, folder: Path, files: Mapping[str, bytes], level: str, body: Mapping, *,
             anonymize: bool = False, rules: str | None = None, target: str | None = None) -> Case:
    """Run `body` through Orthanc and its translation (or `rules`) through dcmrules; compare the outputs."""
    theirs = orthanc_side(server, files, level, body, anonymize=anonymize, target=target)
    translation = translate(body, level, anonymize=anonymize)
    ours = dcmrules_side(rules if rules is not None else translation.text, theirs.processed, folder)
    inputs = {name: read(data) for name, data in theirs.processed.items()}
    named = frozenset(literals(body))
    diffs = () if theirs.refused or ours.refused else tuple(
        differences(inputs, theirs.outputs, ours.outputs, named))
    return Case(theirs, ours, translation, inputs, diffs, named)


def literals(body: object) -> set[str]:
    """Every string value of a request (a UID the request names is compared by value)."""
    if isinstance(body, str):
        return {body}
    if isinstance(body, Mapping):
        return {text for value in body.values() for text in literals(value)}
    if isinstance(body, list):
        return {text for value in body for text in literals(value)}
    return set()


def read(data: bytes) -> Dataset:
    return pydicom.dcmread(io.BytesIO(data), force=True)


def upload(server, files: Mapping[str, bytes]) -> dict[str, dict]:
    """POST every file to /instances; {name: Orthanc's answer (ID, ParentSeries, ...)}."""
    answers = {}
    for name, data in files.items():
        response = server.request("POST", "/instances", data)
        assert response.status == 200, f"upload of {name} failed: {response.status} {response.body[:200]!r}"
        answers[name] = response.json()
    return answers


def orthanc_side(server, files: Mapping[str, bytes], level: str, body: Mapping, *, anonymize: bool = False,
                 target: str | None = None) -> Outcome:
    """Upload, run the request on the resource at `level` holding `target` (default: the first file)."""
    uploaded = upload(server, files)
    route = "anonymize" if anonymize else "modify"
    by_id = {answer["ID"]: name for name, answer in uploaded.items()}
    target = target or next(iter(files))
    if "Level" in body:  # /tools/bulk-modify on the target instance, at the body's level
        response = server.request("POST", "/tools/bulk-modify", {"Resources": [uploaded[target]["ID"]], **body})
        if response.status != 200:
            return Outcome(True, response.details, processed={target: files[target]}, status=response.status)
        raise AssertionError("bulk-modify is only used here for requests Orthanc refuses")
    if level == "instance":
        return _per_instance(server, files, uploaded, body, route)
    resource = uploaded[target][PARENT[level]]
    covered = [by_id[i["ID"]] for i in server.request("GET", f"/{PLURAL[level]}/{resource}/instances").json()]
    response = server.request("POST", f"/{PLURAL[level]}/{resource}/{route}", dict(body))
    processed = {name: files[name] for name in sorted(covered)}
    if response.status != 200:
        return Outcome(True, response.details, processed=processed, status=response.status)
    created = response.json()["ID"]
    origin = "AnonymizedFrom" if anonymize else "ModifiedFrom"
    outputs = {}
    for instance in server.request("GET", f"/{PLURAL[level]}/{created}/instances").json():
        source = server.request("GET", f"/instances/{instance['ID']}/metadata/{origin}").body.decode()
        outputs[by_id[source]] = read(server.request("GET", f"/instances/{instance['ID']}/file").body)
    return Outcome(False, outputs=outputs, processed=processed)


def _per_instance(server, files: Mapping[str, bytes], uploaded: Mapping[str, dict], body: Mapping,
                  route: str) -> Outcome:
    """/instances/{id}/modify answers the file itself, one call per instance."""
    outputs = {}
    for name in files:
        response = server.request("POST", f"/instances/{uploaded[name]['ID']}/{route}", dict(body))
        if response.status != 200:
            return Outcome(True, response.details, processed=dict(files), status=response.status)
        outputs[name] = read(response.body)
    return Outcome(False, outputs=outputs, processed=dict(files))


def dcmrules_side(rules: str, files: Mapping[str, bytes], folder: Path, *, key: bytes = KEY) -> Outcome:
    """Compile `rules`; refused with its error codes, or run the plan over `files` and read the outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "case.rules"
    path.write_text(rules, encoding="utf-8")
    result = compile_rules(rules, path=str(path))
    codes = frozenset(d.code.id for d in result.diagnostics)
    if result.plan is None:
        errors = frozenset(d.code.id for d in result.errors)
        return Outcome(True, "; ".join(d.message for d in result.errors), errors, processed=dict(files))
    inputs, outputs = folder / "in", folder / "out"
    inputs.mkdir(exist_ok=True)
    for name, data in files.items():
        (inputs / name).write_bytes(data)
    report = run_plan(result.plan, [inputs], outputs, key=key, jobs=1)
    failed = [f"{f.input}: {f.reason}" for f in report.files if f.status != "written"]
    assert not failed, f"dcmrules failed on {failed}"
    return Outcome(False, codes=codes, processed=dict(files), plan=result.plan,
                   outputs={name: pydicom.dcmread(outputs / name) for name in files})
