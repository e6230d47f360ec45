"""Chest ImaGenome region names, the region hierarchy (``regions.yaml``), the deterministic
specificity decider over it, and the check of the hierarchy against box containment."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from itertools import chain
from pathlib import Path

import numpy as np
import yaml

# The 36 silver-dataset regions with boxes (medvqa CHEST_IMAGENOME_BBOX_NAMES), in a fixed order
# used to sort region lists everywhere (rows, LLM requests, report tables).
BBOX_NAMES: tuple[str, ...] = (
    "right lung",
    "right upper lung zone",
    "right mid lung zone",
    "right lower lung zone",
    "right hilar structures",
    "right apical zone",
    "right costophrenic angle",
    "right cardiophrenic angle",
    "right hemidiaphragm",
    "left lung",
    "left upper lung zone",
    "left mid lung zone",
    "left lower lung zone",
    "left hilar structures",
    "left apical zone",
    "left costophrenic angle",
    "left cardiophrenic angle",
    "left hemidiaphragm",
    "trachea",
    "spine",
    "right clavicle",
    "left clavicle",
    "aortic arch",
    "mediastinum",
    "upper mediastinum",
    "svc",
    "cardiac silhouette",
    "left cardiac silhouette",
    "right cardiac silhouette",
    "cavoatrial junction",
    "right atrium",
    "descending aorta",
    "carina",
    "left upper abdomen",
    "right upper abdomen",
    "abdomen",
)
# Regions the NLP pipeline names in `attributes` but that have no box in `objects`.
TEXT_ONLY_NAMES: tuple[str, ...] = (
    "neck",
    "left chest wall",
    "right chest wall",
    "left shoulder",
    "right shoulder",
    "left arm",
    "right arm",
    "left breast",
    "right breast",
)
_ORDER = {name: i for i, name in enumerate(BBOX_NAMES + TEXT_ONLY_NAMES)}

HIERARCHY_FILE = "regions.yaml"
CONTAINMENT_THRESHOLD = 0.9  # share of the child box's area inside the parent box
CANDIDATE_SHARE = 0.95  # a pair outside the hierarchy nests in at least this share of images


def region_order(names: Iterable[str]) -> list[str]:
    """Regions in the fixed Chest ImaGenome order; unknown names last, alphabetically."""
    return sorted(set(names), key=lambda n: (_ORDER.get(n, len(_ORDER)), n))


class HierarchyError(ValueError):
    pass


@dataclass(frozen=True)
class Hierarchy:
    """Parent → direct children over bbox names; ``descendants`` is the transitive closure."""

    children: Mapping[str, tuple[str, ...]]
    source: str  # file name, for provenance
    sha256: str

    @classmethod
    def load(cls, path: Path | None = None) -> Hierarchy:
        if path is None:
            text = resources.files(__package__).joinpath(HIERARCHY_FILE).read_text("utf-8")
            source = HIERARCHY_FILE
        else:
            text = Path(path).read_text(encoding="utf-8")
            source = str(path)
        return cls.parse(text, source)

    @classmethod
    def parse(cls, text: str, source: str = "<text>") -> Hierarchy:
        data = yaml.safe_load(text) or {}
        raw = data.get("children") if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            raise HierarchyError(f"{source}: expected a 'children' mapping")
        children: dict[str, tuple[str, ...]] = {}
        for parent, kids in raw.items():
            if not isinstance(kids, list) or not all(isinstance(k, str) for k in kids):
                raise HierarchyError(f"{source}: children of {parent!r} must be a list of names")
            children[str(parent)] = tuple(kids)
        hierarchy = cls(children, source, hashlib.sha256(text.encode("utf-8")).hexdigest())
        unknown = sorted({n for p, ks in children.items() for n in (p, *ks)} - set(BBOX_NAMES))
        if unknown:
            raise HierarchyError(f"{source}: not Chest ImaGenome bbox names: {', '.join(unknown)}")
        for name, below in hierarchy.descendants.items():
            if name in below:
                raise HierarchyError(f"{source}: cycle through {name!r}")
        return hierarchy

    @cached_property
    def tag(self) -> str:
        return f"hierarchy:{Path(self.source).name}@{self.sha256[:12]}"

    @cached_property
    def descendants(self) -> dict[str, frozenset[str]]:
        closure: dict[str, frozenset[str]] = {}

        def walk(name: str, path: tuple[str, ...]) -> frozenset[str]:
            if name in closure:
                return closure[name]
            found: set[str] = set()
            for child in self.children.get(name, ()):
                if child in path:  # a cycle: report it through the check in parse()
                    found.add(child)
                    continue
                found.add(child)
                found |= walk(child, (*path, child))
            closure[name] = frozenset(found)
            return closure[name]

        for name in self.children:
            walk(name, (name,))
        return closure

    @cached_property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every (ancestor, descendant) pair, in the fixed region order."""
        return tuple(
            (parent, child)
            for parent in region_order(self.descendants)
            for child in region_order(self.descendants[parent])
        )

    def most_specific(self, regions: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """Keep the regions with no descendant among the others. Returns (kept, dropped → the
        most specific descendant that made it redundant)."""
        present = set(regions)
        kept, dropped = [], {}
        for name in region_order(present):
            below = self.descendants.get(name, frozenset()) & present
            if below:
                dropped[name] = region_order(below)[-1]
            else:
                kept.append(name)
        return kept, dropped


CANDIDATE_SAMPLE = 8  # the all-pairs matrix (for candidates) is filled from every 8th image
CONTAINMENT_BATCH = 256  # images checked in one vectorised pass (its arrays stay in cache)


@dataclass
class ContainmentCheck:
    """Accumulates how often each hierarchy pair's boxes nest, over every image, and (for pairs
    outside the hierarchy) over a sample of images. Bounded memory: counters, two 36×36
    matrices and the boxes of at most ``CONTAINMENT_BATCH`` images, which are checked together
    (numpy's per-call cost is most of the work for one image's 36 boxes)."""

    hierarchy: Hierarchy
    threshold: float = CONTAINMENT_THRESHOLD
    sample_every: int = CANDIDATE_SAMPLE
    images: int = 0
    sampled_images: int = 0
    both: np.ndarray = field(default_factory=lambda: np.zeros((36, 36), np.int64))
    nested: np.ndarray = field(default_factory=lambda: np.zeros((36, 36), np.int64))

    def __post_init__(self) -> None:
        pairs = self.hierarchy.pairs
        self._parent = np.array([_ORDER[p] for p, _ in pairs], np.intp)
        self._child = np.array([_ORDER[c] for _, c in pairs], np.intp)
        self.pair_both = np.zeros(len(pairs), np.int64)
        self.pair_nested = np.zeros(len(pairs), np.int64)
        # the waiting images, flat: per box its image (0, 1, ...), its grid row, 4 coordinates
        self._waiting = 0
        self._image: list[int] = []
        self._row: list[int] = []
        self._coords: list[float] = []
        self._rows: dict[tuple[str, ...], list[int]] = {}  # names -> grid rows (few distinct)

    def add(self, boxes: Mapping[str, tuple[float, float, float, float]]) -> None:
        """``boxes``: bbox name → valid box of one image."""
        if len(boxes) < 2:
            return
        self.images += 1
        names = tuple(boxes)
        rows = self._rows.get(names)
        if rows is None:  # row 36 takes any name outside the 36
            rows = [min(_ORDER.get(n, 99), 36) for n in names]
            if len(self._rows) < 1 << 12:
                self._rows[names] = rows
        self._row += rows
        self._image += [self._waiting] * len(rows)
        self._coords += chain.from_iterable(boxes.values())
        self._waiting += 1
        if self._waiting >= CONTAINMENT_BATCH:
            self.flush()

    def flush(self) -> None:
        """Check the waiting images: every pair of the hierarchy in each, and the all-pairs
        matrix in each ``sample_every``-th image (counted from the build's first)."""
        if not self._waiting:
            return
        first = self.images - self._waiting  # index of the first waiting image
        grid = np.full((self._waiting, 37, 4), np.nan)
        coords = np.fromiter(self._coords, np.float64, len(self._coords)).reshape(-1, 4)
        grid[np.array(self._image, np.intp), np.array(self._row, np.intp)] = coords
        self._waiting, self._image, self._row, self._coords = 0, [], [], []
        p, c = grid[:, self._parent], grid[:, self._child]
        present = ~(np.isnan(p[..., 0]) | np.isnan(c[..., 0]))
        iw = np.minimum(p[..., 2], c[..., 2]) - np.maximum(p[..., 0], c[..., 0])
        ih = np.minimum(p[..., 3], c[..., 3]) - np.maximum(p[..., 1], c[..., 1])
        area = (c[..., 2] - c[..., 0]) * (c[..., 3] - c[..., 1])
        with np.errstate(invalid="ignore"):
            inside = present & (iw > 0) & (ih > 0) & (iw * ih >= self.threshold * area)
        self.pair_both += present.sum(axis=0)
        self.pair_nested += inside.sum(axis=0)
        sampled = [k for k in range(len(grid)) if (first + k) % self.sample_every == 0]
        self._add_matrix(grid[sampled, :36])

    def _add_matrix(self, grid: np.ndarray) -> None:
        """``grid``: (images, 36, 4); images with fewer than two known boxes are not counted."""
        known = ~np.isnan(grid[..., 0])
        keep = known.sum(axis=1) >= 2
        b, known = grid[keep], known[keep]
        if not len(b):
            return
        self.sampled_images += len(b)
        ix1 = np.maximum(b[:, :, None, 0], b[:, None, :, 0])
        iy1 = np.maximum(b[:, :, None, 1], b[:, None, :, 1])
        ix2 = np.minimum(b[:, :, None, 2], b[:, None, :, 2])
        iy2 = np.minimum(b[:, :, None, 3], b[:, None, :, 3])
        with np.errstate(invalid="ignore"):
            inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
            area = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
            # nested[p, c]: box c lies (at least `threshold` of it) inside box p
            both = known[:, :, None] & known[:, None, :]
            self.both += both.sum(axis=0)
            self.nested += (both & (inter >= self.threshold * area[:, None, :])).sum(axis=0)

    def edges(self) -> list[dict]:
        """One entry per (ancestor, descendant) pair of the hierarchy."""
        self.flush()
        rows = []
        for i, (parent, child) in enumerate(self.hierarchy.pairs):
            both, nested = int(self.pair_both[i]), int(self.pair_nested[i])
            rows.append(
                {
                    "parent": parent,
                    "child": child,
                    "images_with_both": both,
                    "child_inside_parent": nested,
                    "violations": both - nested,
                    "share_inside": round(nested / both, 4) if both else None,
                }
            )
        return rows

    def candidates(self, share: float = CANDIDATE_SHARE, min_images: int = 1) -> list[dict]:
        """Pairs outside the hierarchy whose boxes nest in at least ``share`` of the sampled
        images that have both: parent/child relations the file may be missing."""
        self.flush()
        known = set(self.hierarchy.pairs)
        rows = []
        for p, parent in enumerate(BBOX_NAMES):
            for c, child in enumerate(BBOX_NAMES):
                both = int(self.both[p, c])
                if p == c or both < min_images or (parent, child) in known:
                    continue
                nested = int(self.nested[p, c])
                # mutual nesting means two near-identical boxes, not a parent and a child
                if nested / both >= share and self.nested[c, p] / both < share:
                    rows.append(
                        {
                            "parent": parent,
                            "child": child,
                            "images_with_both": both,
                            "share_inside": round(nested / both, 4),
                        }
                    )
        return rows

    def summary(self) -> dict:
        edges = self.edges()
        checked = [e for e in edges if e["images_with_both"]]
        return {
            "threshold": self.threshold,
            "images": self.images,
            "candidate_sample": f"every {self.sample_every}th image ({self.sampled_images})",
            "pairs": len(edges),
            "pairs_seen": len(checked),
            "pair_images_checked": sum(e["images_with_both"] for e in edges),
            "violations": sum(e["violations"] for e in edges),
            "pairs_with_violations": sum(1 for e in checked if e["violations"]),
            "candidate_pairs_outside_hierarchy": len(self.candidates()),
        }
