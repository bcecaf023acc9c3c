"""Ranks with ties: methods whose HSE the data cannot tell apart from a group's leader share its rank.

The rule (docs/hse-leaderboard.md, "Ranks with ties"): methods are ordered by HSE, best first. The
first method leads group 1 and gets rank 1. Each following method is compared with the leader of the
current group; it shares the leader's rank when the bootstrap test of their HSE difference
(:func:`hse.stats.compare`, paired when both hold the same images, else unpaired) is not significant at
``1 - level``: the difference's interval contains zero. Whether the two methods' own intervals of HSE
(:func:`hse.bootstrap`) overlap is reported, not used: on the same images most of the between-image
spread is shared, so separate intervals overlap even where the paired difference is clear.

Otherwise it leads a new group, whose rank is its position in the order (competition ranking:
1, 1, 3, ...). Ties are judged against the group's leader only, so a chain of small differences
cannot tie the last method to the first.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hse.errors import InputError, SmallSampleWarning
from hse.stats import bootstrap, compare


def assign_ranks(order: Sequence[str], tied: Callable[[str, str], bool]) -> dict[str, tuple[int, str]]:
    """``{method: (rank, group leader)}`` for ``order`` (best first), where ``tied(leader, method)``
    says whether ``method`` shares the rank of the group led by ``leader``."""
    out: dict[str, tuple[int, str]] = {}
    leader = None
    for pos, name in enumerate(order, 1):
        if leader is not None and tied(leader, name):
            out[name] = (out[leader][0], leader)
        else:
            leader = name
            out[name] = (pos, name)
    return out


def compare_hse(a: Any, b: Any, n: int, seed: int, level: float) -> Any:
    """:func:`hse.stats.compare` of ``a`` and ``b``: paired when both hold the same images, else unpaired;
    None when neither test can be run. Small-sample warnings are left to the caller's table."""
    for paired in (True, False):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallSampleWarning)
                return compare(a, b, n=n, seed=seed, level=level, paired=paired)
        except InputError:
            continue
    return None


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two closed intervals ``(low, high)`` share a point."""
    return a[0] <= b[1] and b[0] <= a[1]


def tied_ranks(
    results: Mapping[str, Any], n: int = 1000, seed: int = 0, level: float = 0.95
) -> list[dict[str, Any]]:
    """Rank ``{method: Result}`` by HSE with ties (see the module docstring).

    Returns one dict per method, best first: ``method``, ``hse``, ``hse_low``, ``hse_high`` (the
    ``level`` bootstrap interval), ``rank``, ``leader`` (the method whose rank it shares, itself for a
    group's leader), ``p_vs_leader`` (two-sided bootstrap p-value of the HSE difference with the
    leader; paired when both hold the same images, else unpaired: ``paired``), ``ci_overlap`` with the
    leader's interval. A method without a finite HSE is ranked last, alone."""
    if not results:
        raise InputError("tied_ranks: no results")
    hse = {k: float(r.hse) for k, r in results.items()}
    finite = [k for k in results if math.isfinite(hse[k])]
    order = sorted(finite, key=lambda k: (-hse[k], k)) + sorted(k for k in results if k not in finite)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        iv = {k: bootstrap(results[k], n=n, seed=seed, level=level)["hse"] for k in finite}
    tests: dict[tuple[str, str], dict[str, Any]] = {}

    def tied(leader: str, name: str) -> bool:
        if name not in iv or leader not in iv:
            return False
        test = compare_hse(results[leader], results[name], n, seed, level)
        both = overlap((iv[leader].low, iv[leader].high), (iv[name].low, iv[name].high))
        sig = test is not None and test.significant("hse")
        tests[(leader, name)] = {"p": float(test["hse"].p_value) if test is not None else None,
                                 "paired": test.paired if test is not None else None, "overlap": both}  # fmt: skip
        return not sig if test is not None else both

    ranks = assign_ranks(order, tied)
    rows = []
    for name in order:
        rank, leader = ranks[name]
        t = tests.get((leader, name), {}) if leader != name else {}
        rows.append({
            "method": name, "hse": hse[name],
            "hse_low": iv[name].low if name in iv else None, "hse_high": iv[name].high if name in iv else None,
            "rank": rank, "leader": leader, "p_vs_leader": t.get("p"), "paired": t.get("paired"),
            "ci_overlap": t.get("overlap"),
        })  # fmt: skip
    return rows


__all__ = ["assign_ranks", "compare_hse", "overlap", "tied_ranks"]
