"""Weighted Boxes Fusion (Solovyev, Wang, Gabruseva, "Weighted boxes fusion: Ensembling boxes
from different object detection models", Image and Vision Computing 2021; arXiv 1910.13302).

Written from the semantics of the reference package ``ensemble-boxes`` (PyPI 1.0.9,
``ZFTurbo/Weighted-Boxes-Fusion:ensemble_boxes/ensemble_boxes_wbf.py``, research notes sec. 3),
numpy only. MedGrounder (GMPG paper sec. 4.0.2 and 5.3.2) filters predictions at confidence 0.8
and fuses them with WBF at IoU 0.1; the order of those two steps is not stated (notes sec. 1.3).

Semantics (each matches the reference unless listed under "Deviations"):

1. Input per model m: boxes (K, 4) as [x1, y1, x2, y2] normalised to [0, 1], scores (K,),
   labels (K,). A box whose raw score is < ``skip_box_thr`` is dropped. x2 < x1 (or y2 < y1)
   is swapped, coordinates are clipped to [0, 1] (with a warning) and boxes of zero area after
   that are dropped (with a warning). Its score becomes s * w_m.
2. Boxes are clustered per label, visiting them by weighted score, highest first. Each box
   joins the existing cluster whose *current fused box* has the highest IoU with it, if that
   IoU is strictly greater than ``iou_thr``; otherwise it starts a new cluster.
3. Fused box = sum_i s_i * b_i / sum_i s_i over the cluster's members (weighted scores s_i).
   Cluster confidence c = mean s_i (``"max"``: max s_i).
4. Rescaling, with n = cluster size, M = number of models, W = sum of model weights:
   * ``"avg"``: c * min(M, n) / W; with ``allows_overflow=True``: c * n / W.
   * ``"max"``: c / max(weights).
   * ``"box_and_model_avg"``: c * n / (sum of member weights) * (sum of weights of the distinct
     models in the cluster) / W.
   * ``"absent_model_aware_avg"``: c * n / (sum of member weights + sum of weights of the
     models absent from the cluster).
   With one model of weight 1 and ``"avg"`` the result is the plain mean score of the cluster.
5. Output is sorted by confidence, descending (ties in the same order as the reference:
   numpy's default ``argsort`` of the scores, reversed).

Deviations from the reference: invalid arguments raise ``ValueError`` where the reference
prints and calls ``exit()`` (unknown ``conf_type``, length mismatches) or silently resets the
weights to 1 (wrong number of weights); fused coordinates are computed in float64 (the
reference accumulates them in float32, so results agree to about 1e-6); a cluster whose scores
sum to 0 is fused with equal weights instead of producing NaN; labels come back as integers
(the reference returns them as floats).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np

ConfType = Literal["avg", "max", "box_and_model_avg", "absent_model_aware_avg"]
_CONF_TYPES = ("avg", "max", "box_and_model_avg", "absent_model_aware_avg")

__all__ = ["weighted_boxes_fusion", "fuse_boxes"]


def _iou_one_to_many(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    lt = np.maximum(boxes[:, :2], box[:2])
    rb = np.minimum(boxes[:, 2:], box[2:])
    wh = np.clip(rb - lt, 0.0, None)
    inter = wh[:, 0] * wh[:, 1]
    area_a = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    area_b = (box[2] - box[0]) * (box[3] - box[1])
    # Areas are positive: zero-area boxes were dropped and fused boxes average positive ones.
    return inter / (area_a + area_b - inter)


def _prefilter(
    boxes_list: Sequence,
    scores_list: Sequence,
    labels_list: Sequence,
    weights: np.ndarray,
    skip_box_thr: float,
    scale: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All models' kept boxes in input order: coords (K, 4), weighted scores, labels, models."""
    coords, scores, labels, models = [], [], [], []
    swapped = clipped = dropped = 0
    for m, (b, s, lab) in enumerate(zip(boxes_list, scores_list, labels_list, strict=True)):
        b = np.asarray(b, dtype=float).reshape(-1, 4)
        s = np.asarray(s, dtype=float).reshape(-1)
        lab = np.asarray(lab).reshape(-1)
        if not len(b) == len(s) == len(lab):
            raise ValueError(
                f"model {m}: {len(b)} boxes, {len(s)} scores and {len(lab)} labels differ"
            )
        keep = s >= skip_box_thr
        b, s, lab = b[keep], s[keep], lab[keep]
        if scale is not None:
            b = b / scale
        lo = np.minimum(b[:, :2], b[:, 2:])
        hi = np.maximum(b[:, :2], b[:, 2:])
        swapped += int(np.count_nonzero(lo != b[:, :2]))
        b = np.concatenate([lo, hi], axis=1)
        clipped_b = np.clip(b, 0.0, 1.0)
        clipped += int(np.count_nonzero(clipped_b != b))
        b = clipped_b
        positive = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) != 0.0
        dropped += int(np.count_nonzero(~positive))
        coords.append(b[positive])
        scores.append(s[positive] * weights[m])
        labels.append(lab[positive].astype(np.int64))
        models.append(np.full(int(positive.sum()), m, dtype=np.int64))
    if swapped:
        warnings.warn(
            f"WBF: {swapped} box coordinate pairs had x2 < x1 or y2 < y1; swapped", stacklevel=3
        )
    if clipped:
        warnings.warn(
            f"WBF: {clipped} coordinates outside [0, 1] clipped; are the boxes normalised?",
            stacklevel=3,
        )
    if dropped:
        warnings.warn(f"WBF: {dropped} zero-area boxes skipped", stacklevel=3)
    if not coords:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (
        np.concatenate(coords),
        np.concatenate(scores),
        np.concatenate(labels),
        np.concatenate(models),
    )


