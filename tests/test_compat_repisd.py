"""hse.compat.repisd (RepISD-Net's IoU / nIoU / Pd / Fa) on hand-made cases and against a slow loop reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage import measure

from hse.compat import COMPAT, RepISDMetrics

PRED_VALUES = [0.0, 0.0, 0.0, 0.3, 0.5, 0.6, 0.9, 0.95, 1.0]


class RepISDReference:
    """RepISD-Net's three metric classes as its ``utils/metrics.py`` computes them, loop by loop."""

    def __init__(self):
        self.inter, self.union, self.samples = 0, 0, []
        self.targets = self.detected = self.fa = self.pixels = 0

    @staticmethod
    def _ones(x):
        return int(np.histogram(x, bins=1, range=(1, 1))[0][0])

    def update(self, pred, gt):
        predict = (pred > 0.5).astype(np.int64)
        target = gt.astype(np.int64)
        inter = predict * (predict == target)
        i, u = self._ones(inter), self._ones(predict) + self._ones(target) - self._ones(inter)
        self.inter += i
        self.union += u
        self.samples.append(i / (np.spacing(1) + u))
        regions = list(measure.regionprops(measure.label((pred > 0.9).astype(np.int64), connectivity=2)))
        areas = [r.area for r in regions]
        gts = measure.regionprops(measure.label(target, connectivity=2))
        self.targets += len(gts)
        matched = []
        for g in gts:
            for m in range(len(regions)):
                d = np.linalg.norm(np.array(regions[m].centroid) - np.array(g.centroid))
                if d < 3:
                    matched.append(regions[m].area)
                    del regions[m]
                    break
        self.detected += len(matched)
        self.fa += sum(a for a in areas if a not in matched)
        self.pixels += pred.size

    def get(self):
        return {
            "iou": self.inter / (np.spacing(1) + self.union),
            "niou": float(np.mean(self.samples)),
            "pd": self.detected / self.targets if self.targets else float("nan"),
            "fa_legacy": self.fa / self.pixels,
        }


@st.composite
def image(draw, max_side: int = 12):
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    pred = draw(arrays(np.float64, (h, w), elements=st.sampled_from(PRED_VALUES)))
    mask = draw(arrays(np.bool_, (h, w), elements=st.sampled_from([False, False, False, True])))
    return pred, mask


@settings(max_examples=150, deadline=None)
@given(st.lists(image(), min_size=1, max_size=4))
def test_matches_the_slow_reference(images):
    ours, ref = RepISDMetrics(legacy_fa=True), RepISDReference()
    for pred, mask in images:
        ours.update(pred, mask)
        ref.update(pred, mask.astype(np.float64))
    got, want = ours.compute(), ref.get()
    for key, value in want.items():
        if math.isnan(value):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == value, (key, got[key], value)


def test_registered_and_merge_is_exact():
    assert COMPAT["repisd"] is RepISDMetrics
    rng = np.random.default_rng(0)
    pairs = [(rng.random((9, 9)), rng.random((9, 9)) > 0.8) for _ in range(5)]
    whole, a, b = (RepISDMetrics(legacy_fa=True) for _ in range(3))
    for i, (p, m) in enumerate(pairs):
        whole.update(p, m)
        (a if i < 2 else b).update(p, m)
    assert a.merge(b).compute() == whole.compute()
    with pytest.raises(ValueError, match="different settings"):
        RepISDMetrics().merge(RepISDMetrics(pd_fa_threshold=0.5))


def test_iou_and_niou_at_half_pd_fa_at_point_nine():
    # One target of 4 px; the prediction covers it at 0.6 (> 0.5, not > 0.9).
    mask = np.zeros((10, 10), bool)
    mask[2:4, 2:4] = True
    pred = np.zeros((10, 10))
    pred[2:4, 2:4] = 0.6
    acc = RepISDMetrics()
    acc.update(pred, mask)
    out = acc.compute()
    assert out["iou"] == pytest.approx(1.0) and out["niou"] == pytest.approx(1.0)
    assert out["pd"] == 0.0 and out["fa"] == 0.0  # nothing above 0.9
    pred[2:4, 2:4] = 0.95
    acc = RepISDMetrics()
    acc.update(pred, mask)
    assert acc.compute()["pd"] == 1.0


def test_niou_is_the_mean_of_per_image_ious_and_iou_is_pooled():
    m1 = np.zeros((4, 4), bool)
    m1[0, :2] = True  # 2 px, predicted exactly: IoU 1
    m2 = np.zeros((4, 4), bool)
    m2[0, :] = True  # 4 px, half predicted: IoU 0.5
    p1 = m1.astype(float)
    p2 = np.zeros((4, 4))
    p2[0, :2] = 1.0
    acc = RepISDMetrics()
    acc.update(p1, m1)
    acc.update(p2, m2)
    out = acc.compute()
    assert out["niou"] == pytest.approx(0.75)
    assert out["iou"] == pytest.approx(4 / 6)


def test_empty_image_scores_zero_in_niou():
    acc = RepISDMetrics()
    acc.update(np.zeros((4, 4)), np.zeros((4, 4), bool))
    assert acc.compute()["niou"] == 0.0


def test_fa_over_all_pixels_and_the_area_quirk():
    mask = np.zeros((20, 20), bool)
    mask[1:3, 1:3] = True  # target, 4 px
    pred = np.zeros((20, 20))
    pred[1:3, 1:3] = 1.0  # matched, area 4
    pred[10:12, 10:12] = 1.0  # unmatched, area 4: dropped by the quirk
    pred[15, 15:18] = 1.0  # unmatched, area 3: counted by both
    acc = RepISDMetrics(legacy_fa=True)
    acc.update(pred, mask)
    out = acc.compute()
    assert out["pd"] == 1.0
    assert out["fa"] == pytest.approx(7 / 400)
    assert out["fa_legacy"] == pytest.approx(3 / 400)
    assert "fa_legacy" not in RepISDMetrics().compute()


def test_first_match_is_greedy_and_one_to_one():
    # Two targets next to each other, one predicted blob between them: only the first target gets it.
    mask = np.zeros((9, 9), bool)
    mask[4, 2] = mask[4, 6] = True
    pred = np.zeros((9, 9))
    pred[4, 4] = 1.0
    acc = RepISDMetrics()
    acc.update(pred, mask)
    out = acc.compute()
    assert (out["targets"], out["detected"], out["fa_pixels"]) == (2, 1, 0)


def test_distance_is_strict():
    mask = np.zeros((9, 9), bool)
    mask[0, 0] = True
    pred = np.zeros((9, 9))
    pred[0, 3] = 1.0  # centroid distance exactly 3: not a match
    acc = RepISDMetrics()
    acc.update(pred, mask)
    assert acc.compute()["pd"] == 0.0
