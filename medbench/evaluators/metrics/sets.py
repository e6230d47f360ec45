"""Set-grounding metrics: one phrase maps to zero, one or many boxes (GREC / GRES / GMPG).

Boxes are ``[x1, y1, x2, y2]`` floats in pixels (``medbench.imaging.boxes``): x right, y down,
pixel (row r, column c) covers ``[c, c+1) x [r, r+1)``. A sample is one (image, phrase) pair:
its prediction is a ``(P, 4)`` array and its ground truth a ``(G, 4)`` array. ``G == 0`` marks
a *no-target* sample (a phrase that grounds to nothing).

Sources
-------
* GREC: He, Ding, Liu, Liu, Shao, "GREC: Generalized Referring Expression Comprehension"
  (gRefCOCO), reference evaluator ``henghuiding/gRefCOCO:mdetr/datasets/refexp.py``
  (``RefExpEvaluator.summarize``, commit ``b4b1e55b4d3a41df26d6b7d843ea011d581127d4``).
* GRES mask metrics: ``henghuiding/ReLA:gres_model/evaluation/refer_evaluation.py``
  (``ReferEvaluator.evaluate``).
* GMPG / MedGrounder: Zhang, Chandra, Nicolson, "Generalised Medical Phrase Grounding"
  (arXiv 2512.01085), sec. 3.5. That section names P@(F1=1, IoU 0.5), N-Acc, CH-F1, Mask IoU
  and Mask IoU accuracy but gives no formula for CH-F1 or Mask IoU and no code is public; our
  definitions of those two are working definitions (research notes sec. 1.3, marked there as
  UNVERIFIED) and are documented on each function.

Score thresholding and box fusion (GREC: score >= 0.7; MedGrounder: score >= 0.8 then WBF at
IoU 0.1) happen *before* these functions: they take the boxes that survived post-processing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

Similarity = Literal["iou", "giou"]
Matching = Literal["greedy", "hungarian"]

__all__ = [
    "box_iou",
    "box_giou",
    "grec_sample_f1",
    "precision_at_f1_per_sample",
    "precision_at_f1",
    "n_acc",
    "t_acc",
    "grec_metrics",
    "center_hit_f1_per_sample",
    "center_hit_f1",
    "boxes_to_mask",
    "mask_iou_per_sample",
    "mask_iou",
]


def _as_boxes(boxes: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """(K, 4) float array; an empty input gives (0, 4)."""
    arr = np.asarray(boxes, dtype=float)
    if arr.size == 0:
        return np.zeros((0, 4))
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"boxes must have shape (K, 4), got {arr.shape}")
    return arr


def _areas(boxes: np.ndarray) -> np.ndarray:
    # Inverted boxes (x2 < x1) count as empty rather than as negative area.
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def _inter_union(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = _areas(a)[:, None] + _areas(b)[None, :] - inter
    return inter, union


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU, an (N, M) matrix for (N, 4) and (M, 4) boxes.

    IoU(A, B) = |A ∩ B| / |A ∪ B|, with |A ∪ B| = |A| + |B| - |A ∩ B|. Two boxes whose union has
    zero area (both degenerate) get IoU 0, not NaN.
    """
    a, b = _as_boxes(a), _as_boxes(b)
    inter, union = _inter_union(a, b)
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def box_giou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise generalised IoU (Rezatofighi et al., CVPR 2019), an (N, M) matrix.

    GIoU(A, B) = IoU(A, B) - (|C| - |A ∪ B|) / |C|, where C is the smallest box enclosing A and B.
    GIoU lies in [-1, 1] and never exceeds IoU. When |C| = 0 (two coincident points) GIoU = IoU
    (= 0). This is the similarity the GREC reference evaluator matches on
    (``util.box_ops.generalized_box_iou`` in ``refexp.py``).
    """
    a, b = _as_boxes(a), _as_boxes(b)
    inter, union = _inter_union(a, b)
    iou = np.zeros_like(inter)
    np.divide(inter, union, out=iou, where=union > 0)
    lt = np.minimum(a[:, None, :2], b[None, :, :2])
    rb = np.maximum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    enclosing = wh[..., 0] * wh[..., 1]
    penalty = np.zeros_like(inter)
    np.divide(enclosing - union, enclosing, out=penalty, where=enclosing > 0)
    # Float rounding can push C - U a hair below 0; the penalty is a fraction in [0, 1].
    return iou - np.clip(penalty, 0.0, 1.0)


def _similarity(pred: np.ndarray, gt: np.ndarray, similarity: Similarity) -> np.ndarray:
    if similarity == "iou":
        return box_iou(pred, gt)
    if similarity == "giou":
        return box_giou(pred, gt)
    raise ValueError(f"similarity must be 'iou' or 'giou', got {similarity!r}")


def _greedy_matches(sim: np.ndarray, threshold: float) -> int:
    """GREC's matching: repeatedly take the global maximum of the similarity matrix.

    Stops when the maximum falls below ``threshold``; a taken pair removes its row and column.
    Ties go to the first entry in row-major order (``np.argmax``).
    """
    sim = sim.astype(float, copy=True)
    matches = 0
    for _ in range(min(sim.shape)):
        flat = int(np.argmax(sim))
        row, col = divmod(flat, sim.shape[1])
        if not sim[row, col] >= threshold:
            break
        matches += 1
        # -inf rather than the reference's 0 so a threshold <= 0 cannot re-pick a used row.
        sim[row, :] = -np.inf
        sim[:, col] = -np.inf
    return matches


def _max_matches(hits: np.ndarray) -> int:
    """Maximum one-to-one matching on a boolean hit matrix (Hungarian algorithm)."""
    if hits.size == 0:
        return 0
    rows, cols = linear_sum_assignment(hits.astype(float), maximize=True)
    return int(hits[rows, cols].sum())


def _set_f1(n_pred: int, n_gt: int, tp: int) -> float:
    """F1 = 2TP / (2TP + FP + FN) with FP = P - TP, FN = G - TP, i.e. 2TP / (P + G)."""
    if n_gt == 0:
        return 1.0 if n_pred == 0 else 0.0
    return 2.0 * tp / (n_pred + n_gt)


def grec_sample_f1(
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    iou_threshold: float = 0.5,
    similarity: Similarity = "iou",
    matching: Matching = "greedy",
) -> float:
    """F1 of one sample's predicted box set against its ground-truth box set (GREC).

    * No-target sample (G = 0): F1 = 1 if P = 0, else 0.
    * Otherwise predictions and targets are matched one-to-one; a pair can match when its
      similarity is >= ``iou_threshold``. TP = number of matched pairs, FP = P - TP,
      FN = G - TP, F1 = 2TP / (2TP + FP + FN) (0 when P = 0).

    ``matching="greedy"`` is the reference's procedure (``refexp.py``): take the global
    maximum of the similarity matrix, stop if it is below the threshold, else count a TP and
    remove its row and column; at most min(P, G) rounds. ``matching="hungarian"`` instead
    takes a maximum-cardinality one-to-one matching of the above-threshold pairs
    (``scipy.optimize.linear_sum_assignment``); it can find more TPs than greedy.

    ``similarity`` defaults to plain IoU, as the GREC paper and GMPG sec. 3.5 state
    ("IoU >= 0.5"). The reference code matches on GIoU (``generalized_box_iou``), which is
    <= IoU and so slightly stricter; pass ``similarity="giou"`` to reproduce it.
    """
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    n_pred, n_gt = len(pred), len(gt)
    if n_gt == 0 or n_pred == 0:
        return _set_f1(n_pred, n_gt, 0)
    sim = _similarity(pred, gt, similarity)
    if matching == "greedy":
        tp = _greedy_matches(sim, iou_threshold)
    elif matching == "hungarian":
        tp = _max_matches(sim >= iou_threshold)
    else:
        raise ValueError(f"matching must be 'greedy' or 'hungarian', got {matching!r}")
    return _set_f1(n_pred, n_gt, tp)


def _check_pairs(preds: Sequence, gts: Sequence) -> None:
    if len(preds) != len(gts):
        raise ValueError(f"{len(preds)} predictions for {len(gts)} ground truths")


def precision_at_f1_per_sample(
    preds: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    *,
    iou_threshold: float = 0.5,
    similarity: Similarity = "iou",
    matching: Matching = "greedy",
) -> np.ndarray:
    """Boolean per sample: is the sample's F1 (``grec_sample_f1``) equal to 1?

    The reference tests ``F1 >= thresh_F1`` with ``thresh_F1 = 1.0``, i.e. every target matched
    and no extra prediction. A no-target sample is correct iff its prediction is empty.
    """
    _check_pairs(preds, gts)
    return np.array(
        [
            grec_sample_f1(
                p, g, iou_threshold=iou_threshold, similarity=similarity, matching=matching
            )
            >= 1.0
            for p, g in zip(preds, gts, strict=True)
        ],
        dtype=bool,
    )


def precision_at_f1(
    preds: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    *,
    iou_threshold: float = 0.5,
    similarity: Similarity = "iou",
    matching: Matching = "greedy",
) -> float:
    """Pr@(F1=1, IoU>=0.5) = #samples with F1 = 1 / #all samples (GREC; GMPG sec. 3.5).

    Targeted *and* no-target samples are both in the denominator (``refexp.py``:
    ``correct_image / num_image``). NaN for an empty input.
    """
    correct = precision_at_f1_per_sample(
        preds, gts, iou_threshold=iou_threshold, similarity=similarity, matching=matching
    )
    return float(correct.mean()) if correct.size else float("nan")


def _counts(preds: Sequence[np.ndarray], gts: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    _check_pairs(preds, gts)
    n_pred = np.array([len(_as_boxes(p)) for p in preds], dtype=int)
    n_gt = np.array([len(_as_boxes(g)) for g in gts], dtype=int)
    return n_pred, n_gt


def n_acc(preds: Sequence[np.ndarray], gts: Sequence[np.ndarray]) -> float:
    """N-acc: share of no-target samples (G = 0) whose prediction is empty (P = 0).

    ``refexp.py``: N_acc = nt["TP"] / (nt["TP"] + nt["FN"]) over no-target samples. NaN when
    there is no no-target sample (the reference would divide by zero).
    """
    n_pred, n_gt = _counts(preds, gts)
    no_target = n_gt == 0
    return float((n_pred[no_target] == 0).mean()) if no_target.any() else float("nan")


def t_acc(preds: Sequence[np.ndarray], gts: Sequence[np.ndarray]) -> float:
    """T-acc: share of targeted samples (G >= 1) with at least one prediction (P >= 1).

    ``refexp.py``: T_acc = nt["TN"] / (nt["TN"] + nt["FP"]) over targeted samples (the counter
    names are inverted there). It says nothing about box quality. NaN without targeted samples.
    """
    n_pred, n_gt = _counts(preds, gts)
    targeted = n_gt > 0
    return float((n_pred[targeted] > 0).mean()) if targeted.any() else float("nan")


def grec_metrics(
    preds: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    *,
    iou_threshold: float = 0.5,
    similarity: Similarity = "iou",
    matching: Matching = "greedy",
) -> dict[str, float | int]:
    """The GREC summary in one plain dict: precision_at_f1, n_acc, t_acc and sample counts."""
    n_pred, n_gt = _counts(preds, gts)
    return {
        "precision_at_f1": precision_at_f1(
            preds, gts, iou_threshold=iou_threshold, similarity=similarity, matching=matching
        ),
        "n_acc": n_acc(preds, gts),
        "t_acc": t_acc(preds, gts),
        "n_samples": len(n_gt),
        "n_no_target": int((n_gt == 0).sum()),
        "n_targeted": int((n_gt > 0).sum()),
    }


def _center_hits(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(P, G) booleans: does prediction i's centre lie in GT box j (closed intervals)?"""
    cx = (pred[:, 0] + pred[:, 2]) / 2.0
    cy = (pred[:, 1] + pred[:, 3]) / 2.0
    return (
        (gt[None, :, 0] <= cx[:, None])
        & (cx[:, None] <= gt[None, :, 2])
        & (gt[None, :, 1] <= cy[:, None])
        & (cy[:, None] <= gt[None, :, 3])
    )


