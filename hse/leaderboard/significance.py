"""The statistics of a ranked leaderboard: each method's HSE interval, the bootstrap test of its HSE
against the method ranked just above, and its rank with ties (:mod:`hse.leaderboard.ranks`), computed
here, then passed to :mod:`hse.leaderboard.table`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hse.errors import SmallSampleWarning
from hse.result import Result
from hse.stats import FEW_IMAGES, MIN_IMAGES, bootstrap

from .ranks import compare_hse, tied_ranks

#: The fields :func:`ranked_statistics` gives every method (None where they do not apply).
FIELDS = ("hse_low", "hse_high", "ci_level", "ci_n", "p_vs_above", "paired_vs_above", "tied_with_above",
          "blocked_vs_above", "rank_tied")  # fmt: skip


def finite(x: Any) -> float | None:
    """``float(x)`` when it is a finite number, else None."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _with_state(res: Any) -> Result | None:
    """The Result behind ``res`` when its per-image state is available, else None."""
    if isinstance(res, Result):
        return res
    if isinstance(res, Mapping) and "state" in res:
        try:
            return Result.from_dict(dict(res))
        except (ValueError, KeyError, TypeError):
            return None
    return None


def ranked_statistics(
    order: Sequence[str],
    results: Mapping[str, Any],
    hse: Mapping[str, float | None],
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, dict[str, Any]]:
    """Per method of ``order`` (best first): its HSE interval, and the bootstrap test of its HSE against
    the method ranked above, paired when both were scored on the same images (names and ground truth),
    else unpaired. ``hse`` holds each method's HSE (None when it is not a number).

    A result with fewer than :data:`hse.stats.MIN_IMAGES` images gets no interval; one with fewer than
    :data:`hse.stats.FEW_IMAGES` gets one (with a single :class:`~hse.errors.SmallSampleWarning` for the
    table), but is never marked as significantly different, and neither is any method when ``2/n`` is
    not below ``1 - level``."""
    full = {name: _with_state(results[name]) for name in order}
    stats: dict[str, dict[str, Any]] = {}
    few = []
    for i, name in enumerate(order):
        row = stats[name] = dict.fromkeys(FIELDS)
        res = full[name]
        if res is None or hse[name] is None or res.n_images < MIN_IMAGES:
            continue
        if res.n_images < FEW_IMAGES:
            few.append(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)  # one warning for the table, below
            iv = bootstrap(res, n=n, seed=seed, level=level)["hse"]
        row.update(hse_low=finite(iv.low), hse_high=finite(iv.high), ci_level=level, ci_n=n)
        above = full[order[i - 1]] if i > 0 else None
        if above is None or hse[order[i - 1]] is None or above.n_images < MIN_IMAGES:
            continue
        cmp = compare_hse(above, res, n, seed, level)
        if cmp is not None:
            p = finite(cmp["hse"].p_value)
            row.update(p_vs_above=p, paired_vs_above=cmp.paired, blocked_vs_above=cmp.blocker,
                       tied_with_above=None if p is None else not cmp.significant("hse"))  # fmt: skip
    usable = {name: full[name] for name in order if stats[name]["ci_level"] is not None}
    if usable:
        for r in tied_ranks(usable, n=n, seed=seed, level=level):
            stats[r["method"]]["rank_tied"] = r["rank"]
    if few:
        warnings.warn(
            f"{len(few)} method(s) scored on fewer than {FEW_IMAGES} images ({', '.join(few[:5])}"
            + (", ..." if len(few) > 5 else "")
            + "): their HSE intervals are unreliable and no difference with them is called significant",
            SmallSampleWarning,
            stacklevel=3,
        )
    return stats
