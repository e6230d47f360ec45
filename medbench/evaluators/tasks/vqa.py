"""Med-VQA tasks (VQA-RAD, SLAKE, PathVQA, PMC-VQA, OmniMedVQA, MMMU Health & Medicine) on
``VQARow`` shards, with paper 001's protocol (sec. 4.1, app. E, app. I.2).

Prompt: a closed question with options is posed as multiple choice, exactly as
HuatuoGPT-Vision's ``eval.py`` (``llava_prompt``) and paper 001 app. I.2 do::

    <question>
    A. <option 1>
    B. <option 2>
    Answer with the option's letter from the given choices directly.

Every other question (open, or closed without options) gets the LLaVA short-answer prompt of
app. I.2: ``<question>\\nAnswer the question using a single word or phrase.``

Scoring, per question (``medbench.evaluators.metrics.vqa``):

* closed with options: ``closed_accuracy`` from ``closed_answer_match`` (letter, then option
  text, then most similar option: HuatuoGPT-Vision's ``match_choice3``); when the options are
  yes/no, also ``yes_no_accuracy`` of the matched option. The parse fails only on an empty
  output; a stage-3 (closest option) match is scored, as the reference does, and counted in
  ``closest_option_matches``.
* closed yes/no without options: ``yes_no_accuracy`` = ``closed_accuracy`` =
  ``yes_no_correct`` of the output; the parse fails when the output has no "yes"/"no" word.
* closed, other answer, no options ("left", "lung"): ``closed_accuracy`` = normalised exact
  match (``normalize_answer``); the parse fails on an empty output.
* open: ``open_recall`` and ``bleu1`` against the answer (LLaVA-Med); the parse fails on an
  output with no word.

A failed parse scores 0 on every metric that applies to the question.

Images: every image of the question in order, ``(image, *extra_images)`` (MMMU's ``<image k>``
is the k-th; the question text keeps its placeholders). A one-image row digests as it did
before rows could carry more images (``VQARow`` leaves an empty ``extra_images`` out of its
dump), so its cached answers still apply.

Optional metric ``bertscore`` (paper 001 table E.3's "BERT"): BERTScore F1 of each open
question's output (stripped raw text) against its answer, computed once per task over all
open questions (``summary_metrics``, batched) with ``metrics.vqa.bertscore``: the model is the
task argument ``bertscore_model`` (default ``roberta-large``, ``bert_score``'s English default:
layer 17, no idf, no rescaling), used only when the ``bert_score`` package is installed and the
model is available locally; nothing is ever downloaded. Otherwise the task reports it as not
computed, with the reason. A failed parse or a request error scores 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from medbench.evaluators.metrics.aggregate import aggregate
from medbench.evaluators.metrics.vqa import (
    OPTION_LETTERS,
    answer_tokens,
    bertscore,
    bleu1,
    closed_answer_match,
    normalize_answer,
    open_recall,
    parse_yes_no,
    yes_no_correct,
)
from medbench.evaluators.models.base import AnswerFormat
from medbench.evaluators.tasks.spec import Parsed, TaskData, TaskSpec
from medbench.schemas.vqa import VQARow

VQA_PROMPT = """\
{{ question }}
{% if options %}
{% for option in options %}
{{ letters[loop.index0] }}. {{ option }}
{% endfor %}
Answer with the option's letter from the given choices directly.
{% else %}
Answer the question using a single word or phrase.
{% endif %}
"""

VQA_METRICS = ("closed_accuracy", "yes_no_accuracy", "open_recall", "bleu1")
# computed when available (see the module docstring); never in ``metrics``, so a run without
# them has exactly the declared metrics
VQA_OPTIONAL_METRICS = ("bertscore",)
DEFAULT_BERTSCORE_MODEL = "roberta-large"
YES_NO = ("yes", "no")


def _is_yes_no(values: list[str] | tuple[str, ...]) -> bool:
    return sorted(normalize_answer(v) for v in values) == ["no", "yes"]


def _answer_letter(row: VQARow) -> str | None:
    """The letter of the answer among the options: ``answer_index``, else the option equal to
    ``answer``; None when neither identifies one."""
    if len(row.options) > len(OPTION_LETTERS):
        return None
    if row.answer_index is not None and 0 <= row.answer_index < len(row.options):
        return OPTION_LETTERS[row.answer_index]
    if row.answer in row.options:
        return OPTION_LETTERS[row.options.index(row.answer)]
    return None


class VQATask(TaskSpec):
    kind: ClassVar[str] = "vqa"
    row_model: ClassVar[type] = VQARow
    task_args: ClassVar[tuple[str, ...]] = ("bertscore_model",)
    optional_metrics: ClassVar[tuple[str, ...]] = VQA_OPTIONAL_METRICS

    bertscore_model: str = DEFAULT_BERTSCORE_MODEL

    def _style(self, row: VQARow) -> str:
        if row.answer_type == "open":
            return "open"
        if row.options:
            return "choice"
        return "yes_no" if normalize_answer(row.answer) in YES_NO else "exact"

    def check(self, row: VQARow) -> str | None:
        if self._style(row) == "choice" and _answer_letter(row) is None:
            if len(row.options) > len(OPTION_LETTERS):
                return f"{len(row.options)} options (at most {len(OPTION_LETTERS)} are lettered)"
            return f"answer {row.answer!r} is not among the options"
        if row.options and _is_yes_no(row.options) and normalize_answer(row.answer) not in YES_NO:
            return f"yes/no options but answer {row.answer!r}"
        return None

    def images(self, row: VQARow) -> tuple[bytes, ...]:
        # every image, in order: MMMU's <image k> is the k-th
        return (row.image, *row.extra_images)

    def prompt_variables(self, row: VQARow) -> dict[str, Any]:
        style = self._style(row)
        return {
            "question": row.question,
            "options": list(row.options) if style == "choice" else [],
            "letters": OPTION_LETTERS,
        }

    def answer_format(self, row: VQARow) -> tuple[AnswerFormat, tuple[str, ...]]:
        style = self._style(row)
        if style == "choice":
            return "letter", tuple(OPTION_LETTERS[: len(row.options)])
        if style == "yes_no":
            return "text", YES_NO
        return "text", ()

    def parse(self, raw: str, row: VQARow) -> Parsed:
        style = self._style(row)
        if style == "choice":
            match = closed_answer_match(raw, row.options, str(_answer_letter(row)))
            if match.stage == 0:
                return Parsed(False, None, "empty output")
            option = row.options[OPTION_LETTERS.index(match.letter)]
            value = {"letter": match.letter, "option": option, "stage": match.stage}
            return Parsed(True, value, "closest option" if match.stage == 3 else "")
        if style == "yes_no":
            answer = parse_yes_no(raw)
            if answer is None:
                return Parsed(False, None, "no yes/no in the output")
            return Parsed(True, answer)
        text = normalize_answer(raw)
        if not text:
            return Parsed(False, None, "no answer word in the output")
        return Parsed(True, text)

    def score(self, parsed: Parsed, row: VQARow) -> dict[str, float | None]:
        style = self._style(row)
        if style == "choice":
            names = ["closed_accuracy"] + (["yes_no_accuracy"] if _is_yes_no(row.options) else [])
            if not parsed.ok:
                return dict.fromkeys(names, 0.0)
            correct = parsed.value["letter"] == _answer_letter(row)
            out: dict[str, float | None] = {"closed_accuracy": float(correct)}
            if "yes_no_accuracy" in names:
                out["yes_no_accuracy"] = float(yes_no_correct(parsed.value["option"], row.answer))
            return out
        if style == "yes_no":
            hit = float(parsed.ok and parsed.value == normalize_answer(row.answer))
            return {"closed_accuracy": hit, "yes_no_accuracy": hit}
        if style == "exact":
            hit = float(parsed.ok and parsed.value == normalize_answer(row.answer))
            return {"closed_accuracy": hit}
        if not answer_tokens(row.answer):
            return {"open_recall": None, "bleu1": None}  # no word to recall: not applicable
        if not parsed.ok:
            return {"open_recall": 0.0, "bleu1": 0.0}
        return {
            "open_recall": open_recall(parsed.value, row.answer),
            "bleu1": bleu1(parsed.value, row.answer),
        }

    def oracle_answer(self, row: VQARow) -> str:
        if self._style(row) == "choice":
            return str(_answer_letter(row))
        return row.answer

    def target(self, row: VQARow) -> Any:
        return {
            "answer": row.answer,
            "options": list(row.options),
            "answer_index": row.answer_index,
        }

    def counters(self, parsed: Parsed) -> dict[str, int]:
        stage = parsed.value.get("stage") if isinstance(parsed.value, dict) else None
        return {"closest_option_matches": int(stage == 3)}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "optional_metrics": list(self.optional_metrics)}

    def summary_metrics(
        self, samples: Sequence[Mapping[str, Any]], *, n_resamples: int = 1000, seed: int = 0
    ) -> dict[str, Any]:
        """BERTScore F1 of the open questions (those scored on ``open_recall``), in one batch:
        ``{"metrics": {"bertscore": block}, "subsets": {key: {value: {"bertscore": block}}},
        "settings": {"bertscore": {...}}}`` with blocks as the harness's ``{mean, ci_low,
        ci_high, n}``; ``{"not_computed": {"bertscore": reason}}`` when the package or the
        model is not available locally; ``{}`` without open questions."""
        open_ = [s for s in samples if s.get("metrics", {}).get("open_recall") is not None]
        if not open_:
            return {}
        scored = [s for s in open_ if s.get("parse_ok") and s.get("raw_output") is not None]
        result = bertscore(
            [str(s["raw_output"]).strip() for s in scored],
            [str(s["target"]["answer"]) for s in scored],
            model_type=self.bertscore_model,
        )
        if not result.computed:
            return {"not_computed": {"bertscore": str(result.reason)}}
        f1 = {id(s): float(v) for s, v in zip(scored, result.f1, strict=True)}
        flat = [{"bertscore": f1.get(id(s), 0.0), **s.get("subsets", {})} for s in open_]
        agg = aggregate(
            flat, ["bertscore"], by=self.subset_keys, n_resamples=n_resamples, seed=seed
        )
        return {
            "metrics": agg["overall"]["metrics"],
            "subsets": {
                key: {value: block["metrics"] for value, block in groups.items()}
                for key, groups in agg["groups"].items()
            },
            "settings": {
                "bertscore": {
                    "model": result.model,
                    "num_layers": result.num_layers,
                    "rescaled": result.rescaled,
                    "scored_on": "open questions; raw output stripped vs the answer",
                }
            },
        }


def _vqa_task(name: str, title: str, *, splits=("test",), **filters: str) -> VQATask:
    return VQATask(
        name=name,
        description=f"{title}: closed questions as multiple choice, open ones as short answers",
        source=(
            "paper 001 sec. 4.1, app. E, app. I.2; HuatuoGPT-Vision eval.py llava_prompt and "
            "scorer.py match_choice3 (closed); LLaVA-Med run_eval.py (open recall, BLEU-1)"
        ),
        data=TaskData(subpath=name, splits=splits, filters={"benchmark": name, **filters}),
        prompt_template=VQA_PROMPT,
        # HuatuoGPT-Vision's eval generates up to 256 new tokens; greedy here for repeatability
        generation={"temperature": 0.0, "max_tokens": 256},
        metrics=VQA_METRICS,
        subset_keys=("answer_type", "modality", "question_type", "body_part", "subset"),
    )


VQA_TASKS: tuple[VQATask, ...] = (
    _vqa_task("vqa-rad", "VQA-RAD (test: test_freeform + test_para)"),
    # SLAKE ships English and Chinese questions; paper 001 and HuatuoGPT-Vision score English
    _vqa_task("slake", "SLAKE (English test questions)", language="en"),
    _vqa_task("pathvqa", "PathVQA (test)"),
    _vqa_task("pmc-vqa", "PMC-VQA (test_clean)"),
    _vqa_task("omnimedvqa", "OmniMedVQA (all open-access questions)"),
    # MMMU's test answers are hidden: its validation split is what is reported
    _vqa_task(
        "mmmu-med", "MMMU Health & Medicine (validation)", splits=("validation", "val", "test")
    ),
)
