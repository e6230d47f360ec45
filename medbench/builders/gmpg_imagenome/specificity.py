"""Stage 1 of the cleanup (paper 002 sec. 3.4.1): keep only the most specific regions of each
sentence, dropping redundant parents ("right lung" next to "right lower lung zone").

Two deciders: the region hierarchy (``regions.yaml``, deterministic) and an LLM (Llama-3-70B in
the paper) asked through the LLM layer with the ``imagenome-region-specificity`` prompt. Only
sentences with two or more boxed regions need a decision. LLM requests are de-duplicated over
(normalised sentence, region set): "No pneumothorax." linked to the same regions is asked
once however many reports say it; both counts are reported. With ``both``, rows follow the
LLM (the paper's decider) and the report gives the two deciders' agreement. A request the LLM
fails to answer validly falls back to the hierarchy, and the trail says so. An LLM that has
answered nothing at all in the build (server unreachable, wrong URL, refused key) is a setup
error, not a run of fallbacks: ``LLMUnavailable``. To find that out fast, until the first answer
arrives each batch sends one request ahead of the rest.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from medbench.builders.gmpg_imagenome.regions import Hierarchy, region_order
from medbench.llm.runner import LLMClient, LLMRequest, LLMResult
from medbench.prompts import load_template

PROMPT_ID = "imagenome-region-specificity"
MODES = ("hierarchy", "llm", "both")
MAX_DISAGREEMENTS = 200  # listed in report/specificity_disagreements.csv


class LLMUnavailable(RuntimeError):
    """The LLM answered none of the requests sent to it: the build stops."""


class Decision(NamedTuple):
    keep: tuple[str, ...]
    dropped: dict[str, str]  # region -> why (the kept region that made it redundant, ...)
    decided_by: str
    note: str = ""

    @property
    def step(self) -> dict | None:
        """The row's cleanup-trail entry for this decision (None when it changed nothing), built
        afresh on each access: ``SpecificityStage`` keeps one per hierarchy decision."""
        if not self.dropped and not self.note:
            return None
        reason = "; ".join([f"{g}: {why}" for g, why in self.dropped.items()])
        if self.note:
            reason = f"{reason} ({self.note})" if reason else self.note
        return {
            "stage": "specificity",
            "removed": list(self.dropped),
            "decided_by": self.decided_by,
            "reason": reason,
        }


class _Answer:
    """The LLM's answer for one unique request; ``seen`` marks its first decided occurrence."""

    __slots__ = ("keep", "error", "seen")

    def __init__(self, keep: tuple[str, ...] | None, error: str | None = None):
        self.keep, self.error, self.seen = keep, error, False


def request_digest(key: str, regions: tuple[str, ...]) -> bytes:
    """16 bytes per unique request: the memo stays small with millions of them."""
    text = key + "\x1f" + "|".join(regions)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


@dataclass
class SpecificityStats:
    mode: str
    sentences: int = 0  # sentences reaching stage 1 with at least one boxed region
    single_region: int = 0  # nothing to decide
    decisions: int = 0  # sentences with >= 2 boxed regions (occurrences)
    unique_requests: int = 0  # LLM modes: distinct (normalised sentence, region set)
    llm_failures: int = 0  # unique requests that fell back to the hierarchy
    agree_unique: int = 0
    agree_occurrences: int = 0
    answered_unique: int = 0  # both: unique requests the LLM answered validly
    answered_occurrences: int = 0
    removed_regions: int = 0
    removed_by_region: Counter = field(default_factory=Counter)
    disagreements: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {
            "mode": self.mode,
            "sentences": self.sentences,
            "single_region_sentences": self.single_region,
            "decisions": self.decisions,
            # LLM modes: decisions asked for, and unique (normalised sentence, region set)
            "requests_before_dedup": self.decisions if self.mode != "hierarchy" else None,
            "unique_requests": self.unique_requests if self.mode != "hierarchy" else None,
            "llm_failures_fell_back_to_hierarchy": self.llm_failures,
            "removed_regions": self.removed_regions,
            "removed_by_region": dict(sorted(self.removed_by_region.items())),
        }
        if self.mode == "both":
            out["agreement"] = {
                "unique": self.agree_unique,
                "unique_total": self.answered_unique,
                "unique_rate": _rate(self.agree_unique, self.answered_unique),
                "occurrences": self.agree_occurrences,
                "occurrences_total": self.answered_occurrences,
                "occurrence_rate": _rate(self.agree_occurrences, self.answered_occurrences),
            }
        return out


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


