"""Rendering leaderboard rows (:mod:`hse.leaderboard.table`) as Markdown and CSV (the figure is
:func:`hse.plot.plot_leaderboard`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from hse.report import fmt_num, fmt_threshold, format_p, markdown_table, pct
from hse.stats import FEW_IMAGES

from .config import PUBLISHED_KEYS

_PUBLISHED_LABEL = {"iou": "IoU", "niou": "nIoU", "pd": "Pd", "fa": "Fa"}


def _recomputed_in_paper_units(row: Mapping[str, Any], key: str) -> float | None:
    if key == "fa":
        return row.get("fa_1e6")
    v = row.get(key)
    return None if v is None else 100.0 * v


def _with_published(row: Mapping[str, Any], key: str) -> str:
    pub = row.get(f"published_{key}")
    if pub is None:
        return "-"
    mine = _recomputed_in_paper_units(row, key)
    if mine is None:
        return f"{pub:.2f}"
    return f"{pub:.2f} ({mine - pub:+.2f})"


def render_markdown(
    rows: Sequence[Mapping[str, Any]],
    title: str | None = None,
    description: str = "",
    settings: Mapping[str, Any] | None = None,
    extra_notes: Sequence[str] = (),
    level: int = 2,
) -> str:
    """The Markdown leaderboard for one dataset from :func:`leaderboard_rows` rows.

    Columns: rank, method, HSE, HSE_pixel, HSE_target, and at the operating threshold IoU (%), nIoU (%),
    Pd (%), Fa (x1e-6); when any method has published numbers, one more column per published metric
    with the published value and, in brackets, recomputed minus published."""
    pub_keys = [k for k in PUBLISHED_KEYS if any(r.get(f"published_{k}") is not None for r in rows)]
    threshold = rows[0]["threshold"] if rows else (settings or {}).get("threshold", 0.5)
    levels = {r["ci_level"] for r in rows if r.get("ci_level") is not None}
    with_ci = bool(levels)
    ci_level = max(levels) if levels else 0.95
    with_ties = any(r.get("rank_tied") is not None for r in rows)
    headers = ["#", *(["rank (ties)"] if with_ties else []), "Method", "HSE"]
    if with_ci:
        headers += [f"HSE {ci_level * 100:g}% CI", "vs above (p)"]
    headers += ["HSE_pixel", "HSE_target", "IoU (%)", "nIoU (%)", "Pd (%)", "Fa (x1e-6)"]
    unit = {"iou": "%", "niou": "%", "pd": "%", "fa": "x1e-6"}
    headers += [f"published {_PUBLISHED_LABEL[k]} ({unit[k]}) (diff)" for k in pub_keys]
    body = []
    for r in rows:
        ci_cells = [_ci_cell(r), _vs_above_cell(r)] if with_ci else []
        body.append(
            [
                r["rank"],
                *([fmt_num(r.get("rank_tied"))] if with_ties else []),
                r["method"],
                fmt_num(r.get("hse")),
                *ci_cells,
                fmt_num(r.get("hse_pixel")),
                fmt_num(r.get("hse_target")),
                pct(r.get("iou")),
                pct(r.get("niou")),
                pct(r.get("pd")),
                fmt_num(r.get("fa_1e6"), 2),
            ]
            + [_with_published(r, k) for k in pub_keys]
        )
    out: list[str] = []
    if title:
        out.append("#" * level + " " + title)
        out.append("")
    if description:
        out.append(description)
        out.append("")
    align = ("rrl" if with_ties else "rl") + "r" * (len(headers) - 2 - with_ties)
    out.append(markdown_table(headers, body, align=align).rstrip("\n"))
    out.append("")
    desc = f"Ranked by HSE. IoU, nIoU, Pd and Fa at the operating threshold {fmt_threshold(threshold)} (prediction > threshold)"
    if settings:
        grid = settings.get("thresholds")
        grid_text = grid if isinstance(grid, str) else f"{len(grid)} thresholds"
        desc += f"; HSE grid: {grid_text}; matching: {settings.get('match', 'greedy')}, radius {settings.get('radius', 3.0):g} px"
    desc += "."
    if pub_keys:
        desc += " Published numbers are the papers' own; in brackets: recomputed minus published."
    out.append(desc)
    n_img = {r.get("n_images") for r in rows}
    if len(n_img) == 1:
        out[-1] += f" {n_img.pop()} images, {rows[0].get('n_targets')} targets."
    if with_ci:
        alpha = 1.0 - ci_level
        text = (
            f"HSE {ci_level * 100:g}% CI: percentile bootstrap over the images (images resampled with "
            "replacement, scores recomputed from their counters). vs above (p): two-sided bootstrap "
            "p-value of the HSE difference with the method ranked just above, paired (the same resampled "
            "images for both) when both were scored on the same images and masks"
        )
        if any(r.get("paired_vs_above") is False for r in rows):
            text += "; unpaired (each resampled on its own) where marked \u2020"
        text += (
            f"; n.s.: not significantly different at {alpha:g}, so the order of the two is not established. "
            "See docs/statistics.md."
        )
        blocked = sorted({b for r in rows if (b := r.get("blocked_vs_above"))})
        if blocked:
            text += " n.s. regardless of p where " + "; where ".join(blocked) + "."
        few = [
            r["method"] for r in rows if r.get("ci_level") is not None and (r.get("n_images") or 0) < FEW_IMAGES
        ]
        if few:
            text += f" Intervals of {', '.join(few)} come from fewer than {FEW_IMAGES} images and are unreliable."
        if with_ties:
            text += (
                " rank (ties): methods share the rank of their group's leader when the paired test against it is"
                " not significant (docs/hse-leaderboard.md, Ranks with ties)."
            )
        out.append("")
        out.append(text)
    notes = [
        (r["method"], r.get("paper", ""), r.get("note", "")) for r in rows if r.get("paper") or r.get("note")
    ]
    if notes or extra_notes:
        out.append("")
        out.append("Notes:")
        out.append("")
        for method, paper, note in notes:
            parts = [p for p in (paper, note) if p]
            out.append(f"- **{method}**: " + ". ".join(p.rstrip(".") for p in parts) + ".")
        for note in extra_notes:
            out.append(f"- {note}")
    return "\n".join(out) + "\n"


def _ci_cell(row: Mapping[str, Any]) -> str:
    low, high = row.get("hse_low"), row.get("hse_high")
    if low is None or high is None:
        return "-"
    return f"[{fmt_num(low)}, {fmt_num(high)}]"


def _vs_above_cell(row: Mapping[str, Any]) -> str:
    p = row.get("p_vs_above")
    if p is None:
        return ""
    text = format_p(p, row["ci_n"])
    if row.get("tied_with_above"):
        text += " n.s."
    if row.get("paired_vs_above") is False:
        text += " \u2020"
    return text


CSV_COLUMNS = (
    "dataset", "rank", "method", "hse", "hse_pixel", "hse_target", "threshold", "iou_percent", "niou_percent",
    "pd_percent", "fa_1e-6", "published_iou_percent", "published_niou_percent", "published_pd_percent",
    "published_fa_1e-6", "n_images", "n_targets", "cached", "paper", "note", "hse_ci_low", "hse_ci_high",
    "ci_level", "p_vs_above", "paired_vs_above", "tied_with_above", "rank_tied",
)  # fmt: skip


def render_csv(
    rows: Sequence[Mapping[str, Any]], dataset: str = "", cached: Mapping[str, bool] | None = None
) -> str:
    """The CSV form of :func:`leaderboard_rows` (units in the column names)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    cached = cached or {}

    def num(x, scale=1.0):
        return "" if x is None else repr(float(x) * scale)

    for r in rows:
        w.writerow(
            [
                dataset,
                r["rank"],
                r["method"],
                num(r.get("hse")),
                num(r.get("hse_pixel")),
                num(r.get("hse_target")),
                num(r.get("threshold")),
                num(r.get("iou"), 100.0),
                num(r.get("niou"), 100.0),
                num(r.get("pd"), 100.0),
                num(r.get("fa_1e6")),
                num(r.get("published_iou")),
                num(r.get("published_niou")),
                num(r.get("published_pd")),
                num(r.get("published_fa")),
                r.get("n_images", ""),
                r.get("n_targets", ""),
                "" if r["method"] not in cached else str(bool(cached[r["method"]])).lower(),
                r.get("paper", ""),
                r.get("note", ""),
                num(r.get("hse_low")),
                num(r.get("hse_high")),
                num(r.get("ci_level")),
                num(r.get("p_vs_above")),
                _flag(r.get("paired_vs_above")),
                _flag(r.get("tied_with_above")),
                "" if r.get("rank_tied") is None else r["rank_tied"],
            ]
        )
    return buf.getvalue()


def _flag(value: Any) -> str:
    return "" if value is None else str(bool(value)).lower()
