"""Figures (hse.plot)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import hse
from hse.demo import make_demo

pytest.importorskip("matplotlib")

from hse.plot import figure_svg, plot_leaderboard, plot_results, plot_threshold_metrics  # noqa: E402


@pytest.fixture(scope="module")
def results():
    names, preds, masks = make_demo(n_images=6, size=64, seed=3)
    soft = hse.evaluate(preds, masks, names=names)
    hard = hse.evaluate([p > 0.5 for p in preds], masks, names=names)
    return {"soft": soft, "hard": hard}


def _is_png(path) -> bool:
    return path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_results_four_labelled_panels(results, tmp_path):
    out = tmp_path / "fig.png"
    fig = plot_results(results, out)
    assert _is_png(out)
    axes = fig.axes
    assert len(axes) == 4
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert "IoU" in axes[0].get_ylabel() and "target" in axes[1].get_ylabel()
    assert "Pd" in axes[2].get_ylabel() and "Fa" in axes[2].get_xlabel()
    assert "TPR" in axes[3].get_ylabel() and "FPR" in axes[3].get_xlabel()
    legend = axes[0].get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["soft", "hard"]
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_plot_single_result_and_dict_form(results, tmp_path):
    fig = plot_results(results["soft"])
    assert len(fig.axes) == 4
    fig = plot_results({"a": results["soft"].to_dict()}, tmp_path / "d.png")
    assert _is_png(tmp_path / "d.png")


def test_operating_point_is_marked(results):
    fig = plot_results(results["soft"])
    ax = fig.axes[2]
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(stars) == 1
    pd_at = float(results["soft"].at(results["soft"].threshold)["pd"])
    assert np.isclose(stars[0].get_ydata()[0], 100 * pd_at)  # Pd in percent


def test_plot_leaderboard(results, tmp_path):
    fig = plot_leaderboard(results, tmp_path / "lb.png")
    assert _is_png(tmp_path / "lb.png")
    assert len(fig.axes) == 2
    assert all(ax.get_xlabel() for ax in fig.axes)


def test_import_hse_does_not_import_matplotlib():
    code = "import sys, hse, hse.cli.score, hse.cli.compare, hse.io, hse.report; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_threshold_metrics_units_legends_and_log_scale(results, tmp_path):
    fig = plot_threshold_metrics(results, tmp_path / "t.png")
    assert _is_png(tmp_path / "t.png")
    ax_iou, ax_pd, ax_fa = fig.axes
    for ax in fig.axes:
        assert ax.get_xlabel() == "threshold (prediction > threshold)" and ax.get_title()
    assert "(%)" in ax_iou.get_ylabel() and "%" in ax_pd.get_ylabel() and "x1e-6" in ax_fa.get_ylabel()
    labels = [t.get_text() for t in ax_iou.get_legend().get_texts()]
    assert labels == ["soft IoU", "soft nIoU", "hard IoU", "hard nIoU"]
    # percent: the IoU drawn is 100 x the curve's
    soft = results["soft"]
    assert np.allclose(ax_iou.get_lines()[0].get_ydata(), 100 * soft.curve["iou"].to_numpy())
    # the soft map's Fa spans decades over the grid: log axis; a hard map's Fa is flat: linear
    fa = soft.curve["fa_1e6"].to_numpy()
    assert fa[fa > 0].max() / fa[fa > 0].min() >= 100 and ax_fa.get_yscale() == "log"
    assert plot_threshold_metrics(results["hard"]).axes[2].get_yscale() == "linear"


def test_figure_svg_is_inline_and_labelled(results):
    svg = figure_svg(plot_results(results["soft"]), 'Curves <of> "soft"', "x7")
    assert svg.startswith("<svg ") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert 'role="img"' in svg and 'aria-label="Curves &lt;of&gt; &quot;soft&quot;"' in svg
    assert "<title>Curves &lt;of&gt; &quot;soft&quot;</title>" in svg
    assert "http" not in svg  # no namespace URIs or metadata links
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("x7") for i in ids)
    refs = re.findall(r'(?:url\(#|href="#)([^")]+)', svg)
    assert set(refs) <= set(ids)
    assert "<text" in svg  # text kept as text (searchable, smaller)


# -- titles of the CLI's figures --------------------------------------------------------------------


def _png_folders(root, n: int = 4, binary: bool = False):
    """``root/preds`` and ``root/masks``: one 3x3 target per 24x24 image; soft or {0, 255} predictions."""
    from PIL import Image

    rng = np.random.default_rng(1)
    p, m = root / "preds", root / "masks"
    p.mkdir(parents=True)
    m.mkdir()
    for k in range(n):
        mask = np.zeros((24, 24), np.uint8)
        mask[5:8, 9:12] = 255
        pred = (rng.random((24, 24)) * 90).astype(np.uint8)
        pred[5:8, 9:12] = 200 + 10 * k
        pred[15, 3 + k] = 150
        if binary:
            pred = np.where(pred > 120, 255, 0).astype(np.uint8)
        Image.fromarray(mask).save(m / f"im{k}.png")
        Image.fromarray(pred).save(p / f"im{k}.png")
    return p, m


def test_cli_title_names_the_folders_readably(tmp_path, monkeypatch, capsys):
    from hse._version import __version__
    from hse.cli import main
    from hse.cli.common import folder_label, run_title

    _png_folders(tmp_path / "runs" / "acm")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    out = tmp_path / "fig.svg"
    assert main(["./../runs/acm/preds/", "../runs/./acm/masks", "--plot", str(out)]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    want = f"hse {__version__} - acm/preds vs acm/masks: 4 images, 19 thresholds (0.05 .. 0.95)"
    assert head == want
    assert want in out.read_text()  # the figure's title (matplotlib keeps each text in a comment)
    # the same words on a Figure built from the scored result
    res = hse.evaluate(*_folder_arrays(tmp_path / "runs" / "acm"))
    fig = plot_results(res, title=run_title(f"{folder_label('./../runs/acm/preds/')} x", res))
    (title,) = [t.get_text() for t in fig.texts if t.get_text().startswith("hse ")]
    assert title.endswith("acm/preds x: 4 images, 19 thresholds (0.05 .. 0.95)")
    assert "./" not in title and ".." not in title.split(":")[0]
    # a folder recorded by another machine is normalised, not resolved here
    assert folder_label("./../x/y/", resolve=False) == "x/y"
    assert folder_label("../../x", resolve=False) == "x"


def _folder_arrays(root):
    from hse.io import read_image

    preds = [read_image(p) for p in sorted((root / "preds").iterdir())]
    masks = [read_image(p) > 0 for p in sorted((root / "masks").iterdir())]
    return preds, masks


def test_merge_title_uses_the_recorded_folders(tmp_path, monkeypatch, capsys):
    from hse.cli import main

    p, m = _png_folders(tmp_path / "d")
    monkeypatch.chdir(tmp_path)
    for k in (1, 2):
        assert main(["./d/preds/", "./d/masks/", "--shard", f"{k}/2", "--json", f"part{k}.json", "-q"]) == 0
    assert main(["merge", "part1.json", "part2.json", "--plot", "m.svg"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert head.endswith("- d/preds vs d/masks: 4 images, 19 thresholds (0.05 .. 0.95) - 2 shards merged")


# -- binary predictions: flat curves, said so ---------------------------------------------------------


def _texts(fig) -> list[str]:
    """Every text on the figure: its own (title, notes) and its axes' (titles, labels, annotations)."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_binary_predictions_get_a_note_on_figures_and_summary(tmp_path, monkeypatch, capsys):
    from hse.cli import main
    from hse.report import FLAT_CURVES_NOTE, flat_curves, format_summary

    _png_folders(tmp_path / "bin", binary=True)
    _png_folders(tmp_path / "soft")
    hard = hse.evaluate(*_folder_arrays(tmp_path / "bin"))
    soft = hse.evaluate(*_folder_arrays(tmp_path / "soft"))
    # the signal: the predicted pixel count is the same at every evaluated threshold
    predicted = hard.curve["tp"] + hard.curve["fp"]
    assert predicted.nunique() == 1 and predicted.iloc[0] > 0
    assert flat_curves(hard) and flat_curves(hard.to_dict(include_state=False))
    assert not flat_curves(soft) and not flat_curves(soft.to_dict())
    bare = hard.to_dict(include_state=False)
    bare["curve"] = [{k: v for k, v in r.items() if k not in ("tp", "fp")} for r in bare["curve"]]
    assert not flat_curves(bare)  # no counters, no claim
    # a {0, 1} map thresholded on a one-threshold grid is not flagged (nothing to be flat over)
    one = hse.evaluate(*_folder_arrays(tmp_path / "bin"), thresholds=[0.5])
    assert len(one.curve) == 1 and not flat_curves(one)

    for fig in (plot_results(hard), plot_threshold_metrics(hard)):
        assert FLAT_CURVES_NOTE in _texts(fig)
    for fig in (plot_results(soft), plot_threshold_metrics(soft), plot_leaderboard({"soft": soft})):
        assert not any(FLAT_CURVES_NOTE in t for t in _texts(fig))
    fig = plot_leaderboard({"soft": soft, "hard": hard})
    assert f"hard: {FLAT_CURVES_NOTE}" in _texts(fig)
    fig = plot_results({"soft": soft, "hard": hard})
    assert f"hard: {FLAT_CURVES_NOTE}" in _texts(fig)

    assert FLAT_CURVES_NOTE in format_summary(hard) and FLAT_CURVES_NOTE not in format_summary(soft)
    monkeypatch.chdir(tmp_path)
    assert main(["bin/preds", "bin/masks"]) == 0
    assert f"note: {FLAT_CURVES_NOTE}" in capsys.readouterr().out


