"""Each fast path of the per-image reduction against the plain per-threshold reference (tests/reference.py).

The reduction takes levels from a lookup table (uint8, uint16, bool) or an exact bucket table (float32,
float64), labels ground-truth targets with a two-row raster union-find, and sweeps the foreground once
with a union-find that re-checks only changed components. Each path is checked here at every threshold
against skimage labelling and the toolbox's greedy loop, one threshold at a time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from reference import reference_threshold
from scipy import ndimage

import hse
from hse.reduce._levels import BUCKETS
from hse.reduce.image import evaluate_image
from hse.reduce.labelling import component_summary, components
from hse.reduce.pixel import level_histograms, threshold_levels

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synthetic import make_noisy_pair  # noqa: E402

FIELDS = ("pix_tp", "pix_fp", "tgt_matched", "tgt_components", "tgt_matched_area")


def check_against_reference(pred, mask, thresholds="default", match="greedy", radius=3.0):
    """evaluate_image's counters equal the reference's at every threshold of the evaluation grid."""
    config = hse.EvalConfig.create(thresholds=thresholds, match=match, radius=radius)
    state = evaluate_image(pred, mask, config)
    grid = config.evaluation_grid
    for k, t in enumerate(grid):
        ref = reference_threshold(pred, mask, t, radius, match)
        for field in FIELDS:
            if field in ref:
                assert getattr(state, field)[k] == ref[field], (field, float(t))
        assert state.n_targets == ref["n_targets"]
    assert state.n_gt_pixels == int(mask.sum())
    return state


def sparse_mask(rng, shape, density=0.01):
    return ndimage.binary_dilation(rng.random(shape) < density, np.ones((2, 2), bool))


def test_uint8_lookup_table_on_default_and_uint8_grids():
    rng = np.random.default_rng(1)
    mask = sparse_mask(rng, (40, 50))
    pred = np.clip(rng.normal(40, 30, mask.shape) + 150 * mask, 0, 255).astype(np.uint8)
    check_against_reference(pred, mask)
    check_against_reference(pred, mask, thresholds="uint8")  # every value u / 255 is a threshold: ties


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_float_bucket_table(dtype):
    rng = np.random.default_rng(2)
    mask = sparse_mask(rng, (48, 37))
    pred = np.clip(np.abs(rng.normal(0, 0.15, mask.shape)) + 0.6 * mask, 0, 1).astype(dtype)
    check_against_reference(pred, mask)
    check_against_reference(pred, mask, thresholds=[0.01, 0.2, 0.21, 0.5, 0.9])


def test_uint16_and_bool():
    rng = np.random.default_rng(3)
    mask = sparse_mask(rng, (33, 33))
    pred16 = np.clip(rng.normal(9000, 9000, mask.shape) + 40000 * mask, 0, 65535).astype(np.uint16)
    check_against_reference(pred16, mask)
    check_against_reference(pred16, mask, thresholds=[t / 65535 for t in (0, 1, 9000, 9001, 40000)])
    check_against_reference(rng.random(mask.shape) < 0.2, mask)


def test_ties_at_threshold_values_and_bucket_edges():
    rng = np.random.default_rng(4)
    grid = np.array([0.0, 0.05, 0.1, 0.3, 0.5, 0.95])
    near = np.concatenate([grid, np.nextafter(grid, 1.0), np.nextafter(grid, -1.0).clip(0, 1), [1.0]])
    edges = np.arange(0, BUCKETS + 1, 97) / BUCKETS  # exact bucket edges
    values = np.concatenate([near, edges, np.nextafter(edges, 2.0).clip(0, 1)])
    pred = rng.choice(values, (30, 40))
    mask = sparse_mask(rng, pred.shape, 0.02)
    check_against_reference(pred, mask, thresholds=grid)
    # the levels themselves: the number of thresholds strictly below each value
    got = threshold_levels(values, grid)
    assert np.array_equal(got, np.searchsorted(grid, values, side="left"))


def test_levels_of_a_fine_grid_with_many_thresholds_per_bucket():
    rng = np.random.default_rng(5)
    grid = np.unique(np.concatenate([rng.random(300), np.arange(1, 50) / (2 * BUCKETS)]))
    values = np.concatenate([rng.random(5000), grid, np.arange(0, 60) / (2 * BUCKETS)])
    got = threshold_levels(values, grid)
    assert got.dtype == np.int32  # more than 255 thresholds
    assert np.array_equal(got, np.searchsorted(grid, values, side="left"))
    levels, hist, hist_gt = level_histograms(values.reshape(1, -1), (values > 0.5).reshape(1, -1), grid)
    assert np.array_equal(hist, np.bincount(got, minlength=grid.size + 1))
    assert np.array_equal(hist_gt, np.bincount(got[values > 0.5], minlength=grid.size + 1))


def test_centroid_distance_of_exactly_three_pixels():
    # Target at (4, 0); components whose centroids lie exactly 3.0 px away ((2.2, 2.4) rounds below 3 in
    # the toolboxes' norm) and one at (1, 0), exactly 3.0 by integers: never a match.
    mask = np.zeros((9, 9), bool)
    mask[4, 0] = True
    pred = np.zeros((9, 9))
    pred[[1, 2, 2, 3, 3], [2, 2, 3, 2, 3]] = 0.9
    pred[7, 0] = 0.7
    pred[1, 0] = 0.3
    for match in ("greedy", "optimal"):
        check_against_reference(pred, mask, thresholds=[0.1, 0.5, 0.8], match=match)


def test_one_huge_component_on_a_noisy_map():
    rng = np.random.default_rng(6)
    pred, mask = make_noisy_pair(rng, 96)
    check_against_reference(pred, mask)
    grid = [0.0, 0.02, 0.05, 0.1, 0.5]
    state = check_against_reference(pred, mask, thresholds=grid)
    _, _, areas, _ = components(pred > 0.02)
    assert areas.max() > 0.5 * (pred > 0.02).sum()  # one component holds most of the foreground
    assert state.tgt_components[0] <= 3
    check_against_reference(pred, mask, thresholds=grid, match="optimal")
    check_against_reference((pred * 255).round().astype(np.uint8), mask)


def test_everything_foreground_and_nothing_foreground():
    mask = np.zeros((7, 9), bool)
    mask[3, 4] = True
    check_against_reference(np.ones((7, 9)), mask)
    check_against_reference(np.zeros((7, 9)), mask)
    check_against_reference(np.full((7, 9), 0.5), np.zeros((7, 9), bool))


def test_many_targets_on_cells():
    rng = np.random.default_rng(7)
    mask = np.zeros((64, 64), bool)
    mask[2::5, 3::6] = True  # 130 one-pixel targets, several per cell
    pred = np.clip(0.7 * ndimage.binary_dilation(mask) + np.abs(rng.normal(0, 0.1, mask.shape)), 0, 1)
    for match in ("greedy", "optimal"):
        check_against_reference(pred, mask, thresholds=[0.05, 0.2, 0.5], match=match, radius=2.5)


@pytest.mark.parametrize("seed", range(4))
def test_target_labelling_equals_ndimage(seed):
    rng = np.random.default_rng(seed)
    binary = rng.random((31, 45)) < (0.05, 0.3, 0.6, 0.9)[seed]
    _, n, areas, centroids = components(binary)
    got_areas, got_centroids = component_summary(binary)
    assert got_areas.size == n
    assert np.array_equal(got_areas, areas)
    assert np.array_equal(got_centroids, centroids)
