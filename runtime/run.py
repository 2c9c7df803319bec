"""Run a plan over files and folders: plan, inputs and output folder in, written files and a RunReport out.

Two passes: the index (headers only) builds the identifier map, then each file is read, edited by
apply_plan() and written atomically to the mirrored output path, in --jobs processes. Each file ends
written, skipped (not DICOM, DICOMDIR, output already there) or failed (with a reason, no output), and the
run goes on. Everything a file's output depends on (plan, key, identifier map, the file) is the same for any
job count, so the output bytes are too.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dcmrules.runtime.apply import ApplyError, Context, apply_plan, prepare
from dcmrules.runtime.errors import PlanError, UsageError
from dcmrules.runtime.files import (DICOMDIR_REASON, NOT_DICOM, ReadFailure, Source, clean_temporaries,
                                    describe_error, discover, is_dicomdir, sniff)
from dcmrules.runtime.read import Loaded, read_full
from dcmrules.runtime.index import SetIndex, build_index
from dcmrules.runtime.load import key_fingerprint, load_tables, require_key
from dcmrules.runtime.pool import run_tasks
from dcmrules.runtime.report import FileOutcome, Progress, RunReport, count_changes
from dcmrules.runtime.write import changed_tags, complete_file_meta, write_atomic

OUTPUT_EXISTS = "the output file already exists (use --overwrite to replace it)"
LOST_WORKER = "the worker process died while processing this file"
MAX_WARNINGS = 10


@dataclass(frozen=True)
class WriteJob:
    """What a write worker needs; identical for every worker and every job count."""

    plan: Mapping[str, Any]
    key: bytes | None
    tables: Mapping[str, Mapping[str, str]]
    uid_map: Mapping[str, str]
    overwrite: bool
    dry_run: bool


def run_plan(
    plan: Mapping[str, Any],
    inputs: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str] | None,
    *,
    jobs: int = 1,
    key: bytes | None = None,
    report_path: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    overwrite: bool = False,
    tables: Mapping[str, Mapping[str, str]] | None = None,
    progress: bool = False,
    checked: bool = False,
) -> RunReport:
    """Apply plan to every DICOM file under inputs, writing mirrored outputs under outdir; return the report.

    Raises PlanError or UsageError (nothing touched) for an invalid plan, a missing key, missing inputs or an
    output folder inside an input. tables defaults to the plan's lookup tables found next to source.path.
    The plan is checked again (schema, format version, static rules) unless checked=True says it comes
    straight from load_plan() or read_plan(), which compiled or checked it.
    """
    if not checked:
        _check(plan)
    require_key(plan, key)
    if tables is None:
        tables = load_tables(plan, Path(str(plan["source"]["path"])))
    output = _output_folder(outdir, dry_run)
    sources = discover(inputs, output)
    index = build_index(plan, sources, key=key, tables=tables, jobs=jobs, progress=progress)
    if output is not None and not dry_run:
        output.mkdir(parents=True, exist_ok=True)
        clean_temporaries(output)
    job = WriteJob(plan, key, tables, index.uid_map, overwrite, dry_run)
    outcomes = _write_all(job, sources, index, jobs, progress)
    report = _report(plan, key, dry_run, outcomes, index)
    if report_path is not None:
        write_report(report, Path(report_path))
    return report


def _check(plan: Mapping[str, Any]) -> None:
    from dcmrules.compiler import check_plan  # a plan from load_plan() skips this, and the schema library

    errors = check_plan(dict(plan))
    if errors:
        raise PlanError("the plan is not valid:\n" + "\n".join(f"  {d}" for d in errors))


def _output_folder(outdir: str | os.PathLike[str] | None, dry_run: bool) -> Path | None:
    if outdir is None:
        if not dry_run:
            raise UsageError("an output folder is required (-o OUTDIR)")
        return None
    output = Path(outdir)
    if output.exists() and not output.is_dir():
        raise UsageError(f"the output {output} exists and is not a folder")
    return output


def _write_all(job: WriteJob, sources: Sequence[Source], index: SetIndex, jobs: int,
               progress: bool) -> list[FileOutcome]:
    outcomes: list[FileOutcome | None] = [None] * len(sources)
    pending = []
    for source in sources:
        if source.index in index.settled:
            status, reason = index.settled[source.index]
            outcomes[source.index] = _outcome(source, status, reason)
        else:
            pending.append(source)
    with Progress(len(pending), "checking" if job.dry_run else "writing", enabled=progress) as bar:
        for outcome in run_tasks(_setup, job, process_file, pending, jobs):
            outcomes[outcome.index] = outcome
            bar.update()
    return [o or _outcome(sources[i], "failed", LOST_WORKER) for i, o in enumerate(outcomes)]


def _setup(job: WriteJob) -> tuple[Any, Context, WriteJob]:
    return prepare(dict(job.plan)), Context(key=job.key, uid_map=job.uid_map, tables=job.tables), job


def process_file(state: tuple[Any, Context, WriteJob], source: Source) -> FileOutcome:
    """Read, edit and write one file; return its outcome (never raises)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = _process(state, source)
        except Exception as exc:  # a bug or an unexpected pydicom failure: reported, the run goes on
            outcome = _outcome(source, "failed", f"internal error: {describe_error(exc)}")
    messages = tuple(dict.fromkeys(outcome.warnings + tuple(str(w.message) for w in caught)))
    return replace(outcome, warnings=messages[:MAX_WARNINGS])