# -- units: percent and x1e-6 as in the summary, one Fa scale rule --------------------------------------


def test_every_figure_in_percent_and_fa_in_1e6(results):
    soft, hard = results["soft"], results["hard"]
    c = soft.curve
    fa = c["fa_1e6"].to_numpy()
    assert fa[fa > 0].max() / fa[fa > 0].min() >= 100  # the soft map's Fa spans decades

    ax_iou, ax_tiou, ax_pdfa, ax_roc = plot_results(soft).axes
    for ax, key in ((ax_iou, "iou"), (ax_tiou, "target_iou")):
        assert "(%)" in ax.get_ylabel() and ax.get_ylim() == (-2, 102)
        assert np.allclose(ax.get_lines()[0].get_ydata(), 100 * c[key].to_numpy())
    assert "%" in ax_pdfa.get_ylabel() and ax_pdfa.get_ylim() == (-2, 102)
    assert "x1e-6" in ax_pdfa.get_xlabel() and "log scale" in ax_pdfa.get_xlabel()
    assert ax_pdfa.get_xscale() == "log"
    order = np.argsort(c["threshold"].to_numpy())
    assert np.allclose(ax_pdfa.get_lines()[0].get_ydata(), 100 * c["pd"].to_numpy()[order])
    assert ax_roc.get_xscale() == "log"  # FPR is a rate over every background pixel: always log

    # a binary map's Fa is one value: linear axis, label without "log"
    ax_pdfa = plot_results(hard).axes[2]
    assert ax_pdfa.get_xscale() == "linear" and "log" not in ax_pdfa.get_xlabel()
    assert "x1e-6" in ax_pdfa.get_xlabel()

    # the leaderboard's Pd-Fa panel follows the same rule, in the same units
    ax_pdfa = plot_leaderboard({"soft": soft}).axes[1]
    assert ax_pdfa.get_xscale() == "log" and "%" in ax_pdfa.get_ylabel() and "x1e-6" in ax_pdfa.get_xlabel()
    assert plot_leaderboard({"hard": hard}).axes[1].get_xscale() == "linear"
    # and the threshold figure
    ax_iou, ax_pd, ax_fa = plot_threshold_metrics(soft).axes
    assert ax_iou.get_ylim() == ax_pd.get_ylim() == (-2, 102)
    assert ax_fa.get_yscale() == "log" and "log scale" in ax_fa.get_ylabel()


