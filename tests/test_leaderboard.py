"""hse-leaderboard: configuration, tables, cache."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import hse
from hse.cli.leaderboard import main
from hse.demo import make_demo
from hse.errors import InputError
from hse.leaderboard import (
    leaderboard_rows,
    load_config,
    render_markdown,
    write_leaderboard,
)

REPO = Path(__file__).resolve().parents[1]
N_FILES = 6


@pytest.fixture
def small_board(shared_dir, tmp_path):
    """A copy of a few ALCL-Net / MLCL-Net predictions and a config over them."""
    src = shared_dir / "predictions"
    for method in ("alcl-net", "mlcl-net"):
        for sub in ("pred", "gt512"):
            (tmp_path / method / sub).mkdir(parents=True)
            for k in range(N_FILES):
                shutil.copy(src / method / sub / f"{k}.png", tmp_path / method / sub / f"{k}.png")
    cfg = tmp_path / "board.toml"
    cfg.write_text(
        """
title = "small"
[settings]
thresholds = "0.1:0.9:0.2"
[[datasets]]
name = "tiny"
masks = "alcl-net/gt512"
[[methods]]
name = "ALCL-Net"
note = "hard masks"
[methods.predictions]
tiny = "alcl-net/pred"
[methods.published.tiny]
iou = 70.0
pd = 95.5
fa = 10.0
[[methods]]
name = "MLCL-Net"
[methods.predictions]
tiny = { pred = "mlcl-net/pred", masks = "mlcl-net/gt512" }
"""
    )
    return cfg


def _lines(err: str, word: str) -> list[str]:
    return [line for line in err.splitlines() if f": {word} (" in line]


@pytest.mark.shared
def test_cache_skips_unchanged_and_rescores_changed(small_board, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(small_board), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert len(_lines(err, "scored")) == 2 and not _lines(err, "cached")
    for name in ("leaderboard.md", "tiny.md", "tiny.csv", "tiny.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    assert len(list((out / ".cache").glob("*.json"))) == 2

    assert main([str(small_board), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert len(_lines(err, "cached")) == 2 and not _lines(err, "scored")

    # change one prediction of MLCL-Net: only MLCL-Net is rescored
    p = tmp_path / "mlcl-net" / "pred" / "0.png"
    a = np.array(Image.open(p))
    a[:8, :8] = 255
    Image.fromarray(a).save(p)
    assert main([str(small_board), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert [line.split("/ ")[1].split(":")[0] for line in _lines(err, "scored")] == ["MLCL-Net"]
    assert [line.split("/ ")[1].split(":")[0] for line in _lines(err, "cached")] == ["ALCL-Net"]

    assert main([str(small_board), "--out", str(out), "--force"]) == 0
    err = capsys.readouterr().err
    assert len(_lines(err, "scored")) == 2

    rows = list(csv.DictReader((out / "tiny.csv").open()))
    assert [r["method"] for r in rows] and {r["method"] for r in rows} == {"ALCL-Net", "MLCL-Net"}
    alcl = next(r for r in rows if r["method"] == "ALCL-Net")
    assert float(alcl["published_iou_percent"]) == 70.0 and alcl["n_images"] == str(N_FILES)
    md = (out / "tiny.md").read_text()
    assert "published IoU (%) (diff)" in md and "70.00 (" in md and "hard masks" in md


@pytest.mark.shared
def test_cached_result_equals_fresh(small_board, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(small_board), "--out", str(out), "-q"]) == 0
    first = (out / "tiny.csv").read_text()
    assert main([str(small_board), "--out", str(out), "-q"]) == 0
    assert (out / "tiny.csv").read_text().replace("true", "false") == first.replace("true", "false")


@pytest.mark.shared
def test_error_leaves_no_outputs(small_board, tmp_path, capsys):
    (tmp_path / "mlcl-net" / "pred" / "3.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    assert main([str(small_board), "--out", str(out)]) == 2
    assert "3.png" in capsys.readouterr().err
    assert not (out / "leaderboard.md").exists() and not (out / "tiny.md").exists()


@pytest.mark.shared
def test_example_config_loads(shared_dir):
    cfg = load_config(REPO / "examples" / "leaderboard.toml")
    assert [m.name for m in cfg.methods] == ["ALCL-Net", "MLCL-Net"]
    for m in cfg.methods:
        for inp in m.predictions.values():
            assert inp.pred.is_dir() and inp.masks is not None and inp.masks.is_dir()
        assert "flat" in m.note


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[[datasets]\n", "invalid TOML"),
        ("[settings]\nthreshold = 0.5\n", "[[datasets]]"),
        ('bogus = 1\n[[datasets]]\nname = "d"\nmasks = "m"\n', "bogus"),
        (
            '[[datasets]]\nname = "d"\nmasks = "m"\n[[methods]]\nname = "x"\n[methods.predictions]\nother = "p"\n',
            "unknown dataset 'other'",
        ),
        (
            '[[datasets]]\nname = "d"\n[[methods]]\nname = "x"\n[methods.predictions]\nd = "p"\n',
            "has no masks",
        ),
        (
            '[settings]\nmatch = "best"\n[[datasets]]\nname = "d"\nmasks = "m"\n',
            "settings.match",
        ),
    ],
)
def test_bad_configs(tmp_path, text, fragment, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(InputError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        load_config(cfg)
    assert main([str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


_METHOD = '[[methods]]\nname = "x"\n[methods.predictions]\nd = "p"\n'


@pytest.mark.parametrize(
    "text, fragment",
    [
        (
            '[[datasets]]\nname = "d"\nmasks = "m"\nmask_threshold = nan\n' + _METHOD,
            "datasets[0].mask_threshold",
        ),
        (
            '[[datasets]]\nname = "d"\nmasks = "m"\nmask_threshold = inf\n' + _METHOD,
            "datasets[0].mask_threshold",
        ),
        ('[settings]\nradius = inf\n[[datasets]]\nname = "d"\nmasks = "m"\n' + _METHOD, "settings.radius"),
        ('[settings]\nradius = -1\n[[datasets]]\nname = "d"\nmasks = "m"\n' + _METHOD, "settings.radius"),
        (
            '[settings]\nthreshold = nan\n[[datasets]]\nname = "d"\nmasks = "m"\n' + _METHOD,
            "settings.threshold",
        ),
        (
            '[settings]\nthresholds = [0.1, nan]\n[[datasets]]\nname = "d"\nmasks = "m"\n' + _METHOD,
            "settings.thresholds",
        ),
        (
            '[[datasets]]\nname = "d"\nmasks = "m"\n' + _METHOD + "[methods.published.d]\niou = -inf\n",
            "published.d.iou",
        ),
        ('[[datasets]]\nname = "leaderboard"\nmasks = "m"\n', "datasets[0].name 'leaderboard'"),
        ('[[datasets]]\nname = "LeaderBoard"\nmasks = "m"\n', "combined table"),
        (
            '[[datasets]]\nname = "a b"\nmasks = "m"\n[[datasets]]\nname = "a-b"\nmasks = "m"\n',
            "datasets[1].name 'a-b' and dataset 'a b' both write the files a-b.md",
        ),
    ],
)
def test_non_finite_numbers_and_colliding_names(tmp_path, text, fragment, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(InputError, match=re.escape(fragment)):
        load_config(cfg)
    assert main([str(cfg), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and fragment in err and str(cfg) in err


def test_missing_config(tmp_path, capsys):
    assert main([str(tmp_path / "nope.toml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_write_leaderboard_without_config(tmp_path):
    names, preds, masks = make_demo(n_images=4, size=48, seed=5)
    results = {
        "soft": hse.evaluate(preds, masks, names=names),
        "hard": hse.evaluate([p > 0.5 for p in preds], masks, names=names),
    }
    paths = write_leaderboard(
        results,
        tmp_path / "lb",
        published={"soft": {"iou": 50.0, "pd": 90.0, "fa": 5.0}},
        notes={"hard": "binarised at 0.5"},
    )
    assert [p.name for p in paths] == ["leaderboard.md", "leaderboard.csv", "leaderboard.png"]
    assert all(p.stat().st_size > 0 for p in paths)
    md = paths[0].read_text()
    assert md.index("| 1 |") < md.index("| 2 |")
    rows = leaderboard_rows(results, published={"soft": {"iou": 50.0}})
    assert rows[0]["hse"] >= rows[1]["hse"] and rows[0]["rank"] == 1
    soft = next(r for r in rows if r["method"] == "soft")
    text = render_markdown(rows)
    expected = f"50.00 ({soft['iou'] * 100 - 50.0:+.2f})"
    assert expected in text
    assert "nIoU (%)" in text and "Fa (x1e-6)" in text


@pytest.mark.shared
def test_mask_fixes_are_used_and_reported(shared_dir, tmp_path, capsys):
    nuaa = shared_dir / "data/nuaa-sirst"
    pred = tmp_path / "pred"
    pred.mkdir()
    shutil.copy(nuaa / "masks/Misc_1.png", pred / "Misc_1.png")
    shutil.copy(nuaa / "fixes/Misc_111.png", pred / "Misc_111.png")
    (tmp_path / "split.txt").write_text("Misc_1\r\nMisc_111")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""
[[datasets]]
name = "nuaa fixed"
masks = "{nuaa / "masks"}"
mask_fixes = "{nuaa / "fixes"}"
split = "split.txt"
[[methods]]
name = "oracle"
[methods.predictions]
"nuaa fixed" = "pred"
"""
    )
    out = tmp_path / "out"
    assert main([str(cfg), "--out", str(out), "-q"]) == 0
    md = (out / "nuaa-fixed.md").read_text()
    assert "Corrected masks used for 1 image(s) (Misc_111)" in md
    assert "| 1 | oracle | 1.0000 |" in md


