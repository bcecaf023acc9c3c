"""The HTML report (hse.html) without a browser: structure, escaping, offline, marks that agree with the
counts, size budget, Result.to_html and hse-score --html. The browser checks are test_html_browser.py."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import hse
from hse.cli.score import main as score_main
from hse.demo import make_demo
from hse.errors import InputError
from hse.report import fmt_num

pytest.importorskip("matplotlib")

from hse.html import render_report  # noqa: E402
from hse.html.gallery import COLOURS, classify, thumbnail  # noqa: E402
from hse.html.page import CSS  # noqa: E402


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside each element id'd or classed."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)


def parse(text: str) -> Tags:
    t = Tags()
    t.feed(text)
    return t


@pytest.fixture(scope="module")
def demo():
    names, preds, masks = make_demo(n_images=16, size=64, seed=4)
    return names, preds, masks, hse.evaluate(preds, masks, names=names)


def _rows(text: str, table_id: str) -> list[str]:
    body = text.split(f'id="{table_id}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def test_report_structure_and_offline(demo):
    names, preds, masks, res = demo
    text = render_report(res, ci=True, preds=preds, masks=masks, threshold=0.95, title="demo")
    tags = parse(text)
    assert text.startswith("<!DOCTYPE html>") and '<html lang="en">' in text
    # headline: every score, with an interval
    hse_item = re.search(r'<li data-key="hse">.*?<span class="value">([^<]*)</span>(.*?)</li>', text, re.S)
    assert hse_item.group(1) == fmt_num(res.hse) and "95% CI [" in hse_item.group(2)
    for key in ("hse_pixel", "hse_target", "iou", "niou", "pd", "fa"):
        assert f'data-key="{key}"' in text
    # one row per evaluated threshold and per image
    assert len(_rows(text, "per-threshold")) == res.grid.size
    assert len(_rows(text, "per-image")) == res.n_images
    # figures: inline SVG with an accessible name; images: PNG data URIs with alt text
    svgs = [a for t, a in tags.tags if t == "svg"]
    assert len(svgs) == 2 and all(a.get("role") == "img" and len(a.get("aria-label", "")) > 40 for a in svgs)
    imgs = [a for t, a in tags.tags if t == "img"]
    assert imgs and all(a["src"].startswith("data:image/png;base64,") and len(a["alt"]) > 40 for a in imgs)
    # nothing to load from anywhere: no URL scheme but data:, no script or style file, a strict CSP
    assert "http://" not in text and "https://" not in text
    for _tag, attrs in tags.tags:
        for key in ("src", "href"):
            if key in attrs:
                assert attrs[key].startswith(("data:", "#")) or "://" not in attrs[key], attrs
    assert not any(t == "script" and "src" in a for t, a in tags.tags)
    assert not any(t == "link" and a.get("rel") == "stylesheet" for t, a in tags.tags)
    csp = next(a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv"))
    assert "default-src 'none'" in csp
    # readable without JavaScript: the tables and scores are in the document itself; the script only
    # adds sort buttons
    assert "<button" not in text.split("<script>")[0]
    # the SVG ids of the two figures do not collide
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))


def test_escaping(tmp_path):
    names, preds, masks = make_demo(n_images=3, size=48, seed=1)
    odd = ['<script>alert("x")</script>', "a&b", "quote\"'"]
    res = hse.evaluate(preds, masks, names=odd)
    text = render_report(res, preds=preds, masks=masks, title="<i>title</i> & more")
    assert "<script>alert" not in text and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "<i>title</i>" not in text and "&lt;i&gt;title&lt;/i&gt; &amp; more" in text
    assert "a&amp;b" in text and "quote&quot;&#x27;" in text
    assert text.count("<script>") == 1  # the page's own sort script only


def test_gallery_marks_hand_made_case():
    """Two targets, one detected and one missed; one false-alarm blob of 4 pixels: the classification
    and the thumbnail's colours, worked out by hand."""
    mask = np.zeros((32, 32), bool)
    mask[5:8, 5:8] = True  # target 0 (centroid 6, 6)
    mask[20:23, 24:27] = True  # target 1 (centroid 21, 25)
    pred = np.zeros((32, 32), np.float32)
    pred[5:8, 6:9] = 0.9  # component over target 0, centroid (6, 7): distance 1 < 3
    pred[26:28, 3:5] = 0.8  # false alarm: 4 pixels, far from both targets
    pred[21, 25] = 0.4  # below the threshold: target 1 is missed
    e = classify(pred, mask, np.array([0.25, 0.5, 0.75]), 1, radius=3.0, rule="greedy")
    assert e.detected.tolist() == [True, False] and e.matched.tolist() == [True, False]
    assert (e.n_targets, e.n_detected, e.n_false, e.fa_pixels) == (2, 1, 1, 4)
    img = np.asarray(Image.open(io.BytesIO(thumbnail((pred * 255).astype(np.uint8), e))).convert("RGB"))
    assert img.shape == (128, 128, 3)  # 32 px scaled by 4 (whole factor)

    def where(colour):
        rows, cols = np.nonzero((img == np.array(colour)).all(axis=2))
        return rows // 4, cols // 4  # back to image pixels

    r, c = where(COLOURS["missed"])
    assert r.size and r.min() >= 20 - 2 and r.max() <= 22 + 2 and c.min() >= 24 - 2 and c.max() <= 26 + 2
    r, c = where(COLOURS["false_alarm"])
    assert r.size and r.min() >= 25 and r.max() <= 28 and c.min() >= 2 and c.max() <= 5
    r, c = where(COLOURS["detected"])
    assert r.size and r.max() <= 10 and c.max() <= 11  # the box and outline of target 0 only
    # the missed box is dashed: it has gaps along its top edge, the detected box has none
    top = (img[(20 - 2) * 4 - 4 : (20 - 2) * 4 + 4] == np.array(COLOURS["missed"])).all(axis=2).any(axis=0)
    assert 0 < top.sum() < (26 - 24 + 5) * 4