class SpecificityStage:
    """Resolve a batch of sentences (``prepare``), then decide each (``decide``). Answers are
    memoised per key for the whole build, so each unique request is asked once."""

    def __init__(self, mode: str, hierarchy: Hierarchy, client: LLMClient | None = None):
        if mode not in MODES:
            raise ValueError(f"--specificity must be one of {', '.join(MODES)}, not {mode!r}")
        if mode != "hierarchy" and client is None:
            raise ValueError(f"--specificity {mode} needs an LLM client")
        self.mode = mode
        self.hierarchy = hierarchy
        self.client = client
        self.template = load_template(PROMPT_ID) if mode != "hierarchy" else None
        self._stats = SpecificityStats(mode)
        # hierarchy mode: occurrences per region set, folded into the stats when they are read
        # (a decision there depends on the region set alone, so per-sentence counting can wait)
        self._pending: dict[tuple[str, ...], int] = {}
        self._decided: dict[tuple[str, ...], tuple[Decision, dict | None]] = {}
        # region set -> (decision, its trail step): few distinct ones (hundreds in practice)
        self._hier: dict[tuple[str, ...], tuple[Decision, dict | None]] = {}
        # Memory: one entry per unique (sentence, region set) the LLM was asked about, keyed
        # by a 16-byte digest; the kept-region tuples are shared (few distinct ones).
        self._llm: dict[bytes, _Answer] = {}
        self._keeps: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.llm_tag = client.provenance(self.template) if client and self.template else ""

    @property
    def stats(self) -> SpecificityStats:
        stats = self._stats
        for regions, n in self._pending.items():
            decision = self._decided[regions][0]
            stats.sentences += n
            if len(regions) < 2:
                stats.single_region += n
                continue
            stats.decisions += n
            if decision.dropped:
                stats.removed_regions += n * len(decision.dropped)
                for region in decision.dropped:
                    stats.removed_by_region[region] += n
        self._pending.clear()
        return stats

    def _hierarchy(self, regions: tuple[str, ...]) -> tuple[Decision, dict | None]:
        """Memoised: there are few distinct region sets (hundreds in practice)."""
        hit = self._hier.get(regions)
        if hit is None:
            kept, dropped = self.hierarchy.most_specific(regions)
            why = {r: f"inside {c}" for r, c in dropped.items()}
            decision = Decision(tuple(kept), why, self.hierarchy.tag)
            hit = self._hier[regions] = (decision, decision.step)
        return hit

    def prepare(self, items: Iterable[tuple[str, str, tuple[str, ...]]]) -> None:
        """``items``: (normalised key, sentence text, boxed regions). Asks the LLM, in one batch,
        every new key with two or more regions."""
        if self.mode == "hierarchy":
            return
        assert self.client is not None and self.template is not None
        todo: dict[bytes, tuple[str, tuple[str, ...]]] = {}
        for key, text, regions in items:
            if len(regions) < 2:
                continue
            digest = request_digest(key, regions)
            if digest not in self._llm and digest not in todo:
                todo[digest] = (text, regions)
        if not todo:
            return
        digests = list(todo)
        requests = [
            LLMRequest.of(self.template, sentence=todo[d][0], regions=list(todo[d][1]))
            for d in digests
        ]
        results = self._ask(requests)
        for digest, result in zip(digests, results, strict=True):
            if result.output is not None:
                keep = tuple(region_order(result.output.keep))  # type: ignore[attr-defined]
                self._llm[digest] = _Answer(self._keeps.setdefault(keep, keep))
            else:
                self._llm[digest] = _Answer(None, error=result.error or "no answer")

    def _ask(self, requests: list[LLMRequest]) -> list[LLMResult]:
        client = self.client
        assert client is not None
        stage = "region specificity (LLM)"
        if client.stats.calls or len(requests) < 2:
            results = client.run(requests, stage=stage)
        else:  # nothing answered yet: one request ahead, so a dead endpoint fails fast
            results = client.run(requests[:1], stage=stage)
            self._check_reachable(results)
            results += client.run(requests[1:], stage=stage)
        self._check_reachable(results)
        return results

    def _check_reachable(self, results: list[LLMResult]) -> None:
        client = self.client
        assert client is not None
        if client.stats.calls or not client.stats.failures:
            return  # it has answered (valid or not), or only the cache was asked
        settings = client.settings
        where = f"at {settings.base_url}" if settings.base_url else "(no --llm-base-url)"
        why = " ".join(next((r.error for r in results if r.error), "no answer").split())
        raise LLMUnavailable(
            f"--specificity {self.mode}: the {settings.backend} LLM {where} answered none of "
            f"{client.stats.failures} request(s): {why}"
        )

    def _compare(
        self,
        key: str,
        regions: tuple[str, ...],
        llm_keep: tuple[str, ...],
        h_keep: tuple[str, ...],
        first: bool,
    ) -> str:
        """``both``: count the agreement; the trail note when the deciders differ."""
        stats = self._stats
        stats.answered_occurrences += 1
        stats.answered_unique += first
        if set(llm_keep) == set(h_keep):
            stats.agree_occurrences += 1
            stats.agree_unique += first
            return ""
        if first and len(stats.disagreements) < MAX_DISAGREEMENTS:
            stats.disagreements.append(
                {
                    "sentence": key,
                    "regions": "; ".join(regions),
                    "llm_keep": "; ".join(llm_keep),
                    "hierarchy_keep": "; ".join(h_keep),
                }
            )
        return f"hierarchy keeps {list(h_keep)}"

    def decide(self, key: str, regions: tuple[str, ...]) -> tuple[Decision, dict | None]:
        """The stage-1 decision for one sentence with boxed ``regions`` (fixed order), and its
        trail step: one dict shared by every row with the same hierarchy decision (the rows are
        only read), built afresh for an LLM one."""
        if self.mode == "hierarchy":  # the hot path: two dict look-ups
            hit = self._decided.get(regions)
            if hit is None:
                if len(regions) < 2:
                    hit = (Decision(regions, {}, "single-region"), None)
                else:
                    hit = self._hierarchy(regions)
                self._decided[regions] = hit
            pending = self._pending
            pending[regions] = pending.get(regions, 0) + 1
            return hit
        stats = self._stats
        stats.sentences += 1
        if len(regions) < 2:
            stats.single_region += 1
            single = self._decided.get(regions)
            if single is None:
                single = self._decided[regions] = (Decision(regions, {}, "single-region"), None)
            return single
        stats.decisions += 1
        by_hierarchy = self._hierarchy(regions)[0]
        # the LLM modes (hierarchy returned above)
        answer = self._llm.get(request_digest(key, regions))
        if answer is None:
            raise RuntimeError("decide() before prepare() for this sentence")
        first = not answer.seen
        answer.seen = True
        stats.unique_requests += first
        if answer.keep is None:
            stats.llm_failures += first
            note = f"LLM failed ({answer.error}); hierarchy used"
            decision = by_hierarchy._replace(note=note)
        else:
            dropped = {r: "LLM: redundant parent" for r in regions if r not in answer.keep}
            note = ""
            if self.mode == "both":
                note = self._compare(key, regions, answer.keep, by_hierarchy.keep, first)
                if not note and dropped:
                    note = "hierarchy agrees"
            decision = Decision(answer.keep, dropped, self.llm_tag, note)
        step = decision.step
        if decision.dropped:
            stats.removed_regions += len(decision.dropped)
            removed = stats.removed_by_region
            for region in decision.dropped:
                removed[region] = removed.get(region, 0) + 1
        return decision, step
