"""A lookup table's text in, its {original: new} mapping out (or a ValueError naming the bad row).

One reader for the compiler, which checks a table when it compiles `lookup(...)`, and the
runtime, which loads it (after checking its sha256) before any file is touched.
"""

from __future__ import annotations

import csv
import io


def parse_table(text: str) -> dict[str, str]:
    """Parse a lookup table: CSV (RFC 4180 quoting), two columns original,new, one optional header
    row exactly "original,new"; blank lines skipped; cells stripped of surrounding spaces.
    A row without exactly two cells, an empty original, or an original listed twice with different
    new values raises ValueError naming the row."""
    table: dict[str, str] = {}
    rows = csv.reader(io.StringIO(text))
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not cells or cells == [""]:
            continue
        if number == 1 and [c.lower() for c in cells] == ["original", "new"]:
            continue
        if len(cells) != 2 or not cells[0]:
            raise ValueError(f"row {number}: expected two cells 'original,new', got {len(cells)}")
        if table.get(cells[0], cells[1]) != cells[1]:
            raise ValueError(f"row {number}: {cells[0]!r} is mapped twice to different values")
        table[cells[0]] = cells[1]
    return table