def center_hit_f1_per_sample(
    preds: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    *,
    one_to_one: bool = True,
) -> np.ndarray:
    """Center-Hit F1 per sample (GMPG sec. 3.5: "requiring predicted box centres to fall inside
    the ground-truth region"). Working definition, UNVERIFIED (no formula or code published):

    * A prediction *hits* a GT box when its centre ((x1+x2)/2, (y1+y2)/2) lies inside the box,
      borders included.
    * ``one_to_one=True`` (default, research notes sec. 1.3): TP = size of a maximum one-to-one
      matching of predictions to GT boxes along hits (Hungarian on the hit matrix, so the
      result does not depend on prediction order or scores), FP = P - TP, FN = G - TP,
      F1 = 2TP / (2TP + FP + FN).
    * ``one_to_one=False``: precision = share of predictions hitting any GT box, recall = share
      of GT boxes hit by any prediction, F1 = 2PR / (P + R) (0 when both are 0).
    * No-target sample: 1 if P = 0 else 0 (as GREC's F1). Targeted sample with P = 0: 0.
    """
    _check_pairs(preds, gts)
    out = np.empty(len(preds))
    for i, (p, g) in enumerate(zip(preds, gts, strict=True)):
        p, g = _as_boxes(p), _as_boxes(g)
        if len(g) == 0 or len(p) == 0:
            out[i] = _set_f1(len(p), len(g), 0)
            continue
        hits = _center_hits(p, g)
        if one_to_one:
            out[i] = _set_f1(len(p), len(g), _max_matches(hits))
        else:
            precision = hits.any(axis=1).mean()
            recall = hits.any(axis=0).mean()
            total = precision + recall
            out[i] = 2.0 * precision * recall / total if total > 0 else 0.0
    return out


