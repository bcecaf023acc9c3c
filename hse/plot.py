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

from hse.errors import InputError
from hse.report import FLAT_CURVES_NOTE, as_dict, flat_curves

#: The figure formats, chosen by the output path's extension: a raster image and two vector formats.
PLOT_FORMATS = ("png", "pdf", "svg")
#: Fa values of exactly 0 cannot be drawn on a log axis; they are drawn at this value (x1e-6).
FA_FLOOR_1E6 = 1e-2
#: Same for pixel FPR on the ROC panel.
FPR_FLOOR = 1e-8


def _curves(result: Any) -> tuple[dict[str, np.ndarray], float]:
    d = as_dict(result)
    rows = d.get("curve") or []
    keys = ("threshold", "iou", "niou", "target_iou", "pd", "fa_1e6", "tpr", "fpr")
    cols = {k: np.array([float(r.get(k, np.nan)) for r in rows], dtype=float) for k in keys}
    return cols, float(d["threshold"])


def _normalise(results: Any) -> dict[str, Any]:
    if isinstance(results, Mapping) and "schema" not in results and "curve" not in results:
        if not results:
            raise ValueError("no results to plot")
        return dict(results)
    return {"": results}


def _colours(n: int) -> list[Any]:
    """One colour per method, by its position in the mapping given: the same method gets the same colour
    in every figure drawn from the same mapping (tab10, tab20 beyond ten methods)."""
    if n <= 10:
        return [f"C{i}" for i in range(n)]
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]


def _figure(figsize: tuple[float, float]):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=100, layout="constrained")


def _finish(fig, title: str | None, path: str | os.PathLike | None, named: Mapping[str, Any]):
    """The figure with its title and, under the panels, the note of the results whose curves are flat
    by construction (:func:`hse.report.flat_curves`); saved atomically to ``path`` when given, in the
    format its extension names (:func:`plot_format`)."""
    if title:
        fig.suptitle(title)
    flat = [name for name, res in named.items() if flat_curves(res)]
    if flat:
        who = "" if flat == [""] else ", ".join(flat) + ": "
        fig.supxlabel(who + FLAT_CURVES_NOTE, color="firebrick", fontsize=10)
    if path is not None:
        from hse.io import write_atomic_via

        fmt = plot_format(path)
        write_atomic_via(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=fig.dpi))
    return fig


def plot_format(path: str | os.PathLike, what: str = "figure") -> str:
    """The format of a figure file from its extension: ``png``, ``pdf`` or ``svg`` (any case). Anything
    else is an :class:`~hse.errors.InputError` naming ``what`` (e.g. ``--plot out.jpg``), raised before
    any work when the caller checks its outputs first. Needs no matplotlib."""
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if ext not in PLOT_FORMATS:
        raise InputError(
            f"{what} {os.fspath(path)}: unknown figure format {ext or '(no extension)'!r}; "
            f"name the file .png, .pdf (vector) or .svg (vector)"
        )
    return ext


def _floor(values: np.ndarray, floor: float) -> tuple[np.ndarray, bool]:
    clipped = np.where(values > floor, values, floor)
    return clipped, bool(np.any(values[np.isfinite(values)] < floor))


def _fa_is_log(values: np.ndarray) -> bool:
    """Fa (x1e-6) goes on a log axis when its positive values span two decades or more (zeros are then
    drawn at :data:`FA_FLOOR_1E6`); on a linear one otherwise. One rule for every figure."""
    pos = values[np.isfinite(values) & (values > 0)]
    return bool(pos.size) and pos.max() / max(pos.min(), FA_FLOOR_1E6) >= 100.0


def _fa_values(values: np.ndarray, log: bool) -> tuple[np.ndarray, bool]:
    """The Fa values to draw and whether a zero was moved to the floor of a log axis."""
    return _floor(values, FA_FLOOR_1E6) if log else (values, False)


def _fa_label(log: bool) -> str:
    return "Fa (false-alarm pixel rate, x1e-6" + (", log scale)" if log else ")")


def _floor_note(ax, text: str) -> None:
    ax.text(0.02, 0.02, text, transform=ax.transAxes, fontsize=9, color="0.35")


def _percent_axis(ax, which: str = "y") -> None:
    """A 0-100 % axis (a little margin so that 0 and 100 stay visible)."""
    (ax.set_ylim if which == "y" else ax.set_xlim)(-2, 102)


def _curve_with_star(ax, x: np.ndarray, y: np.ndarray, order, k: int, colour: Any, label, star_size: float):
    """One method's curve (points in threshold order) with a star at the operating threshold (index k).
    A curve that is one point (binary predictions) is drawn as a marker alone, so that its legend entry
    shows a marker, not a line that the figure does not draw."""
    xy = np.column_stack([x, y])
    finite = xy[np.all(np.isfinite(xy), axis=1)]
    style = "o" if len(np.unique(finite, axis=0)) <= 1 else "-o"
    ax.plot(x[order], y[order], style, ms=3 if style == "-o" else 6, color=colour, label=label)
    ax.plot([x[k]], [y[k]], "*", ms=star_size, color=colour, mec="black", mew=0.6)


