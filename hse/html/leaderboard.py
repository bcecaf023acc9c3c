"""The leaderboard index page: per dataset, the ranked table with intervals and significance marks,
every method's curves overlaid, links to each method's report, and the protocol and data provenance.

The rows are those of :func:`hse.leaderboard.leaderboard_rows` (plain dictionaries, so this module
does not import the leaderboard package); :mod:`hse.leaderboard.pages` gathers the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hse._version import __version__
from hse.report import fmt_num, fmt_threshold, format_p, pct

from . import page as P

_PUBLISHED = (("iou", "IoU (%)"), ("niou", "nIoU (%)"), ("pd", "Pd (%)"), ("fa", "Fa (x1e-6)"))


@dataclass
class DatasetSection:
    """What the index shows for one dataset."""

    name: str
    rows: Sequence[Mapping[str, Any]]
    results: Mapping[str, Any]
    reports: Mapping[str, str]  # method -> relative link to its report
    description: str = ""
    provenance: Sequence[tuple[str, str]] = ()
    methods: Sequence[Mapping[str, str]] = ()  # one provenance row per method (column -> text)
    notes: Sequence[str] = field(default_factory=list)


def _p_cell(row: Mapping[str, Any]) -> P.Cell:
    p = row.get("p_vs_above")
    if p is None:
        return P.Cell("", "")
    text = format_p(p, row.get("ci_n") or 1000)
    if row.get("tied_with_above"):
        text += " n.s."
    if row.get("paired_vs_above") is False:
        text += " \u2020"
    return P.num_cell(p, text)


def _published_cell(row: Mapping[str, Any], key: str) -> P.Cell:
    pub = row.get(f"published_{key}")
    if pub is None:
        return P.Cell("-", "")
    mine = row.get("fa_1e6") if key == "fa" else (None if row.get(key) is None else 100.0 * row[key])
    text = f"{pub:.2f}" if mine is None else f"{pub:.2f} ({mine - pub:+.2f})"
    return P.num_cell(pub, text)


def ranked_table(section: DatasetSection) -> str:
    """The ranked table of one dataset (sortable; rank order as written)."""
    rows = section.rows
    with_ci = any(r.get("ci_level") is not None for r in rows)
    level = max((r["ci_level"] for r in rows if r.get("ci_level") is not None), default=0.95)
    pub_keys = [k for k, _ in _PUBLISHED if any(r.get(f"published_{k}") is not None for r in rows)]
    with_ties = any(r.get("rank_tied") is not None for r in rows)
    cols = [P.Column("#"), *([P.Column("rank (ties)")] if with_ties else []), P.Column("Method", numeric=False)]
    cols.append(P.Column("HSE"))
    if with_ci:
        cols += [P.Column(f"HSE {level * 100:g}% CI", numeric=False), P.Column("vs above (p)")]
    cols += [P.Column(h) for h in ("HSE_pixel", "HSE_target", "IoU (%)", "nIoU (%)", "Pd (%)", "Fa (x1e-6)")]
    cols += [P.Column(f"published {dict(_PUBLISHED)[k]} (diff)") for k in pub_keys]
    body = []
    for r in rows:
        href = section.reports.get(r["method"])
        name = P.esc(r["method"])
        link = f'<a href="{P.esc(href)}">{name}</a>' if href else name
        cells: list[Any] = [P.num_cell(r["rank"], str(r["rank"]))]
        if with_ties:
            cells.append(P.num_cell(r.get("rank_tied"), fmt_num(r.get("rank_tied"))))
        cells.append(P.Cell(link, r["method"], raw=True))
        cells.append(P.num_cell(r.get("hse"), fmt_num(r.get("hse"))))
        if with_ci:
            low, high = r.get("hse_low"), r.get("hse_high")
            cells.append(P.Cell("-" if low is None or high is None else f"[{fmt_num(low)}, {fmt_num(high)}]"))
            cells.append(_p_cell(r))
        cells += [P.num_cell(r.get(k), fmt_num(r.get(k))) for k in ("hse_pixel", "hse_target")]
        cells += [P.num_cell(r.get(k), pct(r.get(k))) for k in ("iou", "niou", "pd")]
        cells.append(P.num_cell(r.get("fa_1e6"), fmt_num(r.get("fa_1e6"), 2)))
        cells += [_published_cell(r, k) for k in pub_keys]
        body.append(cells)
    slug = "".join(ch if ch.isalnum() else "-" for ch in section.name)
    return P.table(cols, body, caption=f"{section.name}: methods ranked by HSE", sortable=True,
                   table_id=f"rank-{slug}")  # fmt: skip


def _table_note(section: DatasetSection) -> str:
    rows = section.rows
    if not rows:
        return ""
    t = fmt_threshold(rows[0].get("threshold"))
    text = (f"Ranked by HSE. IoU, nIoU, Pd and Fa at the operating threshold {t} (prediction &gt; threshold). "
            f"{rows[0].get('n_images')} images, {rows[0].get('n_targets')} targets (first row).")  # fmt: skip
    levels = [r["ci_level"] for r in rows if r.get("ci_level") is not None]
    if levels:
        alpha = 1.0 - max(levels)
        text += (
            f" CI: percentile bootstrap over the images. vs above (p): two-sided bootstrap p-value of the HSE "
            f"difference with the method ranked just above, paired when both were scored on the same images "
            f"and masks (\u2020: unpaired); n.s.: not significant at {alpha:g}, so the order of the two is not "
            "established."
        )
        if any(r.get("rank_tied") is not None for r in rows):
            text += (" rank (ties): methods the data cannot tell apart from their group's leader (paired test not "
                     "significant) share its rank (docs/hse-leaderboard.md).")  # fmt: skip
        blocked = sorted({b for r in rows if (b := r.get("blocked_vs_above"))})
        if blocked:
            text += " n.s. regardless of p where " + P.esc("; where ".join(blocked)) + "."
    if any(r.get(f"published_{k}") is not None for r in rows for k, _ in _PUBLISHED):
        text += " Published numbers are the papers' own; in brackets: recomputed minus published."
    return f'<p class="note">{text}</p>'


def _figures(section: DatasetSection, index: int) -> str:
    from hse.plot import figure_svg, plot_leaderboard, plot_threshold_metrics

    ranked = {
        r["method"]: section.results[r["method"]] for r in section.rows if r["method"] in section.results
    }
    names = ", ".join(ranked)
    alt1 = (f"{section.name}: HSE, HSE_pixel and HSE_target per method as bars (best on top), and Pd "
            f"(percent) against Fa (x1e-6) of every method overlaid, one colour per method: {names}.")  # fmt: skip
    alt2 = (f"{section.name}: pixel IoU and nIoU (percent), Pd (percent) and Fa (x1e-6) against the "
            f"threshold, one colour per method: {names}.")  # fmt: skip
    svg1 = figure_svg(plot_leaderboard(ranked), alt1, f"d{index}a")
    svg2 = figure_svg(plot_threshold_metrics(ranked), alt2, f"d{index}b")
    return P.figure(svg1, alt1) + "\n" + P.figure(svg2, alt2)


def _method_provenance(section: DatasetSection) -> str:
    if not section.methods:
        return ""
    keys = list(section.methods[0])
    cols = [P.Column(k, numeric=False) for k in keys]
    rows = [[P.Cell(str(m.get(k, ""))) for k in keys] for m in section.methods]
    return P.table(cols, rows, caption=f"{section.name}: where each method's numbers come from")


def render_index(
    title: str,
    sections: Sequence[DatasetSection],
    settings: Mapping[str, Any] | None = None,
    notes: Sequence[tuple[str, str]] = (),
) -> str:
    """The index page. ``notes`` are (method, text) pairs shown once under the tables."""
    s = settings or {}
    grid = s.get("thresholds")
    grid_text = "-"
    if grid is not None:
        from hse.thresholds import resolve_thresholds

        values = resolve_thresholds(grid)
        grid_text = f"{len(values)} thresholds ({values[0]:g} .. {values[-1]:g})"
        grid_text = f"{grid}: {grid_text}" if isinstance(grid, str) else grid_text
    protocol = [
        ("HSE grid", str(grid_text)),
        ("operating threshold", fmt_threshold(s.get("threshold", 0.5))),
        (
            "matching",
            f"{s.get('match', 'greedy')}, centroid distance < {fmt_num(s.get('radius', 3.0), 1)} px",
        ),
        ("hse version", __version__),
    ]
    parts = [f"<h1>{P.esc(title)}</h1>"]
    toc = "".join(f'<li><a href="#ds-{i}">{P.esc(sec.name)}</a></li>' for i, sec in enumerate(sections))
    parts.append(f'<nav aria-label="datasets"><ul>{toc}</ul></nav>')
    parts.append('<section aria-labelledby="protocol-h"><h2 id="protocol-h">Protocol</h2>')
    parts.append(P.key_value(protocol))
    parts.append(
        '<p class="note">Every method is scored by hse from its saved prediction maps against the masks named '
        "below, over the same threshold grid; each method's name links to its full report (curves, error "
        "gallery, per-image table).</p></section>"
    )
    for i, sec in enumerate(sections):
        parts.append(f'<section aria-labelledby="ds-{i}"><h2 id="ds-{i}">{P.esc(sec.name)}</h2>')
        if sec.description:
            parts.append(f"<p>{P.esc(sec.description)}</p>")
        parts.append(ranked_table(sec))
        parts.append(_table_note(sec))
        for note in sec.notes:
            parts.append(f'<p class="note">{P.esc(note)}</p>')
        parts.append(f"<h3>Curves: {P.esc(sec.name)}</h3>")
        parts.append(_figures(sec, i))
        parts.append(f"<h3>Data provenance: {P.esc(sec.name)}</h3>")
        parts.append(P.key_value(sec.provenance))
        parts.append(_method_provenance(sec))
        parts.append("</section>")
    if notes:
        items = "".join(f"<li><strong>{P.esc(m)}</strong>: {P.esc(t)}</li>" for m, t in notes)
        parts.append(
            f'<section aria-labelledby="notes-h"><h2 id="notes-h">Notes</h2><ul>{items}</ul></section>'
        )
    return P.page(title, "\n".join(parts))
