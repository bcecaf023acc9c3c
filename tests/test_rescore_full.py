"""Full re-scores against the published numbers (benchmarks/rescore/rescore.py).

They need minutes of CPU (RPCANet alone is ~90 GFLOP per 256x256 image), so they run in CI (``CI`` set)
or when ``HSE_FULL=1``; elsewhere they skip with that reason. Acceptance (docs/rescore.md):

* ``lesps`` (214 images x 6 checkpoints): IoU within 0.15 points of the published one, Pd equal to the
  2 published decimals, Fa within 0.5 x1e-6; ACM_full matches every published digit;
* ``repisd`` (86 images): the checkpoint log's IoU 77.86, nIoU 75.68, Pd 100 and Fa 4.613e-6, every
  printed digit (the log prints IoU and nIoU as fractions with 4 decimals);
* ``rpcanet`` (86 images): the README's IoU 70.37, F1 82.61, Pd 95.41, Fa 7.42e-5, every printed digit.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "rescore" / "rescore.py"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.environ.get("CI") or os.environ.get("HSE_FULL")),
        reason="the full re-scores run in CI or with HSE_FULL=1",
    ),
]


def _run(suite: str, shared_dir: Path, out: Path) -> dict[str, dict[str, float]]:
    pytest.importorskip("torch")
    pytest.importorskip("cv2")
    subprocess.run(
        [sys.executable, str(SCRIPT), suite, "--shared", str(shared_dir), "--out", str(out), "--jobs", "2"],
        check=True,
        capture_output=True,
        text=True,
    )
    with open(out / "rescore.csv", newline="") as f:
        return {
            row["checkpoint"]: {
                k: (float(v) if v not in ("",) else float("nan"))
                for k, v in row.items()
                if k not in ("checkpoint", "suite", "split", "fa_unit", "claimed_source")
            }
            for row in csv.DictReader(f)
        }


def test_lesps_reproduces_the_published_table(shared_dir, tmp_path):
    rows = _run("lesps", shared_dir, tmp_path / "lesps")
    assert len(rows) == 6
    for name, r in rows.items():
        assert abs(100 * r["iou"] - 100 * r["claimed_iou"]) <= 0.15, name
        assert round(100 * r["pd"], 2) == round(100 * r["claimed_pd"], 2), name
        assert abs(1e6 * r["fa"] - 1e6 * r["claimed_fa"]) <= 0.5, name
        assert 0.0 < r["hse_low"] <= r["hse"] <= r["hse_high"] < 1.0
    acm = rows["ACM_full"]
    assert (round(100 * acm["iou"], 2), round(100 * acm["pd"], 2), round(1e6 * acm["fa"], 2)) == (
        64.92,
        90.87,
        12.76,
    )


def test_repisd_reproduces_its_log(shared_dir, tmp_path):
    r = _run("repisd", shared_dir, tmp_path / "repisd")["RepISD_NUAA_deploy"]
    assert r["n_images"] == 86
    assert (round(r["iou"], 4), round(r["niou"], 4), r["pd"]) == (0.7786, 0.7568, 1.0)
    assert round(r["fa"] * 1e6, 3) == 4.613  # 26 pixels / (256 * 256 * 86)
    assert r["fa"] * 256 * 256 * 86 == pytest.approx(26.0)
    assert 0.0 < r["hse_low"] <= r["hse"] <= r["hse_high"] < 1.0


def test_rpcanet_reproduces_its_readme(shared_dir, tmp_path):
    r = _run("rpcanet", shared_dir, tmp_path / "rpcanet")["RPCANet_SIRST"]
    assert r["n_images"] == 86
    assert (round(100 * r["iou"], 2), round(100 * r["f1"], 2), round(100 * r["pd"], 2)) == (
        70.37,
        82.61,
        95.41,
    )
    assert round(r["fa"] * 1e5, 2) == 7.42
    assert 0.0 < r["hse_low"] <= r["hse"] <= r["hse_high"] < 1.0
