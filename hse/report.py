"""Plain-text and Markdown formatting of results, intervals and comparisons: every number hse prints.

Every function here is pure: it takes a :class:`hse.Result` or the dictionary of
``Result.to_dict()`` (the ``hse/1`` JSON schema), or the objects of :mod:`hse.stats`, and returns a
string. Units in the human tables
follow the field's papers: IoU, nIoU and Pd in percent, Fa in units of 1e-6; the HSE scores are shown
as fractions in [0, 1], as in the JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hse.stats import FEW_IMAGES, p_resolution

if TYPE_CHECKING:
    from hse.stats import BootstrapResult, Comparison


def as_dict(result: Any) -> dict[str, Any]:
    """The ``hse/1`` dictionary of a Result (or the dictionary itself)."""
    if isinstance(result, Mapping):
        return dict(result)
    if hasattr(result, "to_dict"):
        return result.to_dict()
    raise TypeError(f"expected an hse Result or its dict, got {type(result).__name__}")


def operating_row(result: Any) -> dict[str, Any]:
    """The curve row at the operating threshold (``result['threshold']``)."""
    d = as_dict(result)
    t = float(d["threshold"])
    curve = d.get("curve") or []
    if not curve:
        raise ValueError("result has no curve")
    best = min(curve, key=lambda row: abs(float(row["threshold"]) - t))
    if abs(float(best["threshold"]) - t) > 1e-9:
        raise ValueError(f"the curve has no row at the operating threshold {t:g}")
    return dict(best)


def fmt_num(value: Any, digits: int = 4) -> str:
    """A number for a table: fixed digits, 'nan' / '-' for missing values."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}f}"


