"""Med-VQA metrics: closed-ended (multiple choice, yes/no) and open-ended answers.

Sources
-------
* Paper 001 ("How do medical MLLMs fail?", VGMED / VGRefine) sec. 4.1-4.2: it follows "the exact
  evaluation protocol" of HuatuoGPT-Vision (Chen et al., 2024) and reports closed-ended
  accuracy (Table 1: closed-ended subsets; tables 2-3 multiple choice); app. E / table E.3
  report BLEU-1, "BERT" (BERTScore) and "OpenRecall" on open-ended questions; app. I.2 gives
  the prompts ("A. <option_1>\\nB. <option_2> ... Answer with the option's letter from the given
  choices directly."; "Answer the question using a single word or phrase.").
  The paper defines none of the metrics' formulas; what follows comes from the reference code.
* Option matching: HuatuoGPT-Vision ``scorer.py:match_choice3`` (preserved in
  ``xk-huang/HuatuoGPT-Vision`` at commit ``f699d88d4d1eeb9f3e62fdb2da4e297bdacb67f0``),
  research notes sec. 7.
* Open recall, yes/no accuracy, BLEU tokenisation: LLaVA-Med ``llava/eval/run_eval.py`` and
  ``llava/eval/eval_metrics/{evaluate_metrics,glossary,utils}.py`` (``microsoft/LLaVA-Med``,
  commit ``ad758b687d4e79628dbfdb149dc545641ed29014``), research notes sec. 7.
* BLEU: Papineni et al., "BLEU: a method for automatic evaluation of machine translation",
  ACL 2002 (LLaVA-Med calls ``nltk.translate.bleu_score.sentence_bleu`` with weights (1,0,0,0)).
* BERTScore: Zhang et al., ICLR 2020, package ``bert_score``.
"""

from __future__ import annotations

import difflib
import importlib
import re
import string
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "OPTION_LETTERS",
    "normalize_answer",
    "answer_tokens",
    "ClosedMatch",
    "closed_answer_match",
    "closed_accuracy",
    "parse_yes_no",
    "yes_no_correct",
    "yes_no_accuracy",
    "open_recall",
    "bleu1",
    "BertScoreResult",
    "bertscore",
]

# app. I.2 labels options A, B, C, ...; HuatuoGPT's scorer accepts letters up to N.
OPTION_LETTERS = "ABCDEFGHIJKLMN"

# --- normalisation ---------------------------------------------------------------------------

_NUMBER_WORDS = {
    "none": "0",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_ARTICLES = frozenset({"a", "an", "the"})
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d)")
_PERIOD_NOT_BEFORE_DIGIT = re.compile(r"\.(?!\d)")
# Every ASCII punctuation mark except the period (handled above) and the apostrophe (kept
# inside words such as "crohn's").
_PUNCT = re.compile("[" + re.escape(string.punctuation.replace(".", "").replace("'", "")) + "]")


def normalize_answer(text: str) -> str:
    """Normalise an answer for word comparison, after LLaVA-Med's ``normalize_word``.

    Steps: lowercase; drop commas between digits ("1,000" -> "1000"); drop periods not followed
    by a digit (keeps "2.5", drops sentence-final ones); every other ASCII punctuation mark but
    the apostrophe becomes a space; split on whitespace; number words zero..ten (and "none")
    become digits; articles a / an / the are removed; tokens are joined by single spaces.

    Differences from LLaVA-Med: punctuation always becomes a space (LLaVA-Med deletes a mark
    instead when the text also contains it next to a space, so "left-sided" can become
    "leftsided"); ":", "*", "#", "%", "&", "|", "~", "^", "$" are punctuation here too;
    LLaVA-Med's contraction table ("dont" -> "don't") is not applied.
    """
    text = text.lower()
    text = _DIGIT_COMMA.sub("", text)
    text = _PERIOD_NOT_BEFORE_DIGIT.sub("", text)
    text = _PUNCT.sub(" ", text)
    words = (_NUMBER_WORDS.get(w, w) for w in text.split())
    return " ".join(w for w in words if w not in _ARTICLES)


def answer_tokens(text: str) -> list[str]:
    """Word tokens of ``normalize_answer(text)`` (whitespace split), the unit of every word
    metric here (open recall, BLEU-1, yes/no)."""
    return normalize_answer(text).split()


# --- closed-ended: multiple choice ----------------------------------------------------------


