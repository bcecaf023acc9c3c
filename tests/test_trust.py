"""Inputs that used to give silently wrong numbers or vague errors (issue: trust)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import hse
from hse.errors import InputError
from hse.io import MAX_PIXELS_ENV, read_image


def _pair(tmp_path, name_pred: str, name_mask: str):
    pred = np.zeros((16, 16), np.uint8)
    pred[4:6, 4:6] = 255
    mask = np.zeros((16, 16), np.uint8)
    mask[4:6, 4:6] = 255
    (tmp_path / "p").mkdir(exist_ok=True)
    (tmp_path / "m").mkdir(exist_ok=True)
    Image.fromarray(pred).save(tmp_path / "p" / name_pred)
    Image.fromarray(mask).save(tmp_path / "m" / name_mask)
    return tmp_path / "p" / name_pred, tmp_path / "m" / name_mask


def test_path_lists_with_different_names_are_refused(tmp_path):
    p0, m0 = _pair(tmp_path, "0.png", "0.png")
    p1, m1 = _pair(tmp_path, "1.png", "1.png")
    with pytest.raises(InputError, match=r"item #0: prediction .*0.png and mask .*1.png have different names"):
        hse.evaluate([p0, p1], [m1, m0])
    assert hse.evaluate([p0, p1], [m0, m1]).n_images == 2
    # names= states the pairing: the caller's word is taken (here: same content, so a perfect score)
    assert hse.evaluate([p0, p1], [m1, m0], names=["a", "b"]).at(0.5)["pd"] == 1.0


@pytest.mark.parametrize("jobs", [-1, -4, 1.5, True, "2"])
def test_jobs_one_rule_in_the_api(jobs):
    pred = np.zeros((8, 8))
    with pytest.raises(InputError, match=r"jobs must be a whole number >= 0 \(0 = one per CPU core\)"):
        hse.evaluate([pred], [pred > 0], jobs=jobs)


def test_jobs_zero_means_every_core_in_api_and_cli(tmp_path):
    from hse.settings import jobs_from_text, resolve_jobs

    assert resolve_jobs(0) == jobs_from_text("0") >= 1
    assert resolve_jobs(3) == jobs_from_text("3") == 3
    proc = subprocess.run(
        [sys.executable, "-m", "hse.cli", "--demo", "--jobs", "-1", "--quiet"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "--jobs" in proc.stderr


def test_ignored_files_are_named(tmp_path):
    _pair(tmp_path, "a.png", "a.png")
    (tmp_path / "p" / "notes.txt").write_text("x")
    (tmp_path / "p" / "b.gif").write_bytes(b"GIF89a")
    proc = subprocess.run(
        [sys.executable, "-m", "hse.cli", tmp_path / "p", tmp_path / "m"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 file(s) ignored" in proc.stderr
    assert "notes.txt" in proc.stderr and "b.gif" in proc.stderr


@pytest.mark.parametrize("ext", ["png", "tif", "npy"])
def test_pixel_limit_names_file_size_and_fix(tmp_path, monkeypatch, ext):
    arr = np.zeros((300, 400), np.uint8)
    path = tmp_path / f"big.{ext}"
    if ext == "npy":
        np.save(path, arr)
    elif ext == "tif":
        import tifffile

        tifffile.imwrite(path, arr)
    else:
        Image.fromarray(arr).save(path)
    assert read_image(path).shape == (300, 400)
    monkeypatch.setenv(MAX_PIXELS_ENV, "100000")
    with pytest.raises(InputError, match=r"big\.\w+: 300x400 pixels \(0.1 megapixels\) is above hse's limit") as err:
        read_image(path)
    assert "--max-pixels" in str(err.value)


def test_pillow_bomb_limit_is_not_mistaken_for_corruption(tmp_path, monkeypatch):
    """Pillow's own decompression-bomb limit no longer surfaces as 'corrupt or truncated'."""
    from PIL import Image as PILImage

    path = tmp_path / "wide.png"
    Image.fromarray(np.zeros((50, 4000), np.uint8)).save(path)
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 1000)  # Pillow alone would refuse this file
    assert read_image(path).shape == (50, 4000)  # hse's limit (100 MP by default) is the one that counts
    assert PILImage.MAX_IMAGE_PIXELS == 1000  # and Pillow's setting is left as it was


def test_max_pixels_flag(tmp_path):
    _pair(tmp_path, "a.png", "a.png")
    proc = subprocess.run(
        [sys.executable, "-m", "hse.cli", tmp_path / "p", tmp_path / "m", "--max-pixels", "100"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "16x16 pixels" in proc.stderr and "--max-pixels" in proc.stderr


def test_bad_max_pixels_environment(monkeypatch, tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.zeros((4, 4)))
    monkeypatch.setenv(MAX_PIXELS_ENV, "-5")
    with pytest.raises(InputError, match="HSE_MAX_PIXELS"):
        read_image(path)
