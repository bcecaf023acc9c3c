"""hse.compat.pyirstdmetrics against the installed pyirstdmetrics 1.0.2 package (differential tests)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from reference_peers import opdc_fixed_outcomes

from hse.compat import COMPAT, PyIRSTDMetrics, hiou, hiou_metrics, shooting_rule_metrics, shooting_rule_pd_fa
from hse.compat.pyirstdmetrics import CM_METRICS, curve_thresholds

pm = pytest.importorskip("py_irstd_metrics")

HIOU_KEYS = ("hiou", "seg_iou", "loc_iou", "pd_opdc", "fa_opdc")
# values on the package's grids (curve edges k/9, target grid k/10) plus values between them
PRED_VALUES = sorted(
    {0.0, 1.0, 0.25, 0.95, 0.5, 0.55, float(np.linspace(0, 1, 10)[1]), float(np.linspace(0, 1, 10)[5])}
    | {float(v) for v in np.linspace(0, 1, 10, endpoint=False)[[1, 3, 7]]}
)


@st.composite
def image(draw, max_side: int = 10):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    values = [0.0] * 6 + PRED_VALUES
    pred = draw(arrays(np.float64, (h, w), elements=st.sampled_from(values)))
    mask = draw(arrays(bool, (h, w), elements=st.sampled_from([False, False, False, True])))
    return pred, mask


def peer_run(images, cm_num_bins: int, target_num_bins: int, grid=None) -> dict:
    classes = {
        "iou": pm.IoUHandler,
        "precision": pm.PrecisionHandler,
        "recall": pm.RecallHandler,
        "tpr": pm.TPRHandler,
        "fpr": pm.FPRHandler,
        "fmeasure": pm.FmeasureHandler,
    }
    handlers = {}
    for name, cls in classes.items():
        handlers[name + "/s"] = cls(with_dynamic=True, with_binary=True, sample_based=True)
        handlers[name + "/d"] = cls(with_dynamic=False, with_binary=True, sample_based=False)
    cm = pm.CMMetrics(num_bins=cm_num_bins, threshold=0.5, metric_handlers=handlers)
    pdfa = pm.ProbabilityDetectionAndFalseAlarmRate(num_bins=target_num_bins)
    shoot = pm.ShootingRuleBasedProbabilityDetectionAndFalseAlarmRate(num_bins=target_num_bins)
    match = pm.MatchingBasedMetrics(num_bins=target_num_bins)
    if grid is not None:  # any grid: the package's classes only read self.thresholds
        for obj in (pdfa, shoot, match):
            obj.thresholds = np.asarray(grid, dtype=np.float64)
    for pred, mask in images:
        cm.update(pred, mask)
        pdfa.update(pred, mask)
        shoot.update(pred, mask)
        match.update(pred, mask)
    g = cm.get()
    out = {}
    for name in classes:
        out[f"{name}_curve"] = g[name + "/s"]["dynamic"]
        out[f"{name}_sample"] = g[name + "/s"]["binary"]
        out[f"{name}_dataset"] = g[name + "/d"]["binary"]
    out["pd"], out["fa"] = pdfa.get()["probability_detection"], pdfa.get()["false_alarm"]
    out["pd_shooting"], out["fa_shooting"] = shoot.get()["probability_detection"], shoot.get()["false_alarm"]
    m = match.get()
    out["hiou"], out["pd_opdc"], out["fa_opdc"] = m["hiou"], m["probability_detection"], m["false_alarm"]
    out["seg_iou"] = np.divide(
        match.tp_ious, match.tp_objs, out=np.zeros(len(match.tp_objs)), where=match.tp_objs != 0
    )
    den = match.tp_objs + match.fp_objs + match.fn_objs
    out["loc_iou"] = np.divide(match.tp_objs, den, out=np.zeros(len(den)), where=den != 0)
    return out


def ours_run(images, cm_num_bins: int, target_num_bins: int, bugs: bool) -> dict:
    acc = PyIRSTDMetrics(cm_num_bins=cm_num_bins, target_num_bins=target_num_bins, bugs=bugs)
    for pred, mask in images:
        acc.update(pred, mask)
    return acc.compute()


def assert_equal_to_peer(ours: dict, peer: dict, keys=None) -> None:
    for key in keys or peer:
        np.testing.assert_array_equal(
            np.asarray(ours[key], dtype=np.float64), np.asarray(peer[key]), err_msg=key
        )


@settings(max_examples=100, deadline=None)
@given(st.lists(image(), min_size=1, max_size=3), st.sampled_from([(10, 1), (1, 10), (10, 10), (2, 3)]))
def test_bugs_true_equals_package(images, bins):
    cm_bins, target_bins = bins
    ours = ours_run(images, cm_bins, target_bins, bugs=True)
    assert_equal_to_peer(ours, peer_run(images, cm_bins, target_bins))
    assert ours["target_thresholds"] == pm.MatchingBasedMetrics(num_bins=target_bins).thresholds.tolist()


@settings(max_examples=50, deadline=None)
@given(st.lists(image(), min_size=1, max_size=3))
def test_default_differs_only_in_opdc_outputs(images):
    fixed = ours_run(images, 10, 10, bugs=False)
    peer = peer_run(images, 10, 10)
    assert_equal_to_peer(fixed, peer, [k for k in peer if k not in HIOU_KEYS])


@settings(max_examples=150, deadline=None)
@given(image(max_side=9), st.sampled_from([0.0, 0.3, 0.5, 0.9]))
def test_default_opdc_equals_bruteforce_reference(img, t):
    pred, mask = img
    h = hiou(pred, mask, [t])
    got = (
        int(h["tp"][0]),
        int(h["fp"][0]),
        int(h["fn"][0]),
        int(h["fp_area"][0]),
        round(float(h["tp_iou"][0]), 9),
    )
    assert got in opdc_fixed_outcomes(pred > t, mask)


@settings(max_examples=40, deadline=None)
@given(image(max_side=9))
def test_phantom_difference_is_exact(img):
    # with one side empty (and more than 2 pixels), bugs=True = default + 1 FP if no prediction
    # + 1 FN if no GT; nothing else changes
    pred, mask = img
    grid = [0.0, 0.5, 0.99]
    a, b = hiou(pred, mask, grid, bugs=True), hiou(pred, mask, grid, bugs=False)
    for i, t in enumerate(grid):
        n_pred, n_gt = int((pred > t).any()), int(mask.any())
        if n_pred and n_gt or mask.size < 3:
            continue
        assert a["tp"][i] == b["tp"][i] == 0
        assert a["fp"][i] == b["fp"][i] + (1 - n_pred)
        assert a["fn"][i] == b["fn"][i] + (1 - n_gt)
        assert a["fp_area"][i] == b["fp_area"][i] == np.count_nonzero(pred > t)


@settings(max_examples=25, deadline=None)
@given(st.lists(image(), min_size=1, max_size=3))
def test_native_functions_on_any_grid(images):
    grid = [0.05, 0.33, 0.5, 0.77]
    peer = peer_run(images, 10, len(grid), grid=grid)
    shoot = {"detected": 0, "fp_area": 0, "targets": 0, "area": 0}
    opdc = {"tp": 0, "fp": 0, "fn": 0, "fp_area": 0, "tp_iou": 0.0, "area": 0}
    for pred, mask in images:
        s = shooting_rule_pd_fa(pred, mask, grid)
        h = hiou(pred, mask, grid, bugs=True)
        for k in shoot:
            shoot[k] = shoot[k] + s[k]
        for k in opdc:
            opdc[k] = opdc[k] + h[k]
    sm, hm = shooting_rule_metrics(shoot), hiou_metrics(opdc)
    np.testing.assert_array_equal(sm["pd"], peer["pd_shooting"])
    np.testing.assert_array_equal(sm["fa"], peer["fa_shooting"])
    for ours_key, peer_key in (
        ("hiou", "hiou"),
        ("seg_iou", "seg_iou"),
        ("pd", "pd_opdc"),
        ("fa", "fa_opdc"),
    ):
        np.testing.assert_array_equal(hm[ours_key], peer[peer_key])


@settings(max_examples=30, deadline=None)
@given(st.lists(image(), min_size=2, max_size=5), st.data(), st.booleans())
def test_merge_is_exact(images, data, bugs):
    cut = data.draw(st.integers(1, len(images) - 1))
    kw = {"cm_num_bins": 10, "target_num_bins": 5, "bugs": bugs}
    whole, left, right = PyIRSTDMetrics(**kw), PyIRSTDMetrics(**kw), PyIRSTDMetrics(**kw)
    for i, (pred, mask) in enumerate(images):
        whole.update(pred, mask)
        (left if i < cut else right).update(pred, mask)
    assert json.dumps(whole.compute()) == json.dumps(left.merge(right).compute())


def _one(pred, mask, bugs):
    acc = PyIRSTDMetrics(bugs=bugs)
    acc.update(pred, mask)
    return acc.compute()


@pytest.mark.parametrize(
    ("shape", "pred_px", "gt_px", "bug_counts", "fixed_counts"),
    [
        # (tp, fp, fn, fp_area) at threshold 0.5
        ((5, 5), [(1, 1)], [], (0, 1, 1, 1), (0, 1, 0, 1)),  # no GT: phantom FN
        ((5, 5), [], [(1, 1)], (0, 1, 1, 0), (0, 0, 1, 0)),  # no prediction: phantom FP
        ((5, 5), [], [], (0, 1, 1, 0), (0, 0, 0, 0)),  # neither: phantom FP and FN
        ((1, 1), [], [], (1, 0, 0, 0), (0, 0, 0, 0)),  # 1 px < distance 3: phantom TP
        ((1, 1), [(0, 0)], [], (1, 0, 0, 0), (0, 1, 0, 1)),  # prediction "matched" to the phantom GT
        ((1, 2), [], [(0, 1)], (1, 0, 0, 0), (0, 0, 1, 0)),
    ],
)
def test_phantom_cases(shape, pred_px, gt_px, bug_counts, fixed_counts):
    pred, mask = np.zeros(shape), np.zeros(shape, bool)
    for p in pred_px:
        pred[p] = 0.9
    for p in gt_px:
        mask[p] = True
    for bugs, expected in ((True, bug_counts), (False, fixed_counts)):
        h = hiou(pred, mask, [0.5], bugs=bugs)
        assert (h["tp"][0], h["fp"][0], h["fn"][0], h["fp_area"][0]) == expected
    peer = peer_run([(pred, mask)], 10, 1)
    assert_equal_to_peer(_one(pred, mask, True), peer)
    # loc_iou of the corrected counts; with bugs=True an empty image scores 0 / (0 + 1 + 1) instead of 0 / 0
    fixed = _one(pred, mask, False)
    tp, fp, fn, _ = fixed_counts
    assert fixed["loc_iou"] == [tp / (tp + fp + fn) if tp + fp + fn else 0.0]


def ring_case():
    """A GT ring whose overlapping prediction has a shifted centroid, plus a stray pixel at its centre.

    GT: the border of the 7x7 square rows/cols 10..16 (24 px), centroid (13, 13).
    P1: the ring plus the block rows 10..16, cols 17..19 (45 px): IoU 24/45 = 0.533 >= 0.5, centroid
    (13, 15.33), distance 2.33. P2: the pixel (13, 13), inside the hole, distance 0, IoU 0.
    The package assigns by distance first: GT -> P2, dropped (IoU 0); compensation then matches GT -> P2 by
    distance (< 3), so P1 (45 px) is a false alarm and the matched IoU is 0: hIoU = 0.
    Corrected: GT -> P1 in the IoU stage; P2 (1 px) is the false alarm; seg_iou = 24/45, loc_iou = 1/2.
    """
    mask = np.zeros((24, 24), bool)
    mask[10:17, 10:17] = True
    mask[11:16, 11:16] = False
    pred = np.zeros((24, 24))
    pred[mask] = 0.9
    pred[10:17, 17:20] = 0.9
    pred[13, 13] = 0.9
    return pred, mask


def test_opdc_distance_first_loses_iou_match():
    pred, mask = ring_case()
    peer = peer_run([(pred, mask)], 10, 1)
    buggy, fixed = _one(pred, mask, True), _one(pred, mask, False)
    assert_equal_to_peer(buggy, peer)
    assert buggy["hiou"] == [0.0] and buggy["fa_opdc"] == [45 / 576]
    assert fixed["seg_iou"] == [24 / 45]
    assert fixed["loc_iou"] == [0.5]
    assert fixed["hiou"] == [24 / 45 * 0.5]
    assert fixed["fa_opdc"] == [1 / 576]
    assert fixed["pd_opdc"] == buggy["pd_opdc"] == [1.0]


def test_curve_conventions():
    # linspace(0, 1, 5) edges -> thresholds 0.75, 0.5, 0.25, 0 with ">="; 1.0 is in the last bin
    assert curve_thresholds(5).tolist() == [0.75, 0.5, 0.25, 0.0]
    assert curve_thresholds(1).tolist() == []
    pred = np.array([[0.0, 0.25, 0.5, 0.75, 1.0]])
    mask = np.ones((1, 5), bool)
    acc = PyIRSTDMetrics(cm_num_bins=5)
    acc.update(pred, mask)
    r = acc.compute()
    assert r["recall_curve"] == [2 / 5, 3 / 5, 4 / 5, 1.0]
    assert r["recall_sample"] == 2 / 5  # binary: pred > 0.5
    acc1 = PyIRSTDMetrics(cm_num_bins=1)
    acc1.update(pred, mask)
    assert acc1.compute()["iou_curve"] == []


def test_schema():
    acc = COMPAT["pyirstdmetrics"](target_num_bins=4)
    acc.update(np.zeros((3, 3)), np.zeros((3, 3), bool))
    r = acc.compute()
    json.dumps(r)
    for name in CM_METRICS:
        assert {f"{name}_curve", f"{name}_sample", f"{name}_dataset"} <= set(r)
    for key in ("pd", "fa", "pd_shooting", "fa_shooting", *HIOU_KEYS):
        assert isinstance(r[key], list) and len(r[key]) == 4
    assert r["target_thresholds"] == [0.0, 0.25, 0.5, 0.75]
    acc.reset()
    assert acc.compute()["n_images"] == 0


@pytest.mark.shared
@pytest.mark.parametrize(("cm_bins", "target_bins"), [(10, 1), (256, 10)])
def test_real_examples(shared_dir, cm_bins, target_bins):
    from PIL import Image

    folder = shared_dir / "peers" / "pyirstdmetrics-examples"
    images = []
    for i in range(2):
        pred = np.asarray(Image.open(folder / f"{i}-pred.png").convert("L")) / 255
        mask = np.asarray(Image.open(folder / f"{i}-mask.png").convert("L")) > 127
        images.append((pred, mask))
    peer = peer_run(images, cm_bins, target_bins)
    assert_equal_to_peer(ours_run(images, cm_bins, target_bins, bugs=True), peer)
    # neither bug fires on these two pairs: every threshold leaves both sides non-empty and OPDC's
    # distance-first assignment keeps all IoU matches, so the default agrees too
    assert_equal_to_peer(ours_run(images, cm_bins, target_bins, bugs=False), peer)
