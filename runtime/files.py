"""Input files for runs: input paths in, (source, output) pairs, DICOM sniffing and header-only reads out.

Decisions (documented in the README):
- Output paths mirror each input folder's relative paths; a file given directly lands at OUTDIR/<name>.
- A file is DICOM when it has 'DICM' at byte 128, or (no preamble) starts with a group 0002 or 0008 element
  in either byte order; anything else is skipped as not DICOM. A DICOMDIR is skipped too.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydicom.dataset import Dataset
from pydicom.filereader import read_partial

from dcmrules.runtime.errors import UsageError

TEMP_SUFFIX = ".dcmrules-tmp"
PIXEL_DATA = 0x7FE00010
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
MEDIA_STORAGE_SOP_CLASS = 0x00020002


class ReadFailure(Exception):
    """A DICOM file that cannot be processed; the message is the report's reason."""


@dataclass(frozen=True)
class Source:
    """One input file, its position in the run and where its output goes (None for a dry run without -o).

    Paths are kept as text: a run holds one Source per file, so they are kept small.
    """

    index: int
    input: str
    target: str | None
    collision: str | None = None

    @property
    def path(self) -> Path:
        """The input file."""
        return Path(self.input)

    @property
    def output(self) -> Path | None:
        """The output file, or None."""
        return None if self.target is None else Path(self.target)


# -- discovery ------------------------------------------------------------------------------------------


def discover(inputs: Iterable[str | os.PathLike[str]], outdir: Path | None) -> list[Source]:
    """Return every input file (folders recursively, sorted) with its mirrored output path, in input order."""
    roots = [Path(p) for p in inputs]
    for root in roots:
        if not root.exists():
            raise UsageError(f"{root}: no such file or folder")
    if outdir is not None:
        _refuse_output_inside_input(roots, outdir)
    sources: list[Source] = []
    seen_inputs: set[str] = set()
    claimed: dict[str, str] = {}
    out = str(outdir) if outdir is not None else None
    for root in roots:
        real = os.path.realpath(root)
        for path, relative in _walk(root):
            resolved = os.path.join(real, relative) if root.is_dir() else real
            if resolved in seen_inputs:
                continue
            seen_inputs.add(resolved)
            collision = _claim(claimed, relative, path)
            sources.append(Source(len(sources), path, os.path.join(out, relative) if out else None, collision))
    return sources


def _claim(claimed: dict[str, str], relative: str, path: str) -> str | None:
    first = claimed.setdefault(relative, path)
    if first == path:
        return None
    return f"output path {relative} is already taken by {first}"


def _walk(root: Path) -> Iterator[tuple[str, str]]:
    """Yield (path, path relative to root) of every file under root, sorted, temporaries left out."""
    if root.is_file():
        yield str(root), root.name
        return
    top = str(root)
    for folder, dirs, files in os.walk(top):
        dirs.sort()
        base = os.path.relpath(folder, top)
        for name in sorted(files):
            if not name.endswith(TEMP_SUFFIX):
                yield os.path.join(folder, name), name if base == "." else os.path.join(base, name)


def _refuse_output_inside_input(roots: list[Path], outdir: Path) -> None:
    out = outdir.resolve()
    for root in roots:
        resolved = root.resolve()
        if root.is_dir() and (out == resolved or out.is_relative_to(resolved)):
            raise UsageError(f"the output folder {outdir} is inside the input folder {root}; "
                             "choose a folder outside it")
        if root.is_file() and out == resolved.parent:
            raise UsageError(f"the output folder {outdir} holds the input file {root}; it would be overwritten")
        if root.is_file() and out == resolved:
            raise UsageError(f"the output {outdir} is the input file itself")


def clean_temporaries(outdir: Path) -> int:
    """Delete temporary files a killed run left in outdir; return how many."""
    removed = 0
    if not outdir.is_dir():
        return 0
    for folder, _dirs, files in os.walk(outdir):
        for name in files:
            if name.endswith(TEMP_SUFFIX):
                Path(folder, name).unlink(missing_ok=True)
                removed += 1
    return removed


# -- reading --------------------------------------------------------------------------------------------


PathOrFile = Path | BinaryIO


@contextmanager
def opened(source: PathOrFile) -> Iterator[BinaryIO]:
    """Yield an open binary file at its start: the one given, or the path opened (and closed after)."""
    if isinstance(source, Path):
        with open(source, "rb") as fp:
            yield fp
    else:
        source.seek(0)
        yield source


def sniff(source: PathOrFile) -> str | None:
    """Return 'part10' (preamble + DICM), 'raw' (a bare data set) or None when the file is not DICOM."""
    with opened(source) as fp:
        head = fp.read(132)
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "part10"
    if len(head) < 8:
        return None
    for order in ("little", "big"):
        group = int.from_bytes(head[0:2], order)  # type: ignore[arg-type]
        element = int.from_bytes(head[2:4], order)  # type: ignore[arg-type]
        if group in (0x0002, 0x0008) and element <= 0x00FF:
            return "raw"
    return None


NOT_DICOM = "not a DICOM file (no 'DICM' prefix at byte 128 and no data element at the start)"


def read_header(source: PathOrFile, kind: str, tags: Iterable[int] | None = None) -> Dataset:
    """Read the file meta and the given top-level tags (None: every element before the pixel data)."""
    wanted = sorted(tags) if tags is not None else None
    limit = min(wanted[-1], PIXEL_DATA - 1) if wanted else PIXEL_DATA - 1

    def stop(tag: int, _vr: object, _length: int) -> bool:
        return tag > limit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with opened(source) as fp:
            return read_partial(fp, stop_when=stop, force=kind == "raw", specific_tags=wanted)  # type: ignore[arg-type]


def describe_error(exc: BaseException) -> str:
    """Return 'ExceptionType: first line of its message' for a report reason."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_dicomdir(ds: Dataset) -> bool:
    """Tell whether a data set is a DICOMDIR (file-set index), which the runner does not rewrite."""
    from dcmrules.runtime.stored import stored_val  # files.py stays below the value modules

    meta = getattr(ds, "file_meta", None)
    if meta is not None and MEDIA_STORAGE_SOP_CLASS in meta:
        if stored_val(meta, MEDIA_STORAGE_SOP_CLASS) == (DICOMDIR_CLASS,):
            return True
    return 0x00041220 in ds


DICOMDIR_REASON = ("DICOMDIR (a file-set index) is not rewritten: its byte offsets would break; "
                   "rebuild it from the output")