def _process(state: tuple[Any, Context, WriteJob], source: Source) -> FileOutcome:
    prepared, context, job = state
    if source.output is not None and not job.overwrite and source.output.exists():
        return _outcome(source, "skipped", OUTPUT_EXISTS)
    try:
        with open(source.input, "rb") as fp:  # one open file for reading, checking and copying
            kind = sniff(fp)
            if kind is None:
                return _outcome(source, "skipped", NOT_DICOM)
            loaded = read_full(fp, kind)
            if is_dicomdir(loaded.ds):
                return _outcome(source, "skipped", DICOMDIR_REASON)
            return replace(_edit_and_write(prepared, context, job, source, loaded), warnings=loaded.warnings)
    except ReadFailure as exc:
        return _outcome(source, "failed", str(exc))
    except OSError as exc:
        return _outcome(source, "failed", f"cannot read {source.input}: {exc.strerror or exc}")


def _edit_and_write(prepared: Any, context: Context, job: WriteJob, source: Source, loaded: Loaded) -> FileOutcome:
    ds = loaded.ds
    try:
        changes = apply_plan(prepared, ds, context, describe=False)
    except ApplyError as exc:
        return _outcome(source, "failed", str(exc))
    counts = count_changes(change.action for change in changes)
    built_meta = complete_file_meta(ds)
    if job.dry_run or source.output is None:
        return _outcome(source, "would-write", None, counts)
    touched = changed_tags(c.path for c in changes if c.action != "keep")
    try:
        written = write_atomic(ds, source.output, overwrite=job.overwrite, built_meta=built_meta,
                               source=loaded, changed=touched)
    except OSError as exc:
        return _outcome(source, "failed", f"cannot write {source.output}: {exc.strerror or exc}")
    except Exception as exc:  # pydicom refuses to encode a value
        return _outcome(source, "failed", f"cannot encode: {describe_error(exc)}")
    if not written:
        return _outcome(source, "skipped", OUTPUT_EXISTS)
    return _outcome(source, "written", None, counts)


def _outcome(source: Source, status: str, reason: str | None, changes: Mapping[str, int] | None = None) -> FileOutcome:
    output = source.target if status in ("written", "would-write") else None
    return FileOutcome(source.index, source.input, output, status, reason, dict(changes or {}))


def _report(plan: Mapping[str, Any], key: bytes | None, dry_run: bool,
            outcomes: list[FileOutcome], index: SetIndex) -> RunReport:
    source = plan.get("source", {})
    return RunReport(plan_source=str(source.get("path", "")), plan_sha256=source.get("sha256"),
                     key_fingerprint=key_fingerprint(key), dry_run=dry_run, files=tuple(outcomes),
                     input_set=index.summary(), notes=index.conflicts)


def write_report(report: RunReport, path: Path) -> None:
    """Write the JSON report atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(report.to_json(), encoding="utf-8")
    os.replace(temporary, path)