def test_fa_zero_on_a_log_axis_is_floored_and_said(results):
    from hse.plot import FA_FLOOR_1E6

    d = results["soft"].to_dict(include_state=False)
    d["curve"][-1]["fa_1e6"] = 0.0  # the highest threshold: no false alarm
    ax = plot_results(d).axes[2]
    assert ax.get_xscale() == "log"
    assert np.min(ax.get_lines()[0].get_xdata()) == FA_FLOOR_1E6
    assert f"Fa = 0 drawn at {FA_FLOOR_1E6:g}" in [t.get_text() for t in ax.texts]


# -- the leaderboard figure -------------------------------------------------------------------------------


def test_leaderboard_one_colour_per_method_markers_size_fonts(results):
    from matplotlib.colors import to_rgb
    from matplotlib.text import Text

    fig = plot_leaderboard(results)  # "hard" is binary: its Pd-Fa curve is one point
    w, h = fig.get_size_inches() * fig.dpi
    assert w > 1200 and h > 350 and (w, h) == (1400, 550)
    ax_bar, ax_pdfa = fig.axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()  # lays the figure out (constrained layout), as saving it does
    for t in fig.findobj(Text):
        if t.get_text() and t.get_visible():
            assert t.get_fontsize() >= 9, t.get_text()

    # one colour per method, the same in both panels
    line_of = {ln.get_label(): ln for ln in ax_pdfa.get_lines() if not ln.get_label().startswith("_")}
    assert set(line_of) == {"soft", "hard"}
    assert to_rgb(line_of["soft"].get_color()) != to_rgb(line_of["hard"].get_color())
    for name in ("soft", "hard"):
        bars = [p for p in ax_bar.patches if (p.get_gid() or "").startswith(f"{name}/")]
        assert sorted(b.get_gid() for b in bars) == [f"{name}/hse", f"{name}/hse_pixel", f"{name}/hse_target"]
        for b in bars:
            assert to_rgb(b.get_facecolor()[:3]) == to_rgb(line_of[name].get_color())
        stars = [ln for ln in ax_pdfa.get_lines() if ln.get_marker() == "*"
                 and to_rgb(ln.get_color()) == to_rgb(line_of[name].get_color())]  # fmt: skip
        assert len(stars) == 1
    # the bars' values
    hse_bar = next(p for p in ax_bar.patches if p.get_gid() == "soft/hse")
    assert np.isclose(hse_bar.get_width(), results["soft"].hse)

    # legend entries look like what is drawn: a line for the soft curve, a marker alone for the one-point
    # binary curve and for the stars
    legend = ax_pdfa.get_legend()
    entries = dict(zip([t.get_text() for t in legend.get_texts()], legend.legend_handles, strict=True))
    assert set(entries) == {"soft", "hard", "operating threshold"}
    assert line_of["soft"].get_linestyle() == "-" and entries["soft"].get_linestyle() == "-"
    assert line_of["hard"].get_linestyle() == "None" and entries["hard"].get_linestyle() == "None"
    assert entries["hard"].get_marker() == "o"
    assert entries["operating threshold"].get_linestyle() == "None"
    assert entries["operating threshold"].get_marker() == "*"
    bar_legend = ax_bar.get_legend()
    assert [t.get_text() for t in bar_legend.get_texts()] == ["HSE", "HSE_pixel", "HSE_target"]
    hatches = [p.get_hatch() for p in bar_legend.get_patches()]
    assert len(set(hatches)) == 3  # told apart without colour

    # legends outside the data
    r = fig.canvas.get_renderer()
    assert legend.get_window_extent(r).x0 >= ax_pdfa.get_window_extent(r).x1
    assert bar_legend.get_window_extent(r).y1 <= ax_bar.get_window_extent(r).y0


