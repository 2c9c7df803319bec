"""Check a run's output against its plan: plan, output folder (and optionally the source) in, a VerifyReport out.

Checks, per output file:
- with --source and the key (or a plan without keyed functions): the output is byte for byte what the plan
  makes of its source; otherwise: applying the plan's removes, literal replaces and keeps again changes
  nothing (removed targets are absent, replaced values are as planned);
- with --source: every UI element of the source that referenced a UID of the source set (a Study, Series,
  SOP Instance or Frame of Reference UID of some source file) resolves inside the output set, and no
  original value of a regenerated identifier survives anywhere in the output (any depth, file meta,
  private and UN elements included).
Without --source, references leaving the output set are counted in a note (they may be external).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

from dcmrules.runtime.apply import ApplyError, Context, apply_plan, prepare
from dcmrules.runtime.errors import UsageError
from dcmrules.runtime.files import ReadFailure, describe_error, discover, is_dicomdir, read_header, sniff
from dcmrules.runtime.index import build_index
from dcmrules.runtime.load import iter_values, keyed_origins, load_tables, origin_text
from dcmrules.runtime.pool import run_tasks
from dcmrules.runtime.read import Loaded, read_full
from dcmrules.runtime.report import Progress
from dcmrules.runtime.targets import PIXEL_TAGS, keyword_of, path_str
from dcmrules.runtime.write import changed_tags, complete_file_meta, encoded_bytes

SET_TAGS = {0x0020000D: "StudyInstanceUID", 0x0020000E: "SeriesInstanceUID", 0x00080018: "SOPInstanceUID",
            0x00200052: "FrameOfReferenceUID"}
IDENTIFIER_TAGS = {0x00100020: "PatientID", **SET_TAGS}
RECHECKABLE = frozenset({"literal", "empty", "concat"})
MAX_PER_FILE = 10


@dataclass(frozen=True)
class Problem:
    """One verification failure: the output file, the element (path and keyword) and what is wrong."""

    file: str
    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.element}: {self.message}" if self.element else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class VerifyReport:
    """Every problem found, notes on what could not be checked, and how many output files were checked."""

    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    files: int

    @property
    def exit_code(self) -> int:
        """Return 1 when a problem was found, else 0."""
        return 1 if self.problems else 0


@dataclass(frozen=True)
class CheckJob:
    """What a check worker needs; the sets are those of the whole output and source."""

    plan: Mapping[str, Any]
    key: bytes | None
    tables: Mapping[str, Mapping[str, str]]
    uid_map: Mapping[str, str]
    exact: bool
    originals: frozenset[str]
    source_set: frozenset[str]
    output_set: frozenset[str]


@dataclass(frozen=True)
class FileResult:
    problems: tuple[Problem, ...] = ()
    external: int = 0
    note: str | None = None


def verify(plan: Mapping[str, Any], outdir: str | Path, *, sources: Sequence[str | Path] = (),
           key: bytes | None = None, tables: Mapping[str, Mapping[str, str]] | None = None,
           jobs: int = 1, progress: bool = False) -> VerifyReport:
    """Check the output folder of a run of plan (see the module docstring); raise UsageError for bad paths."""
    outdir = Path(outdir)
    if not outdir.is_dir():
        raise UsageError(f"{outdir}: no such output folder")
    tables = load_tables(plan, Path(str(plan["source"]["path"]))) if tables is None else tables
    outputs = [s.path for s in discover([outdir], None)]
    pairs = {s.output: s.path for s in discover(sources, outdir)} if sources else {}
    exact = bool(sources) and (key is not None or not keyed_origins(plan))
    uid_map = build_index(plan, discover(sources, outdir), key=key, tables=tables, jobs=jobs).uid_map if exact else {}
    out_ids = _all_identifiers(outputs, jobs)
    src_ids = _all_identifiers([pairs[p] for p in outputs if p in pairs], jobs)
    originals = _originals(outputs, pairs, out_ids, src_ids, uid_map)
    job = CheckJob(plan, key, tables, uid_map, exact, frozenset(originals),
                   frozenset(_set_values(src_ids.values())), frozenset(_set_values(out_ids.values())))
    return _check_all(job, [(p, pairs.get(p)) for p in outputs], bool(sources), jobs, progress)


def _all_identifiers(paths: Sequence[Path], jobs: int) -> dict[Path, dict[int, str]]:
    found = dict(run_tasks(_no_setup, None, _identifiers, list(paths), jobs))
    return {path: ids for path, ids in found.items() if ids is not None}


def _no_setup(_job: None) -> None:
    return None


def _identifiers(_state: None, path: Path) -> tuple[Path, dict[int, str] | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read_identifiers(path)


def _read_identifiers(path: Path) -> tuple[Path, dict[int, str] | None]:
    try:
        kind = sniff(path)
        ds = read_header(path, kind, IDENTIFIER_TAGS) if kind else None
    except Exception:  # unreadable files are reported by the check pass
        return path, None
    if ds is None or is_dicomdir(ds):
        return path, None
    return path, {tag: str(ds[tag].value).strip(" \x00") for tag in IDENTIFIER_TAGS if tag in ds and ds[tag].value}


def _set_values(ids: Iterable[dict[int, str]]) -> set[str]:
    return {value for found in ids for tag, value in found.items() if tag in SET_TAGS}


def _originals(outputs: Sequence[Path], pairs: Mapping[Path, Path], out_ids: Mapping[Path, dict[int, str]],
               src_ids: Mapping[Path, dict[int, str]], uid_map: Mapping[str, str]) -> set[str]:
    originals = {old for old, new in uid_map.items() if old != new}
    for output in outputs:
        before, after = src_ids.get(pairs.get(output)), out_ids.get(output)  # type: ignore[arg-type]
        if before and after:
            originals.update(value for tag, value in before.items() if after.get(tag) not in (None, value))
    return originals


def _check_all(job: CheckJob, tasks: list[tuple[Path, Path | None]], with_source: bool,
               jobs: int, progress: bool) -> VerifyReport:
    problems: list[Problem] = []
    notes: list[str] = []
    external = 0
    with Progress(len(tasks), "verifying", enabled=progress) as bar:
        for result in run_tasks(_setup, job, check_file, tasks, jobs):
            problems.extend(result.problems)
            external += result.external
            notes.extend([result.note] if result.note else [])
            bar.update()
    if external and not with_source:
        notes.append(f"{external} references point outside the output set; run with --source to tell broken "
                     "references from references to files that were never part of the input")
    if not with_source:
        notes.append("without --source, surviving original identifiers cannot be looked for")
    elif not job.exact:
        notes.append("without the key, keyed values (uid(), hash(), shift(max_days=...)) were not recomputed")
    return VerifyReport(tuple(sorted(problems, key=lambda p: (p.file, p.element))), tuple(notes), len(tasks))


def _setup(job: CheckJob) -> tuple[CheckJob, Any, Any]:
    return job, prepare(dict(job.plan)), prepare(recheck_plan(job.plan))


def check_file(state: tuple[CheckJob, Any, Any], task: tuple[Path, Path | None]) -> FileResult:
    """Check one output file (and its source, when known); never raises. Reader warnings are the run's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _check_file(state, task)


