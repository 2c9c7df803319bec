"""The dcmrules runtime: plans in, edited DICOM files and reports out.

    from dcmrules.runtime import Context, apply_plan, load_plan, prepare, run_plan

Names are imported on first use, so `import dcmrules.runtime.apply` stays free of the compiler (and Lark).

A run, module by module: load.py (a rules file compiled or a plan checked, its key and tables) ->
files.py (inputs discovered, outputs mirrored) -> index.py with scan.py (first pass: headers only, the
identifier map) -> pool.py (--jobs processes) -> read.py with fastread.py (each file read, big values left on
disk) -> apply.py with targets.py, values.py, stored.py, remap.py and rawseq.py (the plan applied to the
data set) -> write.py (unchanged elements copied, the file written atomically) -> report.py.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "load_plan": "load", "read_plan": "load", "load_key": "load", "LoadedPlan": "load",
    "run_plan": "run", "RunReport": "report", "FileOutcome": "report",
    "prepare": "apply", "apply_plan": "apply", "identifier_changes": "apply", "Context": "apply",
    "Change": "apply", "ApplyError": "apply", "explain_file": "explain",
    "PlanError": "errors", "UsageError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"dcmrules.runtime.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'dcmrules.runtime' has no attribute {name!r}")
