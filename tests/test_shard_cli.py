"""``hse-score --shard K/N`` and ``hse-score merge``: the merged files are the unsharded run's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hse.cli import main
from hse.shard import parse_shard, shard_positions

REPO = Path(__file__).resolve().parents[1]
N_IMAGES = 7


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """Seven tiny PNG pairs with one or two targets, noise and a false alarm in some."""
    root = tmp_path_factory.mktemp("shard")
    rng = np.random.default_rng(3)
    p, m = root / "pred", root / "mask"
    p.mkdir()
    m.mkdir()
    for k in range(N_IMAGES):
        mask = np.zeros((16, 16), np.uint8)
        mask[3:6, 4:7] = 255
        if k % 2:
            mask[10:12, 10:13] = 255
        pred = (rng.random((16, 16)) * 90).astype(np.uint8)
        pred[mask > 0] = rng.integers(100, 256)
        if k % 3 == 0:
            pred[13:15, 1:3] = 200
        Image.fromarray(mask).save(m / f"img{k}.png")
        Image.fromarray(pred).save(p / f"img{k}.png")
    return p, m


def _score(capsys, *args) -> int:
    code = main([str(a) for a in args])
    capsys.readouterr()
    return code


def _shards(capsys, folders, out: Path, n: int, *extra) -> list[Path]:
    parts = []
    for k in range(1, n + 1):
        part = out / f"part_{k}_of_{n}.json"
        assert _score(capsys, *folders, "--shard", f"{k}/{n}", "--json", part, "-q", *extra) == 0
        parts.append(part)
    return parts


def _without_provenance(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.pop("merged_from", None)
    return data


def test_parse_shard_and_positions():
    assert parse_shard("2/4") == (2, 4) and parse_shard(" 1 / 1 ") == (1, 1)
    for bad in ("0/3", "4/3", "1/0", "a/b", "1", "-1/2"):
        with pytest.raises(ValueError, match="shard"):
            parse_shard(bad)
    assert shard_positions(7, 1, 3) == [0, 3, 6] and shard_positions(7, 3, 3) == [2, 5]
    together = sorted(i for k in range(1, 4) for i in shard_positions(7, k, 3))
    assert together == list(range(7))


@pytest.mark.parametrize("n", [1, 3, 7])
def test_merged_shards_equal_the_unsharded_run(folders, tmp_path, capsys, n):
    whole = tmp_path / "whole.json"
    options = ("--ci", "--ci-n", "200")
    assert _score(capsys, *folders, "--json", whole, "--csv", tmp_path / "whole.csv",
                  "--per-image", tmp_path / "whole_images.csv", *options) == 0  # fmt: skip
    parts = _shards(capsys, folders, tmp_path, n)
    merged = tmp_path / "merged.json"
    assert _score(capsys, "merge", *reversed(parts), "--json", merged, "--csv", tmp_path / "merged.csv",
                  "--per-image", tmp_path / "merged_images.csv", *options) == 0  # fmt: skip
    assert _without_provenance(merged) == _without_provenance(whole)
    assert json.loads(merged.read_text())["merged_from"] == [str(p) for p in reversed(parts)]
    assert (tmp_path / "merged.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    if n == 3:  # the figure too (the same figure code as hse-score)
        plot = tmp_path / "merged.png"
        assert _score(capsys, "merge", *parts, "--plot", plot, "-q") == 0
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "merged_images.csv").read_bytes() == (tmp_path / "whole_images.csv").read_bytes()
    part = json.loads(parts[0].read_text())
    assert part["shard"]["k"] == 1 and part["shard"]["n"] == n and part["shard"]["n_images_total"] == N_IMAGES
    assert part["state"]["indexes"] == shard_positions(N_IMAGES, 1, n)


def _refused(capsys, *args) -> str:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err


def test_missing_repeated_and_foreign_shards_are_refused(folders, tmp_path, capsys):
    p1, p2, p3 = _shards(capsys, folders, tmp_path, 3)
    err = _refused(capsys, "merge", p1, p3, "--json", tmp_path / "m.json")
    assert "shard(s) 2/3 missing" in err
    assert not (tmp_path / "m.json").exists()
    assert "shard 3/3 is given twice" in _refused(capsys, "merge", p1, p2, p3, p3)
    assert "is an input file" in _refused(capsys, "merge", p1, p2, p3, "--json", p2)

    other_n = tmp_path / "other_n"
    other_n.mkdir()
    q1, _ = _shards(capsys, folders, other_n, 2)
    assert "number of shards differs" in _refused(capsys, "merge", p1, p2, q1)

    other_thresholds = tmp_path / "t.json"
    assert (
        _score(
            capsys,
            *folders,
            "--shard",
            "2/3",
            "--thresholds",
            "0.1,0.5,0.9",
            "--json",
            other_thresholds,
            "-q",
        )
        == 0
    )
    assert "other settings" in _refused(capsys, "merge", p1, other_thresholds, p3)
    assert "thresholds" in _refused(capsys, "merge", p1, other_thresholds, p3)

    split = tmp_path / "split.txt"
    split.write_text("\n".join(f"img{k}" for k in range(N_IMAGES - 1)) + "\n")
    other_data = tmp_path / "d.json"
    assert _score(capsys, *folders, "--split", split, "--shard", "2/3", "--json", other_data, "-q") == 0
    assert "another run" in _refused(capsys, "merge", p1, other_data, p3)

    whole = tmp_path / "whole.json"
    assert _score(capsys, *folders, "--json", whole, "-q") == 0
    assert "not a shard" in _refused(capsys, "merge", whole)

    edited = json.loads(p2.read_text())
    edited["shard"]["k"] = 1
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    assert "given twice" in _refused(capsys, "merge", p1, tmp_path / "edited.json", p3)


def test_shard_usage_errors(folders, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*map(str, folders), "--shard", "1/3", "--compat", "basicirstd"])
    assert exc.value.code == 2 and "--compat" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main([*map(str, folders), "--shard", "3/2"])
    assert exc.value.code == 2 and "1 <= K <= N" in capsys.readouterr().err
    assert "shard 9 is empty" in _refused(capsys, *folders, "--shard", "9/9")
    assert "file not found" in _refused(capsys, "merge", tmp_path / "absent.json")


def test_merge_runs_as_a_subcommand_of_the_module(folders, tmp_path, capsys):
    parts = _shards(capsys, folders, tmp_path, 2)
    proc = subprocess.run(
        [sys.executable, "-m", "hse.cli", "merge", *map(str, parts), "--json", str(tmp_path / "m.json")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "2 shards merged" in proc.stdout
    assert json.loads((tmp_path / "m.json").read_text())["n_images"] == N_IMAGES
