"""Step 1: invert a scene graph's region → phrases into sentence → regions, each region with its
box from ``objects`` (original-image pixels, clipped to the image; degenerate boxes dropped and
counted) and each sentence with the union of its attribute flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from medbench.builders.gmpg_imagenome.regions import region_order
from medbench.builders.gmpg_imagenome.reports import phrase_key_and_text
from medbench.builders.gmpg_imagenome.scene_graph import Box, SceneGraph, SceneGraphError

# Why a linked region has no box in the row (the cleanup trail's ``decided_by``).
NO_OBJECT = "no-object"  # text-only region (breast, chest wall, ...) or object missing
DEGENERATE = "degenerate-box"  # zero area once clipped to the image


@dataclass(slots=True)
class Sentence:
    """One sentence of one image and the regions the scene graph links it to."""

    text: str  # as stored in the row: whitespace collapsed
    key: str  # normalised text (reports.normalise)
    regions: tuple[str, ...]  # every linked region, in the fixed region order
    boxes: dict[str, Box]  # region -> valid clipped box (a subset of regions)
    no_box: dict[str, str]  # region -> NO_OBJECT | DEGENERATE
    flags: tuple[str, ...]  # union of the phrase's attribute strings over its regions, sorted
    from_report: bool = False  # added by stage 3 (no region in the scene graph)


def clip_box(box: Box, size: tuple[int, int] | None) -> Box | None:
    """Clip to the image (to x, y >= 0 only when its size is unknown); None if no area is left."""
    x1, y1, x2, y2 = box
    x1, y1 = max(x1, 0.0), max(y1, 0.0)
    if size is not None:
        width, height = size
        x2, y2 = min(x2, float(width)), min(y2, float(height))
        x1, y1 = min(x1, float(width)), min(y1, float(height))
    if x2 <= x1 or y2 <= y1:
        return None
    return (x1, y1, x2, y2)


@dataclass
class ValidBoxes:
    """The image's clipped boxes, computed once per image for every sentence that links them."""

    boxes: dict[str, Box] = field(default_factory=dict)
    degenerate: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, graph: SceneGraph, size: tuple[int, int] | None) -> ValidBoxes:
        """``clip_box`` over every object, inlined: it runs for all 36 objects of every image."""
        out = cls()
        boxes, degenerate = out.boxes, out.degenerate
        width, height = (float(size[0]), float(size[1])) if size else (float("inf"),) * 2
        for region, box in graph.boxes.items():
            x1, y1, x2, y2 = box
            if 0.0 <= x1 < x2 <= width and 0.0 <= y1 < y2 <= height:
                boxes[region] = box  # inside the image, with area: nothing to clip
                continue
            x1 = 0.0 if x1 < 0.0 else (width if x1 > width else x1)
            y1 = 0.0 if y1 < 0.0 else (height if y1 > height else y1)
            x2 = width if x2 > width else x2
            y2 = height if y2 > height else y2
            if x2 <= x1 or y2 <= y1:
                degenerate.append(region)
            else:
                boxes[region] = (x1, y1, x2, y2)
        return out


@dataclass(slots=True)
class Group:
    """A phrase of the graph, before boxes: its text, linked regions and flags."""

    text: str
    regions: set[str]
    flags: set[str]


def group_mentions(graph: SceneGraph) -> dict[str, Group]:
    """Normalised phrase -> Group, in first-mention order; a phrase linked to several regions
    (or repeated under one) is one group. Text that is not valid Unicode (a lone surrogate
    from a ``\\ud800`` escape) makes the graph unreadable: it could not be written."""
    groups: dict[str, Group] = {}
    # raw phrase -> (key, text): a phrase is usually linked to several regions
    keys: dict[str, tuple[str, str]] = {}
    try:
        for region, phrase, flags in graph.mentions:
            known = keys.get(phrase)
            if known is None:
                if not phrase.isascii():  # isascii() is O(1); ASCII text is valid UTF-8
                    phrase.encode("utf-8")
                known = keys[phrase] = phrase_key_and_text(phrase)
            key = known[0]
            if not key:
                continue
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(known[1], set(), set())
            group.regions.add(region)
            group.flags.update(flags)
        for group in groups.values():
            for flag in group.flags:
                if flag.__class__ is not str:
                    raise TypeError(f"attribute {flag!r} is not a string")
                if not flag.isascii():
                    flag.encode("utf-8")
            for region in group.regions:
                if not region.isascii():
                    region.encode("utf-8")
    except TypeError as exc:
        raise SceneGraphError(f"malformed attributes: {exc}") from None
    except UnicodeError as exc:
        raise SceneGraphError(f"not UTF-8 text: {exc}") from None
    return groups


@lru_cache(maxsize=1 << 14)  # region sets repeat: a few hundred distinct ones in practice
def _ordered(regions: frozenset[str]) -> tuple[str, ...]:
    return tuple(region_order(regions))


def invert(groups: dict[str, Group], valid: ValidBoxes) -> list[Sentence]:
    """Sentences (one per group) with each linked region's valid box, or why it has none."""
    degenerate = set(valid.degenerate)
    sentences = []
    for key, group in groups.items():
        boxes, no_box = {}, {}
        ordered = _ordered(frozenset(group.regions))
        for region in ordered:
            box = valid.boxes.get(region)
            if box is not None:
                boxes[region] = box
            else:
                no_box[region] = DEGENERATE if region in degenerate else NO_OBJECT
        flags = tuple(sorted(group.flags))
        sentences.append(Sentence(group.text, key, ordered, boxes, no_box, flags))
    return sentences