@pytest.mark.parametrize("rule", ["greedy", "optimal"])
def test_gallery_counts_agree_with_the_metric_at_every_threshold(rule):
    """The gallery's labelling and matching against the metric's union-find sweep: the same detected
    targets, components and false-alarm pixels, image by image, threshold by threshold."""
    from hse.html.gallery import _check_counts

    names, preds, masks = make_demo(n_images=10, size=96, seed=7)
    res = hse.evaluate(preds, masks, names=names, match=rule)
    for k in range(res.grid.size):
        for i in range(res.n_images):
            _check_counts(res, i, k, classify(preds[i], masks[i], res.grid, k, 3.0, rule), names[i])


def test_gallery_refuses_other_files_and_unevaluated_thresholds(demo):
    names, preds, masks, res = demo
    shifted = masks[1:] + masks[:1]
    with pytest.raises(InputError, match="not the one that was scored"):
        render_report(res, preds=preds, masks=shifted, threshold=0.95)
    with pytest.raises(InputError, match="not evaluated"):
        render_report(res, preds=preds, masks=masks, threshold=0.33)
    with pytest.raises(InputError, match="16 scored images"):
        render_report(res, preds=preds[:3], masks=masks)


def test_size_budget_200_images():
    names, preds, masks = make_demo(n_images=200, size=256, seed=11)
    res = hse.evaluate(preds, masks, names=names)
    text = render_report(res, ci=True, preds=preds, masks=masks, threshold=0.95)
    assert len(text.encode("utf-8")) < 5_000_000
    assert text.count("<img ") == 16  # two sections of 8 (the default cap)


