"""User-facing errors (a message in, exit code 2 out: the CLI prints it, never a traceback) and reading user text files."""

from __future__ import annotations

from pathlib import Path


class UsageError(Exception):
    """A user mistake found before any file is touched: bad arguments, missing key, unusable paths."""


class PlanError(UsageError):
    """A rules file or plan that cannot be run: it does not compile, fails the schema or a static rule."""


def read_text(path: Path, expected: str, error: type[UsageError] = UsageError) -> str:
    """The UTF-8 text of a file the user named, or `error` saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such {expected}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, expected a {expected}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}); expected a {expected}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
