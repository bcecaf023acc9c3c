"""hse.compat.acm against a slow reference of open-acm's SamplewiseSigmoidMetric / SigmoidMetric."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from reference_peers import ACMReference

from hse.compat import COMPAT, ACMNIoU
from hse.compat.acm import EPS, niou_counts, sample_iou

PRED_VALUES = [0.0, 0.0, 0.3, 0.5, 0.5000001, 0.9, 1.0]
RAW_VALUES = [0, 0, 0, 0, 255, 255, 1, 127, 128, 254]


@st.composite
def image(draw, max_side: int = 10):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    pred = draw(arrays(np.float64, (h, w), elements=st.sampled_from(PRED_VALUES)))
    raw = draw(arrays(np.uint8, (h, w), elements=st.sampled_from(RAW_VALUES)))
    return pred, raw


@settings(max_examples=120, deadline=None)
@given(st.lists(image(), min_size=1, max_size=4), st.sampled_from([0.5, 0.3]))
def test_matches_reference(images, threshold):
    ours, ref = ACMNIoU(threshold), ACMReference(threshold)
    for pred, raw in images:
        ours.update(pred, raw > 127, mask_float=raw / 255.0)
        ref.update(pred, raw.astype(np.float32) / np.float32(255.0))
    r, e = ours.compute(), ref.get()
    assert r["niou"] == e["niou"]
    assert r["iou"] == e["iou"]
    assert r["n_images"] == len(images)


@settings(max_examples=40, deadline=None)
@given(st.lists(image(), min_size=2, max_size=6), st.data())
def test_merge_is_exact(images, data):
    cut = data.draw(st.integers(1, len(images) - 1))
    whole, left, right = ACMNIoU(), ACMNIoU(), ACMNIoU()
    for i, (pred, raw) in enumerate(images):
        whole.update(pred, raw > 127, raw / 255.0)
        (left if i < cut else right).update(pred, raw > 127, raw / 255.0)
    assert json.dumps(whole.compute()) == json.dumps(left.merge(right).compute())


def test_empty_image_scores_zero():
    # image 1: prediction == GT (4 px) -> 4 / (4 + eps); image 2: nothing predicted, no GT -> 0 / eps = 0.
    # nIoU = (4 / (4 + eps) + 0) / 2 ~= 0.5, where hse's own nIoU would score image 2 as 1 (mean 1.0).
    mask1 = np.zeros((4, 4), bool)
    mask1[1:3, 1:3] = True
    pred1 = mask1 * 0.9
    pred2, mask2 = np.zeros((4, 4)), np.zeros((4, 4), bool)
    assert sample_iou(pred2, mask2) == 0.0
    assert sample_iou(pred1, mask1) == 4 / (4 + EPS)
    acc = COMPAT["acm"]()
    acc.update(pred1, mask1)
    acc.update(pred2, mask2)
    r = acc.compute()
    assert r["niou"] == np.mean([4 / (4 + EPS), 0.0])
    assert r["iou"] == 4 / (4 + EPS)
    assert (r["inter"], r["union"], r["n_images"]) == (4, 4, 2)


def test_gt_truncation_and_strict_threshold():
    raw = np.array([[255, 254, 128, 0]], dtype=np.uint8)
    pred = np.array([[0.5, 1.0, 1.0, 0.0]])
    # pred > 0.5 -> [0, 1, 1, 0]; int64(raw / 255) -> [1, 0, 0, 0]: inter 0, union 3
    assert niou_counts(pred, raw > 127, mask_float=raw / 255.0) == (0, 3)
    # with the boolean mask (raw > 127) instead: GT [1, 1, 1, 0]: inter 2, union 3
    assert niou_counts(pred, raw > 127) == (2, 3)


def test_schema_and_reset():
    acc = ACMNIoU()
    assert math.isnan(acc.compute()["niou"])
    acc.update(np.ones((2, 3)), np.ones((2, 3), bool))
    r = acc.compute()
    json.dumps(r)
    assert set(r) == {"niou", "iou", "n_images", "inter", "union"}
    acc.reset()
    assert acc.compute()["n_images"] == 0
