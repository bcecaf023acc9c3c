"""Per-pixel threshold levels and their histograms in one pass (numba kernels).

A pixel's level is the number of grid thresholds it strictly exceeds, ``#{k : t_k < P}``. Integer maps
(uint8, uint16, bool) take it from a lookup table indexed by the raw value: no float is formed. Float maps
take it from a bucket table: ``floor(P * B)`` with ``B`` a power of two is exact, and the table holds the
number of thresholds below each bucket's lower edge ``b / B`` (all of them below ``P`` as well), so a short
forward scan over the few thresholds inside the bucket finishes the count exactly. The same pass counts
the levels over all pixels and over the mask's pixels, which gives every pixel counter at once.
"""

from __future__ import annotations

import numba as nb
import numpy as np

#: Buckets of the float level table (a power of two, so ``P * BUCKETS`` is exact).
BUCKETS = 4096


@nb.njit(cache=True, nogil=True)
def levels_from_table(pred, mask, table, levels, hist, hist_gt):
    """Integer maps: ``levels = table[pred]``; ``hist[l]`` / ``hist_gt[l]`` count level l over all / mask pixels.

    ``pred``, ``mask`` and ``levels`` are flat (C-contiguous raveled); ``hist`` and ``hist_gt`` are
    zeroed int64 arrays of size K + 1.
    """
    for i in range(pred.shape[0]):
        lv = table[pred[i]]
        levels[i] = lv
        hist[lv] += 1
        if mask[i]:
            hist_gt[lv] += 1


@nb.njit(cache=True, nogil=True)
def levels_from_buckets(pred, mask, grid, table, levels, hist, hist_gt):
    """Float maps in [0, 1]: exact ``#{k : grid[k] < pred}`` via the bucket table (see the module doc)."""
    n_thr = grid.shape[0]
    top = table.shape[0] - 1
    scale = float(top)
    for i in range(pred.shape[0]):
        p = float(pred[i])
        b = int(p * scale)
        if b > top:
            b = top
        elif b < 0:
            b = 0
        lv = table[b]
        while lv < n_thr and grid[lv] < p:
            lv += 1
        levels[i] = lv
        hist[lv] += 1
        if mask[i]:
            hist_gt[lv] += 1


def bucket_table(grid: np.ndarray, buckets: int = BUCKETS) -> np.ndarray:
    """``table[b] = #{k : grid[k] < b / buckets}`` for b = 0..buckets (int64)."""
    edges = np.arange(buckets + 1, dtype=np.float64) / buckets
    return np.searchsorted(grid, edges, side="left").astype(np.int64)
