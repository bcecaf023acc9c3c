"""The LESPS re-scoring benchmark (benchmarks/rescore/lesps_nuaa.py): protocol helpers and output schema."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "rescore" / "lesps_nuaa.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("lesps_nuaa", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_preprocess_normalises_and_pads_bottom_right():
    mod = _load_script()
    gray = np.full((256, 330), 95.010, dtype=np.float32)
    gray[0, 0] = 95.010 + 41.511
    x = mod.preprocess(gray)
    # Always one extra block of 32, even when a side is already a multiple of 32.
    assert x.shape == (288, 352) and x.dtype == np.float32
    assert x[0, 0] == pytest.approx(1.0)
    assert np.all(x[:256, :330].ravel()[1:] == 0.0)
    assert np.all(x[256:, :] == 0.0) and np.all(x[:, 330:] == 0.0)


@pytest.mark.shared
def test_mask_fix_is_used_and_recorded(shared_dir):
    mod = _load_script()
    masks, fixes = mod.load_masks(shared_dir, ["Misc_111"])
    assert masks[0].shape == (220, 325) and masks[0].dtype == np.uint8
    assert set(np.unique(masks[0])) <= {0, 255}
    assert "Misc_111" in fixes and "fixes/Misc_111.png" in fixes["Misc_111"]


@pytest.mark.shared
@pytest.mark.slow
def test_limit_run_writes_the_documented_outputs(shared_dir, tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--shared", str(shared_dir), "--out", str(out), "--limit", "3"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]

    import pandas as pd

    mod = _load_script()
    df = pd.read_csv(out / "rescore.csv")
    assert list(df.columns) == list(mod.CSV_COLUMNS)
    assert list(df["checkpoint"]) == list(mod.CHECKPOINTS)
    assert df[["iou", "pd", "fa", "hse", "hse_pixel", "hse_target", "niou"]].notna().all().all()
    assert ((df["iou"] >= 0) & (df["iou"] <= 100) & (df["pd"] >= 0) & (df["pd"] <= 100)).all()
    assert ((df["hse"] >= 0) & (df["hse"] <= 1)).all()
    pub = pd.read_csv(shared_dir / "checkpoints" / "lesps" / "published.csv").set_index("checkpoint")
    for _, row in df.iterrows():
        assert row["published_iou"] == pytest.approx(pub.loc[row["checkpoint"], "iou_percent"])
        assert row["published_fa"] == pytest.approx(pub.loc[row["checkpoint"], "fa_1e-6"])

    for name in ("leaderboard.md", "curves.png", "run.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    assert not list(out.rglob("*.tmp")), "temporary files left behind"
    assert "ALCNet_full" in (out / "leaderboard.md").read_text()
    meta = json.loads((out / "run.json").read_text())
    assert meta["n_images"] == 3

    names = mod.read_names(shared_dir, 3)
    for ckpt in mod.CHECKPOINTS:
        for name in names:
            with Image.open(shared_dir / "data" / "nuaa-sirst" / "images" / f"{name}.png") as im:
                w, h = im.size
            prob = np.load(out / "maps" / ckpt / f"{name}.npy")
            with Image.open(out / "maps" / ckpt / f"{name}.png") as im:
                assert im.mode == "L"
                png = np.asarray(im)
            assert prob.shape == png.shape == (h, w)
            assert prob.dtype == np.float32 and 0.0 <= prob.min() <= prob.max() <= 1.0
            assert np.array_equal(png, np.round(prob * 255.0).astype(np.uint8))