def _fuse_label(
    coords: np.ndarray,
    scores: np.ndarray,
    models: np.ndarray,
    weights: np.ndarray,
    iou_thr: float,
    conf_type: str,
    allows_overflow: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster one label's boxes and return fused boxes and rescaled confidences."""
    order = np.argsort(scores)[::-1]  # same tie order as the reference
    fused = np.zeros((len(order), 4))
    weighted_sum = np.zeros((len(order), 4))  # sum of s_i * b_i per cluster
    members: list[list[int]] = []
    for j in order:
        box, s = coords[j], scores[j]
        k = -1
        if members:
            ious = _iou_one_to_many(fused[: len(members)], box)
            best = int(np.argmax(ious))
            if ious[best] > iou_thr:  # strictly greater, as the reference
                k = best
        if k < 0:
            members.append([int(j)])
            k = len(members) - 1
        else:
            members[k].append(int(j))
        weighted_sum[k] += s * box
        idx = members[k]
        total = scores[idx].sum()
        # Running fused box: later boxes match against it, not against the members.
        fused[k] = weighted_sum[k] / total if total > 0 else coords[idx].mean(axis=0)

    n_clusters = len(members)
    conf = np.empty(n_clusters)
    w_total = weights.sum()
    for k, idx in enumerate(members):
        s = scores[idx]
        n = len(idx)
        c = s.max() if conf_type == "max" else s.mean()
        member_w = weights[models[idx]].sum()
        present = np.unique(models[idx])
        if conf_type == "box_and_model_avg":
            c = c * n / member_w * weights[present].sum() / w_total
        elif conf_type == "absent_model_aware_avg":
            absent = np.ones(len(weights), dtype=bool)
            absent[present] = False
            c = c * n / (member_w + weights[absent].sum())
        elif conf_type == "max":
            c = c / weights.max()
        elif allows_overflow:
            c = c * n / w_total
        else:
            c = c * min(len(weights), n) / w_total
        conf[k] = c
    return fused[:n_clusters], conf


def weighted_boxes_fusion(
    boxes_list: Sequence,
    scores_list: Sequence,
    labels_list: Sequence,
    weights: Sequence[float] | None = None,
    iou_thr: float = 0.55,
    skip_box_thr: float = 0.0,
    conf_type: ConfType = "avg",
    allows_overflow: bool = False,
    *,
    image_size: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fuse the boxes of several models (or of one model: pass ``[boxes]``, ``[scores]``,
    ``[labels]``). Returns ``(boxes (N, 4), scores (N,), labels (N,))`` sorted by score.

    Same arguments and semantics as ``ensemble_boxes.weighted_boxes_fusion`` (module doc).
    Coordinates are normalised to [0, 1] unless ``image_size = (height, width)`` is given; then
    input and output boxes are in pixels (IoU and weighted means are invariant to the per-axis
    scaling, so only the clipping to the image differs from fusing normalised boxes).
    """
    n_models = len(boxes_list)
    if not len(scores_list) == len(labels_list) == n_models:
        raise ValueError(
            f"{n_models} box lists, {len(scores_list)} score lists, {len(labels_list)} label lists"
        )
    w = np.ones(n_models) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if len(w) != n_models:
        raise ValueError(f"{len(w)} weights for {n_models} models")
    if conf_type not in _CONF_TYPES:
        raise ValueError(f"conf_type must be one of {_CONF_TYPES}, got {conf_type!r}")
    scale = None
    if image_size is not None:
        height, width = image_size
        scale = np.array([width, height, width, height], dtype=float)

    coords, scores, labels, models = _prefilter(
        boxes_list, scores_list, labels_list, w, skip_box_thr, scale
    )
    if len(coords) == 0:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64)

    out_boxes, out_scores, out_labels = [], [], []
    # Labels in order of first appearance, as the reference's dict of per-label lists.
    _, first = np.unique(labels, return_index=True)
    for label in labels[np.sort(first)]:
        sel = labels == label
        fused, conf = _fuse_label(
            coords[sel], scores[sel], models[sel], w, iou_thr, conf_type, allows_overflow
        )
        out_boxes.append(fused)
        out_scores.append(conf)
        out_labels.append(np.full(len(conf), label, dtype=np.int64))
    boxes = np.concatenate(out_boxes)
    conf = np.concatenate(out_scores)
    labs = np.concatenate(out_labels)
    order = np.argsort(conf)[::-1]
    boxes = boxes[order]
    if scale is not None:
        boxes = boxes * scale
    return boxes, conf[order], labs[order]


def fuse_boxes(
    boxes: np.ndarray,
    scores: np.ndarray,
    *,
    iou_thr: float = 0.1,
    skip_box_thr: float = 0.0,
    conf_type: ConfType = "avg",
    image_size: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """WBF of one model's boxes of one label: the MedGrounder use (IoU 0.1, GMPG sec. 5.3.2).

    Returns ``(boxes, scores)``. With ``"avg"`` each fused score is the mean member score.
    """
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    scores = np.asarray(scores, dtype=float).reshape(-1)
    fused, conf, _ = weighted_boxes_fusion(
        [boxes],
        [scores],
        [np.zeros(len(boxes), dtype=np.int64)],
        iou_thr=iou_thr,
        skip_box_thr=skip_box_thr,
        conf_type=conf_type,
        image_size=image_size,
    )
    return fused, conf