def center_hit_f1(
    preds: Sequence[np.ndarray], gts: Sequence[np.ndarray], *, one_to_one: bool = True
) -> float:
    """Mean of ``center_hit_f1_per_sample`` over samples (macro average; NaN if empty)."""
    values = center_hit_f1_per_sample(preds, gts, one_to_one=one_to_one)
    return float(values.mean()) if values.size else float("nan")


def boxes_to_mask(
    boxes: np.ndarray, shape: tuple[int, int], *, origin: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Union of boxes rasterised to a boolean (H, W) mask.

    Pixel (r, c) is inside box [x1, y1, x2, y2] when its centre is: x1 <= c + 0.5 < x2 and
    y1 <= r + 0.5 < y2. For integer boxes this is exactly columns x1..x2-1 and rows y1..y2-1,
    the inverse of ``medbench.imaging.boxes.mask_bbox``. ``origin`` = (x0, y0) is the pixel
    coordinate of the mask's top-left pixel (lets a canvas start at a negative coordinate).
    """
    height, width = shape
    mask = np.zeros((height, width), dtype=bool)
    x0, y0 = origin
    for x1, y1, x2, y2 in _as_boxes(boxes):
        # First / one-past-last pixel index whose centre is inside [x1, x2).
        c1, c2 = int(np.ceil(x1 - 0.5)) - x0, int(np.ceil(x2 - 0.5)) - x0
        r1, r2 = int(np.ceil(y1 - 0.5)) - y0, int(np.ceil(y2 - 0.5)) - y0
        c1, c2 = max(c1, 0), min(c2, width)
        r1, r2 = max(r1, 0), min(r2, height)
        if c2 > c1 and r2 > r1:
            mask[r1:r2, c1:c2] = True
    return mask


def _is_mask(x: np.ndarray) -> bool:
    return x.dtype == bool and x.ndim == 2


def _sample_masks(
    pred: np.ndarray, gt: np.ndarray, image_size: tuple[int, int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Both sides as boolean masks on one canvas."""
    if _is_mask(pred) and _is_mask(gt):
        if pred.shape != gt.shape:
            raise ValueError(f"mask shapes differ: {pred.shape} vs {gt.shape}")
        return pred, gt
    if _is_mask(pred) or _is_mask(gt):
        shape = pred.shape if _is_mask(pred) else gt.shape
        pm = pred if _is_mask(pred) else boxes_to_mask(pred, shape)
        gm = gt if _is_mask(gt) else boxes_to_mask(gt, shape)
        return pm, gm
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    if image_size is not None:
        # Boxes beyond the image are clipped by the canvas.
        return boxes_to_mask(pred, image_size), boxes_to_mask(gt, image_size)
    both = np.concatenate([pred, gt])
    if len(both) == 0:
        return np.zeros((0, 0), bool), np.zeros((0, 0), bool)
    # No image size: a canvas covering every box; IoU does not depend on the canvas then.
    x0 = min(int(np.floor(both[:, [0, 2]].min())), 0)
    y0 = min(int(np.floor(both[:, [1, 3]].min())), 0)
    shape = (
        max(int(np.ceil(both[:, [1, 3]].max())) - y0, 0),
        max(int(np.ceil(both[:, [0, 2]].max())) - x0, 0),
    )
    return boxes_to_mask(pred, shape, origin=(x0, y0)), boxes_to_mask(gt, shape, origin=(x0, y0))


def mask_iou_per_sample(
    preds: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    *,
    image_sizes: Sequence[tuple[int, int]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample mask IoU and its intersection / union pixel counts: ``(iou, inter, union)``.

    Each item of ``preds`` / ``gts`` is either boxes ``(K, 4)`` or a boolean ``(H, W)`` mask.
    Boxes become the *union of their boxes* rasterised with ``boxes_to_mask`` on the sample's
    canvas: ``image_sizes[i]`` = (height, width) when given (boxes clipped to the image), else a
    canvas that covers every box. IoU = |P ∩ G| / |P ∪ G| in pixels.

    No-target conventions follow ReLA's GRES evaluator (``refer_evaluation.py``):

    * GT empty and prediction empty: IoU 1, I = U = 0.
    * GT empty and prediction non-empty: IoU 0, I = 0, U = |P| (the false area still enters cIoU).
    * GT non-empty (G >= 1 boxes, or a mask with a foreground pixel): IoU = I / U; an empty
      prediction gives 0, and so does a zero union (a GT box too thin to cover a pixel centre).

    GMPG sec. 3.5 describes Mask IoU as "the intersection over union of pixel masks for all
    matched predicted and ground-truth boxes across images"; no formula or code is public. We
    compare the union of *all* predicted boxes with the union of all GT boxes (research notes
    sec. 1.3 working definition, UNVERIFIED); ``mask_iou`` reports both the per-sample mean and
    the cumulative ("across images") ratio.
    """
    _check_pairs(preds, gts)
    if image_sizes is not None and len(image_sizes) != len(preds):
        raise ValueError(f"{len(image_sizes)} image sizes for {len(preds)} samples")
    n = len(preds)
    iou, inter, union = np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for i, (p, g) in enumerate(zip(preds, gts, strict=True)):
        p_arr, g_arr = np.asarray(p), np.asarray(g)
        size = None if image_sizes is None else tuple(image_sizes[i])
        pm, gm = _sample_masks(p_arr, g_arr, size)
        if _gt_empty(g_arr):
            union[i] = int(pm.sum())
            iou[i] = 1.0 if union[i] == 0 else 0.0
            continue
        inter[i] = int(np.logical_and(pm, gm).sum())
        union[i] = int(np.logical_or(pm, gm).sum())
        iou[i] = inter[i] / union[i] if union[i] > 0 else 0.0
    return iou, inter, union


def mask_iou(
    preds: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    *,
    image_sizes: Sequence[tuple[int, int]] | None = None,
    threshold: float = 0.5,
) -> dict[str, float | int]:
    """Mask IoU summary (GRES / GMPG) as a plain dict.

    * ``mean_iou``: mean per-sample IoU over all samples (ReLA's "gIoU"; GMPG's "mIoU" read as
      the mean mask IoU, UNVERIFIED).
    * ``cum_iou``: sum of intersections / sum of unions over all samples (ReLA's "cIoU").
    * ``accuracy``: share of all samples with IoU >= ``threshold`` (GMPG "Mask IoU accuracy ...
      proportion of predictions whose mask IoU is at least 0.5"); a correctly empty no-target
      sample has IoU 1 and counts.
    * ``accuracy_targeted``: the same share over targeted samples only (ReLA's Pr@thr counts
      only those).
    """
    iou, inter, union = mask_iou_per_sample(preds, gts, image_sizes=image_sizes)
    targeted = np.array([not _gt_empty(np.asarray(g)) for g in gts], dtype=bool)
    nan = float("nan")
    return {
        "mean_iou": float(iou.mean()) if iou.size else nan,
        "cum_iou": float(inter.sum() / union.sum()) if union.sum() > 0 else nan,
        "accuracy": float((iou >= threshold).mean()) if iou.size else nan,
        "accuracy_targeted": float((iou[targeted] >= threshold).mean()) if targeted.any() else nan,
        "n_samples": int(iou.size),
        "n_targeted": int(targeted.sum()),
    }


def _gt_empty(gt: np.ndarray) -> bool:
    return not gt.any() if _is_mask(gt) else len(_as_boxes(gt)) == 0