class ClosedMatch(NamedTuple):
    """Which option an output was matched to, by which stage, and whether that is correct.

    ``stage``: 1 option letter, 2 option text contained in the output, 3 most similar option
    text, 0 no match (empty output).
    """

    letter: str | None
    stage: int
    correct: bool


def _options_by_letter(options: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(options, Mapping):
        labelled = {str(k): str(v) for k, v in options.items()}
    else:
        if len(options) > len(OPTION_LETTERS):
            raise ValueError(f"at most {len(OPTION_LETTERS)} options, got {len(options)}")
        labelled = {OPTION_LETTERS[i]: str(o) for i, o in enumerate(options)}
    if not labelled:
        raise ValueError("no options")
    return labelled


def _answer_letter(answer: str, labelled: dict[str, str]) -> str:
    for letter, text in labelled.items():
        if text == answer:
            return letter
    if answer in labelled:
        return answer
    raise ValueError(f"answer {answer!r} is neither an option text nor an option letter")


def _letter_stage(output: str, labelled: dict[str, str]) -> str | None:
    # A standalone capital letter that labels an option. "A" followed by a space is skipped,
    # as the reference does, because it is usually the article ("A mass in ...").
    for m in re.finditer(r"(?<!\w)([A-Z])(?!\w)", output):
        letter = m.group(1)
        if letter not in labelled:
            continue
        if letter == "A" and output[m.end() : m.end() + 1] == " ":
            continue
        return letter
    # A lone lowercase letter ("b", "(c)", "d.") is an answer too, but only as the whole output.
    bare = output.strip(string.punctuation + string.whitespace)
    if len(bare) == 1 and bare.upper() in labelled:
        return bare.upper()
    return None


def _text_stage(output: str, labelled: dict[str, str]) -> str | None:
    lowered = output.lower()
    best: tuple[int, int] | None = None
    chosen = None
    for letter, text in labelled.items():
        needle = text.lower()
        if not needle:
            continue  # an empty option would be "contained" in every output
        start = lowered.rfind(needle)
        if start < 0:
            continue
        key = (start + len(needle), len(needle))  # ends last, then longest
        if best is None or key > best:
            best, chosen = key, letter
    return chosen


def _similarity_stage(output: str, labelled: dict[str, str]) -> str:
    lowered = output.lower()
    chosen, highest = None, -1.0
    for letter, text in labelled.items():
        ratio = difflib.SequenceMatcher(None, text.lower(), lowered).ratio()
        if ratio >= highest:  # ties go to the later option, as in the reference
            chosen, highest = letter, ratio
    assert chosen is not None
    return chosen


def closed_answer_match(
    output: str, options: Sequence[str] | Mapping[str, str], answer: str
) -> ClosedMatch:
    """Match a model output to one of the options and score it against ``answer``.

    ``options``: the option texts in prompt order (labelled A, B, C, ... as in paper 001
    app. I.2) or a mapping letter -> text. ``answer``: the ground-truth option text (or its
    letter). The output is matched in three stages (HuatuoGPT-Vision ``match_choice3``):

    1. Letter: the first standalone capital letter (no letter or digit on either side) that
       labels one of the options; "A" followed by a space is skipped as the article. A lone
       lowercase letter also counts when it is the whole output (bar punctuation).
    2. Text: among options whose text occurs in the output (case-insensitive), the one whose
       last occurrence ends last; on a tie, the longer option text.
    3. Similarity: the option whose lowercased text has the highest
       ``difflib.SequenceMatcher(None, option, output).ratio()`` with the lowercased output,
       ratio = 2 * matches / (len(option) + len(output)); ties go to the later option.

    Correct iff the chosen letter is the answer's letter. An empty output matches nothing and
    is wrong.

    Differences from ``match_choice3``: stage 1 there takes the first standalone letter among
    a-n / A-N whether or not it labels an option ("I think ..." picks "I") and lowercase
    letters (which then never equal the uppercase answer letter); stage 2 there takes the
    option whose last occurrence *starts* last, so "effusion" beats "pleural effusion" in the
    output "pleural effusion"; there an empty output falls through to stage 3.
    """
    labelled = _options_by_letter(options)
    answer_letter = _answer_letter(answer, labelled)
    if not output.strip():
        return ClosedMatch(None, 0, False)
    for stage, pick in ((1, _letter_stage), (2, _text_stage)):
        letter = pick(output, labelled)
        if letter is not None:
            return ClosedMatch(letter, stage, letter == answer_letter)
    letter = _similarity_stage(output, labelled)
    return ClosedMatch(letter, 3, letter == answer_letter)


def closed_accuracy(
    outputs: Sequence[str],
    options: Sequence[Sequence[str] | Mapping[str, str]],
    answers: Sequence[str],
) -> float:
    """Share of questions whose ``closed_answer_match`` is correct (every question counts in
    the denominator). NaN for no questions."""
    if not len(outputs) == len(options) == len(answers):
        raise ValueError("outputs, options and answers differ in length")
    if not outputs:
        return float("nan")
    hits = [
        closed_answer_match(o, opts, a).correct
        for o, opts, a in zip(outputs, options, answers, strict=True)
    ]
    return float(np.mean(hits))


# --- closed-ended: yes / no -----------------------------------------------------------------


def parse_yes_no(output: str) -> str | None:
    """The output's yes/no: the first token (``answer_tokens``) that is "yes" or "no"
    else None. Whole words only, so "not", "normal" or "know" are not "no" (LLaVA-Med tests
    substrings)."""
    for token in answer_tokens(output):
        if token in ("yes", "no"):
            return token
    return None


def yes_no_correct(output: str, answer: str) -> bool:
    """Is the yes/no parsed from ``output`` equal to ``answer`` ("yes" or "no")?"""
    truth = normalize_answer(answer)
    if truth not in ("yes", "no"):
        raise ValueError(f"yes/no answer expected, got {answer!r}")
    return parse_yes_no(output) == truth


def yes_no_accuracy(outputs: Sequence[str], answers: Sequence[str]) -> float:
    """Share of yes/no questions answered correctly (``yes_no_correct``).

    An output that is neither yes nor no is wrong and stays in the denominator. LLaVA-Med's
    ``run_eval.py`` appends nothing for an output that contains "yes"/"no" but is wrong, which
    drops those from the denominator (research notes sec. 7); we do not reproduce that.
    """
    if len(outputs) != len(answers):
        raise ValueError("outputs and answers differ in length")
    if not outputs:
        return float("nan")
    return float(np.mean([yes_no_correct(o, a) for o, a in zip(outputs, answers, strict=True)]))


# --- open-ended -----------------------------------------------------------------------------


def open_recall(output: str, answer: str) -> float:
    """Open-ended recall: the share of ground-truth answer tokens present in the output.

    recall = sum_w min(count_answer(w), count_output(w)) / sum_w count_answer(w) over the
    ``answer_tokens`` of both (a multiset intersection; for answers without repeated words it is
    |answer words found in the output| / |answer words|). An empty output scores 0; an empty
    answer raises.

    LLaVA-Med (``evaluate_metrics.py:calculate_f1score``, the "recall" column) computes
    tp / (tp + fn) with tp summing the *output's* counts of shared words and fn the answer's
    counts of missing words; the two agree unless a shared word repeats.
    """
    truth = Counter(answer_tokens(answer))
    if not truth:
        raise ValueError(f"empty reference answer {answer!r}")
    got = Counter(answer_tokens(output))
    return sum(min(n, got[w]) for w, n in truth.items()) / sum(truth.values())


def bleu1(output: str, reference: str) -> float:
    """Sentence BLEU-1 (Papineni et al. 2002) against one reference, on ``answer_tokens``.

    BLEU-1 = BP * p1, with p1 = sum_w min(count_out(w), count_ref(w)) / c (clipped unigram
    precision), c = output length, r = reference length, BP = 1 if c > r else exp(1 - r / c).
    An empty output scores 0. This equals ``nltk``'s ``sentence_bleu([ref], out,
    weights=(1, 0, 0, 0))`` without smoothing, which LLaVA-Med's ``run_eval.py`` reports as
    "bleu_score_1" (LLaVA-Med tokenises by ``normalize_word`` then whitespace, as here).
    """
    out = answer_tokens(output)
    ref = answer_tokens(reference)
    c, r = len(out), len(ref)
    if c == 0:
        return 0.0
    ref_counts = Counter(ref)
    clipped = sum(min(n, ref_counts[w]) for w, n in Counter(out).items())
    p1 = clipped / c
    bp = 1.0 if c > r else float(np.exp(1.0 - r / c))
    return bp * p1


# --- BERTScore ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BertScoreResult:
    """Per-pair BERTScore precision / recall / F1, or ``computed=False`` with the reason."""

    computed: bool
    precision: np.ndarray | None = None
    recall: np.ndarray | None = None
    f1: np.ndarray | None = None
    reason: str | None = None
    model: str | None = None
    num_layers: int | None = None
    rescaled: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary: means of P / R / F1 (None when not computed)."""

        def mean(x: np.ndarray | None) -> float | None:
            return float(np.mean(x)) if x is not None and len(x) else None

        return {
            "computed": self.computed,
            "reason": self.reason,
            "model": self.model,
            "num_layers": self.num_layers,
            "rescaled": self.rescaled,
            "precision": mean(self.precision),
            "recall": mean(self.recall),
            "f1": mean(self.f1),
        }


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _local_model_dir(model: str) -> Path | None:
    """A local directory holding ``model``: the path itself, or its cached Hub snapshot.

    Only the local cache is consulted (``local_files_only=True``), never the network.
    """
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=model, local_files_only=True))
    except Exception:  # not cached, bad repo id, hub library missing: all mean "not local"
        return None


def bertscore(
    outputs: Sequence[str],
    references: Sequence[str],
    *,
    model_type: str = "roberta-large",
    num_layers: int | None = None,
    lang: str = "en",
    rescale_with_baseline: bool = False,
    batch_size: int = 64,
    device: str | None = None,
) -> BertScoreResult:
    """BERTScore (Zhang et al., ICLR 2020) of each output against its reference, computed only
    when the ``bert_score`` package is installed and ``model_type`` is available locally (a
    directory, or a Hub id already in the local cache). Never downloads: otherwise returns
    ``BertScoreResult(computed=False, reason=...)``.

    Paper 001 table E.3 reports a "BERT" column without naming the model, layer or baseline
    rescaling (UNVERIFIED). Defaults here are ``bert_score``'s for English: ``roberta-large``,
    layer 17 (from ``bert_score.utils.model2layers``), no idf, no rescaling. Rescaling uses the
    baseline table shipped inside ``bert_score`` (``rescale_baseline/<lang>/<model>.tsv``,
    row = layer): x -> (x - b) / (1 - b); the table is looked up by ``model_type``, so give a
    Hub id (e.g. ``roberta-large``), not a directory, to rescale. With a directory,
    ``num_layers`` must be given. The model is always loaded from its local directory.
    """
    if len(outputs) != len(references):
        raise ValueError("outputs and references differ in length")
    try:
        bert_score = importlib.import_module("bert_score")
    except ImportError:
        return BertScoreResult(False, reason="bert_score package not installed")
    local = _local_model_dir(model_type)
    if local is None:
        return BertScoreResult(
            False, reason=f"model {model_type!r} not available locally (no download attempted)"
        )
    if num_layers is None:
        layers_table = getattr(getattr(bert_score, "utils", None), "model2layers", {})
        num_layers = layers_table.get(model_type)
        if num_layers is None:
            return BertScoreResult(False, reason=f"num_layers unknown for {model_type!r}")
    baseline = None
    if rescale_with_baseline:
        table = Path(bert_score.__file__).parent / "rescale_baseline" / lang / f"{model_type}.tsv"
        if not table.is_file():
            return BertScoreResult(False, reason=f"no rescale baseline at {table}")
        # Header "LAYER,P,R,F"; data row k is layer k.
        baseline = np.loadtxt(table, delimiter=",", skiprows=1)[num_layers, 1:4]
    if not outputs:
        empty = np.zeros(0)
        return BertScoreResult(True, empty, empty, empty, model=model_type, num_layers=num_layers)
    try:
        # A local path as model_type keeps transformers off the network.
        p, r, f = bert_score.score(
            list(outputs),
            list(references),
            model_type=str(local),
            num_layers=num_layers,
            batch_size=batch_size,
            device=device,
        )
    except OSError as exc:  # incomplete local snapshot (e.g. weights missing)
        return BertScoreResult(False, reason=f"could not load {model_type!r} locally: {exc}")
    prf = [_to_numpy(x) for x in (p, r, f)]
    if baseline is not None:
        prf = [(x - b) / (1.0 - b) for x, b in zip(prf, baseline, strict=True)]
    return BertScoreResult(
        True,
        *prf,
        model=model_type,
        num_layers=num_layers,
        rescaled=baseline is not None,
    )
