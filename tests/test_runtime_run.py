"""Running plans over folders: consistent identifiers, resolving references, atomic writes, refusals, reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from pydicom import dcmread, dcmwrite

from dcmrules.runtime.errors import PlanError, UsageError
from dcmrules.runtime.files import TEMP_SUFFIX
from dcmrules.runtime.run import run_plan
from dcmrules.runtime.synth import SynthSpec
from tests.runtime_support import KEY, SET_TAGS, all_values, make_set, references, top_level, tree_digest, write_rules


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("set")
    make_set(folder / "input")
    return folder / "input"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory, dataset):
    """The set run with --jobs 1 and --jobs 2 (same plan, same key)."""
    work = tmp_path_factory.mktemp("runs")
    loaded = write_rules(work)
    reports = {jobs: run_plan(loaded.plan, [dataset], work / f"out{jobs}", jobs=jobs, key=KEY, tables=loaded.tables,
                              report_path=work / f"report{jobs}.json") for jobs in (1, 2)}
    return work, reports


def test_jobs_1_and_2_write_identical_bytes(regenerated, dataset):
    work, reports = regenerated
    assert tree_digest(work / "out1") == tree_digest(work / "out2")
    assert set(tree_digest(work / "out1")) == set(tree_digest(dataset))
    one, two = (json.loads(reports[jobs].to_json().replace(f"/out{jobs}/", "/out/")) for jobs in (1, 2))
    assert one == two
    assert reports[1].counts["written"] == len(tree_digest(dataset)) and reports[1].exit_code == 0


def test_one_new_study_uid_per_original_study(regenerated, dataset):
    work, _ = regenerated
    before = top_level(dataset, 0x0020000D)
    after = top_level(work / "out1", 0x0020000D)
    pairs = {(before[path], after[path]) for path in before}
    assert len({old for old, _ in pairs}) == len(pairs) == len({new for _, new in pairs}) == 4
    assert not {old for old, _ in pairs} & {new for _, new in pairs}
    new_series_per_study = defaultdict(set)
    for path, series in top_level(work / "out1", 0x0020000E).items():
        new_series_per_study[after[path]].add(series)
    assert all(len(series) == 3 for series in new_series_per_study.values())  # 2 image series + the RT series


def test_every_reference_resolves_inside_the_output(regenerated):
    work, _ = regenerated
    out = work / "out1"
    present = {value for tag in SET_TAGS for value in top_level(out, tag).values()}
    refs = [ref for path in sorted(out.rglob("*.dcm")) for ref in references(dcmread(path))]
    kinds = {keyword for keyword, _ in refs}
    expected = {"ReferencedSOPInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "ReferencedFrameOfReferenceUID"}
    assert expected <= kinds
    dangling = [(keyword, uid) for keyword, uid in refs if keyword != "ReferencedSOPClassUID" and uid not in present]
    assert refs and not dangling


def test_no_original_identifier_is_left(regenerated, dataset):
    work, _ = regenerated
    originals = {value for tag in (*SET_TAGS, 0x00100020) for value in top_level(dataset, tag).values()}
    for path in sorted((work / "out1").rglob("*.dcm")):
        ds = dcmread(path)
        left = [(keyword, text) for keyword, text in all_values(ds) if text in originals]
        assert not left, f"{path}: {left}"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert "PatientBirthDate" not in ds and not any(e.tag.is_private for e in ds)


def test_input_is_never_modified(tmp_path, dataset):
    before = tree_digest(dataset)
    loaded = write_rules(tmp_path)
    run_plan(loaded.plan, [dataset], tmp_path / "out", jobs=2, key=KEY, tables=loaded.tables)
    assert tree_digest(dataset) == before


def test_the_json_report_lists_every_file_and_never_the_key(regenerated, dataset):
    work, _ = regenerated
    report = json.loads((work / "report1.json").read_text())
    assert report["counts"] == {"files": 28, "written": 28, "would-write": 0, "skipped": 0, "failed": 0}
    assert report["input_set"] == {"patients": 2, "studies": 4, "series": 12, "instances": 28,
                                   "regenerated_uids": report["input_set"]["regenerated_uids"]}
    assert len(report["files"]) == 28 and all(f["status"] == "written" for f in report["files"])
    assert report["files"][0]["changes"]["replace"] > 0
    assert len(report["key_fingerprint"]) == 16
    text = (work / "report1.json").read_text()
    assert KEY.decode() not in text and "PID-3-" not in text


def test_keyed_plan_without_key_touches_nothing(tmp_path, dataset):
    loaded = write_rules(tmp_path)
    with pytest.raises(UsageError, match="no key was given"):
        run_plan(loaded.plan, [dataset], tmp_path / "out", key=None, tables=loaded.tables)
    assert not (tmp_path / "out").exists()


def test_output_inside_an_input_is_refused(tmp_path, dataset):
    loaded = write_rules(tmp_path)
    with pytest.raises(UsageError, match="inside the input folder"):
        run_plan(loaded.plan, [dataset], dataset / "out", key=KEY, tables=loaded.tables)
    assert not (dataset / "out").exists()
    with pytest.raises(UsageError, match="no such file or folder"):
        run_plan(loaded.plan, [tmp_path / "missing"], tmp_path / "out", key=KEY, tables=loaded.tables)


def test_a_hand_edited_plan_cannot_bypass_the_static_rules(tmp_path, dataset):
    loaded = write_rules(tmp_path)
    plan = json.loads(json.dumps(loaded.plan))
    for op in plan["operations"]:
        op["force"] = False
    with pytest.raises(PlanError, match="not valid"):
        run_plan(plan, [dataset], tmp_path / "out", key=KEY, tables=loaded.tables)


def test_existing_outputs_are_kept_unless_overwrite(tmp_path, dataset):
    loaded = write_rules(tmp_path, 'replace ImageComments with "first"\n')
    first = run_plan(loaded.plan, [dataset], tmp_path / "out", tables=loaded.tables)
    loaded = write_rules(tmp_path, 'replace ImageComments with "second"\n')
    again = run_plan(loaded.plan, [dataset], tmp_path / "out", tables=loaded.tables)
    assert first.counts["written"] == 28 and again.counts["skipped"] == 28 and again.exit_code == 0
    assert {f.reason for f in again.files} == {"the output file already exists (use --overwrite to replace it)"}
    image = next((tmp_path / "out").rglob("IM0001.dcm"))
    assert dcmread(image).ImageComments == "first"
    forced = run_plan(loaded.plan, [dataset], tmp_path / "out", tables=loaded.tables, overwrite=True)
    assert forced.counts["written"] == 28 and dcmread(image).ImageComments == "second"


def test_dry_run_writes_nothing(tmp_path, dataset):
    loaded = write_rules(tmp_path)
    report = run_plan(loaded.plan, [dataset], tmp_path / "out", key=KEY, tables=loaded.tables, dry_run=True,
                      report_path=tmp_path / "r.json")
    assert report.counts["would-write"] == 28 and not (tmp_path / "out").exists()
    assert json.loads((tmp_path / "r.json").read_text())["dry_run"] is True


def test_each_file_ends_written_skipped_or_failed_and_the_run_goes_on(tmp_path, dataset):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "notes.txt").write_text("not DICOM")
    good = next(dataset.rglob("IM0001.dcm"))
    (mixed / "good.dcm").write_bytes(good.read_bytes())
    (mixed / "cut.dcm").write_bytes(good.read_bytes()[:-100])
    loaded = write_rules(tmp_path)
    report = run_plan(loaded.plan, [mixed], tmp_path / "out", key=KEY, tables=loaded.tables)
    status = {Path(f.input).name: (f.status, f.reason) for f in report.files}
    assert status["good.dcm"] == ("written", None)
    assert status["notes.txt"][0] == "skipped" and "not a DICOM file" in status["notes.txt"][1]
    assert status["cut.dcm"][0] == "failed" and "truncated" in status["cut.dcm"][1]
    assert report.exit_code == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.dcm"]


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"])
def test_pixel_data_shorter_than_the_image_fails_its_file(tmp_path, dataset, syntax):
    ds = dcmread(next(dataset.rglob("IM0001.dcm")))
    ds.PixelData = ds.PixelData[:-64]
    ds.file_meta.TransferSyntaxUID = syntax
    dcmwrite(tmp_path / "short.dcm", ds, little_endian=syntax != "1.2.840.10008.1.2.2",
             implicit_vr=syntax == "1.2.840.10008.1.2", force_encoding=True)
    loaded = write_rules(tmp_path)
    report = run_plan(loaded.plan, [tmp_path / "short.dcm"], tmp_path / "out", key=KEY, tables=loaded.tables)
    (outcome,) = report.files
    expected = ds.Rows * ds.Columns * ds.BitsAllocated // 8
    assert outcome.status == "failed"
    assert outcome.reason == f"truncated: PixelData holds {expected - 64} bytes, its Rows, Columns and " \
                             f"BitsAllocated need {expected}"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_failing_value_fails_only_its_file(tmp_path, dataset):
    (tmp_path / "ids.csv").write_text("original,new\nPID-3-00001,SUBJECT-1\n")
    loaded = write_rules(tmp_path, '@patient @force replace PatientID with lookup("ids.csv")\n')
    report = run_plan(loaded.plan, [dataset], tmp_path / "out", tables=loaded.tables)
    failed = report.failed()
    assert report.counts == {"written": 14, "would-write": 0, "skipped": 0, "failed": 14}
    assert all("lookup miss" in f.reason and "PatientID" in f.reason for f in failed)
    assert not any(Path(f.input).relative_to(dataset) in _outputs(tmp_path / "out") for f in failed)


def _outputs(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_killing_a_run_leaves_no_partial_output_and_a_rerun_completes_it(tmp_path):
    source = tmp_path / "in"
    make_set(source, SynthSpec(patients=4, studies=2, series=3, instances=8, kind="small", seed=5, rtstruct=False))
    loaded = write_rules(tmp_path)
    reference = tmp_path / "reference"
    run_plan(loaded.plan, [source], reference, jobs=2, key=KEY, tables=loaded.tables)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "dcmrules.runtime.cli", "run", str(tmp_path / "plan.rules"), str(source),
               "-o", str(out), "--jobs", "2"]
    env = {**os.environ, "DCMRULES_KEY": KEY.decode()}
    process = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _wait_for_outputs(out, 20, process)
    os.kill(process.pid, signal.SIGKILL)  # the main process only: its workers must notice and stop
    process.wait()
    _wait_for_group_exit(process.pid)
    expected = tree_digest(reference)
    found = tree_digest(out)
    visible = {name: digest for name, digest in found.items() if not name.endswith(TEMP_SUFFIX)}
    assert 0 < len(visible) < len(expected)
    assert all(expected[name] == digest for name, digest in visible.items())  # complete files only
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert tree_digest(out) == expected  # completed, temporaries cleaned


def _wait_for_outputs(folder: Path, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if folder.is_dir() and sum(1 for p in folder.rglob("*.dcm")) >= count:
            return
        time.sleep(0.01)
    pytest.fail("the run ended (or stalled) before it could be killed midway")


def _wait_for_group_exit(group: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(group, signal.SIGKILL)
    pytest.fail("worker processes outlived the killed run")


def test_two_inputs_claiming_one_output_path_fail_the_second(tmp_path, dataset):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.dcm").write_bytes(next(dataset.rglob("IM0001.dcm")).read_bytes())
    loaded = write_rules(tmp_path, 'replace ImageComments with "x"\n')
    report = run_plan(loaded.plan, [tmp_path / "a", tmp_path / "b"], tmp_path / "out", tables=loaded.tables)
    assert [(Path(f.input).parent.name, f.status) for f in report.files] == [("a", "written"), ("b", "failed")]
    assert "already taken by" in report.files[1].reason


def test_a_dry_run_needs_no_output_folder(tmp_path, dataset):
    loaded = write_rules(tmp_path, 'replace ImageComments with "x"\n')
    report = run_plan(loaded.plan, [dataset], None, dry_run=True, tables=loaded.tables)
    assert report.counts["would-write"] == 28 and all(f.output is None for f in report.files)
    with pytest.raises(UsageError, match="output folder is required"):
        run_plan(loaded.plan, [dataset], None, tables=loaded.tables)