def fmt_threshold(value: Any) -> str:
    """A threshold as given, to 6 significant digits (0.005, 0.999, 0.333, 0.5; not rounded to 0.01)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return fmt_num(value)
    return f"{x:.6g}" if math.isfinite(x) else fmt_num(x)


def fmt_auto(value: Any) -> str:
    """Like :func:`fmt_num`, but small magnitudes keep significant digits (8.66e-06, not 0.0000)."""
    if isinstance(value, float) and math.isfinite(value) and value != 0.0 and abs(value) < 1e-3:
        return f"{value:.4g}"
    return fmt_num(value)


def pct(value: Any, digits: int = 2) -> str:
    """A fraction shown as a percentage (0.6491 -> '64.91')."""
    if value is None:
        return "-"
    return fmt_num(float(value) * 100.0, digits)


def grid_text(thresholds: Sequence[float]) -> str:
    """The threshold grid in a few words: ``19 thresholds (0.05 .. 0.95)``."""
    t = [float(x) for x in thresholds]
    if not t:
        return "none"
    if len(t) == 1:
        return f"1 threshold ({t[0]:g})"
    return f"{len(t)} thresholds ({t[0]:g} .. {t[-1]:g})"


def _kv_block(rows: Sequence[tuple[str, str]], indent: str = "  ") -> list[str]:
    if not rows:
        return []
    width = max(len(k) for k, _ in rows)
    return [f"{indent}{k.ljust(width)}  {v}" for k, v in rows]


def operating_metrics(result: Any) -> dict[str, Any]:
    """The headline numbers of a result as a flat dict (fractions, not percent)."""
    d = as_dict(result)
    row = operating_row(d)
    return {
        "hse": d.get("hse"),
        "hse_pixel": d.get("hse_pixel"),
        "hse_target": d.get("hse_target"),
        "iou": row.get("iou"),
        "niou": row.get("niou"),
        "pd": row.get("pd"),
        "fa_1e6": row.get("fa_1e6"),
        "threshold": d.get("threshold"),
        "n_images": d.get("n_images"),
        "n_targets": d.get("n_targets"),
    }


#: The note of a result whose predictions binarise to the same maps at every evaluated threshold.
FLAT_CURVES_NOTE = (
    "binary predictions (the same maps at every threshold of the grid): one operating point; "
    "the curves are flat by construction"
)


def flat_curves(result: Any) -> bool:
    """Whether every evaluated threshold binarises the predictions to the same maps, as binary
    predictions (two levels, e.g. {0, 255}) do: the predicted pixel count (TP + FP) is the same at the
    lowest and the highest threshold. As ``P > t`` shrinks with ``t`` in every image, equal totals mean
    equal maps, so every curve is then constant. False for a grid of one threshold."""
    if isinstance(result, Mapping) or not hasattr(result, "curve"):
        rows = as_dict(result).get("curve") or []
        if not all("tp" in r and "fp" in r for r in rows):
            return False  # a curve without its counters (written by hand): nothing to tell from
        predicted = [float(r["tp"]) + float(r["fp"]) for r in rows]
    else:  # a Result: its curve table, without encoding the whole result
        predicted = (result.curve["tp"] + result.curve["fp"]).astype(float).tolist()
    return len(predicted) >= 2 and min(predicted) == max(predicted)


def format_summary(result: Any, title: str | None = None, notes: Sequence[str] = ()) -> str:
    """The summary table printed by ``hse-score``."""
    d = as_dict(result)
    row = operating_row(d)
    settings = d.get("settings") or {}
    lines: list[str] = []
    head = title or f"hse {d.get('hse_version', '')}".strip()
    lines.append(head)
    lines.append("=" * len(head))
    desc = [
        ("images", str(d.get("n_images", "-"))),
        ("targets", str(d.get("n_targets", "-"))),
        ("grid", grid_text(d.get("thresholds") or [])),
    ]
    if "match" in settings:
        desc.append(("matching", f"{settings['match']}, radius {fmt_num(settings.get('radius'), 1)} px"))
    n_resized = settings.get("n_resized", d.get("n_resized"))
    if n_resized:
        desc.append(("resized masks", f"{n_resized} (nearest neighbour, opt-in)"))
    lines += _kv_block(desc)
    lines.append("")
    lines.append("Over the threshold grid")
    lines += _kv_block(
        [
            ("HSE", fmt_num(d.get("hse"))),
            ("HSE_pixel", fmt_num(d.get("hse_pixel"))),
            ("HSE_target", fmt_num(d.get("hse_target"))),
            ("mean Pd", fmt_num(d.get("mean_pd"))),
            ("mean Fa (x1e-6)", fmt_num(_scale(d.get("mean_fa"), 1e6), 2)),
            ("AUC Pd-Fa", fmt_num(d.get("auc_pd_fa"))),
            ("AUC ROC (pixel)", fmt_num(d.get("auc_roc"))),
            ("AUC PR (pixel)", fmt_num(d.get("auc_pr"))),
        ]
    )
    lines.append("")
    lines.append(f"At the operating threshold {fmt_threshold(d.get('threshold'))} (prediction > threshold)")
    lines += _kv_block(
        [
            ("IoU (%)", pct(row.get("iou"))),
            ("nIoU (%)", pct(row.get("niou"))),
            ("Pd (%)", pct(row.get("pd"))),
            ("Fa (x1e-6)", fmt_num(row.get("fa_1e6"), 2)),
            ("target IoU (%)", pct(row.get("target_iou"))),
            ("F1 (pixel)", fmt_num(row.get("f1"))),
        ]
    )
    compat = d.get("compat") or {}
    for peer in sorted(compat):
        values = compat[peer]
        lines.append("")
        lines.append(f"Compatibility: {peer} at threshold {fmt_threshold(d.get('threshold'))}")
        lines += _kv_block(_flatten(values))
    if flat_curves(d):
        notes = [f"note: {FLAT_CURVES_NOTE}", *notes]
    for note in notes:
        if note:
            lines.append("")
            lines.append(note)
    return "\n".join(lines) + "\n"


def _scale(value: Any, factor: float) -> Any:
    if value is None:
        return None
    try:
        return float(value) * factor
    except (TypeError, ValueError):
        return value


def _flatten(values: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Peer metric dicts may nest; flatten to (dotted key, formatted value)."""
    out: list[tuple[str, str]] = []
    if isinstance(values, Mapping):
        for k, v in values.items():
            key = f"{prefix}{k}"
            if isinstance(v, Mapping):
                out += _flatten(v, key + ".")
            elif isinstance(v, (list, tuple)):
                out.append(
                    (key, "[" + ", ".join(fmt_num(x) for x in v[:6]) + (", ...]" if len(v) > 6 else "]"))
                )
            else:
                out.append((key, fmt_auto(v)))
    else:
        out.append((prefix.rstrip(".") or "value", fmt_auto(values)))
    return out


# --------------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------------


