"""Figures of results (matplotlib, drawn off-screen).

matplotlib is imported only when a function here is called, so ``import hse`` never imports it. The
figures are built on ``matplotlib.figure.Figure`` directly (no pyplot, no change of the global
backend), which renders with Agg and is safe in scripts, servers and tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from hse.report import FLAT_CURVES_NOTE, as_dict, flat_curves

#: Fa values of exactly 0 cannot be drawn on a log axis; they are drawn at this value (x1e-6).
FA_FLOOR_1E6 = 1e-2
#: Same for pixel FPR on the ROC panel.
FPR_FLOOR = 1e-8


def _curves(result: Any) -> tuple[dict[str, np.ndarray], float]:
    d = as_dict(result)
    rows = d.get("curve") or []
    keys = ("threshold", "iou", "target_iou", "pd", "fa_1e6", "tpr", "fpr")
    cols = {k: np.array([float(r.get(k, np.nan)) for r in rows], dtype=float) for k in keys}
    return cols, float(d["threshold"])


def _normalise(results: Any) -> dict[str, Any]:
    if isinstance(results, Mapping) and "schema" not in results and "curve" not in results:
        if not results:
            raise ValueError("no results to plot")
        return dict(results)
    return {"": results}


def _figure(figsize: tuple[float, float]):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=100, layout="constrained")


def _finish(fig, title: str | None, path: str | os.PathLike | None, named: Mapping[str, Any]):
    """The figure with its title and, under the panels, the note of the results whose curves are flat
    by construction (:func:`hse.report.flat_curves`); saved atomically to ``path`` when given."""
    if title:
        fig.suptitle(title)
    flat = [name for name, res in named.items() if flat_curves(res)]
    if flat:
        who = "" if flat == [""] else ", ".join(flat) + ": "
        fig.supxlabel(who + FLAT_CURVES_NOTE, color="firebrick", fontsize=10)
    if path is not None:
        from hse.io import write_atomic_via

        write_atomic_via(path, lambda tmp: fig.savefig(tmp, format=_format_of(path), dpi=fig.dpi))
    return fig


def _format_of(path: str | os.PathLike) -> str:
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    return ext or "png"


def _floor(values: np.ndarray, floor: float) -> tuple[np.ndarray, bool]:
    clipped = np.where(values > floor, values, floor)
    return clipped, bool(np.any(values[np.isfinite(values)] < floor))


def _curve_with_star(ax, x: np.ndarray, y: np.ndarray, order, k: int, colour: str, label, star_size: float):
    """One method's curve (points in threshold order) with a star at the operating threshold (index k)."""
    ax.plot(x[order], y[order], "-o", ms=3, color=colour, label=label)
    ax.plot([x[k]], [y[k]], "*", ms=star_size, color=colour, mec="black", mew=0.6)


def _log_x_panel(ax, xlabel: str, ylabel: str, title: str, floor_note: str | None) -> None:
    """The frame of a panel with a log x axis (Pd-Fa, ROC); ``floor_note`` says where zeros were drawn."""
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    if floor_note:
        ax.text(0.02, 0.02, floor_note, transform=ax.transAxes, fontsize=8, color="0.4")


def _pdfa_panel(ax, title: str, clipped: bool) -> None:
    """The frame of the Pd-Fa panel of both figures."""
    _log_x_panel(
        ax,
        "Fa (false-alarm pixels, x1e-6, log scale)",
        "Pd (probability of detection)",
        title,
        f"Fa = 0 drawn at {FA_FLOOR_1E6:g}" if clipped else None,
    )


