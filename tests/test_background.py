"""hse.background: false alarms on background-only frames, hand-computed, and its intervals against a
slow per-draw reference."""

from __future__ import annotations

import numpy as np
import pytest

import hse
from hse.background import background_alarms, frame_counts
from hse.errors import InputError, SmallSampleWarning
from hse.stats.resample import resample_counts


def _frames():
    """Three 4x5 frames: two alarms (1 px at 0.9, 2 px at 0.7), none, and a copy of the first."""
    a = np.zeros((4, 5), np.float32)
    a[0, 0] = 0.9
    a[2, 2:4] = 0.7
    b = np.zeros((4, 5), np.float32)
    return [a, b, a.copy()], [np.zeros((4, 5), bool)] * 3


def test_hand_computed_at_the_operating_threshold():
    preds, masks = _frames()
    res = hse.evaluate(preds, masks)
    with pytest.warns(SmallSampleWarning):
        b = background_alarms(res)
    # p > 0.5: 3 + 0 + 3 false-alarm pixels out of 3 x 20 pixels; 2 + 0 + 2 components; 2 of 3 frames.
    assert b["fa_per_mpx"].estimate == pytest.approx(6 / 60 * 1e6)
    assert b["false_targets_per_frame"].estimate == pytest.approx(4 / 3)
    assert b["frames_with_alarm"].estimate == pytest.approx(2 / 3)
    assert b.threshold == 0.5 and b.n_frames == 3 and b.megapixels == pytest.approx(60e-6)
    # With no target pixel, hse's own pixel Fa (1e-6) is the same number.
    assert b["fa_per_mpx"].estimate == pytest.approx(float(res.at(0.5)["fa_1e6"]))


def test_hand_computed_at_another_threshold():
    preds, masks = _frames()
    res = hse.evaluate(preds, masks)
    c = frame_counts(res, 0.7)  # p > 0.7: only the 0.9 pixel remains
    assert (
        c["fp"].tolist() == [1, 0, 1] and c["ft"].tolist() == [1, 0, 1] and c["pixels"].tolist() == [20] * 3
    )
    with pytest.warns(SmallSampleWarning):
        b = background_alarms(res, threshold=0.7)
    assert b["fa_per_mpx"].estimate == pytest.approx(2 / 60 * 1e6)
    assert b["false_targets_per_frame"].estimate == pytest.approx(2 / 3)


def test_refusals():
    preds, masks = _frames()
    res = hse.evaluate(preds, masks)
    with pytest.raises(InputError, match="not on the result's evaluation grid"):
        frame_counts(res, 0.123)
    with_target = [m.copy() for m in masks]
    with_target[1][1, 1] = True
    res = hse.evaluate(preds, with_target, names=["f0", "f1", "f2"])
    with pytest.raises(InputError, match=r"1 frame\(s\) have target pixels.*f1"):
        background_alarms(res)
    with pytest.raises(InputError, match="expected an hse Result"):
        frame_counts({"not": "a result"})


def test_intervals_match_a_slow_per_draw_reference():
    rng = np.random.default_rng(3)
    preds, masks = [], []
    for i in range(25):
        h, w = 12 + i % 3, 10 + i % 4
        p = np.zeros((h, w), np.float32)
        for _ in range(i % 4):  # 0-3 isolated blobs per frame
            y, x = rng.integers(0, h - 1), rng.integers(0, w - 1)
            p[y : y + 2, x : x + 1 + i % 2] = rng.uniform(0.55, 1.0)
        preds.append(p)
        masks.append(np.zeros((h, w), bool))
    res = hse.evaluate(preds, masks)
    b = background_alarms(res, n=300, seed=7, level=0.9)
    again = background_alarms(res, n=300, seed=7, level=0.9)
    assert b.to_dict() == again.to_dict()

    fp = np.array([int((p > 0.5).sum()) for p in preds])
    px = np.array([p.size for p in preds])
    from scipy.ndimage import label

    ft = np.array([label(p > 0.5, structure=np.ones((3, 3)))[1] for p in preds])
    draws = {"fa_per_mpx": [], "false_targets_per_frame": [], "frames_with_alarm": []}
    for counts in resample_counts(np.random.default_rng(7), len(preds), 300):
        for row in counts:
            idx = np.repeat(np.arange(len(preds)), row.astype(int))  # the resampled frames, listed
            draws["fa_per_mpx"].append(1e6 * fp[idx].sum() / px[idx].sum())
            draws["false_targets_per_frame"].append(ft[idx].mean())
            draws["frames_with_alarm"].append((fp[idx] > 0).mean())
    assert b["fa_per_mpx"].estimate == pytest.approx(1e6 * fp.sum() / px.sum())
    assert b["false_targets_per_frame"].estimate == pytest.approx(ft.mean())
    for key, vals in draws.items():
        lo, hi = np.percentile(vals, [5, 95])
        assert b[key].low == pytest.approx(lo) and b[key].high == pytest.approx(hi), key
        assert b[key].low <= b[key].estimate <= b[key].high
