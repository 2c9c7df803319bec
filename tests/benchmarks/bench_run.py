"""Benchmark `dcmrules run`: a generated set in, files/s, MB/s, ratios and peak RSS printed out.

Measured side by side in one run, on the same warm files, for two kinds of file (512x512 16-bit CT images
and small header-heavy images): `cp -r`, a plain single-process pydicom read-and-write loop, and
`dcmrules run` with --jobs 1 and --jobs 2, using a plan that replaces, removes and regenerates all four
identifiers. Then peak RSS (main process and largest worker) against the number of files.

Every tool starts from the same state: input files in the page cache, a new output folder, the file system
synced (no writeback of the previous tool's output pending), Python bytecode compiled (as a non-editable
install leaves it). Tools run in turn, --repeat rounds, and each one's fastest round counts. Outputs are
removed only at the end: on ext4 without a journal (as here) every file created scans past the inodes freed
in the last minutes, so removing one tool's output just before the next tool runs would add up to ~0.5 ms
of kernel time to each file the next tool writes.

    python tests/benchmarks/bench_run.py                 # defaults: a few minutes on 2 cores
    python tests/benchmarks/bench_run.py --ct 100 --small 500 --files 2000   # quicker
Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dcmrules.runtime.synth import SynthSpec, generate

PLAN = """\
@patient {
    @force replace PatientID with hash()
    replace PatientName with "ANONYMOUS"
    remove PatientBirthDate
    remove PatientAddress
}
@study @force replace StudyInstanceUID with uid()
@series {
    @force replace SeriesInstanceUID with uid()
    remove OperatorsName
}
@force replace SOPInstanceUID with uid()
"""

LOOP = """\
import sys
from pathlib import Path
from pydicom import dcmread, dcmwrite
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
for path in sorted(src.rglob("*.dcm")):
    out = dst / path.relative_to(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    dcmwrite(out, dcmread(path))
"""

MEASURED = """\
import json, resource, sys
from dcmrules.runtime.cli import main
code = main(sys.argv[1:])
rss = {"main_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
       "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "code": code}
print("RSS " + json.dumps(rss))
"""


def compile_bytecode() -> None:
    """Compile dcmrules' modules once, so no tool pays for compiling them in every run."""
    import dcmrules.compiler
    import dcmrules.grammar
    import dcmrules.runtime

    for package in (dcmrules.compiler, dcmrules.grammar, dcmrules.runtime):
        for folder in package.__path__:
            compileall.compile_dir(folder, quiet=1)


def spec_for(kind: str, files: int, seed: int) -> SynthSpec:
    """Return a spec of about `files` images: patients x 2 studies x 2 series x 10 instances."""
    patients = max(1, round(files / 40))
    private = 200 if kind == "small" else 0
    return SynthSpec(patients=patients, studies=2, series=2, instances=10, kind=kind, seed=seed, rtstruct=False,
                     private_elements=private)


def make(folder: Path, spec: SynthSpec) -> tuple[int, int]:
    """Generate the set (reused if already there) and return (files, bytes)."""
    if not folder.is_dir():
        generate(folder, spec)
    paths = [p for p in folder.rglob("*.dcm")]
    return len(paths), sum(p.stat().st_size for p in paths)


def warm(folder: Path) -> None:
    """Read every file once so every tool starts from the page cache."""
    for path in folder.rglob("*.dcm"):
        path.read_bytes()


def timed(command: list[str]) -> tuple[float, dict]:
    """Run a command after a sync; return wall seconds and its RSS line, if any."""
    os.sync()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    rss = next((json.loads(line[4:]) for line in done.stdout.splitlines() if line.startswith("RSS ")), {})
    return seconds, rss


def dcmrules(plan: Path, key: Path, source: Path, out: Path, jobs: int) -> list[str]:
    return [sys.executable, "-c", MEASURED, "run", str(plan), str(source), "-o", str(out), "--jobs", str(jobs),
            "--key-file", str(key)]


def compare(name: str, source: Path, work: Path, plan: Path, key: Path, repeat: int) -> None:
    """Print files/s, MB/s and ratios for cp, the pydicom loop and dcmrules --jobs 1/2 on one set."""
    paths = list(source.rglob("*.dcm"))
    files, size = len(paths), sum(p.stat().st_size for p in paths)
    warm(source)

    def tools(out: Path) -> dict[str, list[str]]:
        out.mkdir(parents=True)
        return {
            "cp -r": ["cp", "-r", str(source), str(out / "cp")],
            "pydicom loop": [sys.executable, "-c", LOOP, str(source), str(out / "loop")],
            "dcmrules --jobs 1": dcmrules(plan, key, source, out / "jobs1", 1),
            "dcmrules --jobs 2": dcmrules(plan, key, source, out / "jobs2", 2),
        }

    rounds = [{tool: timed(command) for tool, command in tools(work / "out" / f"{name}-{r}").items()}
              for r in range(repeat)]
    results = {tool: min((r[tool] for r in rounds), key=lambda r: r[0]) for tool in rounds[0]}
    loop, copy = results["pydicom loop"][0], results["cp -r"][0]
    print(f"\n{name}: {files} files, {size / 1e6:.1f} MB")
    print(f"  {'tool':<20} {'seconds':>8} {'files/s':>9} {'MB/s':>8} {'x loop':>7} {'x cp':>6}  peak RSS main/worker")
    for tool, (seconds, rss) in results.items():
        memory = f"{rss['main_kb'] / 1024:.0f}/{rss['worker_kb'] / 1024:.0f} MB" if rss else ""
        print(f"  {tool:<20} {seconds:8.2f} {files / seconds:9.0f} {size / 1e6 / seconds:8.1f} "
              f"{loop / seconds:7.2f} {copy / seconds:6.2f}  {memory}")


def memory(work: Path, plan: Path, key: Path, counts: list[int]) -> None:
    """Print peak RSS of `dcmrules run --jobs 2` against the number of files."""
    print("\npeak RSS against the number of files (dcmrules run --jobs 2, small images)")
    for count in counts:
        source = work / f"memory-{count}"
        files, size = make(source, SynthSpec(patients=max(1, count // 40), studies=2, series=2, instances=10,
                                             kind="small", seed=count, rtstruct=False, private_elements=20))
        seconds, rss = timed(dcmrules(plan, key, source, work / "out" / f"memory-{count}", 2))
        print(f"  {files:>6} files ({size / 1e6:6.1f} MB): main {rss['main_kb'] / 1024:6.1f} MB, "
              f"largest worker {rss['worker_kb'] / 1024:6.1f} MB, {files / seconds:6.0f} files/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ct", type=int, default=1000, help="number of CT images (512x512, 16-bit)")
    parser.add_argument("--small", type=int, default=2000, help="number of small header-heavy images")
    parser.add_argument("--files", type=int, default=10000, help="largest set of the memory series")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of runs; each tool's fastest counts")
    parser.add_argument("--workdir", type=Path, help="keep generated sets here (reused between runs)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dcmrules-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    plan, key = work / "plan.rules", work / "key"
    plan.write_text(PLAN)
    key.write_bytes(b"benchmark key\n")
    compile_bytecode()
    shutil.rmtree(work / "out", ignore_errors=True)  # left by an interrupted run
    print(f"dcmrules run benchmark in {work}")
    for name, count in (("ct", args.ct), ("small", args.small)):
        source = work / f"{name}-{count}"
        make(source, spec_for(name, count, 1))
        compare(name, source, work, plan, key, args.repeat)
    memory(work, plan, key, sorted({max(40, args.files // 10), args.files}))
    shutil.rmtree(work / "out", ignore_errors=True)
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
