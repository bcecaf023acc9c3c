"""Pixel-level counts for every threshold from one pass over the image.

Instead of binarising the map once per threshold, each pixel is mapped to its *level*: the number of
grid thresholds it exceeds (``level = #{k : t_k < P}``, so ``P > t_k  <=>  level > k``). A histogram of
levels over target and background pixels, cumulated from the top, gives the true and false positive
counts at all thresholds at once.
"""

from __future__ import annotations

import numpy as np


def threshold_levels(pred: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Map each pixel to the number of thresholds it strictly exceeds.

    Parameters
    ----------
    pred : numpy.ndarray
        A validated prediction (float in [0, 1], uint8, uint16 or bool).
    grid : numpy.ndarray
        Strictly increasing thresholds, shape (K,).

    Returns
    -------
    numpy.ndarray
        int32 array of pred's shape with values in 0..K. Comparisons are done in float64 on the values
        ``u / 255`` (uint8), ``u / 65535`` (uint16) or 0/1 (bool), through a lookup table for the integer
        types so that 8-bit inputs stay exact and cheap.
    """
    if pred.dtype == np.uint8 or pred.dtype == np.uint16 or pred.dtype == np.bool_:
        top = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535, np.dtype(np.bool_): 1}[pred.dtype]
        lut = np.searchsorted(grid, np.arange(top + 1) / float(top), side="left").astype(np.int32)
        return lut[pred.view(np.uint8) if pred.dtype == np.bool_ else pred]
    return np.searchsorted(grid, pred.astype(np.float64, copy=False), side="left").astype(np.int32)


def counts_above(levels: np.ndarray, n_thresholds: int) -> np.ndarray:
    """Number of the given pixel levels that exceed each threshold: ``out[k] = #{level > k}``."""
    hist = np.bincount(levels, minlength=n_thresholds + 1)
    # out[k] = sum_{j > k} hist[j]: a cumulative sum from the top, dropping level 0.
    return np.cumsum(hist[::-1])[::-1][1:].astype(np.int64)


def pixel_counts(levels: np.ndarray, mask: np.ndarray, n_thresholds: int) -> tuple[np.ndarray, np.ndarray]:
    """True and false positive pixel counts at every threshold.

    Returns
    -------
    tp, fp : numpy.ndarray
        int64, shape (K,): ``tp[k] = |P > t_k AND G|`` and ``fp[k] = |P > t_k AND NOT G|``.
    """
    flat = levels.ravel()
    on_target = mask.ravel()
    tp = counts_above(flat[on_target], n_thresholds)
    fp = counts_above(flat, n_thresholds) - tp
    return tp, fp
