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
    assert axes[2].get_xscale() == "log" and "Pd" in axes[2].get_ylabel() and "Fa" in axes[2].get_xlabel()
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
    assert np.isclose(stars[0].get_ydata()[0], pd_at)


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