def plot_results(results: Any, path: str | os.PathLike | None = None, title: str | None = None):
    """Four panels for one result or several (``{method name: result}``), one colour per method:

    1. pixel IoU against threshold; 2. target IoU against threshold; 3. Pd against Fa (log x axis),
    with the operating threshold marked; 4. the pixel ROC (TPR against FPR, log x axis).

    ``results`` may be :class:`hse.Result` objects or their ``to_dict()`` dictionaries. When ``path``
    is given the figure is also saved there (atomically; format from the extension). Returns the
    ``matplotlib.figure.Figure``.
    """
    named = _normalise(results)
    fig = _figure((11.0, 8.5))
    axes = fig.subplots(2, 2)
    ax_iou, ax_tiou, ax_pdfa, ax_roc = axes.ravel()
    clipped_fa = clipped_fpr = False
    op_threshold = None
    for i, (name, res) in enumerate(named.items()):
        c, op = _curves(res)
        op_threshold = op
        colour = f"C{i % 10}"
        label = name or None
        t = c["threshold"]
        k = int(np.argmin(np.abs(t - op)))
        ax_iou.plot(t, c["iou"], "-o", ms=3, color=colour, label=label)
        ax_iou.plot([t[k]], [c["iou"][k]], "o", ms=8, mfc="none", color=colour)
        ax_tiou.plot(t, c["target_iou"], "-o", ms=3, color=colour, label=label)
        ax_tiou.plot([t[k]], [c["target_iou"][k]], "o", ms=8, mfc="none", color=colour)

        fa, cl = _floor(c["fa_1e6"], FA_FLOOR_1E6)
        clipped_fa |= cl
        order = np.argsort(t)
        _curve_with_star(ax_pdfa, fa, c["pd"], order, k, colour, label, star_size=14)

        fpr, cl = _floor(c["fpr"], FPR_FLOOR)
        clipped_fpr |= cl
        _curve_with_star(ax_roc, fpr, c["tpr"], order, k, colour, label, star_size=14)

    op_text = f"operating threshold {op_threshold:g}" if op_threshold is not None else ""
    for ax in (ax_iou, ax_tiou):
        if op_threshold is not None:
            ax.axvline(op_threshold, color="0.6", ls="--", lw=1)
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("threshold (prediction > threshold)")
        ax.grid(alpha=0.3)
    ax_iou.set_ylabel("pixel IoU")
    ax_iou.set_title("Pixel IoU against threshold")
    ax_tiou.set_ylabel("target IoU")
    ax_tiou.set_title("Target IoU against threshold")

    _pdfa_panel(ax_pdfa, "Pd against Fa" + (f" (star: {op_text})" if op_text else ""), clipped_fa)
    _log_x_panel(
        ax_roc,
        "FPR (pixel false-positive rate, log scale)",
        "TPR (pixel true-positive rate)",
        "Pixel ROC" + (f" (star: {op_text})" if op_text else ""),
        f"FPR = 0 drawn at {FPR_FLOOR:g}" if clipped_fpr else None,
    )

    if any(named):
        ax_iou.legend(loc="best", fontsize=8)
    return _finish(fig, title, path, named)


def plot_leaderboard(
    results: Mapping[str, Any], path: str | os.PathLike | None = None, title: str | None = None
):
    """Two panels for a leaderboard: HSE, HSE_pixel and HSE_target bars per method (best on top), and
    the Pd-Fa curves of all methods. Returns the Figure; saves it atomically when ``path`` is given."""
    if not results:
        raise ValueError("no results to plot")
    dicts = {name: as_dict(r) for name, r in results.items()}
    names = sorted(dicts, key=lambda n: -_nan_low(dicts[n].get("hse")))
    height = max(3.5, 0.45 * len(names) + 1.5)
    fig = _figure((12.0, height))
    ax_bar, ax_pdfa = fig.subplots(1, 2, width_ratios=[1, 1.2])
    y = np.arange(len(names))[::-1]
    width = 0.26
    series = (("hse", "HSE"), ("hse_pixel", "HSE_pixel"), ("hse_target", "HSE_target"))
    for j, (key, label) in enumerate(series):
        vals = [float(dicts[n].get(key) or 0.0) for n in names]
        ax_bar.barh(
            y + (1 - j) * width, vals, height=width, label=label, color=f"C{j}", alpha=0.9 if j == 0 else 0.6
        )
    for yy, n in zip(y, names, strict=True):
        v = dicts[n].get("hse")
        if v is not None:
            ax_bar.text(float(v) + 0.01, yy + width, f"{float(v):.3f}", va="center", fontsize=8)
    ax_bar.set_yticks(y)
    ax_bar.set_yticklabels(names)
    ax_bar.set_xlim(0.0, 1.05)
    ax_bar.set_xlabel("score (higher is better)")
    ax_bar.set_title("HSE by method")
    ax_bar.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    ax_bar.grid(alpha=0.3, axis="x")

    clipped = False
    for i, n in enumerate(names):
        c, op = _curves(dicts[n])
        fa, cl = _floor(c["fa_1e6"], FA_FLOOR_1E6)
        clipped |= cl
        order = np.argsort(c["threshold"])
        k = int(np.argmin(np.abs(c["threshold"] - op)))
        colour = f"C{(i + 3) % 10}"
        _curve_with_star(ax_pdfa, fa, c["pd"], order, k, colour, n, star_size=13)
    _pdfa_panel(ax_pdfa, "Pd against Fa over the threshold grid (star: operating threshold)", clipped)
    ax_pdfa.legend(loc="lower right", fontsize=8)
    return _finish(fig, title, path, dicts)