def test_leaderboard_and_threshold_figure_share_method_colours(results):
    from matplotlib.colors import to_rgb

    named = {"hard": results["hard"], "soft": results["soft"]}  # not in HSE order
    lb = plot_leaderboard(named).axes[1]
    th = plot_threshold_metrics(named).axes[1]
    lb_colour = {ln.get_label(): to_rgb(ln.get_color()) for ln in lb.get_lines() if ln.get_label() in named}
    th_colour = {ln.get_label(): to_rgb(ln.get_color()) for ln in th.get_lines() if ln.get_label() in named}
    assert lb_colour == th_colour and len(set(lb_colour.values())) == 2
    # many methods: still one distinct colour each
    many = {f"m{i}": results["soft"] for i in range(13)}
    ax = plot_leaderboard(many).axes[1]
    colours = {to_rgb(ln.get_color()) for ln in ax.get_lines() if ln.get_label() in many}
    assert len(colours) == 13


# -- vector output, chosen by the extension -----------------------------------------------------------


@pytest.mark.parametrize("ext", ["png", "pdf", "svg", "PDF"])
def test_figure_format_from_the_extension_through_the_atomic_writer(results, tmp_path, ext):
    magic = {"png": b"\x89PNG", "pdf": b"%PDF-", "svg": b"<?xml"}[ext.lower()]
    out = tmp_path / f"fig.{ext}"
    fig = plot_results(results, out)
    assert out.read_bytes().startswith(magic) and len(fig.axes) == 4
    if ext.lower() == "svg":
        assert "<svg" in out.read_text() and "Pd against Fa" in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left
    lb = tmp_path / f"lb.{ext}"
    plot_leaderboard(results, lb)
    assert lb.read_bytes().startswith(magic)


def test_cli_plot_vector_formats_and_unknown_extension(tmp_path, capsys):
    from hse.cli import main
    from hse.errors import InputError
    from hse.plot import plot_format

    for ext, magic in (("pdf", b"%PDF-"), ("svg", b"<?xml"), ("png", b"\x89PNG")):
        out = tmp_path / f"curves.{ext}"
        assert main(["--demo", "--plot", str(out), "-q"]) == 0
        assert out.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.pdf", "curves.png", "curves.svg"]
    capsys.readouterr()
    # unknown formats are refused before any work: the missing input folders are not even looked at
    for name in ("fig.jpg", "fig.xyz", "fig"):
        code = main([str(tmp_path / "no_preds"), str(tmp_path / "no_masks"), "--plot", str(tmp_path / name)])
        err = capsys.readouterr().err
        assert code == 2 and f"--plot {tmp_path / name}: unknown figure format" in err
        assert ".pdf" in err and ".svg" in err and "no_preds" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.pdf", "curves.png", "curves.svg"]
    with pytest.raises(InputError, match="figure format 'eps'"):
        plot_results(results_of_demo(), tmp_path / "f.eps")
    assert plot_format("a/B.SVG") == "svg"


def results_of_demo():
    names, preds, masks = make_demo(n_images=3, size=32, seed=0)
    return hse.evaluate(preds, masks, names=names)
