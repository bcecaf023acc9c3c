"""Matching helpers shared by the compat modules, over the components of :mod:`hse.reduce.labelling`.

* a centroid distance is compared with its threshold after the same float64 operations as the peers
  (``np.linalg.norm`` of the difference of centroids). Distances that fall within a tiny band around the
  threshold are recomputed with ``np.linalg.norm`` on the two-element difference vector, which is the
  exact call the peers make, so a tie at the threshold is decided as the peer decides it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def centroid_close(gt_centroids: np.ndarray, pred_centroids: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean ``(M, N)`` matrix: ``norm(pred_centroid - gt_centroid) < threshold``, decided as the peers do."""
    m, n = len(gt_centroids), len(pred_centroids)
    if m == 0 or n == 0:
        return np.zeros((m, n), dtype=bool)
    diff = pred_centroids[None, :, :] - gt_centroids[:, None, :]
    dist = np.sqrt(diff[..., 0] * diff[..., 0] + diff[..., 1] * diff[..., 1])
    close = dist < threshold
    border = np.abs(dist - threshold) <= 1e-9 * max(1.0, abs(threshold))
    for i, j in zip(*np.nonzero(border), strict=True):
        close[i, j] = bool(np.linalg.norm(pred_centroids[j] - gt_centroids[i]) < threshold)
    return close


def greedy_first_match(close: np.ndarray) -> np.ndarray:
    """Greedy one-to-one matching used by BasicIRSTD / DNANet / pyirstdmetrics ``PD_FA``.

    GT components are visited in label order; each takes the first (lowest label) predicted component that
    is still unmatched and close. Returns, for each GT component, the index of its predicted component or
    -1.
    """
    m, n = close.shape
    match = np.full(m, -1, dtype=np.int64)
    if m == 0 or n == 0:
        return match
    taken = np.zeros(n, dtype=bool)
    for i in np.flatnonzero(close.any(axis=1)):
        cand = np.flatnonzero(close[i] & ~taken)
        if cand.size:
            match[i] = cand[0]
            taken[cand[0]] = True
    return match


def pair_intersections(gt_labels: np.ndarray, m: int, pred_labels: np.ndarray, n: int) -> np.ndarray:
    """``(M, N)`` int64 matrix of pixel intersections between GT component i+1 and predicted component j+1."""
    both = (gt_labels > 0) & (pred_labels > 0)
    if m == 0 or n == 0 or not both.any():
        return np.zeros((m, n), dtype=np.int64)
    code = (gt_labels[both].astype(np.int64) - 1) * n + (pred_labels[both].astype(np.int64) - 1)
    return np.bincount(code, minlength=m * n).reshape(m, n).astype(np.int64)


def divide_or_zero(num: Any, den: Any) -> np.ndarray:
    """``num / den`` in float64, 0 where ``den == 0`` (the package's ``divide_func``)."""
    den = np.array(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den != 0)