def _md_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub-flavoured Markdown table. ``align`` has one letter per column: l, r or c."""
    n = len(headers)
    align = (align or "l" + "r" * (n - 1))[:n].ljust(n, "r")
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    out = ["| " + " | ".join(_md_cell(h) for h in headers) + " |"]
    out.append("| " + " | ".join(rule.get(a, "---") for a in align) + " |")
    for row in rows:
        cells = [_md_cell(c) for c in row] + [""] * (n - len(row))
        out.append("| " + " | ".join(cells[:n]) + " |")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------
# intervals and comparisons (hse.stats)
# --------------------------------------------------------------------------------------------------


def _level_text(level: float) -> str:
    return f"{level * 100:g}%"


def few_images_note(n_images: int) -> str | None:
    """The note printed under a table computed from fewer than :data:`FEW_IMAGES` images."""
    if n_images >= FEW_IMAGES:
        return None
    return (
        f"note: only {n_images} images: bootstrap intervals from fewer than {FEW_IMAGES} images are "
        "unreliable (too narrow); see docs/statistics.md."
    )


#: (key, label, scale, digits): how the tables show each score (the papers' units).
DISPLAY = (
    ("hse", "HSE", 1.0, 4),
    ("hse_pixel", "HSE_pixel", 1.0, 4),
    ("hse_target", "HSE_target", 1.0, 4),
    ("iou", "IoU (%)", 100.0, 2),
    ("niou", "nIoU (%)", 100.0, 2),
    ("pd", "Pd (%)", 100.0, 2),
    ("fa", "Fa (x1e-6)", 1e6, 2),
)

#: (curve column, header, scale, digits): how per-threshold tables show each column of ``Result.curve``.
CURVE_TABLE = (
    ("iou", "IoU (%)", 100.0, 2),
    ("niou", "nIoU (%)", 100.0, 2),
    ("pd", "Pd (%)", 100.0, 2),
    ("fa_1e6", "Fa (x1e-6)", 1.0, 2),
    ("target_iou", "target IoU (%)", 100.0, 2),
    ("precision", "precision (%)", 100.0, 2),
    ("recall", "recall (%)", 100.0, 2),
    ("f1", "F1", 1.0, 4),
    ("fpr", "FPR (x1e-6)", 1e6, 3),
    ("false_targets_per_image", "false targets / image", 1.0, 3),
)


def _num(x: float, scale: float, digits: int, sign: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "nan"
    return f"{x * scale:{'+' if sign else ''}.{digits}f}"


def format_p(p: float, n: int) -> str:
    """A p-value for a table: ``< 2/n`` (the resolution of ``n`` draws, e.g. ``< 0.002`` for 1000) when
    no draw crossed zero, else three decimals."""
    if p is None or not math.isfinite(p):
        return "nan"
    if p == 0.0:
        return f"< {p_resolution(n):.2g}"
    return f"{p:.3f}"


def format_intervals(boot: BootstrapResult) -> str:
    """The interval block that ``hse-score --ci`` adds to its summary."""
    lines = [
        f"Bootstrap {_level_text(boot.level)} intervals ({boot.n} draws over {boot.n_images} images, "
        f"seed {boot.seed}; percentile method)"
    ]
    few = few_images_note(boot.n_images)
    rows = []
    for key, label, scale, digits in DISPLAY:
        iv = boot.scores[key]
        rows.append(
            (
                label,
                _num(iv.estimate, scale, digits),
                _num(iv.low, scale, digits),
                _num(iv.high, scale, digits),
            )
        )
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    for label, est, low, high in rows:
        lines.append(f"  {label.ljust(w[0])}  {est.rjust(w[1])}  [{low.rjust(w[2])}, {high.rjust(w[3])}]")
    if few:
        lines.append(few)
    return "\n".join(lines)


def format_comparison(
    cmp: Comparison, label_a: str = "A", label_b: str = "B", title: str | None = None
) -> str:
    """The table printed by ``hse-compare``."""
    kind = "paired" if cmp.paired else "unpaired"
    head = title or f"{label_a} vs {label_b}"
    lines = [head, "=" * len(head)]
    images = f"{cmp.n_images} paired images" if cmp.paired else f"{cmp.n_images} images (unpaired)"
    lines.append(
        f"  {images}, {cmp.n} {kind} bootstrap draws (seed {cmp.seed}), {_level_text(cmp.level)} intervals"
    )
    lines.append("")
    ci_head = f"{_level_text(cmp.level)} CI of A - B"
    rows = [("score", "A", "B", "A - B", ci_head, "p")]
    for key, label, scale, digits in DISPLAY:
        d = cmp.scores[key]
        rows.append(
            (
                label,
                _num(d.a, scale, digits),
                _num(d.b, scale, digits),
                _num(d.diff, scale, digits, sign=True),
                f"[{_num(d.low, scale, digits, sign=True)}, {_num(d.high, scale, digits, sign=True)}]",
                format_p(d.p_value, cmp.n) + ("" if cmp.significant(key) else "  n.s."),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, 5)] + [r[5]]
        lines.append("  " + "  ".join(cells).rstrip())
    lines.append("")
    lines.append(f"A = {label_a}")
    lines.append(f"B = {label_b}")
    lines.append(
        "p: two-sided bootstrap p-value, 2 x min(P(A - B <= 0), P(A - B >= 0)) over the draws "
        f"('< {p_resolution(cmp.n):.2g}', i.e. < 2/{cmp.n}: no draw crossed zero); "
        f"n.s.: not significant at {cmp.alpha:g}. See docs/statistics.md."
    )
    if cmp.blocker:
        lines.append(f"n.s. everywhere: {cmp.blocker}.")
    return "\n".join(lines) + "\n"
