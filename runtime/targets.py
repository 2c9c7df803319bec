"""A plan target (dict) and a pydicom Dataset in, the element locations it selects (existing, or insertable) out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any

from pydicom import config
from pydicom.charset import convert_encodings
from pydicom.datadict import dictionary_VR, keyword_for_tag, private_dictionary_VR
from pydicom.dataset import Dataset
from pydicom.hooks import hooks
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

#: Elements never converted nor decoded while walking a data set.
PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
_CHARSET_TAG = 0x00080005
_DEFAULT_ENCODINGS = ("iso8859",)

Loc = tuple[int, ...]  # (tag, item, tag, item, ..., tag): where an element sits


@dataclass(frozen=True)
class Step:
    """One parsed path step: a tag, a masked tag or a private (group, creator, element)."""

    kind: str  # "tag" | "mask" | "private"
    tag: int = 0  # the tag; for a mask, the tag with every X digit zeroed
    mask: int = 0xFFFFFFFF
    creator: str = ""
    vr: str | None = None
    item: int | str | None = None

    @property
    def group(self) -> int:
        return self.tag >> 16


@dataclass(frozen=True)
class ElementTarget:
    steps: tuple[Step, ...]
    any_depth: bool


@dataclass(frozen=True)
class PrivateTarget:
    creator: str | None


Target = ElementTarget | PrivateTarget


@dataclass(frozen=True, eq=False)
class Node:
    """A data set in the tree (the root or a sequence item) with its location and effective charset."""

    ds: Dataset
    loc: Loc
    encodings: tuple[str, ...]

    @cached_property
    def blocks(self) -> Mapping[tuple[int, str], tuple[int, ...]]:
        """{(group, creator): block numbers} of the private blocks reserved here, read on first use
        (selection, which happens before any edit)."""
        return _private_blocks(self.ds)


@dataclass(frozen=True, eq=False)
class Hit:
    """One selected element: existing, or missing (then `vr` says how to insert it)."""

    node: Node
    tag: int
    exists: bool
    vr: str | None = None
    new_creator: str | None = None  # a private insertion that must first reserve this creator's block

    @property
    def loc(self) -> Loc:
        return self.node.loc + (self.tag,)


@dataclass(frozen=True, eq=False)
class Index:
    """A Dataset's root node, and every data set and element below it, walked once on first use
    (targets that are plain paths never need the walk)."""

    root: Node

    @cached_property
    def entries(self) -> tuple[tuple[Node, int], ...]:
        """Every (node, tag), depth-first in tag order."""
        return tuple((node, tag) for node, tag, _ in walk(self.root))

    @cached_property
    def nodes(self) -> tuple[Node, ...]:
        """The root, then every node holding an element, in walk order."""
        return tuple({id(node): node for node, _ in ((self.root, 0), *self.entries)}.values())

    @cached_property
    def by_tag(self) -> Mapping[int, tuple[Node, ...]]:
        """The nodes holding each tag."""
        found: dict[int, list[Node]] = {}
        for node, tag in self.entries:
            found.setdefault(tag, []).append(node)
        return {tag: tuple(nodes) for tag, nodes in found.items()}


def parse_target(raw: Mapping) -> Target:
    """Turn a plan target into a matcher."""
    if raw["kind"] == "private":
        return PrivateTarget(raw["creator"])
    return ElementTarget(tuple(_parse_step(step) for step in raw["steps"]), bool(raw["any_depth"]))


def _parse_step(raw: Mapping) -> Step:
    item = raw.get("item")
    if "mask" in raw:
        text = raw["mask"]
        value = int(text.replace("X", "0"), 16)
        mask = int("".join("0" if c == "X" else "F" for c in text), 16)
        return Step("mask", value, mask, item=item)
    if "private" in raw:
        p = raw["private"]
        tag = (int(p["group"], 16) << 16) | int(p["element"], 16)
        return Step("private", tag, creator=p["creator"], vr=raw.get("vr"), item=item)
    return Step("tag", int(raw["tag"], 16), vr=raw.get("vr"), item=item)


def path_str(loc: Loc) -> str:
    """Format a location pydicom-style: "(0008,1140)[0].(0008,1155)"."""
    parts = []
    for i in range(0, len(loc), 2):
        tag = loc[i]
        text = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        parts.append(text + (f"[{loc[i + 1]}]" if i + 1 < len(loc) else ""))
    return ".".join(parts)


def value_text(tag: int, value: object) -> str:
    """A short text form of an element's value for reports."""
    if tag in PIXEL_TAGS:
        return "<pixel data>"
    if isinstance(value, Sequence):
        return f"<{len(value)} item(s)>"
    if isinstance(value, bytes):
        return repr(value) if len(value) <= 64 else f"<{len(value)} bytes>"
    if value is None:
        return ""
    if isinstance(value, (MultiValue, list)):
        return "\\".join(str(v) for v in value)
    return str(value)