def _nan_low(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return float("-inf")
    return x if np.isfinite(x) else float("-inf")


def _fa_axis(ax, values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Put Fa (x1e-6) on ``ax``'s y axis: log scale when its positive values span two decades or more
    (zeros then drawn at :data:`FA_FLOOR_1E6`), linear otherwise. Returns the values to draw and whether
    any zero was floored."""
    pos = values[np.isfinite(values) & (values > 0)]
    if pos.size and pos.max() / max(pos.min(), FA_FLOOR_1E6) >= 100.0:
        ax.set_yscale("log")
        ax.set_ylabel("Fa (x1e-6, log scale)")
        return _floor(values, FA_FLOOR_1E6)
    ax.set_ylabel("Fa (x1e-6)")
    return values, False


def plot_threshold_metrics(results: Any, path: str | os.PathLike | None = None, title: str | None = None):
    """Three panels against the threshold for one result or several (``{method name: result}``):

    1. pixel IoU and nIoU (%, solid and dashed); 2. Pd (%); 3. Fa (x1e-6), on a log axis when it spans
    two decades or more. The operating threshold is a dotted vertical line. One colour per method (per
    metric for a single unnamed result; for several, the colours of :func:`plot_leaderboard` when given in
    its order, best HSE first). Returns the Figure; saves it atomically when ``path`` is given.
    """
    named = _normalise(results)
    fig = _figure((12.0, 4.0))
    ax_iou, ax_pd, ax_fa = fig.subplots(1, 3)
    all_fa = []
    curves = {}
    for name, res in named.items():
        c, op = _curves(res)
        d = as_dict(res)
        c["niou"] = np.array([float(r.get("niou", np.nan)) for r in d.get("curve") or []], dtype=float)
        curves[name] = (c, op)
        all_fa.append(c["fa_1e6"])
    fa_values = np.concatenate(all_fa) if all_fa else np.zeros(0)
    draw_fa, floored = _fa_axis(ax_fa, fa_values)
    start = 0
    single = len(named) == 1 and not next(iter(named))
    for i, (name, (c, op)) in enumerate(curves.items()):
        t = c["threshold"]
        order = np.argsort(t)
        n = t.size
        fa = draw_fa[start : start + n]
        start += n
        colour = f"C{(i + 3) % 10}"  # the method colours of plot_leaderboard (C0-C2 are its bars)
        label = name or None
        ax_iou.plot(t[order], 100 * c["iou"][order], "-o", ms=3, color="C0" if single else colour,
                    label="IoU" if single else f"{name} IoU")  # fmt: skip
        ax_iou.plot(t[order], 100 * c["niou"][order], "--s", ms=3, color="C1" if single else colour,
                    label="nIoU" if single else f"{name} nIoU")  # fmt: skip
        ax_pd.plot(t[order], 100 * c["pd"][order], "-o", ms=3, color=colour, label=label)
        ax_fa.plot(t[order], fa[order], "-o", ms=3, color=colour, label=label)
        for ax in (ax_iou, ax_pd, ax_fa):
            ax.axvline(op, color="0.55", ls=":", lw=1)
    for ax in (ax_iou, ax_pd, ax_fa):
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel("threshold (prediction > threshold)")
        ax.grid(alpha=0.3, which="both")
    ax_iou.set_ylim(-2, 102)
    ax_pd.set_ylim(-2, 102)
    ax_iou.set_ylabel("IoU, nIoU (%)")
    ax_iou.set_title("Pixel IoU (solid) and nIoU (dashed)")
    ax_pd.set_ylabel("Pd (%, probability of detection)")
    ax_pd.set_title("Pd against threshold")
    ax_fa.set_title("Fa (false-alarm pixel rate) against threshold")
    if floored:
        ax_fa.text(0.02, 0.02, f"Fa = 0 drawn at {FA_FLOOR_1E6:g}", transform=ax_fa.transAxes, fontsize=8,
                   color="0.4")  # fmt: skip
    ax_iou.legend(loc="best", fontsize=8)
    if not single:
        ax_pd.legend(loc="best", fontsize=8)
    return _finish(fig, title, path, named)


def figure_svg(fig, alt: str, id_prefix: str = "f") -> str:
    """The figure as an inline ``<svg>`` element for an HTML page: text kept as text (smaller, and
    searchable), ``role="img"`` with ``alt`` as its accessible name and ``<title>``, and every ``id``
    prefixed with ``id_prefix`` so that several figures can share one page."""
    import html
    import io
    import re

    from matplotlib import rc_context

    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "hse"}):
        fig.savefig(buf, format="svg")
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: not allowed inside HTML
    # The RDF metadata and the namespace declarations are URIs a reader might take for links; the HTML
    # parser puts <svg> and xlink:href in their namespaces without them.
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    if ids:
        pattern = re.compile(r'(\bid="|url\(#|href="#)(' + "|".join(map(re.escape, ids)) + r')(?=["\)])')
        text = pattern.sub(lambda m: m.group(1) + id_prefix + m.group(2), text)
    label = html.escape(alt, quote=True)
    end = text.index(">")
    opening = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text[:end]) + f' role="img" aria-label="{label}">'
    return opening + f"<title>{label}</title>" + text[end + 1 :]
