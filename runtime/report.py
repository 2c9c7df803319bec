"""Run outcomes in, a RunReport, its JSON form, a progress bar and a one-line summary out.

The report lists every input file with its status (written, would-write in a dry run, skipped, failed), the
reason, and the number of changes by action; it carries the key's fingerprint, never the key, and no values
from the data (so it holds no patient data beyond the input paths).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from tqdm import tqdm

REPORT_FORMAT = "1.0"
STATUSES = ("written", "would-write", "skipped", "failed")


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input file."""

    index: int
    input: str
    output: str | None
    status: str
    reason: str | None = None
    changes: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of this outcome."""
        return {
            "input": self.input,
            "output": self.output,
            "status": self.status,
            "reason": self.reason,
            "changes": dict(sorted(self.changes.items())),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class RunReport:
    """Every file's outcome in input order, plus what the run was (plan, key fingerprint, set summary)."""

    plan_source: str
    plan_sha256: str | None
    key_fingerprint: str | None
    dry_run: bool
    files: tuple[FileOutcome, ...]
    input_set: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Return the number of files per status (every status present, zero included)."""
        found = Counter(outcome.status for outcome in self.files)
        return {status: found.get(status, 0) for status in STATUSES}

    @property
    def changes(self) -> dict[str, int]:
        """Return the total number of element changes per action over all files."""
        total: Counter[str] = Counter()
        for outcome in self.files:
            total.update(outcome.changes)
        return dict(sorted(total.items()))

    @property
    def exit_code(self) -> int:
        """Return 1 when some file failed, else 0."""
        return 1 if any(outcome.status == "failed" for outcome in self.files) else 0

    def failed(self) -> list[FileOutcome]:
        """Return the failed outcomes in input order."""
        return [outcome for outcome in self.files if outcome.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of the report (deterministic: no timings, no job count)."""
        return {
            "report_format": REPORT_FORMAT,
            "plan": {"source": self.plan_source, "sha256": self.plan_sha256},
            "key_fingerprint": self.key_fingerprint,
            "dry_run": self.dry_run,
            "counts": {"files": len(self.files), **self.counts},
            "changes": self.changes,
            "input_set": dict(self.input_set),
            "notes": list(self.notes),
            "files": [outcome.to_dict() for outcome in self.files],
        }

    def to_json(self) -> str:
        """Return the report as indented JSON with a trailing newline."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def summary(self) -> str:
        """Return a one-line summary such as '12 written, 1 skipped, 2 failed (15 files)'."""
        counts = self.counts
        main = "would-write" if self.dry_run else "written"
        parts = [f"{counts[s]} {s}" for s in STATUSES if counts[s] or s == main]
        return f"{', '.join(parts)} ({len(self.files)} files)"


def failure_listing(report: RunReport, limit: int = 20) -> list[str]:
    """Return 'path: reason' lines for failed files (at most limit, then a count of the rest)."""
    failed = report.failed()
    lines = [f"{outcome.input}: {outcome.reason}" for outcome in failed[:limit]]
    if len(failed) > limit:
        lines.append(f"... and {len(failed) - limit} more failed files (see the report)")
    return lines


class Progress:
    """A tqdm bar on a terminal, nothing otherwise (the caller prints a one-line summary at the end)."""

    def __init__(self, total: int, description: str, *, enabled: bool, stream: TextIO | None = None) -> None:
        stream = stream or sys.stderr
        self._bar = tqdm(total=total, desc=description, unit="file", file=stream, leave=False,
                         disable=not (enabled and stream.isatty()), dynamic_ncols=True)

    def update(self, count: int = 1) -> None:
        """Advance the bar."""
        self._bar.update(count)

    def close(self) -> None:
        """Remove the bar."""
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def count_changes(actions: Iterable[str]) -> dict[str, int]:
    """Return {action: count} for a list of change actions."""
    return dict(sorted(Counter(actions).items()))