def keyword_of(tag: int) -> str:
    """The dictionary keyword of a public tag, "" for private or unknown tags."""
    return "" if (tag >> 16) % 2 else keyword_for_tag(tag)


def make_node(ds: Dataset, loc: Loc = (), parent: tuple[str, ...] = _DEFAULT_ENCODINGS) -> Node:
    """Wrap a data set with its location and its effective charset (own or inherited)."""
    encodings = parent
    if _CHARSET_TAG in ds and ds[_CHARSET_TAG].value:
        encodings = tuple(convert_encodings(ds[_CHARSET_TAG].value))
    return Node(ds, loc, encodings)


def _private_blocks(ds: Dataset) -> dict[tuple[int, str], tuple[int, ...]]:
    blocks: dict[tuple[int, str], tuple[int, ...]] = {}
    for tag in sorted(ds.keys()):
        if tag >> 16 & 1 and 0x10 <= tag & 0xFFFF <= 0xFF:
            name = creator_text(ds[tag].value)
            key = (tag >> 16, name)
            blocks[key] = blocks.get(key, ()) + (tag & 0xFF,)
    return blocks


def creator_text(value: object) -> str:
    """A private creator value as text (creators read as UN arrive as bytes)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value if value is not None else "").strip(" \x00")


def creator_loc(loc: Loc) -> Loc | None:
    """The location of the creator element reserving a private element's block, None if there is none."""
    tag = loc[-1]
    if not (tag >> 16) & 1 or (tag & 0xFFFF) < 0x1000:
        return None
    return loc[:-1] + ((tag & 0xFFFF0000) | ((tag >> 8) & 0xFF),)


def sequence_items(node: Node, tag: int) -> Iterator[Node]:
    """The item nodes of a sequence element of `node` (nothing if it is not a parsed sequence)."""
    if tag in PIXEL_TAGS:
        return
    elem = node.ds[tag]
    if elem.VR == "SQ" and isinstance(elem.value, Sequence):
        for i, item in enumerate(elem.value):
            yield make_node(item, node.loc + (int(tag), i), node.encodings)


def element_vr(ds: Dataset, elem: Any) -> str:
    """The VR pydicom gives an element of `ds` (raw or not), without converting its value: a read
    element keeps its explicit VR unless that is UN; an implicit one gets its dictionary VR."""
    vr = elem.VR
    if not elem.is_raw or (vr is not None and vr != "UN" and config.data_element_callback is None):
        return str(vr)
    if config.data_element_callback is not None:  # a user callback may rewrite raw elements: convert
        return str(ds[elem.tag].VR)
    found: dict[str, Any] = {}
    hooks.raw_element_vr(elem, found, ds=ds, **hooks.raw_element_kwargs)
    return str(found["VR"])


def walk(node: Node, only: str | None = None) -> Iterator[tuple[Node, int, str]]:
    """Every (node, tag, VR) below and including `node` (only those of VR `only`, if given), depth-first
    in tag order. Only sequences are converted (to descend into them); other elements stay as read,
    their values undecoded. Tags are the data set's own keys, which pydicom looks up fastest."""
    ds, converting = node.ds, config.data_element_callback is not None
    for _, tag, elem in sorted(zip(map(int, ds.keys()), ds.keys(), ds.values()), key=itemgetter(0)):
        vr = elem.VR
        if elem.is_raw and (vr is None or vr == "UN" or converting):
            vr = element_vr(ds, elem)
        if only is None or vr == only:
            yield node, tag, str(vr)
        if vr == "SQ":
            for child in sequence_items(node, tag):
                yield from walk(child, only)


