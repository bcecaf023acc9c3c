"""Target-level counts (Pd, Fa, target TP/FP/FN) at every threshold.

Ground-truth targets are the 8-connected components of the mask (skimage ``connectivity=2``), with the
centroid as the mean (row, col) of their pixels. Predicted components at each threshold come from one
union-find sweep over the thresholds (:mod:`hse.reduce._sweep`), never from relabelling the image K times.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .labelling import component_summary
from .matching import optimal_match


@dataclass(frozen=True)
class Targets:
    """Ground-truth targets of one mask: centroids (label order) and areas."""

    rows: np.ndarray
    cols: np.ndarray
    areas: np.ndarray

    @property
    def count(self) -> int:
        return int(self.rows.shape[0])


def find_targets(mask: np.ndarray) -> Targets:
    """The ground-truth targets of a bool mask (:func:`hse.reduce.labelling.component_summary`)."""
    areas, centroids = component_summary(mask)
    return Targets(centroids[:, 0].copy(), centroids[:, 1].copy(), areas)


class _Workspace(threading.local):
    """The sweep's work arrays, kept per thread and grown to the largest image seen.

    Mapping fresh pages for every image costs more than the sweep itself on small images, so the arrays
    are reused; ``lab`` must be all -1 between calls (the sweep restores it), and is refilled if a call
    did not finish.
    """

    lab: np.ndarray = np.zeros(0, dtype=np.int32)
    work32: np.ndarray = np.zeros(0, dtype=np.int32)
    work64: np.ndarray = np.zeros(0, dtype=np.int64)
    clean: bool = True

    def arrays(self, n: int, n_fg: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.lab.size < n or not self.clean:
            self.lab = np.full(max(n, self.lab.size), -1, dtype=np.int32)
            self.clean = True
        if self.work32.size < 7 * n_fg:
            self.work32 = np.empty(7 * n_fg, dtype=np.int32)
            self.work64 = np.empty(2 * n_fg, dtype=np.int64)
        return self.lab, self.work32, self.work64


_WORK = _Workspace()


def release_workspace() -> None:
    """Drop this thread's sweep work arrays (they are kept between images for speed)."""
    _WORK.lab, _WORK.work32, _WORK.work64 = (np.zeros(0, dtype=t) for t in (np.int32, np.int32, np.int64))


def target_counts(
    levels: np.ndarray,
    targets: Targets,
    n_thresholds: int,
    radius: float = 3.0,
    match: str = "greedy",
    hist: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matched targets, predicted components and matched-component pixels at every threshold.

    Parameters
    ----------
    levels : numpy.ndarray
        Per-pixel threshold levels from :func:`hse.pixel.threshold_levels`.
    targets : Targets
        Ground-truth targets from :func:`find_targets`.
    n_thresholds : int
        Number of thresholds K.
    radius : float
        Centroid distance below which a component can match a target (3 px in the toolboxes).
    match : {"greedy", "optimal"}
        The toolbox's greedy first-match rule, or a maximum-cardinality minimum-distance assignment.
    hist : numpy.ndarray, optional
        The histogram of levels (:func:`hse.reduce.pixel.level_histograms`), counted here if not given.

    Returns
    -------
    matched, n_components, matched_area : numpy.ndarray
        int64, shape (K,). Pd's numerator; the number of predicted components; the pixels of matched
        components (Fa's numerator is the foreground pixel count minus ``matched_area``).
    """
    from ._sweep import sweep  # numba compiles/loads lazily, so `import hse` stays light

    if match not in ("greedy", "optimal"):
        raise ValueError(f"match={match!r} is not one of ('greedy', 'optimal')")
    want_pairs = match == "optimal"
    if levels.dtype not in (np.uint8, np.int32):
        levels = levels.astype(np.int32)
    if hist is None:
        hist = np.bincount(levels.ravel(), minlength=n_thresholds + 1).astype(np.int64)
    lab, work32, work64 = _WORK.arrays(levels.size, int(levels.size - hist[0]))
    _WORK.clean = False
    n_components, matched, matched_area, pairs, pair_dist = sweep(
        np.ascontiguousarray(levels),
        hist,
        targets.rows,
        targets.cols,
        float(radius),
        want_pairs,
        lab,
        work32,
        work64,
    )
    _WORK.clean = True
    if want_pairs:
        matched, matched_area = _optimal_from_pairs(pairs, pair_dist, targets.count, n_thresholds, radius)
    return matched, n_components, matched_area


def _optimal_from_pairs(pairs, pair_dist, n_gt, n_thresholds, radius):
    """Optimal matching per threshold from the sweep's (threshold, target, component, area) pairs.

    Each threshold's pairs form a bipartite graph; its connected components are independent assignment
    problems, solved one by one on small dense matrices (never a targets x components matrix).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    matched = np.zeros(n_thresholds, dtype=np.int64)
    matched_area = np.zeros(n_thresholds, dtype=np.int64)
    if pairs.shape[0] == 0:
        return matched, matched_area
    order = np.argsort(pairs[:, 0], kind="stable")
    pairs, pair_dist = pairs[order], pair_dist[order]
    bounds = np.flatnonzero(np.diff(pairs[:, 0])) + 1
    for chunk, dist_chunk in zip(np.split(pairs, bounds), np.split(pair_dist, bounds), strict=True):
        k = int(chunk[0, 0])
        gts, g_index = np.unique(chunk[:, 1], return_inverse=True)
        comps, c_index = np.unique(chunk[:, 2], return_inverse=True)
        comp_area = np.zeros(comps.size, dtype=np.int64)
        comp_area[c_index] = chunk[:, 3]
        n_nodes = gts.size + comps.size
        edges = coo_matrix((np.ones(len(chunk)), (g_index, gts.size + c_index)), shape=(n_nodes, n_nodes))
        _, group = connected_components(edges, directed=False)
        pair_group = group[g_index]
        for gid in np.unique(pair_group):
            sel = pair_group == gid
            rows, row_index = np.unique(g_index[sel], return_inverse=True)
            cols, col_index = np.unique(c_index[sel], return_inverse=True)
            dist = np.full((rows.size, cols.size), np.inf)
            dist[row_index, col_index] = dist_chunk[sel]
            found = optimal_match(dist, radius)
            matched[k] += len(found)
            matched_area[k] += int(sum(comp_area[cols[p]] for _, p in found))
    return matched, matched_area