# --------------------------------------------------------------------------------------------------
# bad paths, corrupt cache entries, cache validity
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def demo_board(tmp_path):
    """A one-dataset, one-method configuration over 4 synthetic images (no shared data)."""
    names, preds, masks = make_demo(n_images=4, size=32, seed=2)
    for sub in ("pred", "masks"):
        (tmp_path / sub).mkdir()
    for n, p, m in zip(names, preds, masks, strict=True):
        Image.fromarray(np.round(p * 255).astype(np.uint8)).save(tmp_path / "pred" / f"{n}.png")
        Image.fromarray(m.astype(np.uint8) * 255).save(tmp_path / "masks" / f"{n}.png")
    cfg = tmp_path / "board.toml"
    cfg.write_text(
        '[settings]\nthresholds = "0.1:0.9:0.2"\n[[datasets]]\nname = "demo"\nmasks = "masks"\n'
        '[[methods]]\nname = "M"\n[methods.predictions]\ndemo = "pred"\n'
    )
    return cfg


pytestmark = pytest.mark.filterwarnings("ignore:.*fewer than 10 images:UserWarning")


def test_bad_output_and_config_paths_exit_2(demo_board, tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("x")

    def boom(*a, **k):
        raise AssertionError("scored although the output folder was unusable")

    monkeypatch.setattr(hse, "evaluate", boom)
    for out in (tmp_path / "afile", tmp_path / "afile" / "sub", tmp_path / ("z" * 300)):
        assert main([str(demo_board), "--out", str(out), "-q"]) == 2
        err = capsys.readouterr().err
        assert "hse-leaderboard: error:" in err and "Traceback" not in err, err
    assert main([str(tmp_path / ("c" * 300 + ".toml"))]) == 2
    err = capsys.readouterr().err
    assert "File name too long" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "entry",
    ["null", "[1, 2]", '"str"', "42", '{"format": "F", "key": "K", "result": null}', "RESULT_NAMES"],
)
def test_corrupt_cache_entry_is_rescored(demo_board, tmp_path, capsys, entry):
    out = tmp_path / "out"
    assert main([str(demo_board), "--out", str(out), "-q"]) == 0
    (cache,) = (out / ".cache").glob("*.json")
    payload = json.loads(cache.read_text())
    names = list(payload["result"]["state"]["names"])
    if entry == "RESULT_NAMES":
        payload["result"]["state"]["names"] = [1, 2, 3, 4]
        text = json.dumps(payload)
    else:
        text = entry.replace('"F"', json.dumps(payload["format"])).replace('"K"', json.dumps(payload["key"]))
    cache.write_text(text)
    assert main([str(demo_board), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "unreadable cache entry, rescoring" in err and "Traceback" not in err
    assert ": scored (" in err
    assert json.loads(cache.read_text())["result"]["state"]["names"] == names


def test_cache_entry_holds_settings_and_code_digest(demo_board, tmp_path, capsys, monkeypatch):
    import hse.leaderboard.cache as lb

    out = tmp_path / "out"
    assert main([str(demo_board), "--out", str(out), "-q"]) == 0
    (cache,) = (out / ".cache").glob("*.json")
    payload = json.loads(cache.read_text())
    assert payload["settings"]["thresholds"] == [0.1, 0.3, 0.5, 0.7, 0.9]
    assert payload["hse_version"] == hse.__version__
    assert payload["source_digest"] == lb.source_digest() and len(payload["source_digest"]) == 64
    # an entry whose stored settings differ is a miss (rescored), not used
    payload["settings"]["radius"] = 99.0
    cache.write_text(json.dumps(payload))
    assert main([str(demo_board), "--out", str(out)]) == 0
    assert ": scored (" in capsys.readouterr().err
    # edited hse sources (same version) give another key
    monkeypatch.setattr(lb, "_SOURCE_DIGEST", "0" * 64)
    assert main([str(demo_board), "--out", str(out)]) == 0
    assert ": scored (" in capsys.readouterr().err
    assert len(list((out / ".cache").glob("*.json"))) == 2


def test_errors_while_scoring_name_the_config(demo_board, tmp_path, capsys):
    a = np.zeros((32, 32), np.uint8)
    a[0, 0], a[1, 1] = 100, 255  # a mask with three values
    Image.fromarray(a).save(tmp_path / "masks" / "demo_01.png")
    assert main([str(demo_board), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{demo_board}: dataset 'demo', method 'M':" in err and "demo_01" in err


def _rewrite_entry(cache, edit, redigest: bool) -> None:
    from hse.leaderboard.cache import result_digest

    payload = json.loads(cache.read_text())
    edit(payload["result"])
    if redigest:  # as a careful forger would
        payload["result_digest"] = result_digest(payload["result"])
    cache.write_text(json.dumps(payload))


def _negative_fa(d):
    """Matched-component pixels above the predicted pixels at every threshold of one image: Fa < 0."""
    s = d["state"]
    s["tgt_matched_area"][0] = [tp + fp + 500 for tp, fp in zip(s["pix_tp"][0], s["pix_fp"][0], strict=True)]


@pytest.mark.parametrize(
    "edit, redigest, reason",
    [
        (lambda d: d.__setitem__("hse", 0.999), False, "digest"),
        (lambda d: d.__setitem__("hse", 0.999), True, "hse is 0.999"),
        (_negative_fa, True, "state.tgt_matched_area"),
    ],
)
def test_edited_cache_entry_is_never_reported_cached(demo_board, tmp_path, capsys, edit, redigest, reason):
    out = tmp_path / "out"
    assert main([str(demo_board), "--out", str(out), "-q"]) == 0
    before = (out / "demo.md").read_text()
    (cache,) = (out / ".cache").glob("*.json")
    _rewrite_entry(cache, edit, redigest)
    assert main([str(demo_board), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "unreadable cache entry, rescoring" in err and reason in err, err
    assert ": scored (" in err and ": cached (" not in err
    assert (out / "demo.md").read_text() == before
    assert main([str(demo_board), "--out", str(out)]) == 0  # the rewritten entry is used again
    assert ": cached (" in capsys.readouterr().err


def test_split_that_is_not_a_split_file_is_not_echoed(demo_board, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nTOKEN=abc123\n")
    text = demo_board.read_text().replace('masks = "masks"\n', f'masks = "masks"\nsplit = "{secret}"\n')
    demo_board.write_text(text)
    assert main([str(demo_board), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "secret.txt" in err and "line(s) 1, 2" in err, err
    assert "root" not in err.replace(str(tmp_path), "") and "abc123" not in err
    secret.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert main([str(demo_board), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "PNG" not in err and "Traceback" not in err