def build_index(ds: Dataset) -> Index:
    """Index a data set; nodes[0] is the root. The walk happens when a target first needs it."""
    return Index(make_node(ds))


def select(target: Target, index: Index, *, insert: bool) -> list[Hit]:
    """Every element the target selects; with insert=True a missing final element of a path is a Hit too."""
    if isinstance(target, PrivateTarget):
        return _select_private(target.creator, index)
    if not target.any_depth:
        return _walk_path(target.steps, index.root, insert)
    if len(target.steps) == 1 and target.steps[0].kind == "tag":
        tag = target.steps[0].tag
        return [Hit(node, tag, True) for node in index.by_tag.get(tag, ())]
    return [hit for node in index.nodes for hit in _walk_path(target.steps, node, False)]


def _select_private(creator: str | None, index: Index) -> list[Hit]:
    hits = []
    for node, tag in index.entries:
        if not (tag >> 16) & 1:
            continue
        if creator is None or _in_block(node, tag, creator):
            hits.append(Hit(node, tag, True))
    return hits


def _in_block(node: Node, tag: int, creator: str) -> bool:
    blocks = node.blocks.get((tag >> 16, creator), ())
    element = tag & 0xFFFF
    return element in blocks or (element >> 8) in blocks


def _walk_path(steps: tuple[Step, ...], start: Node, insert: bool) -> list[Hit]:
    frontier = [start]
    for step in steps[:-1]:
        frontier = [child for node in frontier for child in _step_items(step, node)]
    return [hit for node in frontier for hit in _final(steps[-1], node, insert)]


def _step_items(step: Step, node: Node) -> list[Node]:
    children = []
    for tag in _existing(step, node):
        items = list(sequence_items(node, tag))
        if step.item == "*":
            children.extend(items)
        elif isinstance(step.item, int) and step.item < len(items):
            children.append(items[step.item])
    return children


def _existing(step: Step, node: Node) -> list[int]:
    if step.kind == "tag":
        return [step.tag] if step.tag in node.ds else []
    if step.kind == "mask":
        return [t for t in sorted(node.ds.keys()) if t & step.mask == step.tag]
    blocks = node.blocks.get((step.group, step.creator), ())
    tags = [(step.tag & 0xFFFF0000) | (block << 8) | (step.tag & 0xFF) for block in blocks]
    return [t for t in tags if t in node.ds]


def _final(step: Step, node: Node, insert: bool) -> list[Hit]:
    hits = [Hit(node, tag, True) for tag in _existing(step, node)]
    if hits or not insert or step.kind == "mask":
        return hits
    if step.kind == "tag":
        vr = step.vr or _dictionary_vr(step.tag)
        return [Hit(node, step.tag, False, vr)] if vr and step.tag & 0xFFFF else []
    return _private_insertion(step, node)


def _private_insertion(step: Step, node: Node) -> list[Hit]:
    vr = step.vr or _private_vr(step)
    if not vr:
        return []
    blocks = node.blocks.get((step.group, step.creator), ())
    new_creator = None
    if not blocks:
        free = [b for b in range(0x10, 0x100) if (step.tag & 0xFFFF0000) | b not in node.ds]
        if not free:
            return []
        blocks, new_creator = (free[0],), step.creator
    tag = (step.tag & 0xFFFF0000) | (blocks[0] << 8) | (step.tag & 0xFF)
    return [Hit(node, tag, False, vr, new_creator)]


def _dictionary_vr(tag: int) -> str | None:
    try:
        return str(dictionary_VR(tag)).split(" or ")[0]
    except KeyError:
        return None


def _private_vr(step: Step) -> str | None:
    try:
        return str(private_dictionary_VR((step.tag & 0xFFFF0000) | 0x1000 | (step.tag & 0xFF), step.creator))
    except KeyError:
        return None
