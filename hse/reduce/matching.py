"""One-to-one matching of predicted components to ground-truth targets by centroid distance.

Both rules take a distance matrix ``dist[g, p]`` between target g and predicted component p (both in
label order, i.e. raster order of their first pixel) and a radius; a pair is admissible when
``dist < radius`` (strict, as in the toolboxes).
"""

from __future__ import annotations

import numpy as np

MATCH_RULES = ("greedy", "optimal")


def greedy_match(dist: np.ndarray, radius: float) -> list[tuple[int, int]]:
    """The toolbox rule (BasicIRSTD ``PD_FA``, DNANet, pyirstdmetrics ``DistanceOnlyMatching``).

    For each target in label order, take the first not-yet-matched component in label order whose centroid
    lies at distance < ``radius``. Greedy and order-dependent: an early target can take a component that a
    later target needed, which the optimal rule avoids.

    Returns
    -------
    list of (target index, component index)
    """
    used = np.zeros(dist.shape[1], dtype=bool)
    pairs = []
    for g in range(dist.shape[0]):
        hits = np.flatnonzero((dist[g] < radius) & ~used)
        if hits.size:
            used[hits[0]] = True
            pairs.append((g, int(hits[0])))
    return pairs


def optimal_match(dist: np.ndarray, radius: float) -> list[tuple[int, int]]:
    """Maximum-cardinality one-to-one matching with the least total distance, among admissible pairs.

    scipy's ``linear_sum_assignment`` on the distance matrix where inadmissible pairs (``dist >= radius``)
    cost more than any full set of admissible ones, so the number of matches is maximised first and the
    summed distance minimised second; inadmissible assignments are then dropped. hse's own option, not a
    toolbox rule.
    """
    if dist.size == 0:
        return []
    admissible = dist < radius
    if not admissible.any():
        return []
    from scipy.optimize import linear_sum_assignment

    big = float(radius) * (min(dist.shape) + 1)
    cost = np.where(admissible, dist, big)
    rows, cols = linear_sum_assignment(cost)
    return [(int(g), int(p)) for g, p in zip(rows, cols, strict=True) if admissible[g, p]]


def match(dist: np.ndarray, radius: float, rule: str = "greedy") -> list[tuple[int, int]]:
    """Dispatch to :func:`greedy_match` or :func:`optimal_match`."""
    if rule == "greedy":
        return greedy_match(dist, radius)
    if rule == "optimal":
        return optimal_match(dist, radius)
    raise ValueError(f"match={rule!r} is not one of {MATCH_RULES}")
