"""Mergeable state: any split of a set, merged in any order, gives the single-run Result bit for bit."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hse
from hse.errors import InputError

N_IMAGES = 9


def _images(n: int = N_IMAGES, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Tiny maps with a few square targets and clutter, some images without any target."""
    rng = np.random.default_rng(seed)
    preds, masks = [], []
    for i in range(n):
        mask = np.zeros((12, 12), dtype=bool)
        for _ in range(i % 3):
            r, c = rng.integers(0, 10, 2)
            mask[r : r + 2, c : c + 2] = True
        pred = np.clip(rng.random((12, 12)) * 0.6 + mask * rng.random() * 0.6, 0, 1)
        preds.append(pred)
        masks.append(mask)
    return preds, masks


PREDS, MASKS = _images()
SINGLE = hse.evaluate(PREDS, MASKS)


def _part(rows: list[int]) -> hse.Result:
    return hse.evaluate([PREDS[i] for i in rows], [MASKS[i] for i in rows], indexes=rows)


@settings(max_examples=30, deadline=None)
@given(
    assignment=st.lists(st.integers(0, 3), min_size=N_IMAGES, max_size=N_IMAGES),
    repeats=st.lists(st.tuples(st.integers(0, N_IMAGES - 1), st.integers(0, 3)), max_size=4),
    order=st.permutations(range(4)),
)
def test_any_split_and_order_gives_the_single_run(assignment, repeats, order):
    parts: list[list[int]] = [[] for _ in range(4)]
    for image, part in enumerate(assignment):
        parts[part].append(image)
    for image, part in repeats:  # the same image also in another part (as a padding sampler does)
        parts[part].append(image)
    parts = [sorted(set(parts[k]), reverse=k % 2 == 1) for k in order]  # any order inside a part, too
    parts = [p for p in parts if p]
    merged = hse.merge([_part(p) for p in parts])
    assert merged.to_json() == SINGLE.to_json()

    metrics = []
    for rows in parts:
        m = hse.HSEMetric()
        for i in rows:
            m.update(PREDS[i], MASKS[i], index=i)
        metrics.append(m)
    total = hse.HSEMetric()
    for m in metrics:
        total.merge(m)
    assert total.compute().to_json() == SINGLE.to_json()


def test_merged_result_reloads_and_keeps_indexes(tmp_path):
    a, b = _part([0, 2, 4, 6, 8]), _part([7, 5, 3, 1])
    a.to_json(tmp_path / "a.json")
    b.to_json(tmp_path / "b.json")
    merged = hse.merge([tmp_path / "b.json", tmp_path / "a.json"])
    assert merged.to_json() == SINGLE.to_json()
    saved = json.loads(b.to_json())
    assert saved["state"]["indexes"] == [1, 3, 5, 7]  # sorted by index, whatever the scoring order
    assert saved["state"]["names"] == ["1", "3", "5", "7"]  # arrays are named by their global index


def test_a_conflicting_index_is_refused():
    a = _part([0, 1, 2])
    wrong = hse.evaluate([PREDS[5]], [MASKS[5]], indexes=[1])  # another image claims index 1
    with pytest.raises(InputError, match=r"index 1 is in results\[0\] and in results\[1\] with different"):
        hse.merge([a, wrong])
    metric = hse.HSEMetric()
    metric.update(PREDS[0], MASKS[0], index=1)
    with pytest.raises(InputError, match="index 1 was added twice with different"):
        metric.update(PREDS[5], MASKS[5], index=1)


def test_other_settings_are_refused_and_named():
    a = _part([0, 1])
    b = hse.evaluate([PREDS[2]], [MASKS[2]], indexes=[2], thresholds=[0.3, 0.6])
    with pytest.raises(InputError, match=r"results\[1\] was scored with other settings .*thresholds"):
        hse.merge([a, b])
    c = hse.evaluate([PREDS[2]], [MASKS[2]], indexes=[2], match="optimal")
    with pytest.raises(InputError, match="match"):
        hse.merge([a, c])
    with pytest.raises(InputError, match="different settings: .*radius"):
        hse.HSEMetric().merge(hse.HSEMetric(radius=2.0))


