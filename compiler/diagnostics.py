"""The registry of diagnostic codes, and the Diagnostic value every compiler stage yields."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dcmrules.compiler.source import Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Code:
    """A stable diagnostic code (DR204) with its kebab-case name, severity and one-line summary."""

    id: str
    name: str
    severity: Severity
    summary: str


E, W = Severity.ERROR, Severity.WARNING

# -- syntax ------------------------------------------------------------------
SYNTAX_ERROR = Code("DR001", "syntax-error", E, "the line is not a valid statement")
TOO_MANY_ERRORS = Code("DR002", "too-many-errors", E, "the parser stopped after many syntax errors")
# -- names and the DICOM dictionary ------------------------------------------
UNKNOWN_KEYWORD = Code("DR101", "unknown-keyword", E, "not a keyword of the DICOM dictionary")
MALFORMED_TAG = Code("DR102", "malformed-tag", E, "a tag that is not (gggg,eeee), a mask or a private tag")
MALFORMED_PATH = Code("DR103", "malformed-path", E, "a path whose steps are not item-indexed sequences")
RETIRED_KEYWORD = Code("DR104", "retired-keyword", W, "the attribute is retired from the standard")
FILE_META_EDIT = Code("DR105", "file-meta-edit", E, "the target is in the file meta group (0002,xxxx)")
UNKNOWN_ANNOTATION = Code("DR106", "unknown-annotation", E, "not one of @patient @study @series @instance @force")
CONFLICTING_ANNOTATIONS = Code("DR107", "conflicting-annotations", E, "two levels, or one annotation twice")
UNKNOWN_FUNCTION = Code("DR108", "unknown-function", E, "not a value function of the language")
UNKNOWN_PROFILE = Code("DR109", "unknown-profile", E, "not a profile or edition shipped with dcmrules")
UNKNOWN_OPTION = Code("DR110", "unknown-option", E, "not a PS3.15 option")
OPTION_WITHOUT_PROFILE = Code("DR111", "option-without-profile", E, "an option line with no profile line")
DUPLICATE_PROFILE = Code("DR112", "duplicate-profile", E, "more than one profile line, or an option twice")
INVALID_TARGET = Code("DR113", "invalid-target", E, "the action cannot apply to this kind of target")
CONFLICTING_OPTIONS = Code("DR114", "conflicting-options", E, "two options that cannot be combined")
# -- levels and identifiers (Orthanc's rules, made static) --------------------
UPWARD_EDIT = Code("DR201", "upward-edit", E, "the attribute lives above the statement's level")
FORCED_UPWARD_EDIT = Code("DR202", "forced-upward-edit", W, "an upward edit accepted with @force")
PARENT_IDENTIFIER = Code("DR203", "parent-identifier", E, "a parent level's identifier edited from below")
IDENTIFIER_NEEDS_FORCE = Code("DR204", "identifier-needs-force", E, "replace or keep of an identifier without @force")
IDENTIFIER_REMOVAL = Code("DR205", "identifier-removal", E, "remove of PatientID or an instance UID")
MERGE_BY_CONSTANT = Code("DR206", "merge-by-constant", E, "a lower level's identifier set to one value from above")
INPUT_LEVEL = Code("DR207", "input-level", E, "the value reads an attribute below the statement's level")
PATIENT_IDENTITY = Code("DR208", "patient-identity", E, "patient edits without a new or kept PatientID")
IDENTIFIER_CASCADE = Code("DR209", "identifier-cascade", W, "a UID regenerated without the UIDs below it")
UNNECESSARY_FORCE = Code("DR210", "unnecessary-force", W, "@force where nothing needs it")
CONSTANT_IDENTIFIER = Code("DR211", "constant-identifier", W, "an identifier set to one constant for the whole run")
# -- conflicts ----------------------------------------------------------------
CONFLICTING_STATEMENTS = Code("DR301", "conflicting-statements", E, "two statements disagree on one target")
DUPLICATE_STATEMENT = Code("DR302", "duplicate-statement", W, "the same statement twice")
# -- values -------------------------------------------------------------------
INVALID_VALUE = Code("DR401", "invalid-value", E, "a literal that is not valid for the target's VR")
FUNCTION_VR_MISMATCH = Code("DR402", "function-vr-mismatch", E, "a function that cannot produce the target's VR")
BAD_ARGUMENTS = Code("DR403", "bad-arguments", E, "wrong number, names or kinds of function arguments")
LOOKUP_TABLE = Code("DR404", "lookup-table", E, "a lookup table that is missing or not a two-column CSV")

CODES: tuple[Code, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Code))


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a code, a message and a help line, at a span of one file."""

    code: Code
    message: str
    span: Span
    help: str = ""
    path: str = "<string>"

    @property
    def severity(self) -> str:
        return self.code.severity.value

    @property
    def name(self) -> str:
        return self.code.name

    @property
    def is_error(self) -> bool:
        return self.code.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.column, self.code.id)

    def __str__(self) -> str:
        s = self.span
        return f"{self.path}:{s.line}:{s.column}: {self.severity} {self.code.id} {self.message}"


def diagnostic(code: Code, message: str, span: Span, help: str = "") -> Diagnostic:
    """Build a diagnostic; the path is filled in by the compiler's façade."""
    return Diagnostic(code=code, message=message, span=span, help=help)
