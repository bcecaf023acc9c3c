"""The rows of a leaderboard: one dict per method, ranked by HSE, with published numbers and (computed
beforehand by :mod:`hse.leaderboard.significance`) intervals and tests against the method above."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hse.report import operating_metrics

from .config import PUBLISHED_KEYS
from .significance import finite, ranked_statistics

#: The recomputed numbers of a row (fractions, Fa in 1e-6).
METRIC_KEYS = ("hse", "hse_pixel", "hse_target", "iou", "niou", "pd", "fa_1e6")


def rank(metrics: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Method names best first by HSE (a method without a finite HSE last; ties by name)."""
    hse = {name: finite(m.get("hse")) for name, m in metrics.items()}
    return sorted(metrics, key=lambda name: (hse[name] is None, -(hse[name] or 0.0), name))


def table_rows(
    order: Sequence[str],
    metrics: Mapping[str, Mapping[str, Any]],
    published: Mapping[str, Mapping[str, float]] | None = None,
    notes: Mapping[str, str] | None = None,
    papers: Mapping[str, str] | None = None,
    statistics: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The rows in ``order``, from each method's :func:`hse.report.operating_metrics`, published numbers,
    notes, and ``statistics`` (per method, from :func:`ranked_statistics`) when given."""
    published, notes, papers = published or {}, notes or {}, papers or {}
    rows = []
    for i, name in enumerate(order, 1):
        m = metrics[name]
        row: dict[str, Any] = {"method": name, "paper": papers.get(name, "")}
        for k in METRIC_KEYS:
            row[k] = finite(m.get(k))
        row["threshold"] = m["threshold"]
        row["n_images"] = m["n_images"]
        row["n_targets"] = m["n_targets"]
        pub = published.get(name) or {}
        for k in PUBLISHED_KEYS:
            row[f"published_{k}"] = finite(pub.get(k))
        row["note"] = notes.get(name, "")
        row["rank"] = i
        if statistics is not None:
            row.update(statistics[name])
        rows.append(row)
    return rows


def leaderboard_rows(
    results: Mapping[str, Any],
    published: Mapping[str, Mapping[str, float]] | None = None,
    notes: Mapping[str, str] | None = None,
    papers: Mapping[str, str] | None = None,
    ci: bool = True,
    ci_n: int = 1000,
    ci_seed: int = 0,
    ci_level: float = 0.95,
) -> list[dict[str, Any]]:
    """One dict per method, ranked by HSE (best first; NaN last). Recomputed metrics are fractions
    (``iou``, ``pd``...), ``fa_1e6`` in 1e-6; ``published_*`` keep the papers' units (percent, 1e-6).

    With ``ci`` (and results that hold their per-image state) each row also gets the bootstrap interval
    of its HSE (``hse_low``, ``hse_high``, ``ci_level``) and, from rank 2 on, the two-sided bootstrap
    p-value of its HSE difference with the method ranked above (``p_vs_above``; ``paired_vs_above`` says
    whether the test was paired), and ``tied_with_above`` when that difference is not significant at
    ``1 - ci_level`` (see :mod:`hse.stats` and docs/statistics.md)."""
    metrics = {name: operating_metrics(res) for name, res in results.items()}
    order = rank(metrics)
    statistics = None
    if ci:
        hse = {name: finite(metrics[name].get("hse")) for name in order}
        statistics = ranked_statistics(order, results, hse, ci_n, ci_seed, ci_level)
    return table_rows(order, metrics, published, notes, papers, statistics)


