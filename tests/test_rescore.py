"""The re-score driver (benchmarks/rescore/rescore.py): claims, masks and output schema of each suite."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "rescore" / "rescore.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("rescore", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.shared
def test_mask_fix_is_used_and_recorded(shared_dir):
    mod = _load_script()
    masks, fixes = mod.load_fixed_masks(shared_dir, ["Misc_111"])
    assert masks[0].shape == (220, 325) and masks[0].dtype == np.uint8
    assert set(np.unique(masks[0])) <= {0, 255}
    assert "Misc_111" in fixes and "fixes/Misc_111.png" in fixes["Misc_111"]


@pytest.mark.shared
@pytest.mark.parametrize("suite", ["repisd", "rpcanet"])
def test_protocol_suites_resize_the_published_mask(shared_dir, suite):
    pytest.importorskip("torch")
    pytest.importorskip("cv2")
    mod = _load_script()
    masks, fixes = mod.load_masks(mod.SUITES[suite], shared_dir, ["Misc_111", "Misc_1"])
    assert fixes == {}
    assert all(m.shape == (256, 256) and m.dtype == bool and m.any() for m in masks)


@pytest.mark.shared
def test_claims_are_read_as_fractions(shared_dir):
    mod = _load_script()
    claims, rows = mod.read_claims(shared_dir, mod.SUITES["repisd"])
    log = claims["RepISD_NUAA_deploy"]
    assert log["iou"] == pytest.approx(0.7786) and log["niou"] == pytest.approx(0.7568)
    assert log["pd"] == pytest.approx(1.0) and log["fa"] == pytest.approx(4.613e-6)
    assert "log" in log["source"] and len(rows) == 2  # the README row is kept in run.json
    claims, _ = mod.read_claims(shared_dir, mod.SUITES["rpcanet"])
    assert claims["RPCANet_SIRST"]["fa"] == pytest.approx(7.42e-5)  # printed in units of 1e-5
    assert claims["RPCANet_SIRST"]["f1"] == pytest.approx(0.8261)
    claims, _ = mod.read_claims(shared_dir, mod.SUITES["lesps"])
    assert claims["ACM_full"]["fa"] == pytest.approx(12.76e-6)


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("suite", ["lesps", "repisd", "rpcanet"])
def test_limit_run_writes_the_documented_outputs(shared_dir, tmp_path, suite):
    pytest.importorskip("torch")
    pytest.importorskip("cv2")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), suite, "--shared", str(shared_dir), "--out", str(out), "--limit", "3"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]

    import pandas as pd

    mod = _load_script()
    spec = mod.SUITES[suite]
    df = pd.read_csv(out / "rescore.csv")
    assert list(df.columns) == list(mod.CSV_COLUMNS)
    assert list(df["checkpoint"]) == list(spec.checkpoints)
    assert (df["suite"] == suite).all() and (df["n_images"] == 3).all()
    assert df[["iou", "pd", "fa", "hse", "hse_low", "hse_high"]].notna().all().all()
    assert ((df["iou"] >= 0) & (df["iou"] <= 1) & (df["pd"] >= 0) & (df["pd"] <= 1)).all()
    assert ((df["hse_low"] <= df["hse"]) & (df["hse"] <= df["hse_high"])).all()
    assert (df["fa_unit"] == spec.fa_unit).all()
    claims, _ = mod.read_claims(shared_dir, spec)
    for _, row in df.iterrows():
        for m in mod.METRICS:
            want = claims[row["checkpoint"]].get(m, math.nan)
            assert (math.isnan(want) and math.isnan(row[f"claimed_{m}"])) or row[
                f"claimed_{m}"
            ] == pytest.approx(want)

    for name in ("leaderboard.md", "curves.png", "run.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    assert not list(out.rglob("*.tmp")), "temporary files left behind"
    meta = json.loads((out / "run.json").read_text())
    assert meta["n_images"] == 3 and meta["suite"] == suite

    names = mod.read_names(shared_dir, spec.split, 3)
    for ckpt in spec.checkpoints:
        for name in names:
            if suite == "lesps":
                with Image.open(shared_dir / "data" / "nuaa-sirst" / "images" / f"{name}.png") as im:
                    size = im.size[::-1]
            else:
                size = (256, 256)
            prob = np.load(out / "maps" / ckpt / f"{name}.npy")
            with Image.open(out / "maps" / ckpt / f"{name}.png") as im:
                assert im.mode == "L"
                png = np.asarray(im)
            assert prob.shape == png.shape == size
            assert prob.dtype == np.float32 and 0.0 <= prob.min() <= prob.max() <= 1.0
            assert np.array_equal(png, np.round(prob * 255.0).astype(np.uint8))

    if suite != "lesps":  # the same maps under hse's one protocol, at both resolutions
        one = tmp_path / "one"
        proc = subprocess.run(
            [
                sys.executable,
                str(SCRIPT.with_name("one_protocol.py")),
                "--runs",
                str(out),
                "--shared",
                str(shared_dir),
                "--out",
                str(one),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        both = pd.read_csv(one / "one_protocol.csv")
        assert list(both["resolution"]) == ["protocol", "native"]
        assert (both["n_images"] == 3).all() and both[["iou", "pd", "fa", "hse"]].notna().all().all()
        assert (one / "one_protocol.png").stat().st_size > 0
