"""Loaders for the data-driven tests: rules files with inline `# expect: CODE` markers.

A line `# ---` splits a fixture into independent cases: each case is compiled on its
own (other cases blanked, so line numbers stay those of the file).
"""

from __future__ import annotations

import re
from pathlib import Path

EXPECT = re.compile(r"#\s*expect:\s*(.+)$")
CODE = re.compile(r"^DR\d{3}$")
SEPARATOR = "# ---"


def expectations(text: str) -> set[tuple[int, str]]:
    """{(line, code)} from markers such as `# expect: DR201 DR204` at the end of a line."""
    found = set()
    for number, line in enumerate(text.splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            for word in match.group(1).split():
                assert CODE.match(word), f"line {number}: bad marker {word!r}"
                found.add((number, word))
    return found


def cases(text: str) -> list[str]:
    """The fixture's independent cases, each the whole file with the other cases blanked."""
    lines = text.split("\n")
    bounds = [i for i, line in enumerate(lines) if line.strip() == SEPARATOR]
    starts, ends = [0, *(b + 1 for b in bounds)], [*bounds, len(lines)]
    return ["\n".join(line if start <= i < end else "" for i, line in enumerate(lines))
            for start, end in zip(starts, ends)]


def files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))
