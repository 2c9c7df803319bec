"""Regenerate specs/tables/levels.tsv from the shared standard tables.

Not shipped (specs/tools is not a package). Run from the repository root:
    python specs/tools/make_tables.py [SHARED_STANDARD_DIR]
"""

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = ROOT.parent / "shared" / "standard"


def make_levels(source: Path, target: Path) -> None:
    with (source / "attribute-levels.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    with target.open("w", encoding="utf-8", newline="\n") as out:
        out.write("tag\tkeyword\tlevel\tconsistent\n")
        for row in sorted(rows, key=lambda r: r["tag"]):
            out.write(f"{row['tag']}\t{row['keyword']}\t{row['level'].lower()}\t{row['consistent']}\n")


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    make_levels(src, ROOT / "specs" / "tables" / "levels.tsv")
