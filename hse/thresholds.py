"""Threshold grids.

A prediction map P is binarised at threshold t with the strict rule ``P > t``, which is what the
reference toolboxes do at 0.5. hse evaluates every image on a sorted grid of thresholds at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import InputError

#: The default HSE grid: 0.05, 0.10, ..., 0.95 (19 values). ``k / 20`` makes 0.5 exactly 0.5.
DEFAULT_GRID = np.arange(1, 20) / 20.0
DEFAULT_GRID.flags.writeable = False

#: All 255 levels ``k / 255`` (k = 0..254): exact for 8-bit predictions, which take values ``u / 255``.
UINT8_GRID = np.arange(255) / 255.0
UINT8_GRID.flags.writeable = False

ThresholdSpec = str | Sequence[float] | np.ndarray


def resolve_thresholds(spec: ThresholdSpec = "default") -> np.ndarray:
    """Turn a threshold specification into a validated, strictly increasing float64 grid.

    Parameters
    ----------
    spec : {"default", "uint8"} or sequence of float
        ``"default"`` is 0.05..0.95 in steps of 0.05; ``"uint8"`` is k/255 for k = 0..254. A sequence
        must be finite, strictly increasing and inside [0, 1].

    Returns
    -------
    numpy.ndarray
        The grid, float64, shape (K,).
    """
    if isinstance(spec, str):
        if spec == "default":
            return DEFAULT_GRID.copy()
        if spec == "uint8":
            return UINT8_GRID.copy()
        raise InputError(
            f"thresholds={spec!r} is not a known grid; use 'default', 'uint8' or a sorted list of floats"
        )
    grid = np.asarray(spec, dtype=np.float64)
    if grid.ndim == 0:
        grid = grid.reshape(1)
    if grid.ndim != 1 or grid.size == 0:
        raise InputError(f"thresholds must be a non-empty 1-D sequence, got shape {grid.shape}")
    if not np.all(np.isfinite(grid)):
        raise InputError("thresholds must be finite numbers in [0, 1]; got NaN or inf")
    if grid.min() < 0.0 or grid.max() > 1.0:
        raise InputError(
            f"thresholds must lie in [0, 1], got min {float(grid.min())} and max {float(grid.max())}"
        )
    if np.any(np.diff(grid) <= 0):
        raise InputError("thresholds must be strictly increasing (sort them and drop duplicates)")
    return grid


def check_operating_threshold(threshold: float) -> float:
    """Validate the single operating threshold (the paper's 0.5) and return it as a float."""
    t = float(threshold)
    if not np.isfinite(t) or not 0.0 <= t < 1.0:
        raise InputError(f"threshold must be in [0, 1), got {threshold!r}")
    return t


def with_operating_point(grid: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Merge the HSE grid with the operating threshold.

    Returns the evaluation grid (sorted union), the indices of the HSE grid inside it, and the index of
    the operating threshold inside it. The operating point is evaluated even when it is not on the grid,
    but it only counts towards the HSE integrals when it is.
    """
    full = np.union1d(grid, [threshold])
    grid_index = np.searchsorted(full, grid)
    op_index = int(np.searchsorted(full, threshold))
    return full, grid_index, op_index
