"""hse.compat.rpcanet (RPCANet's IoU / F1 / Pd / Fa) on hand-made cases and against a slow loop reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage import measure

from hse.compat import COMPAT, RPCANetMetrics
from hse.compat.rpcanet import binarise

PRED_VALUES = [0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.45, 0.5, 0.6, 0.9, 1.0]


class RPCANetReference:
    """RPCANet's ``SegmentationMetricTPFNFP`` and ``my_PD_FA`` as written, loop by loop (float32 maps)."""

    def __init__(self):
        self.tp = self.fp = self.fn = 0
        self.false, self.back, self.hit, self.targets = 0, 0, 0, 0

    @staticmethod
    def _ones(x):
        return int(np.histogram(x, bins=1, range=(1, 1))[0][0])

    def update(self, pred, mask):
        with np.errstate(invalid="ignore", divide="ignore"):
            predict = ((pred / np.max(pred)) > 0.5).astype(np.int64)
        target = mask.astype(np.int64)
        inter = predict * (predict == target)
        self.tp += self._ones(inter)
        self.fp += self._ones(predict) - self._ones(inter)
        self.fn += self._ones(target) - self._ones(inter)
        labels = measure.label(target, connectivity=2)
        n = int(labels.max())
        if n == 0:
            return
        back = labels == 0
        self.back += int(back.sum())
        self.targets += n
        self.false += int(np.logical_and(back, predict > 0).sum())
        for t in range(1, n + 1):
            self.hit += int(np.logical_and(labels == t, predict > 0).sum() > 0)

    def get(self):
        eps = np.spacing(1)
        prec = self.tp / (eps + self.tp + self.fp)
        rec = self.tp / (eps + self.tp + self.fn)
        return {
            "iou": self.tp / (eps + self.tp + self.fp + self.fn),
            "precision": prec,
            "recall": rec,
            "f1": 2 * prec * rec / (eps + prec + rec),
            "pd": self.hit / self.targets if self.targets else float("nan"),
            "fa": self.false / self.back if self.back else float("nan"),
        }


@st.composite
def image(draw, max_side: int = 12):
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    pred = draw(arrays(np.float32, (h, w), elements=st.sampled_from(PRED_VALUES)))
    mask = draw(arrays(np.bool_, (h, w), elements=st.sampled_from([False, False, False, True])))
    return pred, mask


@settings(max_examples=150, deadline=None)
@given(st.lists(image(), min_size=1, max_size=4))
def test_matches_the_slow_reference(images):
    ours, ref = RPCANetMetrics(), RPCANetReference()
    for pred, mask in images:
        ours.update(pred.astype(np.float64), mask)  # hse hands accumulators float64 copies
        ref.update(pred, mask)
    got, want = ours.compute(), ref.get()
    for key, value in want.items():
        if math.isnan(value):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == value, (key, got[key], value)


def test_registered_and_merge_is_exact():
    assert COMPAT["rpcanet"] is RPCANetMetrics
    rng = np.random.default_rng(1)
    pairs = [(rng.random((9, 9)), rng.random((9, 9)) > 0.8) for _ in range(5)]
    whole, a, b = (RPCANetMetrics() for _ in range(3))
    for i, (p, m) in enumerate(pairs):
        whole.update(p, m)
        (a if i < 3 else b).update(p, m)
    assert a.merge(b).compute() == whole.compute()
    with pytest.raises(ValueError, match="different settings"):
        RPCANetMetrics().merge(RPCANetMetrics(relative=False))
    with pytest.raises(ValueError, match="ratio_dtype"):
        RPCANetMetrics(ratio_dtype="float16")


def test_relative_threshold():
    pred = np.array([[0.1, 0.04, 0.06]])
    assert binarise(pred).tolist() == [[True, False, True]]  # 0.06 / 0.1 > 0.5
    assert binarise(pred, relative=False).tolist() == [[False, False, False]]


def test_zero_map_predicts_nothing():
    # max(p) = 0: the reference's 0 / 0 is nan, and nan > 0.5 is False everywhere.
    assert not binarise(np.zeros((3, 3))).any()
    acc = RPCANetMetrics()
    mask = np.zeros((3, 3), bool)
    mask[1, 1] = True
    acc.update(np.zeros((3, 3)), mask)
    out = acc.compute()
    assert (out["tp"], out["fp"], out["fn"], out["detected"], out["false_pixels"]) == (0, 0, 1, 0, 0)


def test_ratio_in_float32():
    # 0.50000006 is one float32 step above 0.5; the float32 ratio of these two maps is exactly 0.5.
    peak = np.float32(0.7)
    p = np.nextafter(np.float32(0.35), np.float32(1))
    ratio32 = np.float32(p) / peak
    ratio64 = np.float64(p) / np.float64(peak)
    pred = np.array([[peak, p]], dtype=np.float32).astype(np.float64)
    assert binarise(pred)[0, 1] == bool(ratio32 > 0.5)
    assert binarise(pred, ratio_dtype="float64")[0, 1] == bool(ratio64 > 0.5)


def test_iou_f1_pooled():
    mask = np.zeros((4, 4), bool)
    mask[0, :2] = True
    pred = np.zeros((4, 4))
    pred[0, 1:3] = 1.0  # tp 1, fp 1, fn 1
    acc = RPCANetMetrics()
    acc.update(pred, mask)
    out = acc.compute()
    assert out["iou"] == pytest.approx(1 / 3)
    assert out["precision"] == pytest.approx(0.5) and out["recall"] == pytest.approx(0.5)
    assert out["f1"] == pytest.approx(0.5)


def test_pd_by_any_overlap_and_fa_over_background():
    mask = np.zeros((10, 10), bool)
    mask[1, 1] = True  # target A
    mask[1, 5] = True  # target B
    mask[8, 8] = True  # target C, missed
    pred = np.zeros((10, 10))
    pred[1, 1:6] = 1.0  # one blob touching A and B: both detected; 3 background pixels
    acc = RPCANetMetrics()
    acc.update(pred, mask)
    out = acc.compute()
    assert (out["targets"], out["detected"]) == (3, 2)
    assert out["fa"] == pytest.approx(3 / 97)


def test_target_free_images_are_skipped_for_pd_fa_only():
    acc = RPCANetMetrics()
    pred = np.zeros((5, 5))
    pred[2, 2] = 1.0
    acc.update(pred, np.zeros((5, 5), bool))
    out = acc.compute()
    assert out["fp"] == 1  # counted for IoU / precision
    assert (out["pdfa_images"], out["false_pixels"], out["background"]) == (0, 0, 0)
    assert math.isnan(out["pd"]) and math.isnan(out["fa"])
