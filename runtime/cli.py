"""Command line in, exit code out: `dcmrules lint|compile|run|explain|verify|demo` (the only module that exits)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from dcmrules.compiler import check_rules, compile_rules, dumps
from dcmrules.compiler.render import RENDERERS
from dcmrules.compiler.source import Source
from dcmrules.runtime.errors import UsageError, read_text

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---- lint and compile ---------------------------------------------------------------


def configure_lint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="rules files to check")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text", help="output format")
    parser.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")


def run_lint(args: argparse.Namespace) -> int:
    sources = {path: Source(read_text(Path(path), "rules file"), path) for path in args.files}
    diagnostics = [d for source in sources.values() for d in check_rules(source.text, path=source.path)]
    sys.stdout.write(RENDERERS[args.format](diagnostics, sources))
    failing = [d for d in diagnostics if d.is_error or args.strict]
    return EXIT_PROBLEMS if failing else EXIT_OK


def configure_compile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the rules file")
    parser.add_argument("-o", "--output", metavar="PLAN", help="write the plan here (default: standard output)")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text", help="diagnostics format")


def run_compile(args: argparse.Namespace) -> int:
    source = Source(read_text(Path(args.file), "rules file"), args.file)
    result = compile_rules(source.text, path=source.path)
    if result.diagnostics:
        sys.stderr.write(RENDERERS[args.format](result.diagnostics, {source.path: source}))
    if result.plan is None:
        return EXIT_PROBLEMS
    if args.output:
        write_atomically(Path(args.output), dumps(result.plan))
    else:
        sys.stdout.write(dumps(result.plan))
    return EXIT_OK


# ---- the command registry -------------------------------------------------------------

Command = tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]


def commands() -> list[Command]:
    found: list[Command] = [
        ("lint", "check rules files and print diagnostics", configure_lint, run_lint),
        ("compile", "compile a rules file into a JSON plan", configure_compile, run_compile),
    ]
    from dcmrules.runtime.commands import RUNTIME_COMMANDS
    from dcmrules.runtime.orthanc import IMPORT_COMMAND

    return [*found, *RUNTIME_COMMANDS, IMPORT_COMMAND]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dcmrules", description="Edit and de-identify DICOM headers by rules.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help, configure, handler in commands():
        command = sub.add_parser(name, help=help, description=help)
        configure(command)
        command.set_defaults(handler=handler)
    return parser


# numpy, which pydicom imports, starts a BLAS thread pool whose threads spin for a while after starting;
# dcmrules does no linear algebra, and on a run's cores those threads only take time from its workers.
MATH_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main(argv: Sequence[str] | None = None) -> int:
    for name in MATH_THREADS:
        os.environ.setdefault(name, "1")  # a user's own setting wins
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except UsageError as error:
        print(f"dcmrules: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dcmrules: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
