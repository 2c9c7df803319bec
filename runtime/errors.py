"""The runner's user-facing errors: a message in, exit code 2 out (the CLI prints the message, never a traceback)."""

from __future__ import annotations


class UsageError(Exception):
    """A user mistake found before any file is touched: bad arguments, missing key, unusable paths."""


class PlanError(UsageError):
    """A rules file or plan that cannot be run: it does not compile, fails the schema or a static rule."""
