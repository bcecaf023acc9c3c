"""Edge cases found by review: curve areas, ties at the radius, merged shards, odd inputs, bad options."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from reference import reference_threshold

import hse
from hse import InputError
from hse.score import auc_pd_fa, auc_pr, auc_roc


def _plain_trapezoid(x, y):
    return sum((x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2 for i in range(len(x) - 1))


def test_pr_plateau_is_entered_at_its_first_point():
    mask = np.zeros((3, 3), bool)
    mask[1, 1] = True
    pred = np.zeros((3, 3))
    pred[1, 1], pred[0, 0] = 0.97, 0.3  # precision 1 and recall 1 for every t >= 0.3
    result = hse.evaluate([pred], [mask])
    assert result.auc_pr == 1.0 and result.auc_roc == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_curve_areas_against_plain_implementations(seed):
    rng = np.random.default_rng(seed)
    preds = [rng.random((24, 24)) ** 2 for _ in range(3)]
    masks = [rng.random((24, 24)) < 0.05 for _ in range(3)]
    result = hse.evaluate(preds, masks)
    c = result.curve[result.curve.in_hse_grid].sort_values("threshold", ascending=False)
    roc = _plain_trapezoid([0.0, *c.fpr, 1.0], [0.0, *c.tpr, 1.0])
    pr = _plain_trapezoid([0.0, *c.recall], [1.0, *c.precision])
    assert result.auc_roc == pytest.approx(roc, rel=1e-12)
    assert result.auc_pr == pytest.approx(pr, rel=1e-12)


def _pd_fa_area_by_sampling(fa, pd, fa_max, n=200001):
    # Independent: evaluate the documented piecewise-linear curve on a fine grid of Fa values.
    order = np.lexsort((pd, fa))
    xs = np.concatenate([[0.0], np.asarray(fa)[order]])
    ys = np.concatenate([[0.0], np.asarray(pd)[order]])
    grid = np.linspace(0, fa_max, n)
    values = np.interp(grid, xs, ys, right=ys[-1])
    return np.trapezoid(values, grid) / fa_max


@pytest.mark.parametrize("seed", range(6))
def test_pd_fa_area_against_sampling(seed):
    rng = np.random.default_rng(seed)
    fa = np.sort(rng.random(9) * rng.choice([5e-5, 2e-4, 1e-3]))[::-1]
    pd = np.sort(rng.random(9))[::-1]
    got = float(auc_pd_fa(fa, pd, 1e-4))
    assert got == pytest.approx(_pd_fa_area_by_sampling(fa, pd, 1e-4), abs=2e-4)
    assert 0.0 <= got <= 1.0
    # batched form equals row by row
    batch = auc_pd_fa(np.stack([fa, fa / 2]), np.stack([pd, pd]), 1e-4)
    assert batch[0] == got and batch[1] == float(auc_pd_fa(fa / 2, pd, 1e-4))
    assert auc_roc(np.stack([fa, fa]), np.stack([pd, pd])).shape == (2,)
    assert auc_pr(np.stack([pd, pd]), np.stack([pd, pd])).shape == (2,)


def test_distance_exactly_at_the_radius_is_decided_as_the_toolboxes_do():
    # Component centroid (2.2, 2.4), target (4, 0): the true distance is exactly 3, but the toolboxes'
    # np.linalg.norm computes it through BLAS, which may round it below 3. hse follows the toolboxes.
    mask = np.zeros((6, 6), bool)
    mask[4, 0] = True
    pred = np.zeros((6, 6))
    pred[[1, 2, 2, 3, 3], [2, 2, 3, 2, 3]] = 0.9
    reference = reference_threshold(pred, mask, 0.5)["tgt_matched"]
    result = hse.evaluate([pred], [mask], thresholds=[0.5], compat="basicirstd")
    assert result.at(0.5)["tp"] == reference
    assert result.at(0.5)["pd"] == result.compat["basicirstd"]["pd"]
    assert hse.evaluate([pred], [mask], thresholds=[0.5], match="optimal").at(0.5)["tp"] == reference


def test_merged_shards_are_named_like_a_single_pass():
    rng = np.random.default_rng(0)
    preds = [rng.random((8, 8)) for _ in range(4)]
    masks = [rng.random((8, 8)) < 0.1 for _ in range(4)]
    a, b = hse.HSEMetric(), hse.HSEMetric()
    for p, m in zip(preds[:2], masks[:2], strict=True):
        a.update(p, m)
    for p, m in zip(preds[2:], masks[2:], strict=True):
        b.update(p, m)
    merged = a.merge(b).compute()
    single = hse.evaluate(preds, masks)
    assert merged.names == single.names == ["0", "1", "2", "3"]
    with pytest.warns(UserWarning, match="fewer than 10 images"):
        assert hse.compare(merged, single, n=50)["hse"].diff == 0.0


def test_big_endian_and_palette_inputs(tmp_path):
    rng = np.random.default_rng(1)
    native = rng.integers(0, 65536, (6, 6)).astype(np.uint16)
    mask = rng.random((6, 6)) < 0.2
    expected = hse.evaluate([native], [mask]).to_dict()["curve"]
    assert hse.evaluate([native.astype(">u2")], [mask]).to_dict()["curve"] == expected
    np.save(tmp_path / "be.npy", native.astype(">u2"))
    assert hse.evaluate([tmp_path / "be.npy"], [mask]).to_dict()["curve"] == expected

    palette = Image.fromarray((mask * 1).astype(np.uint8), mode="P")
    palette.putpalette([0, 0, 0, 200, 200, 200] + [0] * 762)
    palette.save(tmp_path / "pal.png")
    from_path = hse.evaluate([tmp_path / "pal.png"], [mask]).to_dict()["curve"]
    from_object = hse.evaluate([Image.open(tmp_path / "pal.png")], [mask]).to_dict()["curve"]
    assert from_object == from_path == hse.evaluate([mask * np.uint8(200)], [mask]).to_dict()["curve"]


def test_optimal_matching_splits_into_independent_problems():
    # 2048 isolated one-pixel targets, each predicted exactly: a dense targets x components matrix
    # would hold 4 million entries per threshold; the grouped assignment solves 2048 1x1 problems.
    mask = np.zeros((64, 128), bool)
    mask[::2, ::2] = True
    pred = mask * 0.9
    greedy = hse.evaluate([pred], [mask], thresholds=[0.5])
    optimal = hse.evaluate([pred], [mask], thresholds=[0.5], match="optimal")
    assert greedy.at(0.5)["tp"] == optimal.at(0.5)["tp"] == mask.sum()


def test_bad_options_are_input_errors():
    pred, mask = np.zeros((4, 4)), np.zeros((4, 4), bool)
    with pytest.raises(InputError, match="not in compat"):
        hse.evaluate([pred], [mask], compat="acm", compat_options={"basicIRSTD": {"legacy_fa": True}})
    with pytest.raises(InputError, match="compat_options"):
        hse.evaluate([pred], [mask], compat="acm", compat_options={"acm": {"legacy_fa": True}})
    with pytest.raises(InputError, match="preset"):
        hse.evaluate([pred], [mask], preset="hse-v9")
    with pytest.raises(InputError, match="mask_threshold must be a finite"):
        hse.evaluate([pred], [mask], mask_threshold=float("nan"))
    with pytest.raises(InputError, match="finite"):
        hse.evaluate([pred], [mask], thresholds=[0.2, float("nan")])
    with pytest.raises(InputError, match="fewer names"):
        hse.evaluate(iter([pred, pred]), iter([mask, mask]), names=iter(["a"]))
    with pytest.raises(ValueError):
        hse.DEFAULT_GRID[0] = 0.3  # the module-level grids are read-only


def test_lazy_stream_in_parallel_equals_serial():
    rng = np.random.default_rng(2)
    pairs = [(rng.random((12, 12)), rng.random((12, 12)) < 0.1) for _ in range(9)]
    serial = hse.evaluate((p for p, _ in pairs), (m for _, m in pairs))
    parallel = hse.evaluate((p for p, _ in pairs), (m for _, m in pairs), jobs=2)
    assert parallel.to_dict(include_state=True) == serial.to_dict(include_state=True)


def test_result_files_are_validated():
    result = hse.evaluate([np.full((4, 4), 0.7)], [np.eye(4, dtype=bool)])
    good = json.loads(result.to_json(include_state=True))
    assert hse.Result.from_dict(good).hse == result.hse
    for edit in (
        lambda d: d["state"]["pix_tp"][0].__setitem__(0, 1.5),
        lambda d: d["state"]["pix_tp"][0].__setitem__(0, 10**30),
        lambda d: d["state"]["names"].__setitem__(0, 7),
        lambda d: d["settings"].__setitem__("evaluation_grid", d["settings"]["evaluation_grid"][::-1]),
        lambda d: d["settings"].__setitem__("threshold", 0.33),
        lambda d: d.__setitem__("schema", "hse/0"),
    ):
        bad = json.loads(json.dumps(good))
        edit(bad)
        with pytest.raises(InputError):
            hse.Result.from_dict(bad)
