"""hse-leaderboard's HTML pages (hse.leaderboard.pages): index.html and the per-method reports, part of
the run's manifest; ranks, intervals and marks as in the tables; provenance (split, mask fixes,
checkpoints) stated and checked."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hse.cli.leaderboard import main
from hse.demo import make_demo
from hse.io import check_manifest
from hse.report import fmt_num

pytest.importorskip("matplotlib")
pytestmark = pytest.mark.filterwarnings("ignore:.*fewer than 10 images:UserWarning")


def _board(folder: Path, extra_method: str = "", n_images: int = 12) -> Path:
    names, preds, masks = make_demo(n_images=n_images, size=40, seed=9)
    for sub in ("soft", "hard", "masks", "fixes"):
        (folder / sub).mkdir()
    for n, p, m in zip(names, preds, masks, strict=True):
        Image.fromarray(np.round(p * 255).astype(np.uint8)).save(folder / "soft" / f"{n}.png")
        Image.fromarray((p > 0.6).astype(np.uint8) * 255).save(folder / "hard" / f"{n}.png")
        Image.fromarray(m.astype(np.uint8) * 255).save(folder / "masks" / f"{n}.png")
    # a corrected mask for the first image (here: the same mask), and a split leaving one image out
    Image.fromarray(masks[0].astype(np.uint8) * 255).save(folder / "fixes" / f"{names[0]}.png")
    (folder / "split.txt").write_text("\n".join(names[:-1]) + "\n")
    (folder / "weights.pth").write_bytes(b"not really weights")
    cfg = folder / "board.toml"
    cfg.write_text(
        'title = "Demo <board>"\n[settings]\nthresholds = "0.1:0.9:0.2"\n'
        '[[datasets]]\nname = "demo set"\nmasks = "masks"\nsplit = "split.txt"\nmask_fixes = "fixes"\n'
        '[[methods]]\nname = "Soft"\npaper = "A paper"\ncheckpoint = "weights.pth"\n'
        '[methods.predictions]\n"demo set" = "soft"\n'
        '[[methods]]\nname = "Hard & co"\n[methods.predictions]\n"demo set" = "hard"\n' + extra_method
    )
    return cfg


def _ranked_methods(index_html: str) -> list[str]:
    body = index_html.split('id="rank-demo-set"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<a href="reports/demo-set/[^"]+\.html">([^<]+)</a>', body)


def test_index_and_reports_are_one_published_set(tmp_path):
    cfg = _board(tmp_path)
    out = tmp_path / "out"
    assert main([str(cfg), "--out", str(out), "-q"]) == 0
    index = (out / "index.html").read_text()
    reports = sorted(p.relative_to(out).as_posix() for p in (out / "reports").rglob("*.html"))
    assert reports == ["reports/demo-set/Hard-co.html", "reports/demo-set/Soft.html"]
    # every page is in the manifest, which checks out
    assert check_manifest(out / "manifest.json") == []
    listed = (out / "manifest.json").read_text()
    assert all(f'"{p}"' in listed for p in ["index.html", *reports])
    # the ranked table agrees with the CSV: order, HSE, interval and the test against the method above
    rows = list(csv.DictReader((out / "demo-set.csv").open()))
    assert _ranked_methods(index) == ["Soft" if r["method"] == "Soft" else "Hard &amp; co" for r in rows]
    for r in rows:
        assert fmt_num(float(r["hse"])) in index
        assert f"[{fmt_num(float(r['hse_ci_low']))}, {fmt_num(float(r['hse_ci_high']))}]" in index
    p = float(rows[1]["p_vs_above"])
    assert f"{p:.3f}" in index or "&lt; 0.002" in index
    # provenance: split with its hash, mask fixes, checkpoint hashed; titles escaped; nothing remote
    split_sha = hashlib.sha256((tmp_path / "split.txt").read_bytes()).hexdigest()
    assert f"SHA-256 {split_sha}; 11 images scored" in index
    assert "1 corrected mask(s) used (demo_01)" in index
    ckpt_sha = hashlib.sha256(b"not really weights").hexdigest()
    assert f"{ckpt_sha} (computed)" in index
    assert "Demo &lt;board&gt;" in index and "<board>" not in index
    assert "http://" not in index and "https://" not in index
    # links resolve to the reports, and the reports link back
    for href in re.findall(r'href="(reports/[^"]+)"', index):
        assert (out / href).is_file()
    soft = (out / "reports/demo-set/Soft.html").read_text()
    assert 'href="../../index.html"' in soft and "Soft on demo set" in soft
    assert "95% CI [" in soft and "<img " in soft


def test_checkpoint_hash_stated_verified_or_refused(tmp_path):
    good = hashlib.sha256(b"not really weights").hexdigest()
    cfg = _board(tmp_path, '[[methods]]\nname = "Stated"\ncheckpoint_sha256 = "' + "ab" * 32 + '"\n'
                           '[methods.predictions]\n"demo set" = "soft"\n')  # fmt: skip
    text = cfg.read_text().replace(
        'checkpoint = "weights.pth"', f'checkpoint = "weights.pth"\ncheckpoint_sha256 = "{good.upper()}"'
    )
    cfg.write_text(text)
    out = tmp_path / "out"
    assert main([str(cfg), "--out", str(out), "-q"]) == 0
    index = (out / "index.html").read_text()
    assert f"{good} (verified)" in index and f"{'ab' * 32} (stated)" in index
    # a stated hash that the file does not have: refused, and nothing of the run is published
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(good.upper(), "0" * 64))
    out2 = tmp_path / "out2"
    assert main([str(bad), "--out", str(out2), "-q"]) == 2
    assert not (out2 / "index.html").exists() and not (out2 / "manifest.json").exists()
    assert not list(out2.rglob("*.json"))  # refused before scoring: not even a cache entry


def test_checkpoint_hash_must_be_hex(tmp_path, capsys):
    cfg = _board(tmp_path)
    cfg.write_text(cfg.read_text().replace('checkpoint = "weights.pth"', 'checkpoint_sha256 = "xyz"'))
    assert main([str(cfg), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert "checkpoint_sha256 must be 64 hexadecimal digits" in capsys.readouterr().err


def test_report_file_names_stay_apart(tmp_path):
    """Method names that give the same file stem (ignoring case) get distinct report files."""
    extra = '[[methods]]\nname = "soft"\n[methods.predictions]\n"demo set" = "hard"\n'
    cfg = _board(tmp_path, extra, n_images=4)
    out = tmp_path / "out"
    assert main([str(cfg), "--out", str(out), "-q"]) == 0
    names = sorted(p.name for p in (out / "reports/demo-set").iterdir())
    assert names == ["Hard-co.html", "Soft.html", "soft-2.html"]
    index = (out / "index.html").read_text()
    assert index.count('href="reports/demo-set/') == 3
