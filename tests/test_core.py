"""The metric core against the slow reference, hand-computed cases and its own invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from reference import reference_scores, reference_threshold

import hse
from hse.reduce.pixel import pixel_counts, threshold_levels
from hse.reduce.target import find_targets, target_counts

GRID = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9])


@st.composite
def image_pairs(draw):
    """Small images with sparse blobs, touching targets, borders, 1x1 and non-square shapes."""
    h = draw(st.integers(1, 14))
    w = draw(st.integers(1, 14))
    mask = draw(arrays(np.bool_, (h, w), elements=st.booleans().map(lambda b: b and False)))
    density = draw(st.sampled_from([0.0, 0.1, 0.3]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mask = mask | (rng.random((h, w)) < density)
    kind = draw(st.sampled_from(["float", "uint8", "bool", "quantised"]))
    raw = rng.random((h, w))
    if kind == "float":
        pred = np.clip(raw * 0.6 + 0.4 * mask, 0, 1)
    elif kind == "uint8":
        pred = (np.clip(raw * 0.6 + 0.4 * mask, 0, 1) * 255).round().astype(np.uint8)
    elif kind == "bool":
        pred = raw < 0.3
    else:  # values exactly on the thresholds: the strict '>' matters
        pred = GRID[rng.integers(0, GRID.size, (h, w))]
    return pred, mask


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image_pairs())
def test_per_image_counters_match_reference(pair):
    pred, mask = pair
    levels = threshold_levels(pred, GRID)
    tp, fp = pixel_counts(levels, mask, GRID.size)
    matched, comps, area = target_counts(levels, find_targets(mask), GRID.size)
    for k, t in enumerate(GRID):
        ref = reference_threshold(pred, mask, t)
        assert (tp[k], fp[k]) == (ref["pix_tp"], ref["pix_fp"]), t
        assert (matched[k], comps[k], area[k]) == (
            ref["tgt_matched"],
            ref["tgt_components"],
            ref["tgt_matched_area"],
        ), t


@settings(max_examples=60, deadline=None)
@given(image_pairs(), st.sampled_from([1.0, 2.0, 3.0, 4.5]))
def test_optimal_matching_is_maximum(pair, radius):
    pred, mask = pair
    levels = threshold_levels(pred, GRID)
    targets = find_targets(mask)
    greedy, _, _ = target_counts(levels, targets, GRID.size, radius, "greedy")
    optimal, _, _ = target_counts(levels, targets, GRID.size, radius, "optimal")
    for k, t in enumerate(GRID):
        ref = reference_threshold(pred, mask, t, radius, rule="optimal")
        assert optimal[k] == ref["tgt_matched"]
        assert greedy[k] <= optimal[k]


@settings(max_examples=40, deadline=None)
@given(st.lists(image_pairs(), min_size=1, max_size=4))
def test_dataset_curve_matches_reference(pairs):
    preds, masks = zip(*pairs, strict=True)
    result = hse.evaluate(list(preds), list(masks), thresholds=GRID[1:], threshold=0.5)
    ref = reference_scores(preds, masks, result.curve["threshold"].to_numpy())
    for row, expected in zip(result.curve.to_dict("records"), ref, strict=True):
        for key, value in expected.items():
            assert row[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_hand_computed_example():
    # 6x6 image, two targets: A = 2x2 block at rows 0-1, cols 0-1 (centroid (0.5, 0.5)),
    # B = single pixel at (4, 4). Prediction: A's block at 0.8 plus one extra pixel (0, 2) at 0.8
    # (a component of 5 pixels, centroid (0.4, 0.8): distance 0.36 < 3, matches A);
    # a false blob at (5, 0) with 0.3; B gets 0.4.
    mask = np.zeros((6, 6), bool)
    mask[0:2, 0:2] = True
    mask[4, 4] = True
    pred = np.zeros((6, 6))
    pred[0:2, 0:2] = 0.8
    pred[0, 2] = 0.8
    pred[5, 0] = 0.3
    pred[4, 4] = 0.4
    result = hse.evaluate([pred], [mask], thresholds=[0.2, 0.35, 0.5])
    at_02, at_035, at_05 = (result.at(t) for t in (0.2, 0.35, 0.5))
    # t = 0.2: all 7 predicted pixels; TP pixels 5, FP 2 -> IoU 5 / (2 + 5) ; both targets found,
    # the (5,0) blob is a false target of 1 pixel.
    assert at_02["iou"] == pytest.approx(5 / 7)
    assert (at_02["tp"], at_02["fp"], at_02["fn"]) == (2, 1, 0)
    assert at_02["pd"] == 1.0 and at_02["fa"] == pytest.approx(1 / 36)
    assert at_02["target_iou"] == pytest.approx(2 / 3)
    # t = 0.35: the false blob disappears.
    assert at_035["iou"] == pytest.approx(5 / 6) and at_035["fa"] == 0.0
    assert (at_035["tp"], at_035["fp"], at_035["fn"]) == (2, 0, 0)
    # t = 0.5: B is lost. Pixels: TP 4, FP 1, FN 1 -> 4/6. Targets: TP 1, FN 1.
    assert at_05["iou"] == pytest.approx(4 / 6)
    assert at_05["pd"] == 0.5 and at_05["target_iou"] == 0.5
    assert at_05["precision"] == pytest.approx(4 / 5) and at_05["recall"] == pytest.approx(4 / 5)
    assert result.hse_pixel == pytest.approx((5 / 7 + 5 / 6 + 4 / 6) / 3)
    assert result.hse_target == pytest.approx((2 / 3 + 1 + 0.5) / 3)
    assert result.hse == pytest.approx((result.hse_pixel + result.hse_target) / 2)


def test_greedy_order_dependence_vs_optimal():
    # Target 0 at (2, 2), target 1 at (2, 4.9). Component X (centroid (2, 3.5)) is within 3 px of both;
    # component Y (centroid (2, 6.5)) only of target 1. Greedy: target 0 takes X first... X is first in label
    # order, target 0 takes it, target 1 takes Y -> 2 matches. Put Y out of target 1's reach and X is
    # contested: greedy may lose a target that the optimal rule keeps.
    mask = np.zeros((5, 12), bool)
    mask[2, 2] = True
    mask[2, 5] = True
    pred = np.zeros((5, 12))
    pred[2, 3:5] = 0.9  # centroid (2, 3.5): 1.5 from target 0, 1.5 from target 1
    pred[0, 0] = 0.9  # centroid (0, 0): 2.83 from target 0 only
    greedy = hse.evaluate([pred], [mask], thresholds=[0.5], match="greedy").at(0.5)
    optimal = hse.evaluate([pred], [mask], thresholds=[0.5], match="optimal").at(0.5)
    # label order: (0,0) is component 1, (2,3..4) is component 2. Greedy: target 0 takes (0,0) (first in
    # label order within 3 px), target 1 takes the pair -> 2 matches; optimal also 2.
    assert greedy["tp"] == 2 and optimal["tp"] == 2
    pred[0, 0] = 0.0
    pred[4, 1] = 0.9  # centroid (4, 1): 2.24 from target 0 only, but it is component 2 now
    greedy = hse.evaluate([pred], [mask], thresholds=[0.5], match="greedy").at(0.5)
    optimal = hse.evaluate([pred], [mask], thresholds=[0.5], match="optimal").at(0.5)
    # Greedy: target 0 takes the first component in label order, the pair at (2, 3.5); target 1 then finds
    # nothing. Optimal: target 0 -> (4, 1), target 1 -> the pair.
    assert greedy["tp"] == 1 and optimal["tp"] == 2


def test_perfect_prediction_scores_one_everywhere():
    rng = np.random.default_rng(1)
    masks = [rng.random((20, 30)) < 0.05 for _ in range(4)]
    masks.append(np.zeros((20, 30), bool))  # an image with nothing to find
    result = hse.evaluate([m.astype(np.float64) for m in masks], masks)
    assert result.hse == 1.0 and result.hse_pixel == 1.0 and result.hse_target == 1.0
    curve = result.curve
    assert (curve[["iou", "niou", "pd", "target_iou", "precision", "recall", "f1"]] == 1.0).all().all()
    assert (curve["fa"] == 0).all() and (curve["fp"] == 0).all()


def test_hard_prediction_has_flat_curve():
    rng = np.random.default_rng(2)
    mask = rng.random((32, 32)) < 0.05
    pred = rng.random((32, 32)) < 0.08
    curve = hse.evaluate([pred], [mask]).curve
    for key in ("iou", "pd", "fa", "target_iou"):
        assert curve[key].nunique() == 1


def test_order_invariance_streaming_and_merge():
    rng = np.random.default_rng(3)
    preds = [rng.random((16, 16)) ** 3 for _ in range(6)]
    masks = [rng.random((16, 16)) < 0.1 for _ in range(6)]
    batch = hse.evaluate(preds, masks)
    shuffled = hse.evaluate(preds[::-1], masks[::-1])
    streamed = hse.evaluate(iter(preds), (m for m in masks))
    a, b = hse.HSEMetric(), hse.HSEMetric()
    for p, m in zip(preds[:2], masks[:2], strict=True):
        a.update(p, m)
    for p, m in zip(preds[2:], masks[2:], strict=True):
        b.update(p, m)
    merged = a.merge(b).compute()
    for other in (streamed, merged):
        assert other.hse == batch.hse
        np.testing.assert_array_equal(other.curve.to_numpy(), batch.curve.to_numpy())
    # Counters are integers and order-free; nIoU's mean of floats may differ in the last bit.
    assert shuffled.hse == batch.hse
    np.testing.assert_allclose(
        shuffled.curve.to_numpy(dtype=float), batch.curve.to_numpy(dtype=float), rtol=1e-14
    )


def test_uint8_grid_is_exact_for_8bit_inputs():
    rng = np.random.default_rng(4)
    pred = rng.integers(0, 256, (24, 24)).astype(np.uint8)
    mask = rng.random((24, 24)) < 0.1
    fast = hse.evaluate([pred], [mask], thresholds="uint8")
    as_float = hse.evaluate([pred / 255.0], [mask], thresholds="uint8")
    np.testing.assert_array_equal(fast.curve.to_numpy(), as_float.curve.to_numpy())
    assert len(fast.thresholds) == 255
    # P > k/255 for u/255 inputs is u > k: check the pixel counts directly.
    assert len(fast.curve) == 256  # the operating point 0.5 is not a k/255 level: evaluated on the side
    for k in (0, 100, 127, 254):
        expected = int(np.sum((pred > k) & mask))
        assert fast.at(k / 255)["recall"] == pytest.approx(expected / mask.sum())


def test_zero_over_zero_is_a_perfect_score():
    empty = np.zeros((8, 8), bool)
    result = hse.evaluate([np.zeros((8, 8))], [empty])
    assert result.hse == 1.0
    row = result.at(0.5)
    assert row["iou"] == 1 and row["niou"] == 1 and row["pd"] == 1 and row["fa"] == 0 and row["fpr"] == 0


def test_operating_threshold_off_grid_is_evaluated_but_not_integrated():
    rng = np.random.default_rng(5)
    pred, mask = rng.random((16, 16)), rng.random((16, 16)) < 0.1
    on = hse.evaluate([pred], [mask], thresholds=[0.2, 0.4], threshold=0.3)
    assert list(on.curve["threshold"]) == [0.2, 0.3, 0.4]
    assert on.hse_pixel == pytest.approx(on.curve.loc[on.curve.threshold != 0.3, "iou"].mean())
    with pytest.raises(KeyError):
        on.at(0.35)


def test_result_round_trip_through_json():
    rng = np.random.default_rng(6)
    preds = [rng.random((10, 12)) for _ in range(3)]
    masks = [rng.random((10, 12)) < 0.1 for _ in range(3)]
    result = hse.evaluate(preds, masks, names=["a", "b", "c"])
    data = result.to_dict(include_state=True)
    assert data["schema"] == "hse/1"
    assert set(data["curve"][0]) >= {"threshold", "iou", "niou", "pd", "fa", "target_iou", "tp", "fp", "fn"}
    again = hse.Result.from_dict(__import__("json").loads(result.to_json(include_state=True)))
    assert again.hse == result.hse and again.names == ["a", "b", "c"]
    assert list(result.per_image["name"]) == ["a", "b", "c"]


def test_per_image_rows_add_up():
    rng = np.random.default_rng(7)
    preds = [rng.random((16, 16)) ** 2 for _ in range(5)]
    masks = [rng.random((16, 16)) < 0.08 for _ in range(5)]
    result = hse.evaluate(preds, masks)
    rows, at = result.per_image, result.at(0.5)
    assert rows["detected"].sum() == at["tp"]
    assert rows["false_targets"].sum() == at["fp"]
    assert rows["fa_pixels"].sum() / sum(m.size for m in masks) == pytest.approx(at["fa"])
    assert rows["iou"].mean() == pytest.approx(at["niou"])


def test_parallel_jobs_give_identical_results(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(8)
    (tmp_path / "pred").mkdir()
    (tmp_path / "mask").mkdir()
    preds, masks = [], []
    for i in range(6):
        p = tmp_path / "pred" / f"p{i}.png"
        m = tmp_path / "mask" / f"p{i}.png"
        Image.fromarray(rng.integers(0, 256, (20, 20)).astype(np.uint8)).save(p)
        Image.fromarray(((rng.random((20, 20)) < 0.1) * 255).astype(np.uint8)).save(m)
        preds.append(p)
        masks.append(m)
    one = hse.evaluate(preds, masks, jobs=1)
    two = hse.evaluate(preds, masks, jobs=2)
    assert one.to_dict(include_state=True) == two.to_dict(include_state=True)
    assert one.names == [f"p{i}" for i in range(6)]
