"""Every metric of the three papers, as pure functions on numpy arrays; each documents its
formula and its source.

- ``attention``: VGRefine attention alignment (paper 001): AR, KL, JS and boxes on the
  model's token grid.
- ``heatmap``: heat-map grounding (paper 000): CNR, pointing game, Dice, IoU.
- ``sets``: generalised (zero/one/many-box) grounding (paper 002, GREC): Pr@F1, N-acc,
  T-acc, CH-F1, mask IoU.
- ``wbf``: weighted boxes fusion (MedGrounder's post-processing).
- ``vqa``: Med-VQA scoring (paper 001 sec. 4): option matching, yes/no, recall, BLEU-1.
- ``aggregate``: per-subset means with bootstrap confidence intervals (``aggregate.aggregate``;
  the function is not re-exported here so the module name stays importable).
"""

from medbench.evaluators.metrics.aggregate import bootstrap_ci, summarize
from medbench.evaluators.metrics.attention import (
    attention_ratio,
    box_to_token_mask,
    js_divergence,
    kl_divergence,
)
from medbench.evaluators.metrics.heatmap import (
    cnr,
    dice,
    heatmap_scores,
    iou,
    pointing_game,
    threshold_map,
)
from medbench.evaluators.metrics.sets import (
    box_giou,
    box_iou,
    boxes_to_mask,
    center_hit_f1,
    grec_metrics,
    mask_iou,
    n_acc,
    precision_at_f1,
    t_acc,
)
from medbench.evaluators.metrics.vqa import (
    bertscore,
    bleu1,
    closed_accuracy,
    closed_answer_match,
    open_recall,
    yes_no_accuracy,
)
from medbench.evaluators.metrics.wbf import weighted_boxes_fusion

__all__ = [
    "attention_ratio",
    "bertscore",
    "bleu1",
    "bootstrap_ci",
    "box_giou",
    "box_iou",
    "box_to_token_mask",
    "boxes_to_mask",
    "center_hit_f1",
    "closed_accuracy",
    "closed_answer_match",
    "cnr",
    "dice",
    "grec_metrics",
    "heatmap_scores",
    "iou",
    "js_divergence",
    "kl_divergence",
    "mask_iou",
    "n_acc",
    "open_recall",
    "pointing_game",
    "precision_at_f1",
    "summarize",
    "t_acc",
    "threshold_map",
    "weighted_boxes_fusion",
    "yes_no_accuracy",
]
