"""Bootstrap intervals and paired comparisons (hse.stats), hse-score --ci, hse-compare, leaderboard marks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import hse
from hse.cli.compare import main as compare_main
from hse.cli.score import main as score_main
from hse.demo import make_demo, synthetic_counters
from hse.errors import InputError
from hse.leaderboard import leaderboard_rows, render_markdown
from hse.result import Result
from hse.state import EvalState
from hse.stats import (
    SCORES,
    bootstrap,
    compare,
    p_value,
    point_scores,
    resample_counts,
    resampled_scores,
)

# the folder fixture and a few tests use fewer than 10 images on purpose; the warning is tested below
few_images_ok = pytest.mark.filterwarnings("ignore:.*fewer than 10 images are unreliable:UserWarning")

# --------------------------------------------------------------------------------------------------
# synthetic counters
# --------------------------------------------------------------------------------------------------


SETTINGS = hse.EvalConfig.create().settings()


def synthetic(n: int, seed: int = 0, quality: float = 0.0) -> Result:
    return Result(synthetic_counters(n, np.random.default_rng(seed), quality), SETTINGS)


def subset(result: Result, index: np.ndarray, names: list[str] | None = None) -> Result:
    s = result.state
    state = EvalState(
        names if names is not None else [s.names[i] for i in index],
        {k: v[index] for k, v in s.curves.items()},
        {k: v[index] for k, v in s.scalars.items()},
    )
    return Result(state, result.settings)


# --------------------------------------------------------------------------------------------------
# bootstrap
# --------------------------------------------------------------------------------------------------


def test_coverage_by_simulation():
    """95% intervals cover the population score in about 95% of repeated samples."""
    population = synthetic(4000, seed=1)
    truth = point_scores(population)
    rng = np.random.default_rng(2)
    reps, n_images = 200, 60
    covered = {key: 0 for key in ("hse", "hse_pixel", "hse_target", "iou", "pd")}
    for rep in range(reps):
        idx = rng.integers(0, population.n_images, n_images)
        sample = subset(population, idx, names=[f"s{i}" for i in range(n_images)])
        boot = bootstrap(sample, n=400, seed=rep)
        for key in covered:
            covered[key] += boot[key].low <= truth[key] <= boot[key].high
    rates = {key: c / reps for key, c in covered.items()}
    for key, rate in rates.items():
        assert 0.88 <= rate <= 0.99, (key, rates)


def test_all_ones_weights_reproduce_the_point_estimate():
    res = synthetic(214, seed=3)
    point = point_scores(res)
    scores = resampled_scores(res, np.ones((4, res.n_images)))
    for key in SCORES:
        assert scores[key].shape == (4,)
        if key == "niou":  # a sum of per-image floats: BLAS may add them in another order
            np.testing.assert_allclose(scores[key], point[key], rtol=1e-14, atol=0)
        else:
            assert np.all(scores[key] == point[key]), key
    assert point["hse"] == res.hse and point["iou"] == res.at(res.threshold)["iou"]
    one = resampled_scores(res, np.ones(res.n_images))
    assert float(one["hse"]) == res.hse


def test_resampling_counts():
    counts = np.concatenate(list(resample_counts(np.random.default_rng(0), 214, 1000)))
    assert counts.shape == (1000, 214)
    assert np.all(counts.sum(axis=1) == 214) and np.all(counts >= 0)
    assert np.all(counts == np.round(counts))
    # each image appears once per draw on average
    assert abs(counts.mean() - 1.0) < 0.01


def test_same_seed_same_intervals_and_json():
    res = synthetic(80, seed=4)
    a, b = bootstrap(res, n=300, seed=7), bootstrap(res, n=300, seed=7)
    assert a.to_dict() == b.to_dict()
    assert all(np.array_equal(a.draws[k], b.draws[k]) for k in SCORES)
    c = bootstrap(res, n=300, seed=8)
    assert c.to_dict() != a.to_dict()
    d = json.loads(json.dumps(a.to_dict()))
    assert d["n"] == 300 and d["seed"] == 7 and d["level"] == 0.95 and d["n_images"] == 80
    assert set(d["scores"]) == set(SCORES)
    for key, entry in d["scores"].items():
        assert set(entry) == {"estimate", "low", "high"}
        assert entry["low"] <= entry["estimate"] <= entry["high"] or key == "fa", (key, entry)


def test_intervals_shrink_with_more_images():
    small, large = synthetic(30, seed=5), synthetic(480, seed=5)
    bs, bl = bootstrap(small, n=500), bootstrap(large, n=500)
    for key in ("hse", "hse_pixel", "hse_target", "iou", "niou"):
        ws, wl = bs[key].high - bs[key].low, bl[key].high - bl[key].low
        assert wl < 0.5 * ws, (key, ws, wl)  # sqrt(480 / 30) = 4 expected


@few_images_ok
def test_level_widens_interval_and_accepts_metric_and_dict():
    names, preds, masks = make_demo(n_images=6, size=40, seed=2)
    metric = hse.HSEMetric()
    for n, p, m in zip(names, preds, masks, strict=True):
        metric.update(p, m, name=n)
    res = metric.compute()
    b95 = bootstrap(metric, n=200)
    b80 = bootstrap(res.to_dict(include_state=True), n=200, level=0.8)
    assert b95["hse"].estimate == b80["hse"].estimate == res.hse
    assert b80["hse"].high - b80["hse"].low <= b95["hse"].high - b95["hse"].low


@pytest.mark.parametrize(
    "kwargs", [{"n": 0}, {"n": 2.5}, {"level": 1.0}, {"level": 0.0}, {"level": "x"}, {"seed": -1}]
)
def test_bad_options(kwargs):
    with pytest.raises(InputError):
        bootstrap(synthetic(5), **kwargs)


def test_result_without_state_is_refused():
    with pytest.raises(InputError, match="per-image state"):
        bootstrap(synthetic(5).to_dict(include_state=False))


# --------------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------------


def test_method_against_itself_is_exactly_zero_with_p_one():
    res = synthetic(50, seed=6)
    shuffled = subset(res, np.random.default_rng(0).permutation(50))
    for other in (res, shuffled):
        cmp = compare(res, other, n=300, seed=1)
        for key in SCORES:
            d = cmp[key]
            assert d.diff == 0.0 and d.low == 0.0 and d.high == 0.0 and d.p_value == 1.0, key
            assert np.all(cmp.draws[key] == 0.0)
        assert not cmp.significant("hse")


def test_order_of_images_does_not_matter():
    a, b = synthetic(60, seed=7), synthetic(60, seed=7, quality=0.05)
    perm = np.random.default_rng(1).permutation(60)
    assert compare(a, b, n=200).to_dict() == compare(a, subset(b, perm), n=200).to_dict()


def test_paired_difference_detects_a_better_method():
    a, b = synthetic(200, seed=8, quality=0.15), synthetic(200, seed=8)
    cmp = compare(a, b, n=500)
    assert cmp["hse"].diff > 0 and cmp["hse"].low > 0 and cmp["hse"].p_value < 0.01
    assert cmp.significant("hse") and cmp.paired
    d = json.loads(json.dumps(cmp.to_dict()))
    assert d["paired"] is True and set(d["scores"]["hse"]) == {"a", "b", "diff", "low", "high", "p_value"}
    # the paired test is sharper than the unpaired one on the same data
    unpaired = compare(a, b, n=500, paired=False)
    width = cmp["hse"].high - cmp["hse"].low
    assert width < unpaired["hse"].high - unpaired["hse"].low


def test_paired_interval_covers_the_population_difference():
    """Two detectors on the same 4000-image population: the paired interval of their difference on
    samples of 60 images covers the population difference in about 95% of the samples."""
    sa = synthetic_counters(4000, np.random.default_rng(1))
    sb = synthetic_counters(4000, np.random.default_rng(99), quality=0.03)
    sb.scalars = {k: v.copy() for k, v in sa.scalars.items()}  # same ground truth, own detections
    sb.curves["pix_tp"] = np.minimum(sb.curves["pix_tp"], sa.scalars["n_gt_pixels"][:, None])
    sb.curves["tgt_matched"] = np.minimum(sb.curves["tgt_matched"], sa.scalars["n_targets"][:, None])
    sb.curves["tgt_components"] = np.maximum(sb.curves["tgt_components"], sb.curves["tgt_matched"])
    a, b = Result(sa, SETTINGS), Result(sb, SETTINGS)
    pa, pb = point_scores(a), point_scores(b)
    rng = np.random.default_rng(5)
    reps, n_images = 150, 60
    names = [f"s{i}" for i in range(n_images)]
    covered = {key: 0 for key in ("hse", "iou", "pd")}
    for rep in range(reps):
        idx = rng.integers(0, 4000, n_images)
        cmp = compare(subset(a, idx, names), subset(b, idx, names), n=400, seed=rep)
        for key in covered:
            covered[key] += cmp[key].low <= pa[key] - pb[key] <= cmp[key].high
    rates = {key: c / reps for key, c in covered.items()}
    assert all(0.86 <= r <= 0.99 for r in rates.values()), rates


def test_p_value_definition():
    assert p_value(np.zeros(10)) == 1.0
    assert p_value(np.array([1.0, 2.0, 3.0, 4.0])) == 0.0
    assert p_value(np.array([-1.0, 1.0, 2.0, 3.0])) == 0.5  # 2 x min(1/4, 3/4)
    assert p_value(np.array([0.0, 1.0, 2.0, 3.0])) == 0.5  # a zero counts on both sides
    assert p_value(np.array([-1.0, 1.0])) == 1.0  # capped at 1
    assert np.isnan(p_value(np.array([np.nan])))


def test_compare_refuses_different_image_sets():
    a = synthetic(20, seed=9)
    b = subset(a, np.arange(2, 20))
    with pytest.raises(InputError, match=r"2 only in a \(img0, img1\)"):
        compare(a, b)
    c = subset(a, np.arange(20), names=[f"img{i}" for i in range(19)] + ["other"])
    with pytest.raises(InputError, match=r"only in a \(img19\).*only in b \(other\)"):
        compare(a, c)
    # unpaired needs no common images, nor the same number (blocks of draws differ in size with it)
    assert not compare(a, b, n=50, paired=False).paired
    assert compare(a, synthetic(3000, seed=2), n=300, paired=False)["hse"].p_value > 0


def test_compare_refuses_different_settings_and_truth():
    a = synthetic(20, seed=10)
    settings = dict(SETTINGS, match="optimal")
    with pytest.raises(InputError, match="match"):
        compare(a, Result(a.state, settings))
    state = synthetic_counters(20, np.random.default_rng(11))
    with pytest.raises(InputError, match="different ground truth"):
        compare(a, Result(state, SETTINGS))
    assert compare(a, Result(state, SETTINGS), n=50, check_truth=False).n_images == 20


# --------------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def folders(tmp_path):
    """A mask folder and two prediction folders (a soft detector and a sharper one) as 8-bit PNGs."""
    names, preds, masks = make_demo(n_images=8, size=40, seed=3)
    dirs = {k: tmp_path / k for k in ("masks", "a", "b")}
    for d in dirs.values():
        d.mkdir()
    for n, p, m in zip(names, preds, masks, strict=True):
        Image.fromarray(m.astype(np.uint8) * 255).save(dirs["masks"] / f"{n}.png")
        Image.fromarray(np.round(p * 255).astype(np.uint8)).save(dirs["a"] / f"{n}.png")
        Image.fromarray(np.round(np.clip(p * 1.3 - 0.2, 0, 1) * 255).astype(np.uint8)).save(
            dirs["b"] / f"{n}.png"
        )
    return dirs


@few_images_ok
def test_score_ci_adds_ci_object_and_jobs_do_not_matter(folders, tmp_path, capsys):
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.json"
        argv = [str(folders["a"]), str(folders["masks"]), "--ci", "--ci-n", "300", "--jobs", jobs]
        assert score_main(argv + ["--json", str(out)]) == 0
        outs.append(json.loads(out.read_text()))
    printed = capsys.readouterr().out
    assert "Bootstrap 95% intervals (300 draws over 8 images, seed 0" in printed
    assert outs[0]["ci"] == outs[1]["ci"] and outs[0]["state"] == outs[1]["state"]
    ci = outs[0]["ci"]
    assert ci["n"] == 300 and ci["seed"] == 0 and ci["level"] == 0.95
    assert ci["scores"]["hse"]["estimate"] == outs[0]["hse"]
    assert set(ci["scores"]) == set(SCORES)
    # the file rebuilds the result, and its bootstrap is the CLI's
    again = bootstrap(Result.from_dict(outs[0]), n=300)
    assert json.loads(json.dumps(again.to_dict())) == ci


def test_score_without_ci_and_no_state(folders, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert score_main([str(folders["a"]), str(folders["masks"]), "-q", "--json", str(out), "--no-state"]) == 0
    d = json.loads(out.read_text())
    assert "ci" not in d and "state" not in d
    with pytest.raises(SystemExit) as exc:
        score_main(["--demo", "--ci-n", "10"])
    assert exc.value.code == 2
    assert "need --ci" in capsys.readouterr().err


@few_images_ok
def test_compare_command_on_json_files(folders, tmp_path, capsys):
    ja, jb = tmp_path / "a.json", tmp_path / "b.json"
    assert score_main([str(folders["a"]), str(folders["masks"]), "-q", "--json", str(ja)]) == 0
    assert score_main([str(folders["b"]), str(folders["masks"]), "-q", "--json", str(jb)]) == 0
    out = tmp_path / "cmp.json"
    assert compare_main([str(ja), str(jb), "--ci-n", "200", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "8 paired images, 200 paired bootstrap draws" in text and "A - B" in text
    d = json.loads(out.read_text())
    expected = compare(Result.from_dict(json.loads(ja.read_text())), load(jb), n=200)
    assert d["scores"]["hse"]["diff"] == pytest.approx(expected["hse"].diff, abs=0)
    assert f"{expected['hse'].diff:+.4f}" in text
    # the same through prediction folders
    assert (
        compare_main(
            ["--masks", str(folders["masks"]), str(folders["a"]), str(folders["b"]), "--ci-n", "200"]
        )
        == 0
    )
    assert f"{expected['hse'].diff:+.4f}" in capsys.readouterr().out
    # an identical pair
    assert compare_main([str(ja), str(ja), "-q"]) == 0


def load(path):
    return Result.from_dict(json.loads(path.read_text()))


def test_compare_command_errors_exit_2(folders, tmp_path, capsys):
    ja, jb = tmp_path / "a.json", tmp_path / "b.json"
    assert score_main([str(folders["a"]), str(folders["masks"]), "-q", "--json", str(ja)]) == 0
    split = tmp_path / "split.txt"
    split.write_text("demo_01\ndemo_02\ndemo_03\n")
    argv = [str(folders["b"]), str(folders["masks"]), "-q", "--split", str(split), "--json", str(jb)]
    assert score_main(argv) == 0
    assert compare_main([str(ja), str(jb)]) == 2
    err = capsys.readouterr().err
    assert "hse-compare: error:" in err and "only in a" in err and "demo_04" in err and "Traceback" not in err
    nostate = tmp_path / "n.json"
    assert (
        score_main([str(folders["b"]), str(folders["masks"]), "-q", "--json", str(nostate), "--no-state"])
        == 0
    )
    assert compare_main([str(ja), str(nostate)]) == 2
    assert "without its per-image state" in capsys.readouterr().err
    assert compare_main([str(ja), str(tmp_path / "missing.json")]) == 2
    assert compare_main([str(ja), str(ja), "--split", str(split)]) == 2  # scoring options need --masks
    with pytest.raises(SystemExit) as exc:
        compare_main([str(ja)])
    assert exc.value.code == 2


def test_entry_point_wiring():
    from hse.cli.compare import main as wired

    with pytest.raises(SystemExit) as exc:
        wired(["--version"])
    assert exc.value.code == 0


# --------------------------------------------------------------------------------------------------
# leaderboard
# --------------------------------------------------------------------------------------------------


def test_leaderboard_interval_column_and_ties():
    a = synthetic(100, seed=12)
    results = {
        "same-as-a": subset(a, np.arange(100)),
        "a": a,
        "much-better": synthetic(100, seed=12, quality=0.3),
    }
    rows = leaderboard_rows(results, ci_n=300)
    by = {r["method"]: r for r in rows}
    assert rows[0]["method"] == "much-better" and rows[0]["p_vs_above"] is None
    for r in rows:
        assert r["hse_low"] <= r["hse"] <= r["hse_high"]
    second = rows[1]
    assert second["paired_vs_above"] is True and second["tied_with_above"] is False
    assert second["p_vs_above"] < 0.05
    third = rows[2]
    assert third["p_vs_above"] == 1.0 and third["tied_with_above"] is True
    md = render_markdown(rows)
    assert "HSE 95% CI" in md and "vs above (p)" in md and "paired" in md
    assert f"[{by['a']['hse_low']:.4f}, {by['a']['hse_high']:.4f}]" in md
    assert "1.000 n.s." in md
    # without state (a plain dict) there is no interval, and the table still renders
    rows = leaderboard_rows({"x": a.to_dict(include_state=False), "y": a}, ci_n=50)
    assert {r["method"]: r["hse_low"] is None for r in rows} == {"x": True, "y": False}
    assert "| - |" in render_markdown(rows)
    assert "HSE 95% CI" not in render_markdown(leaderboard_rows({"y": a}, ci=False))


# --------------------------------------------------------------------------------------------------
# resolution of p and tiny test sets
# --------------------------------------------------------------------------------------------------


def test_p_zero_from_few_draws_is_a_bound_and_never_significant(tmp_path, capsys):
    from hse.report import format_comparison, format_p

    a, better = synthetic(100, seed=12), synthetic(100, seed=12, quality=0.3)
    assert format_p(0.0, 1000) == "< 0.002" and format_p(0.0, 10) == "< 0.2"
    few = compare(better, a, n=10)
    assert few["hse"].p_value == 0.0
    assert not few.significant("hse") and "too few draws" in few.blocker
    text = format_comparison(few)
    hse_row = next(line for line in text.splitlines() if line.strip().startswith("HSE "))
    assert hse_row.endswith("< 0.2  n.s.") and "too few draws" in text
    assert few.to_dict()["significant"]["hse"] is False and few.to_dict()["p_resolution"] == 0.2
    many = compare(better, a, n=1000)
    assert many["hse"].p_value == 0.0 and many.significant("hse") and many.blocker is None
    assert "< 0.002" in format_comparison(many) and "too few" not in format_comparison(many)
    # the command line, --ci-n 10
    ja, jb = tmp_path / "a.json", tmp_path / "b.json"
    ja.write_text(better.to_json(include_state=True))
    jb.write_text(a.to_json(include_state=True))
    assert compare_main([str(ja), str(jb), "--ci-n", "10", "--json", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    assert "too few draws" in out and "< 0.2  n.s." in out
    d = json.loads((tmp_path / "c.json").read_text())
    assert d["significant"]["hse"] is False and "too few draws" in d["significance_blocked"]


def test_leaderboard_with_20_draws_marks_nothing_significant():
    a, better = synthetic(100, seed=12), synthetic(100, seed=12, quality=0.3)
    rows = leaderboard_rows({"a": a, "better": better}, ci_n=20)
    assert rows[1]["p_vs_above"] == 0.0 and rows[1]["tied_with_above"] is True
    md = render_markdown(rows)
    assert "< 0.1 n.s." in md and "too few draws" in md
    rows = leaderboard_rows({"a": a, "better": better}, ci_n=1000)
    assert rows[1]["tied_with_above"] is False and "< 0.002 |" in render_markdown(rows)


def test_tiny_test_sets():
    one, two = synthetic(1), synthetic(2, seed=1)
    with pytest.raises(InputError, match="at least 2"):
        bootstrap(one, n=50)
    with pytest.raises(InputError, match="at least 2"):
        compare(one, one, n=50)
    with pytest.warns(UserWarning, match="fewer than 10 images are unreliable"):
        bootstrap(two, n=50)
    a = synthetic(6, seed=2)
    better = synthetic(6, seed=2, quality=0.5)
    with pytest.warns(UserWarning, match="only 6 images"):
        cmp = compare(better, a, n=1000)
    assert not any(cmp.significant(k) for k in SCORES) and "too few images" in cmp.blocker
    # the leaderboard: no interval for one image, one warning for few images, no significance
    with pytest.warns(UserWarning, match="fewer than 10 images"):
        rows = leaderboard_rows({"a": a, "better": better, "one": one}, ci_n=200)
    by = {r["method"]: r for r in rows}
    assert by["one"]["hse_low"] is None and by["a"]["hse_low"] is not None
    assert by["a"]["tied_with_above"] is True or by["a"]["p_vs_above"] is None
    assert "fewer than 10 images and are unreliable" in render_markdown(rows)


def test_score_ci_on_tiny_sets(tmp_path, capsys):
    names, preds, masks = make_demo(n_images=3, size=32, seed=1)
    for k in ("p", "m", "p1", "m1"):
        (tmp_path / k).mkdir()
    for i, (n, p, m) in enumerate(zip(names, preds, masks, strict=True)):
        for pd, md in (("p", "m"),) + ((("p1", "m1"),) if i == 0 else ()):
            Image.fromarray(np.round(p * 255).astype(np.uint8)).save(tmp_path / pd / f"{n}.png")
            Image.fromarray(m.astype(np.uint8) * 255).save(tmp_path / md / f"{n}.png")
    assert score_main([str(tmp_path / "p"), str(tmp_path / "m"), "--ci", "--ci-n", "50"]) == 0
    cap = capsys.readouterr()
    assert "only 3 images" in cap.out and "warning:" in cap.err and "unreliable" in cap.err
    assert score_main([str(tmp_path / "p1"), str(tmp_path / "m1"), "--ci", "--ci-n", "50"]) == 2
    assert "at least 2" in capsys.readouterr().err
    assert compare_main(["--masks", str(tmp_path / "m1"), str(tmp_path / "p1"), str(tmp_path / "p1")]) == 2
    assert "at least 2" in capsys.readouterr().err


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["state"].__setitem__("names", list(range(len(d["state"]["names"])))),
        lambda d: d["state"]["pix_tp"][0].__setitem__(0, 2**70),
        lambda d: d["state"]["pix_tp"][0].__setitem__(0, 1.5),
        lambda d: d["settings"].__setitem__("evaluation_grid", d["settings"]["evaluation_grid"][::-1]),
        lambda d: d["settings"].__setitem__("evaluation_grid", [0.5] * len(d["settings"]["evaluation_grid"])),
        lambda d: d.__setitem__("state", None),
        lambda d: d.__setitem__("settings", [1, 2]),
    ],
    ids=[
        "int-names",
        "overflow",
        "float-counter",
        "reversed-grid",
        "flat-grid",
        "null-state",
        "list-settings",
    ],
)
def test_hand_edited_result_files_are_input_errors(tmp_path, capsys, edit):
    good = tmp_path / "good.json"
    good.write_text(synthetic(12).to_json(include_state=True))
    d = json.loads(good.read_text())
    edit(d)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(InputError, match="bad.json"):
        hse.stats.load_result(bad)
    assert compare_main([str(good), str(bad), "--ci-n", "20"]) == 2
    err = capsys.readouterr().err
    assert "hse-compare: error:" in err and "bad.json" in err and "Traceback" not in err


def test_compare_json_output_paths(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(synthetic(12).to_json(include_state=True))
    (tmp_path / "afile").write_text("x")
    assert compare_main([str(good), str(good), "--json", str(tmp_path / "afile" / "x.json")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    before = good.read_text()
    assert compare_main([str(good), str(good), "--json", str(good)]) == 2
    assert "is an input file" in capsys.readouterr().err and good.read_text() == before
    assert compare_main([str(good), str(good), "--json", str(tmp_path / ("x" * 300))]) == 2
    assert "File name too long" in capsys.readouterr().err
