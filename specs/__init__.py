"""Language-neutral truth shipped as package data: the plan schema, tables, profiles, examples."""

from importlib.resources import files
from importlib.resources.abc import Traversable


def resource(*parts: str) -> Traversable:
    """Return a file shipped in dcmrules.specs, e.g. resource("tables", "levels.tsv")."""
    node = files("dcmrules.specs")
    for part in parts:
        node = node / part
    return node
