"""Source text in, positions out: spans (1-based, end exclusive) and line excerpts for messages."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a rules file: 1-based line and column, end exclusive (as Lark, ruff and SARIF)."""

    line: int
    column: int
    end_line: int
    end_column: int

    def __lt__(self, other: Span) -> bool:
        return (self.line, self.column) < (other.line, other.column)

    def cover(self, other: Span) -> Span:
        """The smallest span containing both."""
        start = min(self, other)
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(start.line, start.column, *end)


@dataclass(frozen=True)
class Source:
    """A rules file's text and the path used in messages ("<string>" when it has none)."""

    text: str
    path: str = "<string>"

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        return starts

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def end_span(self) -> Span:
        """A one-character span just past the last character (for end-of-file messages)."""
        line, column = self.position(len(self.text))
        return Span(line, column, line, column + 1)

    def line_text(self, line: int) -> str:
        lines = self.lines
        return lines[line - 1].rstrip("\r") if 1 <= line <= len(lines) else ""
