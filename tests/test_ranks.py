"""hse.leaderboard.ranks: ranks with ties (the rule on hand-made cases, then on real results)."""

from __future__ import annotations

import numpy as np
import pytest

import hse
from hse.errors import InputError
from hse.leaderboard.ranks import assign_ranks, overlap, tied_ranks
from hse.stats import bootstrap, compare


def test_assign_ranks_competition_and_leader_only():
    # b ties with a; c does not tie with a, so it leads; d ties with c; e ties with d but not with c.
    ties = {("a", "b"), ("c", "d"), ("d", "e")}
    ranks = assign_ranks(list("abcde"), lambda leader, m: (leader, m) in ties)
    assert ranks == {"a": (1, "a"), "b": (1, "a"), "c": (3, "c"), "d": (3, "c"), "e": (5, "e")}
    assert assign_ranks([], lambda a, b: True) == {}
    assert assign_ranks(list("xyz"), lambda a, b: True) == {k: (1, "x") for k in "xyz"}
    assert assign_ranks(list("xyz"), lambda a, b: False) == {"x": (1, "x"), "y": (2, "y"), "z": (3, "z")}


def test_overlap():
    assert overlap((0, 1), (1, 2)) and overlap((0, 3), (1, 2)) and overlap((1, 2), (0, 3))
    assert not overlap((0, 1), (1.01, 2)) and not overlap((2, 3), (0, 1))


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    masks, good, near, bad = [], [], [], []
    for _ in range(n):
        m = np.zeros((24, 24), bool)
        y, x = rng.integers(2, 20, size=2)
        m[y : y + 3, x : x + 3] = True
        noise = rng.uniform(0, 0.3, m.shape).astype(np.float32)
        masks.append(m)
        good.append(np.where(m, 0.95, noise * 0.5).astype(np.float32))
        near.append(np.where(m, 0.93, noise * 0.5).astype(np.float32))
        bad.append(np.where(m, rng.uniform(0.2, 0.7), noise * 2.5).clip(0, 1).astype(np.float32))
    return masks, {"good": good, "near": near, "bad": bad}


def test_tied_ranks_on_results():
    masks, preds = _data()
    results = {k: hse.evaluate(v, masks) for k, v in preds.items()}
    rows = tied_ranks(results, n=400, seed=1)
    by = {r["method"]: r for r in rows}
    assert [r["method"] for r in rows] == sorted(results, key=lambda k: -results[k].hse)
    assert rows[0]["rank"] == 1 and rows[0]["leader"] == rows[0]["method"] and rows[0]["p_vs_leader"] is None
    leader = rows[0]["method"]
    # Each decision follows the rule, recomputed here from hse.stats directly.
    iv = {k: bootstrap(r, n=400, seed=1)["hse"] for k, r in results.items()}
    current = leader
    for r in rows[1:]:
        cmp = compare(results[current], results[r["method"]], n=400, seed=1)
        both = overlap((iv[current].low, iv[current].high), (iv[r["method"]].low, iv[r["method"]].high))
        tied = not cmp.significant("hse")
        assert r["leader"] == (current if tied else r["method"])
        current = r["leader"]
        if tied:
            assert r["p_vs_leader"] == pytest.approx(cmp["hse"].p_value) and r["ci_overlap"] == both
            assert r["paired"] is True
        assert r["hse_low"] == pytest.approx(iv[r["method"]].low)
    # The clearly worse method does not share rank 1; the near copy of the best one does.
    assert {leader, "bad"} != {leader} and by["bad"]["rank"] == 3 and by["bad"]["leader"] == "bad"
    assert {by["good"]["rank"], by["near"]["rank"]} == {1}


def test_tied_ranks_identical_methods_and_refusal():
    masks, preds = _data(n=12, seed=2)
    results = {"a": hse.evaluate(preds["good"], masks), "b": hse.evaluate(preds["good"], masks)}
    rows = tied_ranks(results, n=200)
    assert [r["rank"] for r in rows] == [1, 1] and rows[1]["p_vs_leader"] == pytest.approx(1.0)
    with pytest.raises(InputError):
        tied_ranks({})


def test_leaderboard_rows_carry_the_tied_rank():
    from hse.leaderboard import leaderboard_rows, render_csv, render_markdown

    masks, preds = _data(n=30, seed=4)
    results = {k: hse.evaluate(v, masks) for k, v in preds.items()}
    rows = leaderboard_rows(results, ci_n=300)
    expected = {r["method"]: r["rank"] for r in tied_ranks(results, n=300)}
    assert {r["method"]: r["rank_tied"] for r in rows} == expected
    assert "| rank (ties) |" in render_markdown(rows)
    header, *lines = render_csv(rows).splitlines()
    assert header.endswith(",rank_tied") and [ln.rsplit(",", 1)[1] for ln in lines] == [
        str(expected[r["method"]]) for r in rows
    ]
    assert all("rank_tied" not in r for r in leaderboard_rows(results, ci=False))