def _check_file(state: tuple[CheckJob, Any, Any], task: tuple[Path, Path | None]) -> FileResult:
    job, prepared, recheck = state
    output, source = task
    try:
        kind = sniff(output)
        if kind is None:
            return FileResult()
        ds = read_full(output, kind, allow_empty=True).ds
        if is_dicomdir(ds):
            return FileResult()
        return _check(job, prepared, recheck, output, source, ds)
    except ReadFailure as exc:
        return FileResult((Problem(str(output), "", f"unreadable output: {exc}"),))
    except Exception as exc:  # reported, verification goes on
        return FileResult((Problem(str(output), "", f"cannot check: {describe_error(exc)}"),))


def _check(job: CheckJob, prepared: Any, recheck: Any, output: Path, source: Path | None, ds: Dataset) -> FileResult:
    name = str(output)
    problems = _survivors(name, ds, job.originals)
    loaded = _read_source(source) if source is not None else None
    if loaded is not None:
        problems += _unresolved(name, loaded.ds, ds, job)
    if loaded is not None and job.exact:
        problems += _differences(name, prepared, job, loaded, output, ds)
    else:
        problems += _recheck(name, recheck, ds)
    external = 0 if source is not None else _external_references(ds, job.output_set)
    return FileResult(tuple(problems[:MAX_PER_FILE]), external)


def _read_source(source: Path) -> Loaded | None:
    kind = sniff(source)
    return read_full(source, kind) if kind else None


# -- the checks -------------------------------------------------------------------------------------------