def test_peer_numbers_cannot_be_merged():
    a = hse.evaluate(PREDS[:2], MASKS[:2], compat="basicirstd")
    with pytest.raises(InputError, match="compat"):
        hse.merge([a])
    with pytest.raises(InputError, match="compat"):
        hse.HSEMetric(compat="acm").state_dict()
    with pytest.raises(InputError, match="no results"):
        hse.merge([])


def test_duplicates_are_counted_once_in_a_metric():
    metric = hse.HSEMetric()
    for i in [0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1]:  # a padded last batch repeats the first indexes
        metric.update(PREDS[i], MASKS[i], index=i)
    assert len(metric) == N_IMAGES
    assert metric.compute().to_json() == SINGLE.to_json()


def test_indexes_are_given_for_every_image_or_none():
    metric = hse.HSEMetric()
    metric.update(PREDS[0], MASKS[0])
    with pytest.raises(InputError, match="index= or none"):
        metric.update(PREDS[1], MASKS[1], index=1)
    with pytest.raises(InputError, match="non-negative integer"):
        hse.HSEMetric().update(PREDS[1], MASKS[1], index=-1)
    indexed = hse.HSEMetric()
    indexed.update(PREDS[1], MASKS[1], index=1)
    with pytest.raises(InputError, match="indexes with one whose images have none"):
        indexed.merge(metric)


def test_state_dict_round_trip_through_a_file(tmp_path):
    metric = hse.HSEMetric()
    for i in [4, 0, 8, 2, 6, 1, 3, 5, 7]:
        metric.update(PREDS[i], MASKS[i], index=i)
    sd = metric.state_dict()
    assert sd["indexes"].tolist() == list(range(N_IMAGES))
    assert sd["pix_tp"].shape == (N_IMAGES, SINGLE.grid.size) and sd["pix_tp"].dtype == np.int64
    np.savez(tmp_path / "state.npz", **sd)
    with np.load(tmp_path / "state.npz", allow_pickle=False) as f:
        loaded = {k: f[k] for k in f.files}
    again = hse.HSEMetric()
    again.load_state_dict(loaded)
    assert again.compute().to_json() == SINGLE.to_json()
    again.update(PREDS[0], MASKS[0], index=0)  # still a duplicate after the round trip
    assert len(again) == N_IMAGES

    with pytest.raises(InputError, match="other settings: .*threshold"):
        hse.HSEMetric(threshold=0.4).load_state_dict(sd)
    bad = dict(sd, pix_tp=sd["pix_tp"][:, :3])
    with pytest.raises(InputError, match="pix_tp must be non-negative integers of shape"):
        hse.HSEMetric().load_state_dict(bad)
    bad = dict(sd, pix_tp=sd["pix_tp"] + 10_000)
    with pytest.raises(InputError, match="inconsistent"):
        hse.HSEMetric().load_state_dict(bad)
    with pytest.raises(InputError, match="format"):
        hse.HSEMetric().load_state_dict({"format": "other"})


def test_unindexed_metrics_still_append_in_order():
    a, b = hse.HSEMetric(), hse.HSEMetric()
    for p, m in zip(PREDS[:4], MASKS[:4], strict=True):
        a.update(p, m)
    for p, m in zip(PREDS[4:], MASKS[4:], strict=True):
        b.update(p, m)
    assert a.merge(b).compute().to_json() == SINGLE.to_json()


def test_indexes_in_the_json_are_checked_and_optional():
    data = json.loads(_part([1, 4]).to_json())
    legacy = json.loads(SINGLE.to_json())
    del legacy["state"]["indexes"]  # files written before indexes existed hold 0..n-1
    assert hse.Result.from_dict(legacy).to_json() == SINGLE.to_json()
    data["state"]["indexes"] = [4, 1]
    with pytest.raises(InputError, match="strictly increasing"):
        hse.Result.from_dict(data)
    data["state"]["indexes"] = [1]
    with pytest.raises(InputError, match="2 integers"):
        hse.Result.from_dict(data)
    data["state"]["indexes"] = [-1, 4]
    with pytest.raises(InputError, match="non-negative"):
        hse.Result.from_dict(data)


def test_the_core_and_the_merge_command_never_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, hse, hse.merging, hse.shard, hse.cli, hse.cli.merge, hse.cli.score; "
        "hse.merge([hse.evaluate([[[0.9]]], [[[1]]])]); print('torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
