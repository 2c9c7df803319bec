"""The demo: a folder (or none) in; a synthetic set de-identified with the bundled rules, verified and described out.

It writes DIR/input (generated), DIR/deidentify.rules (the bundled example), DIR/demo.key (a random key made
for this demo; never printed), DIR/output and DIR/report.json, so every step can be rerun by hand.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dcmrules.runtime.errors import UsageError
from dcmrules.runtime.explain import explain_file
from dcmrules.runtime.files import discover, read_header, sniff
from dcmrules.runtime.load import key_fingerprint, read_plan
from dcmrules.runtime.run import run_plan
from dcmrules.runtime.synth import SynthSpec, generate
from dcmrules.runtime.verify import verify
from dcmrules.specs import resource

DEMO_SPEC = SynthSpec(patients=3, studies=2, series=2, instances=3, kind="small", seed=7, private_elements=20)
LEVELS = (("PatientID", 0x00100020), ("StudyInstanceUID", 0x0020000D), ("SeriesInstanceUID", 0x0020000E),
          ("SOPInstanceUID", 0x00080018))
SHOWN = ("PatientName", "PatientID", "StudyInstanceUID", "StudyDate", "(0009,0010)")


def run_demo(out: Path | None, *, jobs: int, echo: Callable[[str], None]) -> int:
    """Run the demo in out (a new temporary folder when None); return 0 when the run and verify pass."""
    folder = _folder(out)
    inputs, output = folder / "input", folder / "output"
    files = generate(inputs, DEMO_SPEC)
    rules = folder / "deidentify.rules"
    rules.write_text(resource("examples", "deidentify.rules").read_text(encoding="utf-8"), encoding="utf-8")
    key = secrets.token_bytes(32)
    (folder / "demo.key").write_bytes(key)
    loaded = read_plan(rules)
    echo(f"dcmrules demo in {folder}")
    echo(f"  generated {len(files)} DICOM files in input/ ({_shape()}), with references between files")
    echo(f"  rules: deidentify.rules (the bundled example); key: demo.key, fingerprint {key_fingerprint(key)}")
    report = run_plan(loaded.plan, [inputs], output, jobs=jobs, key=key, report_path=folder / "report.json",
                      tables=loaded.tables, checked=True)
    echo(f"  run: {report.summary()} -> output/, report in report.json")
    echo(f"  changes: {', '.join(f'{n} {a}' for a, n in report.changes.items())}")
    for line in _identifier_lines(inputs, output):
        echo(f"  {line}")
    _example(loaded.plan, files, echo, key, loaded.tables)
    checked = verify(loaded.plan, output, sources=[inputs], key=key, tables=loaded.tables, jobs=jobs)
    verdict = "no problems" if not checked.problems else f"{len(checked.problems)} problem(s)"
    echo(f"  verify (--source input/): {checked.files} files checked, {verdict}: removed elements absent, values "
         "as planned, every reference resolves, no original identifier left")
    for problem in checked.problems[:10]:
        echo(f"    {problem}")
    _next_steps(folder, echo)
    return 1 if report.exit_code or checked.exit_code else 0


def _folder(out: Path | None) -> Path:
    if out is None:
        return Path(tempfile.mkdtemp(prefix="dcmrules-demo-"))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} exists and is not an empty folder; choose a new --out folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _shape() -> str:
    s = DEMO_SPEC
    return (f"{s.patients} patients x {s.studies} studies x {s.series} series x {s.instances} images, "
            "plus an RT structure set per study")


def _identifier_lines(inputs: Path, output: Path) -> list[str]:
    before, after = _distinct(inputs), _distinct(output)
    common = {name: len(before[name] & after[name]) for name in before}
    lines = [f"{name}: {len(before[name])} original -> {len(after[name])} new, {common[name]} original left"
             for name, _tag in LEVELS]
    return lines


def _distinct(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {name: set() for name, _tag in LEVELS}
    for source in discover([folder], None):
        kind = sniff(source.path)
        ds = read_header(source.path, kind, [tag for _name, tag in LEVELS]) if kind else None
        for name, tag in LEVELS:
            if ds is not None and tag in ds:
                found[name].add(str(ds[tag].value))
    return found


def _example(plan: dict[str, Any], files: list[Path], echo: Callable[[str], None], key: bytes,
             tables: Mapping[str, Mapping[str, str]]) -> None:
    path = next(p for p in files if p.name == "IM0002.dcm" and p.parent.name == "SE02")
    explanation = explain_file(plan, path, key=key, tables=tables, input_set=[path.parents[3]])
    echo(f"  for example, {path.relative_to(path.parents[3])}:")
    for change in explanation.changes:
        name = change.keyword or change.path
        if name in SHOWN or change.path in SHOWN or (change.action != "remove" and "[" in change.path):
            after = "(removed)" if change.action == "remove" else repr(_short(change.after))
            element = f"{change.path} {change.keyword}".strip()
            echo(f"    {element}: {_short(change.before)!r} -> {after}  ({change.action})")


def _short(value: str | None) -> str | None:
    return value if value is None or len(value) <= 30 else value[:27] + "..."


def _next_steps(folder: Path, echo: Callable[[str], None]) -> None:
    rules, key = folder / "deidentify.rules", folder / "demo.key"
    echo("next:")
    image = folder / "input" / "P001" / "ST01" / "SE02" / "IM0002.dcm"
    echo(f"  dcmrules explain {rules} {image} --set {folder / 'input'} --key-file {key}")
    echo(f"  dcmrules verify {rules} {folder / 'output'} --source {folder / 'input'} --key-file {key}")