def recheck_plan(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Return the plan with every replace whose value is not literal text turned into a keep of its target."""
    operations = []
    for op in plan["operations"]:
        if op["action"] == "replace" and not all(v["kind"] in RECHECKABLE for v in iter_values(op["value"])):
            op = {k: v for k, v in op.items() if k != "value"} | {"action": "keep"}
        operations.append(op)
    return {**plan, "operations": operations}


def _recheck(name: str, recheck: Any, ds: Dataset) -> list[Problem]:
    try:
        changes = apply_plan(recheck, ds, Context())
    except ApplyError as exc:
        return [Problem(name, "", f"cannot re-apply the plan: {exc}")]
    return [Problem(name, _element(c.path, c.keyword), _violation(c)) for c in changes
            if c.action in ("replace", "remove", "insert") and c.before != c.after]


def _violation(change: Any) -> str:
    where = f" ({origin_text(change.origin)})" if change.origin else ""
    if change.action == "remove":
        return f"still present ({_show(change.before)}) although the plan removes it{where}"
    if change.before is None:
        return f"absent although the plan sets it to {_show(change.after)}{where}"
    return f"is {_show(change.before)}, the plan makes it {_show(change.after)}{where}"


def _differences(name: str, prepared: Any, job: CheckJob, loaded: Loaded, output: Path, ds: Dataset) -> list[Problem]:
    context = Context(key=job.key, uid_map=job.uid_map, tables=job.tables)
    try:
        changes = apply_plan(prepared, loaded.ds, context, describe=False)
    except ApplyError as exc:
        return [Problem(name, "", f"the plan fails on its source: {exc}")]
    built = complete_file_meta(loaded.ds)
    expected = encoded_bytes(loaded.ds, built, loaded, changed_tags(c.path for c in changes if c.action != "keep"))
    if expected == output.read_bytes():
        return []
    found = [Problem(name, _element(path_str(loc), keyword_of(loc[-1])), f"is {_show(b)}, the plan makes it {_show(a)}")
             for loc, a, b in _diff(dcmread(io.BytesIO(expected)), ds)]
    return found or [Problem(name, "", "differs from what the plan makes of its source (encoding)")]


def _diff(expected: Dataset, actual: Dataset) -> Iterator[tuple[tuple[int, ...], str | None, str | None]]:
    want = dict(_values(expected))
    have = dict(_values(actual))
    for loc in sorted(set(want) | set(have)):
        if want.get(loc) != have.get(loc):
            yield loc, want.get(loc), have.get(loc)


def _values(ds: Dataset) -> Iterator[tuple[tuple[int, ...], str]]:
    meta = getattr(ds, "file_meta", None)
    for tag in sorted(meta.keys()) if meta is not None else ():
        yield (tag,), _text(meta[tag].value)
    for loc, elem in _elements(ds):
        yield loc, f"<{len(elem.value)} item(s)>" if elem.VR == "SQ" else _text(elem.value)


def _unresolved(name: str, source_ds: Dataset, ds: Dataset, job: CheckJob) -> list[Problem]:
    now = dict(_uid_elements(ds))
    problems = []
    for loc, value in _uid_elements(source_ds):
        if len(loc) == 1 and loc[0] in SET_TAGS or value not in job.source_set or loc not in now:
            continue
        if now[loc] not in job.output_set:
            element = _element(path_str(loc), keyword_of(loc[-1]))
            problems.append(Problem(name, element, f"reference {now[loc]} resolves to no file of the output"))
    return problems


def _external_references(ds: Dataset, output_set: frozenset[str]) -> int:
    return sum(1 for loc, value in _uid_elements(ds) if len(loc) > 1 and value not in output_set
               and keyword_of(loc[-1]) in ("ReferencedSOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID",
                                          "FrameOfReferenceUID", "ReferencedFrameOfReferenceUID"))


def _survivors(name: str, ds: Dataset, originals: frozenset[str]) -> list[Problem]:
    if not originals:
        return []
    return [Problem(name, _element(path_str(loc), keyword_of(loc[-1])),
                    f"holds {token!r}, an original identifier the plan regenerates")
            for loc, elem in _elements(ds, with_meta=True) if elem.VR != "SQ"
            for token in _tokens(elem.value) if token in originals]


# -- walking data sets ------------------------------------------------------------------------------------


def _elements(ds: Dataset, loc: tuple[int, ...] = (), with_meta: bool = False) -> Iterator[tuple[tuple[int, ...], Any]]:
    meta = getattr(ds, "file_meta", None) if with_meta else None
    for tag in sorted(meta.keys()) if meta is not None else ():
        yield (tag,), meta[tag]
    for tag in sorted(ds.keys()):
        if tag in PIXEL_TAGS:
            continue
        elem = ds[tag]
        yield loc + (tag,), elem
        if elem.VR == "SQ":
            for number, item in enumerate(elem.value or ()):
                yield from _elements(item, loc + (tag, number))


def _uid_elements(ds: Dataset) -> Iterator[tuple[tuple[int, ...], str]]:
    for loc, elem in _elements(ds):
        if elem.VR == "UI" and elem.value:
            for value in elem.value if isinstance(elem.value, MultiValue) else [elem.value]:
                yield loc, str(value).strip(" \x00")


def _tokens(value: Any) -> Iterator[str]:
    if isinstance(value, bytes):
        for token in value.replace(b"\x00", b"\\").replace(b" ", b"\\").split(b"\\"):
            if token:
                yield token.decode("latin-1")
    elif isinstance(value, (list, MultiValue)):
        for item in value:
            yield from _tokens(item)
    elif isinstance(value, (str, PersonName)):
        for token in str(value).split("\\"):
            if token.strip(" \x00"):
                yield token.strip(" \x00")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.hex() if len(value) <= 64 else f"<{len(value)} bytes>"
    if isinstance(value, (list, MultiValue)):
        return "\\".join(str(v) for v in value)
    return "" if value is None else str(value)


def _element(path: str, keyword: str) -> str:
    return f"{path} {keyword}" if keyword else path


def _show(value: str | None) -> str:
    if value is None:
        return "absent"
    return repr(value if len(value) <= 64 else value[:61] + "...")
