"""The core's default numbers against the peer package and on the real data in ../shared."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import hse

py_irstd = pytest.importorskip("py_irstd_metrics")
PEER_GRID = np.linspace(0, 1, 10, endpoint=False)


def peer_pd_fa(preds, masks, num_bins):
    metric = py_irstd.ProbabilityDetectionAndFalseAlarmRate(num_bins=num_bins)
    for p, m in zip(preds, masks, strict=True):
        metric.update(p, m)
    return metric.get()


def assert_same_pd_fa(result, peer, grid):
    curve = result.curve.set_index("threshold").loc[grid]
    if result.n_targets == 0:  # 0/0: hse scores "nothing to find, nothing missed" as Pd 1, the peer as 0
        assert (curve["pd"] == 1.0).all() and not peer["probability_detection"].any()
    else:
        np.testing.assert_array_equal(curve["pd"].to_numpy(), peer["probability_detection"])
    np.testing.assert_allclose(curve["fa"].to_numpy(), peer["false_alarm"], rtol=1e-15, atol=0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 24), st.integers(1, 24), st.sampled_from([0.02, 0.1, 0.3]))
def test_pd_fa_equal_the_peer_at_its_grid(seed, h, w, density):
    rng = np.random.default_rng(seed)
    masks = [rng.random((h, w)) < density for _ in range(3)]
    preds = [np.clip(rng.random((h, w)) ** 3 + 0.5 * m, 0, 1) for m in masks]
    result = hse.evaluate(preds, masks, thresholds=PEER_GRID)
    assert_same_pd_fa(result, peer_pd_fa(preds, masks, 10), PEER_GRID)


def _examples(shared):
    folder = shared / "peers" / "pyirstdmetrics-examples"
    preds, masks = [], []
    for k in (0, 1):
        preds.append(np.asarray(Image.open(folder / f"{k}-pred.png").convert("L")) / 255)
        masks.append(np.asarray(Image.open(folder / f"{k}-mask.png").convert("L")) > 127)
    return preds, masks


@pytest.mark.shared
def test_peer_examples_pd_fa_at_both_grids(shared_dir):
    preds, masks = _examples(shared_dir)
    assert_same_pd_fa(
        hse.evaluate(preds, masks, thresholds=PEER_GRID), peer_pd_fa(preds, masks, 10), PEER_GRID
    )
    assert_same_pd_fa(hse.evaluate(preds, masks, thresholds=[0.5]), peer_pd_fa(preds, masks, 1), [0.5])


def _alcl(shared, limit=None):
    folder = shared / "predictions" / "alcl-net"
    names = sorted((p.stem for p in (folder / "pred").glob("*.png")), key=int)[:limit]
    return (
        [folder / "pred" / f"{n}.png" for n in names],
        [folder / "gt512" / f"{n}.png" for n in names],
        names,
    )


@pytest.mark.shared
def test_real_predictions_equal_basicirstd_at_half(shared_dir):
    preds, masks, names = _alcl(shared_dir)
    result = hse.evaluate(preds, masks, names=names, compat="basicirstd")
    row, peer = result.at(0.5), result.compat["basicirstd"]
    assert row["pd"] == peer["pd"] and row["fa"] == peer["fa"]
    assert row["iou"] == pytest.approx(peer["iou"], rel=1e-12)  # the toolbox adds eps = 2.2e-16 to the union
    assert result.n_images == 96 and result.n_targets > 96
    assert result.curve["iou"].nunique() == 1  # a hard 0/255 mask has a flat curve


@pytest.mark.shared
def test_real_masks_scored_against_themselves_are_perfect(shared_dir):
    _, masks, names = _alcl(shared_dir)
    result = hse.evaluate(masks, masks, names=names)
    assert result.hse == 1.0
    assert (result.curve[["iou", "niou", "pd", "target_iou"]] == 1.0).all().all()
    assert (result.curve["fa"] == 0).all()


@pytest.mark.shared
def test_real_data_order_streaming_and_merge(shared_dir):
    preds, masks, names = _alcl(shared_dir, limit=40)
    batch = hse.evaluate(preds, masks, names=names)
    reordered = hse.evaluate(preds[::-1], masks[::-1], names=names[::-1])
    streamed = hse.evaluate(iter(preds), iter(masks), names=names)
    first, second = hse.HSEMetric(), hse.HSEMetric()
    for p, m, n in zip(preds, masks, names, strict=True):
        (first if int(n) % 2 else second).update(p, m, name=n)
    merged = first.merge(second).compute()
    for other in (reordered, streamed, merged):
        assert other.hse == pytest.approx(batch.hse, rel=1e-15)
        assert other.at(0.5)[["tp", "fp", "fn"]].tolist() == batch.at(0.5)[["tp", "fp", "fn"]].tolist()
        np.testing.assert_allclose(
            other.curve.drop(columns="in_hse_grid").to_numpy(float),
            batch.curve.drop(columns="in_hse_grid").to_numpy(float),
            rtol=1e-14,
        )
    assert streamed.to_dict() == batch.to_dict()