def _write_set(folder: Path, names, preds, masks, rgb: bool = False) -> None:
    for sub in ("pred", "masks", "images"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for n, p, m in zip(names, preds, masks, strict=True):
        Image.fromarray(np.round(p * 255).astype(np.uint8)).save(folder / "pred" / f"{n}.png")
        Image.fromarray(m.astype(np.uint8) * 255).save(folder / "masks" / f"{n}.png")
        g = np.round(p * 200).astype(np.uint8)
        Image.fromarray(np.stack([g, g // 2, 255 - g], axis=2) if rgb else g).save(
            folder / "images" / f"{n}.png"
        )


def test_result_to_html_finds_the_scored_files(tmp_path):
    names, preds, masks = make_demo(n_images=6, size=48, seed=2)
    _write_set(tmp_path, names, preds, masks, rgb=True)
    pred_files = sorted((tmp_path / "pred").glob("*.png"))
    mask_files = sorted((tmp_path / "masks").glob("*.png"))
    res = hse.evaluate(pred_files, mask_files)
    assert res.sources == {"preds": [str(p) for p in pred_files], "masks": [str(m) for m in mask_files]}
    out = res.to_html(tmp_path / "r.html", threshold=0.95)
    text = Path(out).read_text()
    assert "(prediction map)" in text and "<img " in text
    # input images (colour, shown in gray) found by name in a folder
    res.to_html(tmp_path / "r2.html", images=tmp_path / "images", threshold=0.95)
    assert "(input image)" in (tmp_path / "r2.html").read_text()
    # a result loaded from JSON keeps no paths: no gallery, a note says why; folders can be given
    loaded = hse.Result.from_dict(res.to_dict())
    assert loaded.sources is None
    loaded.to_html(tmp_path / "r3.html")
    assert "No gallery" in (tmp_path / "r3.html").read_text()
    loaded.to_html(tmp_path / "r4.html", preds=tmp_path / "pred", masks=tmp_path / "masks", threshold=0.95)
    assert "<img " in (tmp_path / "r4.html").read_text()
    # arrays are not kept (memory): the gallery needs them given
    assert hse.evaluate(preds, masks).sources is None


def test_cli_html(tmp_path, capsys):
    names, preds, masks = make_demo(n_images=6, size=48, seed=2)
    _write_set(tmp_path, names, preds, masks)
    pred, mask, images = (str(tmp_path / s) for s in ("pred", "masks", "images"))
    out = tmp_path / "out" / "report.html"
    assert (
        score_main([pred, mask, "--html", str(out), "--images", images, "--gallery-threshold", "0.95", "-q"])
        == 0
    )
    text = out.read_text()
    assert "(input image)" in text and "Error gallery at threshold 0.95" in text
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]
    # usage errors and refused values write nothing
    for argv, msg in (
        ([pred, mask, "--images", images], "--images needs --html"),
        ([pred, mask, "--html", str(tmp_path / "x.html"), "--gallery-threshold", "0.33"], "not an evaluated"),
        ([pred, mask, "--html", str(tmp_path / "x.html"), "--images", str(tmp_path / "nope")], "not found"),
        ([pred, mask, "--html", str(tmp_path / "x.html"), "--json", str(tmp_path / "x.html")], "same file"),
    ):
        with pytest.raises(SystemExit) if "needs" in msg else _no_raise():
            code = score_main(argv)
            assert code == 2
        assert msg in capsys.readouterr().err
        assert not (tmp_path / "x.html").exists()


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_text_contrast_meets_wcag_aa():
    """Every text colour of the style sheet against every background it uses: at least 4.5:1."""
    colours = set(re.findall(r"(?<!-)color:(#[0-9a-f]{6})", CSS))
    backgrounds = set(re.findall(r"background:(#[0-9a-f]{6})", CSS)) | {"#ffffff"}
    assert colours and len(backgrounds) >= 3
    for fg in colours:
        for bg in backgrounds:
            assert _contrast(fg, bg) >= 4.5, (fg, bg, _contrast(fg, bg))


def test_thumbnails_are_real_pngs(demo):
    names, preds, masks, res = demo
    text = render_report(res, preds=preds, masks=masks, threshold=0.95)
    for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', text):
        im = Image.open(io.BytesIO(base64.b64decode(uri)))
        assert im.format == "PNG" and max(im.size) <= 256 and min(im.size) > 0


def test_write_html_helper_takes_a_result_and_the_options(tmp_path):
    """The helper another command (e.g. one that merges saved results) calls with its Result and args."""
    import argparse

    from hse.cli.html_options import add_html_options, check_html_options, html_usage_error, write_html

    parser = argparse.ArgumentParser()
    add_html_options(parser)
    names, preds, masks = make_demo(n_images=4, size=48, seed=3)
    res = hse.Result.from_dict(hse.evaluate(preds, masks, names=names).to_dict())
    out = tmp_path / "merged.html"
    args = parser.parse_args(["--html", str(out), "--gallery-size", "2"])
    assert html_usage_error(args) is None
    assert check_html_options(args, res.grid) == [("--html", str(out))]
    write_html(res, args, title="merged")
    assert "No gallery" in out.read_text()
    write_html(res, args, pairs=(names, preds, masks))
    assert out.read_text().count("<img ") <= 4
    assert write_html(res, parser.parse_args([])) is None
    assert html_usage_error(parser.parse_args(["--gallery-size", "3"])) == "--gallery-size needs --html"


def test_demo_html(tmp_path, capsys):
    out = tmp_path / "demo.html"
    assert score_main(["--demo", "--html", str(out), "--gallery-threshold", "0.95", "-q"]) == 0
    text = out.read_text()
    assert "(prediction map)" in text and 'id="per-image"' in text


def test_merge_html_pairs_the_recorded_folders(tmp_path, capsys):
    """hse-score merge --html: the shards record their folders, and the gallery pairs them again."""
    from hse.cli.merge import main as merge_main

    names, preds, masks = make_demo(n_images=6, size=48, seed=2)
    _write_set(tmp_path, names, preds, masks)
    pred, mask = str(tmp_path / "pred"), str(tmp_path / "masks")
    parts = [str(tmp_path / f"part{k}.json") for k in (1, 2)]
    for k, part in zip((1, 2), parts, strict=True):
        assert score_main([pred, mask, "--shard", f"{k}/2", "--json", part, "-q"]) == 0
    whole = tmp_path / "whole.html"
    assert score_main([pred, mask, "--html", str(whole), "--gallery-threshold", "0.95", "-q"]) == 0
    merged = tmp_path / "merged.html"
    assert merge_main([*parts, "--html", str(merged), "--gallery-threshold", "0.95", "-q"]) == 0
    gallery = re.compile(r'<section id="gallery".*?</section>', re.S)
    assert gallery.search(merged.read_text()).group(0) == gallery.search(whole.read_text()).group(0)
    # folders gone: the merged report has no gallery, and a warning says why
    (tmp_path / "pred").rename(tmp_path / "moved")
    assert merge_main([*parts, "--html", str(merged), "-q"]) == 0
    assert "cannot be paired here" in capsys.readouterr().err
    assert "No gallery" in merged.read_text()
