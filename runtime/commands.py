"""The run, explain, verify and demo subcommands: parsed arguments in, printed results and an exit code out.

cli.py registers RUNTIME_COMMANDS and owns sys.exit. Exit codes: 0 success; 1 some files failed (run) or
verification failed (verify); 2 usage error, unreadable input, invalid plan, missing key, internal error.
A user mistake prints one clear message, never a traceback.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dcmrules.runtime.errors import UsageError

if TYPE_CHECKING:
    from dcmrules.runtime.load import LoadedPlan

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]


def guarded(handler: Handler) -> Handler:
    """Turn UsageError/PlanError into 'dcmrules: error: ...' and a bug into an internal error, both exit 2."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except UsageError as exc:
            print(f"dcmrules {args.command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except (KeyboardInterrupt, BrokenPipeError):  # cli.main's to handle
            raise
        except Exception as exc:  # a bug: say so, with the traceback for the report
            traceback.print_exc(file=sys.stderr)
            print(f"dcmrules {args.command}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return run


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (all CPUs) or more")
    return value


def job_count(requested: int) -> int:
    """Return the number of worker processes: requested, or every CPU for 0."""
    return requested or os.cpu_count() or 1


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", metavar="RULES|PLAN", help="a .rules file (compiled on the fly) or a .json plan")
    parser.add_argument("--key-file", metavar="F", help="file holding the key (default: $DCMRULES_KEY)")


def _load(args: argparse.Namespace) -> tuple[LoadedPlan, bytes | None]:
    from dcmrules.runtime.load import load_key, read_plan

    loaded = read_plan(args.plan)
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    return loaded, load_key(args.key_file)


# -- run --------------------------------------------------------------------------------------------------


def configure_run(parser: argparse.ArgumentParser) -> None:
    """Arguments of `dcmrules run`."""
    _add_common(parser)
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="DICOM files and folders (recursive)")
    parser.add_argument("-o", "--output", metavar="OUTDIR", help="output folder (mirrors the inputs' paths)")
    parser.add_argument("--jobs", "-j", type=_jobs, default=0, metavar="N", help="worker processes (0: all CPUs)")
    parser.add_argument("--report", metavar="R.json", help="write the JSON report here")
    parser.add_argument("--dry-run", action="store_true", help="read and apply, write nothing")
    parser.add_argument("--overwrite", action="store_true", help="replace output files that already exist")


@guarded
def handle_run(args: argparse.Namespace) -> int:
    """Run a plan over the inputs and print a one-line summary (and the failures)."""
    from dcmrules.runtime.report import failure_listing
    from dcmrules.runtime.run import run_plan

    loaded, key = _load(args)
    report = run_plan(loaded.plan, args.inputs, args.output, jobs=job_count(args.jobs), key=key,
                      report_path=args.report, dry_run=args.dry_run, overwrite=args.overwrite,
                      tables=loaded.tables, progress=True, checked=True)
    for line in failure_listing(report):
        print(f"failed: {line}", file=sys.stderr)
    target = f" -> {args.output}" if args.output and not args.dry_run else " (dry run, nothing written)"
    print(f"dcmrules run: {report.summary()}{target}")
    return report.exit_code


# -- explain ----------------------------------------------------------------------------------------------


def configure_explain(parser: argparse.ArgumentParser) -> None:
    """Arguments of `dcmrules explain`."""
    _add_common(parser)
    parser.add_argument("file", metavar="FILE.dcm", help="the DICOM file to explain")
    parser.add_argument("--set", action="append", default=[], metavar="INPUT",
                        help="the run's inputs (repeat for several), so references to other files are remapped")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


@guarded
def handle_explain(args: argparse.Namespace) -> int:
    """Print every element the plan touches in one file."""
    from dcmrules.runtime.explain import explain_file, render_json, render_text

    loaded, key = _load(args)
    explanation = explain_file(loaded.plan, args.file, key=key, tables=loaded.tables, input_set=args.set)
    sys.stdout.write(render_json(explanation) if args.format == "json" else render_text(explanation))
    return EXIT_OK


# -- verify -----------------------------------------------------------------------------------------------


def configure_verify(parser: argparse.ArgumentParser) -> None:
    """Arguments of `dcmrules verify`."""
    _add_common(parser)
    parser.add_argument("outdir", metavar="OUTDIR", help="the output folder of a run")
    parser.add_argument("--source", action="append", default=[], metavar="INPUT",
                        help="the run's inputs (repeat for several): enables the reference and survivor checks")
    parser.add_argument("--jobs", "-j", type=_jobs, default=0, metavar="N", help="worker processes (0: all CPUs)")


@guarded
def handle_verify(args: argparse.Namespace) -> int:
    """Verify an output folder; print each problem, then a summary line."""
    from dcmrules.runtime.verify import verify

    loaded, key = _load(args)
    report = verify(loaded.plan, args.outdir, sources=args.source, key=key, tables=loaded.tables,
                    jobs=job_count(args.jobs), progress=True)
    for problem in report.problems:
        print(problem)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    verdict = f"{len(report.problems)} problem(s)" if report.problems else "no problems"
    print(f"dcmrules verify: {report.files} files checked, {verdict}")
    return report.exit_code


# -- demo -------------------------------------------------------------------------------------------------


def configure_demo(parser: argparse.ArgumentParser) -> None:
    """Arguments of `dcmrules demo`."""
    parser.add_argument("--out", metavar="DIR", help="folder for the demo (default: a new temporary folder)")
    parser.add_argument("--jobs", "-j", type=_jobs, default=0, metavar="N", help="worker processes (0: all CPUs)")


@guarded
def handle_demo(args: argparse.Namespace) -> int:
    """Generate a synthetic set, de-identify it with the bundled rules, verify it, and say what happened."""
    from dcmrules.runtime.demo import run_demo

    return run_demo(Path(args.out) if args.out else None, jobs=job_count(args.jobs), echo=print)


RUNTIME_COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]] = [
    ("run", "run a plan over DICOM files and folders", configure_run, handle_run),
    ("explain", "show what a plan does to one DICOM file, element by element", configure_explain, handle_explain),
    ("verify", "check a run's output against its plan (and its source)", configure_verify, handle_verify),
    ("demo", "de-identify a generated multi-patient set and verify it", configure_demo, handle_demo),
]
