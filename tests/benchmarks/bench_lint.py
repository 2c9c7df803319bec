"""Benchmark: `dcmrules lint` on a generated 10,000-statement rules file, beside its floors.

Run: python tests/benchmarks/bench_lint.py [--statements N]

Prints, measured in one run on this machine (median of several runs each):
  - `dcmrules lint` wall time (a fresh process, as in CI),
  - the floor every lint pays: a Python process importing lark (the compiler reads pydicom's
    dictionary module on its own, without importing pydicom and numpy),
  - the compile step alone, in-process, and statements per second,
and the ratios between them. Not a test: timing belongs here, never in the suite.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydicom.datadict import tag_for_keyword

from dcmrules.compiler import check_rules
from dcmrules.specs import resource

IDENTIFIERS = {"PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"}


def generate(count: int) -> str:
    """A realistic file: every top-level attribute at its own level, then nested paths and **. targets."""
    lines = ["# generated for the lint benchmark", "profile basic", "option retain-device-identity",
             "@patient @force replace PatientID with hash()", "@study @force replace StudyInstanceUID with uid()",
             "@series @force replace SeriesInstanceUID with uid()", "@force replace SOPInstanceUID with uid()"]
    rows = resource("tables", "levels.tsv").read_text().splitlines()[1:]
    for row in rows:
        tag, keyword, level, _ = row.split("\t")
        if keyword and keyword not in IDENTIFIERS and "X" not in tag and tag_for_keyword(keyword):
            lines.append(f"@{level} remove {keyword}")
    index = 0
    while len(lines) < count:
        lines.append(f'replace ReferencedImageSequence[{index}].ReferencedSOPInstanceUID with "1.2.{index}"')
        if len(lines) < count:
            lines.append(f"remove SourceImageSequence[{index}].(0008,1150)")
        index += 1
    return "\n".join(lines[:count]) + "\n"


def wall(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{command} failed: {done.stderr}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = generate(args.statements)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.rules"
        path.write_text(text)
        lint = wall([sys.executable, "-m", "dcmrules.runtime.cli", "lint", "--format", "concise", str(path)],
                    args.runs)
        floor = wall([sys.executable, "-c", "import lark"], args.runs)
        check_rules(text, path=str(path))  # warm the parser, as the CLI's first call does
        start = time.perf_counter()
        result = check_rules(text, path=str(path))
        compile_seconds = time.perf_counter() - start
    count = text.count("\n") - 1
    print(f"statements                       {count}")
    print(f"diagnostics                      {len(result)} ({sum(d.is_error for d in result)} errors)")
    print(f"dcmrules lint, wall (process)    {lint:.3f} s   {'UNDER' if lint < 1 else 'OVER'} the 1 s target")
    print(f"floor: python + lark             {floor:.3f} s")
    print(f"compile in-process               {compile_seconds:.3f} s   ({count / compile_seconds:,.0f} statements/s)")
    print(f"ratio lint / floor               {lint / floor:.2f}x")
    print(f"share of lint spent compiling    {compile_seconds / lint:.0%}")


if __name__ == "__main__":
    main()
