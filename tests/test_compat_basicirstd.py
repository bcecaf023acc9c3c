"""hse.compat.basicirstd against a slow loop/regionprops reference of the BasicIRSTD toolbox."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from reference_peers import BasicIRSTDReference

from hse.compat import COMPAT, BasicIRSTD
from hse.compat.basicirstd import gt_readings, miou_counts, pd_fa, pd_fa_counts

PRED_VALUES = [0.0, 0.0, 0.0, 0.2, 0.5, 0.50001, 0.8, 1.0]
RAW_VALUES = [0, 0, 0, 0, 0, 255, 255, 255, 1, 127, 128, 200, 254]


@st.composite
def image(draw, max_side: int = 11, grey_mask: bool = True):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    pred = draw(arrays(np.float64, (h, w), elements=st.sampled_from(PRED_VALUES)))
    raw_values = RAW_VALUES if grey_mask else [0, 0, 0, 255]
    raw = draw(arrays(np.uint8, (h, w), elements=st.sampled_from(raw_values)))
    return pred, raw


def _run(images, threshold=0.5, use_float=True):
    ours = BasicIRSTD(threshold, legacy_fa=True)
    ref = BasicIRSTDReference(threshold)
    for pred, raw in images:
        gt = raw.astype(np.float32) / np.float32(255.0)
        ours.update(pred, raw > 127, mask_float=raw / 255.0 if use_float else None)
        ref.update(pred, gt if use_float else (raw > 127).astype(np.float32))
    return ours.compute(), ref.get()


def _assert_same(ours: dict, ref: dict) -> None:
    for key, value in ref.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(ours[key]), key
        else:
            assert ours[key] == value, (key, ours[key], value)


@settings(max_examples=120, deadline=None)
@given(st.lists(image(), min_size=1, max_size=3), st.sampled_from([0.5, 0.2, 0.0]))
def test_matches_reference_with_grey_masks(images, threshold):
    ours, ref = _run(images, threshold)
    _assert_same(ours, ref)


@settings(max_examples=60, deadline=None)
@given(st.lists(image(grey_mask=False), min_size=1, max_size=3))
def test_matches_reference_with_bool_masks(images):
    ours, ref = _run(images, use_float=False)
    _assert_same(ours, ref)
    # for {0, 255} masks, mask_float changes nothing
    with_float, _ = _run(images, use_float=True)
    assert with_float == ours or all(
        (math.isnan(v) and math.isnan(with_float[k])) or with_float[k] == v for k, v in ours.items()
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(image(), min_size=2, max_size=5), st.data())
def test_merge_is_exact(images, data):
    cut = data.draw(st.integers(1, len(images) - 1))
    whole, left, right = BasicIRSTD(legacy_fa=True), BasicIRSTD(legacy_fa=True), BasicIRSTD(legacy_fa=True)
    for i, (pred, raw) in enumerate(images):
        whole.update(pred, raw > 127, raw / 255.0)
        (left if i < cut else right).update(pred, raw > 127, raw / 255.0)
    a, b = whole.compute(), left.merge(right).compute()
    assert json.dumps(a) == json.dumps(b)


def test_hand_computed_5x5():
    # pred > 0.5:        GT:
    #   1 1 . . .          1 1 . . .
    #   1 1 . . .          1 . . . .
    #   . . . . .          . . . . .
    #   . . . . 1          . . . . .
    #   . . . . 1          1 . . . .
    # GT A = {(0,0),(0,1),(1,0)}, centroid (1/3, 1/3); GT B = {(4,0)}.
    # Pred P1 = 2x2 block, centroid (0.5, 0.5): distance to A 0.24 < 3 -> A detected; distance to B 3.54.
    # Pred P2 = {(3,4),(4,4)}, centroid (3.5, 4): distance to B 4.03 -> B missed, P2 is a false alarm.
    # inter = |P1 & A| = 3, union = 6 + 4 - 3 = 7 -> IoU = 3/7; pixAcc = 3/4;
    # Pd = 1/2; Fa = 2 / 25 = 0.08.
    pred = np.zeros((5, 5))
    pred[0:2, 0:2] = 0.9
    pred[3:5, 4] = 0.7
    mask = np.zeros((5, 5), bool)
    mask[0, 0:2] = mask[1, 0] = mask[4, 0] = True
    acc = BasicIRSTD()
    acc.update(pred, mask)
    r = acc.compute()
    eps = np.spacing(1)
    assert r["iou"] == 3 / (7 + eps)
    assert r["pix_acc"] == 3 / (4 + eps)
    assert r["pd"] == 0.5
    assert r["fa"] == 2 / 25
    assert "fa_legacy" not in r
    assert pd_fa(pred, mask) == (0.5, 0.08)


def test_legacy_fa_drops_unmatched_component_with_a_matched_area():
    # GT: one pixel at (1, 1). Pred: P1 = {(1,1)} (area 1, matched), P2 = {(5,5)} (area 1, unmatched),
    # P3 = {(5,0),(6,0)} (area 2, unmatched). Fixed Fa counts P2 and P3 (3 px); the legacy list test
    # `area not in matched_areas` drops P2 because its area equals P1's: 2 px.
    pred = np.zeros((7, 7))
    pred[1, 1] = pred[5, 5] = pred[5, 0] = pred[6, 0] = 1.0
    mask = np.zeros((7, 7), bool)
    mask[1, 1] = True
    c = pd_fa_counts(pred, mask)
    assert (c["fa_pixels"], c["fa_pixels_legacy"]) == (3, 2)
    assert c["fa_pixels"] - c["fa_pixels_legacy"] == 1  # exactly P2's area
    assert pd_fa(pred, mask) == (1.0, 3 / 49)
    assert pd_fa(pred, mask, legacy_fa=True) == (1.0, 2 / 49)
    acc = BasicIRSTD(legacy_fa=True)
    acc.update(pred, mask)
    r = acc.compute()
    assert r["fa_pixels"] - r["fa_pixels_legacy"] == 1
    assert (r["fa"], r["fa_legacy"]) == (3 / 49, 2 / 49)
    ref = BasicIRSTDReference()
    ref.update(pred, mask.astype(np.float32))
    assert ref.get()["fa"] == r["fa"] and ref.get()["fa_legacy"] == r["fa_legacy"]


def test_legacy_fa_drops_every_duplicate():
    # two unmatched single pixels share the matched area 1: both vanish from the legacy Fa
    pred = np.zeros((9, 9))
    pred[0, 0] = pred[8, 8] = pred[8, 0] = 1.0
    mask = np.zeros((9, 9), bool)
    mask[0, 0] = True
    c = pd_fa_counts(pred, mask)
    assert (c["fa_pixels"], c["fa_pixels_legacy"]) == (2, 0)


def test_grey_mask_readings():
    # raw 255 -> 1.0, raw 128 -> 0.502, raw 127 -> 0.498, raw 1 -> 0.004
    raw = np.array([[255, 128, 127, 1, 0]], dtype=np.uint8)
    g = gt_readings(raw > 127, raw / 255.0)
    assert g["one"].tolist() == [[True, False, False, False, False]]
    assert g["half"].tolist() == [[True, True, False, False, False]]
    assert g["positive"].tolist() == [[True, True, True, True, False]]
    pred = np.ones((1, 5))
    c = miou_counts(pred, raw > 127, mask_float=raw / 255.0)
    # inter counts GT == 1 only; area_lab counts [0.5, 1.5]; union = 5 + 2 - 1
    assert c == {"inter": 1, "union": 6, "correct": 1, "labeled": 4}
    # PD_FA truncates: only the raw-255 pixel is a target
    assert pd_fa_counts(pred, raw > 127, mask_float=raw / 255.0)["targets"] == 1


def test_empty_everything_and_schema():
    acc = COMPAT["basicirstd"]()
    r0 = acc.compute()
    assert math.isnan(r0["pd"]) and math.isnan(r0["fa"]) and r0["iou"] == 0.0
    acc.update(np.zeros((1, 1)), np.zeros((1, 1), bool))
    r = acc.compute()
    assert r["iou"] == 0.0 and r["pix_acc"] == 0.0 and math.isnan(r["pd"]) and r["fa"] == 0.0
    assert r["n_images"] == 1 and r["pixels"] == 1
    json.dumps(r)
    for v in r.values():
        assert type(v) in (int, float)
    acc.reset()
    assert acc.compute()["n_images"] == 0


def test_threshold_is_strict():
    pred = np.full((3, 3), 0.5)
    mask = np.ones((3, 3), bool)
    assert miou_counts(pred, mask)["inter"] == 0
    assert miou_counts(pred, mask, threshold=0.49)["inter"] == 9


def test_distance_threshold_is_strict():
    # GT pixel (0, 0); a predicted pixel at (3, 0) is exactly 3 away: not matched (distance < 3);
    # one at (2, 2) is 2.83 away: matched
    mask = np.zeros((6, 6), bool)
    mask[0, 0] = True
    far, near = np.zeros((6, 6)), np.zeros((6, 6))
    far[3, 0] = 1.0
    near[2, 2] = 1.0
    assert pd_fa(far, mask) == (0.0, 1 / 36)
    assert pd_fa(near, mask) == (1.0, 0.0)
    ref = BasicIRSTDReference()
    ref.update(far, mask.astype(np.float32))
    assert ref.get()["pd"] == 0.0
