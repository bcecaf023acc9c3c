"""One result as a self-contained HTML report (:func:`render_report`, :meth:`hse.Result.to_html`).

Sections: the headline scores (with bootstrap intervals when given), the curves (inline SVG from
:mod:`hse.plot`), the error gallery (:mod:`hse.html.gallery`), the per-threshold table, the per-image
table (sortable) and the settings. Numbers are formatted by :mod:`hse.report`, in the papers' units.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hse._version import __version__
from hse.report import CURVE_TABLE, DISPLAY, fmt_num, fmt_threshold, pct

from . import page as P
from .gallery import GALLERY_SIZE, render_gallery


def _interval(ci: Any, key: str) -> tuple[float, float, float] | None:
    """(low, high, level) of ``key`` from a BootstrapResult or its dictionary, else None."""
    if ci is None:
        return None
    if isinstance(ci, Mapping):
        iv = (ci.get("scores") or {}).get(key)
        level = ci.get("level")
        if not iv or level is None:
            return None
        low, high = iv.get("low"), iv.get("high")
    else:
        iv, level = ci.scores.get(key), ci.level
        if iv is None:
            return None
        low, high = iv.low, iv.high
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    return float(low), float(high), float(level)


def _value(result: Any, key: str) -> float:
    if key in ("hse", "hse_pixel", "hse_target"):
        return float(getattr(result, key))
    return float(result.at(result.threshold)[key])


def headline(result: Any, ci: Any = None) -> str:
    """The headline scores as a list of labelled values, each with its interval when ``ci`` has it."""
    items = []
    for key, label, scale, digits in DISPLAY:
        v = _value(result, key)
        text = fmt_num(v * scale, digits) if math.isfinite(v) else "nan"
        iv = _interval(ci, key)
        ci_html = ""
        if iv is not None:
            low, high, level = iv
            ci_html = (f'<span class="ci">{level * 100:g}% CI [{fmt_num(low * scale, digits)}, '
                       f"{fmt_num(high * scale, digits)}]</span>")  # fmt: skip
        items.append(
            f'<li data-key="{key}"><span class="label">{P.esc(label)}</span>'
            f'<span class="value">{P.esc(text)}</span>{ci_html}</li>'
        )
    return f'<ul class="scores" id="headline">{"".join(items)}</ul>'


def _over_grid(result: Any) -> str:
    return P.key_value(
        [
            ("mean Pd (%)", pct(result.mean_pd)),
            ("mean Fa (x1e-6)", fmt_num(result.mean_fa * 1e6, 2)),
            ("AUC Pd-Fa", fmt_num(result.auc_pd_fa)),
            ("AUC ROC (pixel)", fmt_num(result.auc_roc)),
            ("AUC PR (pixel)", fmt_num(result.auc_pr)),
        ]
    )


def curve_table(result: Any) -> str:
    """One row per evaluated threshold; the operating threshold is marked, and so are thresholds outside
    the HSE grid."""
    cols = [P.Column("threshold")] + [P.Column(h) for _, h, _, _ in CURVE_TABLE]
    cols.append(P.Column("in HSE grid", numeric=False))
    rows = []
    for r in result.curve.to_dict("records"):
        t = float(r["threshold"])
        label = fmt_threshold(t) + (" (operating)" if abs(t - result.threshold) < 1e-12 else "")
        cells: list[Any] = [P.num_cell(t, label)]
        for key, _, scale, digits in CURVE_TABLE:
            v = float(r[key])
            cells.append(P.num_cell(v, fmt_num(v * scale, digits) if math.isfinite(v) else "-"))
        cells.append("yes" if bool(r["in_hse_grid"]) else "no")
        rows.append(cells)
    return P.table(cols, rows, caption="Scores at every evaluated threshold (prediction > threshold)",
                   sortable=True, table_id="per-threshold")  # fmt: skip


#: (per-image column, header) of the per-image table; all integers except the IoU.
IMAGE_TABLE = (
    ("height", "height"), ("width", "width"), ("targets", "targets"), ("detected", "detected"),
    ("missed", "missed"), ("false_targets", "false targets"), ("fa_pixels", "FA pixels"),
    ("gt_pixels", "GT pixels"), ("predicted_pixels", "predicted pixels"),
)  # fmt: skip


def per_image_table(result: Any) -> str:
    """One row per image at the operating threshold (sortable)."""
    cols = [P.Column("image", numeric=False)] + [P.Column(h) for _, h in IMAGE_TABLE] + [P.Column("IoU (%)")]
    rows = []
    for rec in result.per_image.to_dict("records"):
        cells: list[Any] = [P.Cell(str(rec["name"]))]
        cells += [P.num_cell(rec[k], str(int(rec[k]))) for k, _ in IMAGE_TABLE]
        iou = float(rec["iou"])
        cells.append(P.num_cell(iou, pct(iou) if math.isfinite(iou) else "-"))
        rows.append(cells)
    cap = (f"Per image at the operating threshold {fmt_threshold(result.threshold)} "
           "(IoU '-': no target and no prediction)")  # fmt: skip
    return P.table(cols, rows, caption=cap, sortable=True, table_id="per-image")


def _settings_rows(result: Any, inputs: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    s = result.settings
    grid = [float(t) for t in result.thresholds]
    mt = s.get("mask_threshold")
    rows = [
        ("images", str(result.n_images)),
        ("targets", str(result.n_targets)),
        ("HSE grid", f"{len(grid)} thresholds ({grid[0]:g} .. {grid[-1]:g})" if grid else "none"),
        ("operating threshold", fmt_threshold(result.threshold)),
        ("matching", f"{s.get('match', 'greedy')}, centroid distance < {fmt_num(s.get('radius'), 1)} px"),
        ("masks", "{0, max} values" if mt is None else f"mask > {float(mt):g}"),
        ("resized masks", f"{result.n_resized} (nearest neighbour, opt-in)" if result.n_resized else "none"),
        ("preset", str(s.get("preset", ""))),
        ("hse version", str(s.get("hse_version", __version__))),
    ]
    for k, v in (inputs or {}).items():
        if v is not None and not isinstance(v, (dict, list)):
            rows.append((f"input: {k}", str(v)))
    return rows


def _figures(result: Any) -> str:
    from hse.plot import figure_svg, plot_results, plot_threshold_metrics

    op = fmt_threshold(result.threshold)
    alt1 = (f"Pixel IoU and nIoU (percent), Pd (percent) and Fa (x1e-6) against the threshold, over "
            f"{result.grid.size} thresholds; dotted line at the operating threshold {op}.")  # fmt: skip
    alt2 = ("Pixel IoU and target IoU (percent) against threshold; Pd (percent) against Fa (x1e-6) and the "
            f"pixel ROC (TPR against FPR, log scale), with a star at the operating threshold {op}.")  # fmt: skip
    svg1 = figure_svg(plot_threshold_metrics(result), alt1, "fa")
    svg2 = figure_svg(plot_results(result), alt2, "fb")
    return P.figure(svg1, "Figure 1. " + alt1) + "\n" + P.figure(svg2, "Figure 2. " + alt2)


def _ci_note(ci: Any) -> str:
    level = ci["level"] if isinstance(ci, Mapping) else ci.level
    n = ci["n"] if isinstance(ci, Mapping) else ci.n
    return (f'<p class="note">Intervals: {float(level) * 100:g}% percentile bootstrap over the images '
            f"({n} draws, images resampled with replacement); see docs/statistics.md.</p>")  # fmt: skip


def render_report(
    result: Any,
    *,
    title: str | None = None,
    ci: Any = None,
    preds: Any = None,
    masks: Any = None,
    images: Any = None,
    threshold: float | None = None,
    gallery_size: int = GALLERY_SIZE,
    inputs: Mapping[str, Any] | None = None,
    back_link: tuple[str, str] | None = None,
) -> str:
    """The report of ``result`` as one HTML document (a string).

    Parameters
    ----------
    result : hse.Result
    title : str, optional
        The page title (default: "hse report").
    ci : hse.stats.BootstrapResult or dict or bool, optional
        Intervals of the headline scores (:func:`hse.bootstrap`, or its ``to_dict()``); ``True``
        computes them with the defaults (needs at least :data:`hse.stats.MIN_IMAGES` images).
    preds, masks, images : folder, mapping or sequence, optional
        Where the gallery finds each image's prediction, mask and input image
        (:func:`hse.html.gallery.lookup`); ``preds`` and ``masks`` default to the paths the result
        was computed from, when :func:`hse.evaluate` was given paths (``Result.sources``).
    threshold : float, optional
        The gallery threshold (an evaluated one; default: the operating threshold).
    gallery_size : int
        Images per gallery section (0: no gallery).
    inputs : mapping, optional
        Provenance shown with the settings (e.g. the folders).
    back_link : (href, text), optional
        A link to a local page shown above the title (the leaderboard's reports link back to it).
    """
    if ci is True:
        from hse.stats import bootstrap

        ci = bootstrap(result)
    elif ci is False:
        ci = None
    title = title or "hse report"
    # the gallery first: its checks of the given files fail before the figures are drawn
    gallery = (
        render_gallery(result, preds, masks, images, threshold, gallery_size) if gallery_size > 0 else ""
    )
    parts = []
    if back_link:
        parts.append(f'<p><a href="{P.esc(back_link[0])}">{P.esc(back_link[1])}</a></p>')
    parts.append(f"<h1>{P.esc(title)}</h1>")
    parts.append(
        f'<p class="meta">{result.n_images} images, {result.n_targets} targets; HSE over '
        f"{len(result.thresholds)} thresholds; single-threshold scores at {fmt_threshold(result.threshold)} "
        f"(prediction &gt; threshold). hse {P.esc(__version__)}.</p>"
    )
    parts.append('<section aria-labelledby="scores-h"><h2 id="scores-h">Scores</h2>')
    parts.append(headline(result, ci))
    if ci is not None:
        parts.append(_ci_note(ci))
    parts.append("<h3>Over the threshold grid</h3>")
    parts.append(_over_grid(result))
    parts.append("</section>")
    parts.append('<section aria-labelledby="curves-h"><h2 id="curves-h">Curves</h2>')
    parts.append(_figures(result))
    parts.append("</section>")
    if gallery:
        parts.append(gallery)
    parts.append('<section aria-labelledby="thr-h"><h2 id="thr-h">Per threshold</h2>')
    parts.append(curve_table(result))
    parts.append("</section>")
    parts.append('<section aria-labelledby="img-h"><h2 id="img-h">Per image</h2>')
    parts.append(per_image_table(result))
    parts.append("</section>")
    parts.append('<section aria-labelledby="set-h"><h2 id="set-h">Settings</h2>')
    parts.append(P.key_value(_settings_rows(result, inputs)))
    parts.append("</section>")
    return P.page(title, "\n".join(parts))


def write_report(result: Any, path: str | os.PathLike, **kwargs: Any) -> Path:
    """:func:`render_report` written to ``path`` atomically (the whole page is built first)."""
    from hse.io import write_atomic

    return write_atomic(path, render_report(result, **kwargs))


def result_to_html(
    result: Any,
    path: str | os.PathLike,
    images: Any = None,
    preds: Any = None,
    masks: Any = None,
    threshold: float | None = None,
    ci: Any = None,
    title: str | None = None,
    gallery_size: int | None = None,
) -> Path:
    """``Result.to_html``: write a self-contained HTML report of ``result`` to ``path`` (atomically; see
    docs/html.md): the headline scores (with intervals when ``ci`` is given: a :func:`hse.bootstrap`
    result, or True to compute them), the curves, an error gallery at ``threshold`` (an evaluated
    threshold; default the operating one), the per-threshold and per-image tables. Needs matplotlib.

    The gallery reads the scored maps and masks from ``preds`` and ``masks`` (folders, mappings from image
    name, or sequences in ``result.names`` order), by default from ``result.sources``; the input images
    from ``images`` (same forms), shown instead of the prediction when given. ``gallery_size`` images per
    gallery section (default 8; 0 for none). Returns the path.

    It is bound as the method :meth:`hse.Result.to_html` when :mod:`hse` is imported, so that the result
    layer never imports the report layer built on it."""
    return write_report(
        result, path, title=title, ci=ci, preds=preds, masks=masks, images=images, threshold=threshold,
        gallery_size=GALLERY_SIZE if gallery_size is None else int(gallery_size),
    )  # fmt: skip
