"""Pixel-level counts for every threshold from one pass over the image.

Instead of binarising the map once per threshold, each pixel is mapped to its *level*: the number of
grid thresholds it exceeds (``level = #{k : t_k < P}``, so ``P > t_k  <=>  level > k``). A histogram of
levels over target and background pixels, cumulated from the top, gives the true and false positive
counts at all thresholds at once. Levels and both histograms come from one numba pass
(:mod:`hse.reduce._levels`): integer maps through a lookup table on their raw values, float maps through
an exact bucket table, never a sort.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_TOPS = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535, np.dtype(np.bool_): 1}


def level_dtype(n_thresholds: int) -> np.dtype:
    """The smallest level type: uint8 up to 255 thresholds (the uint8 grid included), else int32."""
    return np.dtype(np.uint8) if n_thresholds <= 255 else np.dtype(np.int32)


@lru_cache(maxsize=16)
def _integer_table(dtype: np.dtype, grid_bytes: bytes) -> np.ndarray:
    """``table[u] = #{k : t_k < u / top}`` for every raw value u of an integer type (read-only)."""
    grid = np.frombuffer(grid_bytes, dtype=np.float64)
    top = _TOPS[dtype]
    table = np.searchsorted(grid, np.arange(top + 1) / float(top), side="left").astype(level_dtype(grid.size))
    table.flags.writeable = False
    return table


@lru_cache(maxsize=16)
def _float_table(grid_bytes: bytes) -> np.ndarray:
    from ._levels import bucket_table

    grid = np.frombuffer(grid_bytes, dtype=np.float64)
    table = bucket_table(grid).astype(level_dtype(grid.size))  # small type: the table stays in L1 cache
    table.flags.writeable = False
    return table


def level_histograms(
    pred: np.ndarray, mask: np.ndarray | None, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levels of every pixel and their histograms over all pixels and over the mask, in one pass.

    Parameters
    ----------
    pred : numpy.ndarray
        A validated 2-D prediction (float in [0, 1], uint8, uint16 or bool).
    mask : numpy.ndarray or None
        Bool mask of pred's shape (None: no mask histogram).
    grid : numpy.ndarray
        Strictly increasing float64 thresholds, shape (K,).

    Returns
    -------
    levels : numpy.ndarray
        pred's shape, uint8 (K <= 255) or int32, values in 0..K.
    hist, hist_gt : numpy.ndarray
        int64, shape (K + 1,): pixels of each level, over the image and over the mask.
    """
    from ._levels import levels_from_buckets, levels_from_table  # numba loads lazily

    grid = np.ascontiguousarray(grid, dtype=np.float64)
    k = grid.size
    flat = np.ascontiguousarray(pred).ravel()
    on = np.zeros(flat.size, dtype=np.bool_) if mask is None else np.ascontiguousarray(mask).ravel()
    levels = np.empty(flat.size, dtype=level_dtype(k))
    hist = np.zeros(k + 1, dtype=np.int64)
    hist_gt = np.zeros(k + 1, dtype=np.int64)
    if flat.dtype in _TOPS:
        table = _integer_table(flat.dtype, grid.tobytes())
        raw = flat.view(np.uint8) if flat.dtype == np.bool_ else flat
        levels_from_table(raw, on, table, levels, hist, hist_gt)
    else:
        if flat.dtype not in (np.float32, np.float64):
            flat = flat.astype(np.float64)
        levels_from_buckets(flat, on, grid, _float_table(grid.tobytes()), levels, hist, hist_gt)
    return levels.reshape(pred.shape), hist, hist_gt


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
        uint8 (K <= 255) or int32 array of pred's shape with values in 0..K. Comparisons are exact: in
        float64 on the values ``u / 255`` (uint8), ``u / 65535`` (uint16) or 0/1 (bool), through a lookup
        table for the integer types.
    """
    return level_histograms(pred, None, grid)[0]


def counts_above(hist: np.ndarray) -> np.ndarray:
    """Counts above each threshold from a histogram of levels: ``out[k] = sum(hist[k + 1:])`` (int64)."""
    return np.cumsum(hist[::-1])[::-1][1:].astype(np.int64)


def pixel_counts_from_histograms(hist: np.ndarray, hist_gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positive pixel counts at every threshold from the level histograms."""
    tp = counts_above(hist_gt)
    return tp, counts_above(hist) - tp


def pixel_counts(levels: np.ndarray, mask: np.ndarray, n_thresholds: int) -> tuple[np.ndarray, np.ndarray]:
    """True and false positive pixel counts at every threshold.

    Returns
    -------
    tp, fp : numpy.ndarray
        int64, shape (K,): ``tp[k] = |P > t_k AND G|`` and ``fp[k] = |P > t_k AND NOT G|``.
    """
    flat = levels.ravel()
    hist = np.bincount(flat, minlength=n_thresholds + 1)
    hist_gt = np.bincount(flat[mask.ravel()], minlength=n_thresholds + 1)
    return pixel_counts_from_histograms(hist, hist_gt)