def _star_handle(star_size: float):
    """The legend entry of the stars: a marker alone, as drawn."""
    from matplotlib.lines import Line2D

    return Line2D([], [], ls="none", marker="*", ms=star_size * 0.8, color="0.5", mec="black", mew=0.6,
                  label="operating threshold")  # fmt: skip


def _pdfa(ax, named_curves, colours, star_size: float, title: str) -> None:
    """Pd (%) against Fa (x1e-6) for every method, a star at each operating threshold; Fa on a log axis
    when it spans decades (:func:`_fa_is_log`)."""
    log = _fa_is_log(np.concatenate([c["fa_1e6"] for c, _ in named_curves.values()]))
    clipped = False
    for colour, (name, (c, op)) in zip(colours, named_curves.items(), strict=True):
        fa, cl = _fa_values(c["fa_1e6"], log)
        clipped |= cl
        order = np.argsort(c["threshold"])
        k = int(np.argmin(np.abs(c["threshold"] - op)))
        _curve_with_star(ax, fa, 100 * c["pd"], order, k, colour, name or None, star_size)
    if log:
        ax.set_xscale("log")
    _percent_axis(ax)
    ax.set_xlabel(_fa_label(log))
    ax.set_ylabel("Pd (%, probability of detection)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    if clipped:
        _floor_note(ax, f"Fa = 0 drawn at {FA_FLOOR_1E6:g}")


def plot_results(results: Any, path: str | os.PathLike | None = None, title: str | None = None):
    """Four panels for one result or several (``{method name: result}``), one colour per method:

    1. pixel IoU (%) against threshold; 2. target IoU (%) against threshold; 3. Pd (%) against Fa
    (x1e-6; log axis when Fa spans two decades or more), with the operating threshold marked; 4. the
    pixel ROC (TPR against FPR, log x axis).

    ``results`` may be :class:`hse.Result` objects or their ``to_dict()`` dictionaries. When ``path``
    is given the figure is also saved there (atomically; PNG, PDF or SVG from the extension). Returns
    the ``matplotlib.figure.Figure``.
    """
    named = _normalise(results)
    curves = {name: _curves(res) for name, res in named.items()}
    colours = _colours(len(named))
    fig = _figure((11.0, 8.5))
    axes = fig.subplots(2, 2)
    ax_iou, ax_tiou, ax_pdfa, ax_roc = axes.ravel()
    clipped_fpr = False
    op_threshold = None
    for colour, (name, (c, op)) in zip(colours, curves.items(), strict=True):
        op_threshold = op
        label = name or None
        t = c["threshold"]
        k = int(np.argmin(np.abs(t - op)))
        for ax, key in ((ax_iou, "iou"), (ax_tiou, "target_iou")):
            ax.plot(t, 100 * c[key], "-o", ms=3, color=colour, label=label)
            ax.plot([t[k]], [100 * c[key][k]], "o", ms=8, mfc="none", color=colour)
        fpr, cl = _floor(c["fpr"], FPR_FLOOR)
        clipped_fpr |= cl
        _curve_with_star(ax_roc, fpr, c["tpr"], np.argsort(t), k, colour, label, star_size=14)

    op_text = f"operating threshold {op_threshold:g}" if op_threshold is not None else ""
    for ax in (ax_iou, ax_tiou):
        if op_threshold is not None:
            ax.axvline(op_threshold, color="0.6", ls="--", lw=1)
        ax.set_xlim(0.0, 1.0)
        _percent_axis(ax)
        ax.set_xlabel("threshold (prediction > threshold)")
        ax.grid(alpha=0.3)
    ax_iou.set_ylabel("pixel IoU (%)")
    ax_iou.set_title("Pixel IoU against threshold")
    ax_tiou.set_ylabel("target IoU (%)")
    ax_tiou.set_title("Target IoU against threshold")

    star = f" (star: {op_text})" if op_text else ""
    _pdfa(ax_pdfa, curves, colours, 14, "Pd against Fa" + star)
    ax_roc.set_xscale("log")
    ax_roc.set_ylim(-0.02, 1.02)
    ax_roc.set_xlabel("FPR (pixel false-positive rate, log scale)")
    ax_roc.set_ylabel("TPR (pixel true-positive rate)")
    ax_roc.set_title("Pixel ROC" + star)
    ax_roc.grid(alpha=0.3, which="both")
    if clipped_fpr:
        _floor_note(ax_roc, f"FPR = 0 drawn at {FPR_FLOOR:g}")

    if any(named):
        ax_iou.legend(loc="best", fontsize=9)
    return _finish(fig, title, path, named)


#: The three HSE bars of a method in :func:`plot_leaderboard`: one colour (the method's), told apart by
#: fill and hatch, as the legend shows.
_BAR_SERIES = (
    ("hse", "HSE", 1.0, ""),
    ("hse_pixel", "HSE_pixel", 0.55, "//"),
    ("hse_target", "HSE_target", 0.3, ".."),
)


def plot_leaderboard(
    results: Mapping[str, Any], path: str | os.PathLike | None = None, title: str | None = None
):
    """Two panels for a leaderboard: HSE, HSE_pixel and HSE_target bars per method (best HSE on top),
    and Pd (%) against Fa (x1e-6) of all methods. Each method has one colour in both panels (and in
    :func:`plot_threshold_metrics` given the same mapping); the three bars are told apart by fill and
    hatch. 14 x 5.5 in at 100 dpi or taller with many methods; legends outside the data. Returns the
    Figure; saves it atomically when ``path`` is given."""
    from matplotlib.patches import Patch

    if not results:
        raise ValueError("no results to plot")
    dicts = {name: as_dict(r) for name, r in results.items()}
    colour_of = dict(zip(dicts, _colours(len(dicts)), strict=True))
    names = sorted(dicts, key=lambda n: -_nan_low(dicts[n].get("hse")))
    fig = _figure((14.0, max(5.5, 0.5 * len(names) + 2.5)))
    ax_bar, ax_pdfa = fig.subplots(1, 2, width_ratios=[1, 1.25])
    y = np.arange(len(names))[::-1]
    width = 0.26
    for yy, n in zip(y, names, strict=True):
        for j, (key, _label, alpha, hatch) in enumerate(_BAR_SERIES):
            value = float(dicts[n].get(key) or 0.0)
            (bar,) = ax_bar.barh(yy + (1 - j) * width, value, height=width, color=colour_of[n], alpha=alpha,
                                 hatch=hatch, edgecolor=colour_of[n], linewidth=0.8)  # fmt: skip
            bar.set_gid(f"{n}/{key}")
        v = dicts[n].get("hse")
        if v is not None:
            ax_bar.text(float(v) + 0.01, yy + width, f"{float(v):.3f}", va="center", fontsize=9)
    ax_bar.set_yticks(y)
    ax_bar.set_yticklabels(names)
    ax_bar.set_xlim(0.0, 1.1)
    ax_bar.set_xlabel("score (higher is better)")
    ax_bar.set_title("HSE by method")
    series = [
        Patch(facecolor="0.45", alpha=a, hatch=h, edgecolor="0.45", label=lab) for _, lab, a, h in _BAR_SERIES
    ]
    ax_bar.legend(handles=series, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=9,
                  frameon=False)  # fmt: skip
    ax_bar.grid(alpha=0.3, axis="x")

    curves = {n: _curves(dicts[n]) for n in names}
    _pdfa(ax_pdfa, curves, [colour_of[n] for n in names], 13, "Pd against Fa over the threshold grid")
    handles, _ = ax_pdfa.get_legend_handles_labels()
    ax_pdfa.legend(handles=[*handles, _star_handle(13)], loc="upper left", bbox_to_anchor=(1.02, 1.0),
                   fontsize=9, borderaxespad=0.0)  # fmt: skip
    return _finish(fig, title, path, dicts)


def _nan_low(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return float("-inf")
    return x if np.isfinite(x) else float("-inf")


def plot_threshold_metrics(results: Any, path: str | os.PathLike | None = None, title: str | None = None):
    """Three panels against the threshold for one result or several (``{method name: result}``):

    1. pixel IoU and nIoU (%, solid and dashed); 2. Pd (%); 3. Fa (x1e-6), on a log axis when it spans
    two decades or more. The operating threshold is a dotted vertical line. One colour per method, by its
    position in the mapping (the colours of :func:`plot_leaderboard` given the same mapping); for a
    single unnamed result one colour per metric. Returns the Figure; saves it atomically when ``path``
    is given.
    """
    named = _normalise(results)
    curves = {name: _curves(res) for name, res in named.items()}
    colours = _colours(len(named))
    fig = _figure((12.0, 4.0))
    ax_iou, ax_pd, ax_fa = fig.subplots(1, 3)
    log = _fa_is_log(np.concatenate([c["fa_1e6"] for c, _ in curves.values()]))
    floored = False
    single = len(named) == 1 and not next(iter(named))
    for colour, (name, (c, op)) in zip(colours, curves.items(), strict=True):
        t = c["threshold"]
        order = np.argsort(t)
        fa, cl = _fa_values(c["fa_1e6"], log)
        floored |= cl
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
    _percent_axis(ax_iou)
    _percent_axis(ax_pd)
    if log:
        ax_fa.set_yscale("log")
    ax_iou.set_ylabel("IoU, nIoU (%)")
    ax_iou.set_title("Pixel IoU (solid) and nIoU (dashed)")
    ax_pd.set_ylabel("Pd (%, probability of detection)")
    ax_pd.set_title("Pd against threshold")
    ax_fa.set_ylabel(_fa_label(log))
    ax_fa.set_title("Fa against threshold")
    if floored:
        _floor_note(ax_fa, f"Fa = 0 drawn at {FA_FLOOR_1E6:g}")
    ax_iou.legend(loc="best", fontsize=9)
    if not single:
        ax_pd.legend(loc="best", fontsize=9)
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
