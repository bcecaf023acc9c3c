"""The hierarchical IoU (hIoU) with OPDC matching, as pyirstdmetrics 1.0.2 defines it, and its two bugs.

See :mod:`hse.compat.pyirstdmetrics` for the definitions (``MatchingBasedMetrics`` with
``OPDCMatching(0.5, 3)``) and the bugs reproduced with ``bugs=True``. This module holds the OPDC
matching and its per-image tallies; :mod:`hse.compat.pyirstdmetrics` holds the package's other metrics
and re-exports these two functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from hse.reduce.labelling import component_stats, label8

from ._components import divide_or_zero, pair_intersections

__all__ = ["hiou", "hiou_metrics"]


def _max_matching(cost: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-cardinality assignment restricted to ``allowed`` pairs, of minimal total cost among those."""
    rows = np.flatnonzero(allowed.any(axis=1))
    cols = np.flatnonzero(allowed.any(axis=0))
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    sub_allowed = allowed[np.ix_(rows, cols)]
    sub = cost[np.ix_(rows, cols)]
    big = (float(sub[sub_allowed].max()) + 1.0) * (min(rows.size, cols.size) + 1)
    r, c = linear_sum_assignment(np.where(sub_allowed, sub, big))
    keep = sub_allowed[r, c]
    return rows[r[keep]], cols[c[keep]]


def _pair_matrices(g_labels, m, g_areas, g_cent, p_labels, n, p_areas, p_cent):
    dist = np.linalg.norm(g_cent[:, None, :] - p_cent[None, :, :], axis=2)
    inter = pair_intersections(g_labels, m, p_labels, n)
    iou = np.zeros((m, n), dtype=np.float64)
    nz = inter > 0
    union = g_areas[:, None] + p_areas[None, :] - inter
    iou[nz] = inter[nz] / union[nz]
    return dist, iou


def _opdc_fixed(
    g_labels, m, g_areas, g_cent, p_labels, n, p_areas, p_cent, overlap_threshold, distance_threshold
):
    if m == 0 or n == 0:
        return 0, n, m, 0.0, int(p_areas.sum())
    dist, iou = _pair_matrices(g_labels, m, g_areas, g_cent, p_labels, n, p_areas, p_cent)
    matched = np.zeros((m, n), dtype=bool)
    r, c = _max_matching(dist, iou >= overlap_threshold)
    matched[r, c] = True
    free_r = np.flatnonzero(~matched.any(axis=1))
    free_c = np.flatnonzero(~matched.any(axis=0))
    if free_r.size and free_c.size:
        sub = np.ix_(free_r, free_c)
        r, c = _max_matching(dist[sub], dist[sub] < distance_threshold)
        matched[free_r[r], free_c[c]] = True
    return _tally(matched, iou, p_areas, n)


def _opdc_peer(
    g_labels, m, g_areas, g_cent, p_labels, n, p_areas, p_cent, size, overlap_threshold, distance_threshold
):
    shape = (max(m, 1), max(n, 1))
    dist = np.full(shape, float(size))
    iou = np.zeros(shape, dtype=np.float64)
    if m and n:
        dist[:m, :n], iou[:m, :n] = _pair_matrices(g_labels, m, g_areas, g_cent, p_labels, n, p_areas, p_cent)
    valid_iou = iou >= overlap_threshold
    valid_dist = dist < distance_threshold
    matched = np.zeros(shape, dtype=bool)
    if valid_iou.any():
        r, c = linear_sum_assignment(dist)
        matched[r, c] = True
        matched &= valid_iou
    if valid_dist.any():
        free_r = np.flatnonzero(matched.sum(axis=1) == 0)
        free_c = np.flatnonzero(matched.sum(axis=0) == 0)
        r, c = linear_sum_assignment(dist[free_r, :][:, free_c])
        for i, j in zip(free_r[r], free_c[c], strict=True):
            if valid_dist[i, j]:
                matched[i, j] = True
    return _tally(matched, iou, p_areas, n)


def _tally(matched, iou, p_areas, n):
    hit_c = matched.any(axis=0)
    hit_r = matched.any(axis=1)
    h, w = np.nonzero(matched)
    tp_iou = float(iou[h, w].sum())
    fp_area = int(p_areas[~hit_c[:n]].sum()) if n else 0
    return int(matched.sum()), int((~hit_c).sum()), int((~hit_r).sum()), tp_iou, fp_area


def hiou(
    pred: np.ndarray,
    mask: np.ndarray,
    thresholds: Sequence[float] = (0.5,),
    *,
    overlap_threshold: float = 0.5,
    distance_threshold: float = 3,
    bugs: bool = False,
) -> dict[str, Any]:
    """OPDC-matching counts of one image for any threshold grid (``pred > t``).

    Parameters
    ----------
    pred, mask : ndarray
        Probabilities in [0, 1] and boolean GT, same 2-D shape.
    thresholds : sequence of float
        Binarisation thresholds.
    overlap_threshold, distance_threshold : float
        OPDC's ``IoU >= overlap_threshold`` stage and ``distance < distance_threshold`` compensation.
    bugs : bool, default False
        ``True`` reproduces pyirstdmetrics 1.0.2 exactly (phantom padding targets, distance-first
        assignment); the default is the corrected matching (module docstring).

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn``, ``fp_area`` (int arrays), ``tp_iou`` (float array: sum of the IoUs of the
        matched pairs) and ``area`` (int). Sum them over images and pass the sums to :func:`hiou_metrics`.
    """
    g_labels, m = label8(mask)
    g_areas, g_cent = component_stats(g_labels, m)
    k = len(thresholds)
    out: dict[str, Any] = {key: np.zeros(k, dtype=np.int64) for key in ("tp", "fp", "fn", "fp_area")}
    out["tp_iou"] = np.zeros(k, dtype=np.float64)
    for i, t in enumerate(thresholds):
        p_labels, n = label8(pred > t)
        p_areas, p_cent = component_stats(p_labels, n)
        if bugs:
            res = _opdc_peer(
                g_labels,
                m,
                g_areas,
                g_cent,
                p_labels,
                n,
                p_areas,
                p_cent,
                mask.size,
                overlap_threshold,
                distance_threshold,
            )
        else:
            res = _opdc_fixed(
                g_labels,
                m,
                g_areas,
                g_cent,
                p_labels,
                n,
                p_areas,
                p_cent,
                overlap_threshold,
                distance_threshold,
            )
        for key, v in zip(("tp", "fp", "fn", "tp_iou", "fp_area"), res, strict=True):
            out[key][i] = v
    out["area"] = int(mask.size)
    return out


def hiou_metrics(counts: dict[str, Any]) -> dict[str, np.ndarray]:
    """``seg_iou``, ``loc_iou``, ``hiou``, ``pd``, ``fa`` (``x/0 = 0``) from summed :func:`hiou` counts."""
    tp, fp, fn = (np.asarray(counts[k]) for k in ("tp", "fp", "fn"))
    seg = divide_or_zero(np.asarray(counts["tp_iou"], dtype=np.float64), tp)
    loc = divide_or_zero(tp, tp + fp + fn)
    return {
        "seg_iou": seg,
        "loc_iou": loc,
        "hiou": seg * loc,
        "pd": divide_or_zero(tp, tp + fn),
        "fa": divide_or_zero(np.asarray(counts["fp_area"]), [counts["area"]]),
    }


# ------------------------------------------------------------------------------------------------ accumulator
