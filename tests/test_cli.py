"""hse-score end to end, by subprocess (``python -m hse.cli``), on real and synthetic data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hse.cli.score import main
from hse.settings import parse_thresholds

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hse.cli", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _assert_input_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("hse-score: error:"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3, proc.stderr
    for f in fragments:
        assert f in proc.stderr, (f, proc.stderr)


def _pair_folder(tmp_path: Path, n: int = 3, size: int = 16) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    p, m = tmp_path / "pred", tmp_path / "mask"
    p.mkdir()
    m.mkdir()
    for k in range(n):
        mask = np.zeros((size, size), np.uint8)
        mask[4:7, 5:8] = 255
        pred = (rng.random((size, size)) * 80).astype(np.uint8)
        pred[4:7, 5:8] = 230
        Image.fromarray(mask).save(m / f"img{k}.png")
        Image.fromarray(pred).save(p / f"img{k}.png")
    return p, m


# -- option parsing (in-process) --------------------------------------------------------------------


def test_parse_thresholds():
    assert parse_thresholds("default") == "default"
    assert parse_thresholds("uint8") == "uint8"
    assert parse_thresholds("0.1,0.5, 0.9") == [0.1, 0.5, 0.9]
    assert parse_thresholds("0.1:0.3:0.1") == [0.1, 0.2, 0.3]
    grid = parse_thresholds("0.05:0.95:0.05")
    assert len(grid) == 19 and grid[-1] == 0.95 and grid[9] == 0.5
    assert parse_thresholds("0.1:0.35:0.1") == [0.1, 0.2, 0.3]  # 0.35 is not on the grid


@pytest.mark.parametrize("bad", ["x", "0.1:0.2", "0.5:0.1:0.1", "0.1:0.5:0", "1,a"])
def test_bad_thresholds_are_usage_errors(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--demo", "--thresholds", bad])
    assert exc.value.code == 2
    assert "--thresholds" in capsys.readouterr().err


def test_usage_errors(capsys):
    for argv in (
        [],
        ["only_one_dir"],
        ["--demo", "a", "b"],
        ["--demo", "--split", "s.txt"],
        ["a", "b", "--match", "x"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_unknown_compat_is_input_error(capsys):
    assert main(["--demo", "--compat", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_thresholds_out_of_range_is_input_error(capsys):
    assert main(["--demo", "--thresholds", "0.5,1.5"]) == 2
    assert "Traceback" not in capsys.readouterr().err


# -- demo and basic runs ----------------------------------------------------------------------------


def test_demo_prints_hse_and_writes_outputs(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("--demo", "--json", out / "r.json", "--csv", out / "c.csv", "--per-image", out / "p.csv")
    assert proc.returncode == 0, proc.stderr
    assert "HSE" in proc.stdout and "HSE_pixel" in proc.stdout and "Pd (%)" in proc.stdout
    assert "images    24" in proc.stdout
    d = json.loads((out / "r.json").read_text())
    assert d["schema"] == "hse/1" and d["n_images"] == 24
    assert d["inputs"]["demo"] is True
    assert (out / "c.csv").read_text().startswith("threshold,iou,")
    assert (out / "p.csv").read_text().startswith("name,")
    assert sorted(p.name for p in out.iterdir()) == ["c.csv", "p.csv", "r.json"]  # no temp files left


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and "hse" in capsys.readouterr().out


def test_quiet_prints_nothing(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    assert main([str(p), str(m), "--quiet", "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert (tmp_path / "r.json").is_file()


def test_custom_grid_and_operating_threshold(tmp_path):
    p, m = _pair_folder(tmp_path)
    assert (
        main(
            [
                str(p),
                str(m),
                "--thresholds",
                "0.1:0.9:0.2",
                "--threshold",
                "0.42",
                "-q",
                "--json",
                str(tmp_path / "r.json"),
            ]
        )
        == 0
    )
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["thresholds"] == [0.1, 0.3, 0.5, 0.7, 0.9]
    assert d["threshold"] == 0.42
    assert 0.42 in [row["threshold"] for row in d["curve"]]


# -- bad input: exit 2, clear message, no output ----------------------------------------------------


def test_corrupt_file_exit_2_and_no_outputs(tmp_path):
    p, m = _pair_folder(tmp_path)
    (p / "img1.png").write_bytes(b"\x89PNG\r\n\x1a\n broken header")
    out_json, out_csv = tmp_path / "o" / "r.json", tmp_path / "o" / "c.csv"
    proc = run_cli(p, m, "--json", out_json, "--csv", out_csv)
    _assert_input_error(proc, "img1.png")
    assert not out_json.exists() and not out_csv.exists()
    assert not (tmp_path / "o").exists() or list((tmp_path / "o").iterdir()) == []


def test_directory_named_like_an_image(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    (p / "img1.png").unlink()
    (p / "img1.png").mkdir()
    assert main([str(p), str(m)]) == 2
    err = capsys.readouterr().err
    assert "img1.png" in err and "directory" in err


def test_empty_and_missing_folders(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(empty), str(m)]) == 2
    assert "no image files" in capsys.readouterr().err
    assert main([str(tmp_path / "nope"), str(m)]) == 2
    assert main([str(m / "img0.png"), str(m)]) == 2  # a file where a folder is expected


def test_unpaired_files(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    (p / "img2.png").unlink()
    assert main([str(p), str(m), "--json", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "img2" in err and "--allow-missing" in err
    assert not (tmp_path / "r.json").exists()
    assert main([str(p), str(m), "--allow-missing", "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr()
    # the note goes to stderr (docs/cli.md), the summary to stdout
    assert "note: --allow-missing: scored 2 pairs; unpaired: 1 name(s) without a prediction: img2" in out.err
    assert "note:" not in out.out and "Over the threshold grid" in out.out
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["n_images"] == 2 and d["inputs"]["pairing"]["missing_preds"] == ["img2"]


def test_bad_mask_values_exit_2(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    a = np.zeros((16, 16), np.uint8)
    a[0, 0], a[1, 1] = 100, 255
    Image.fromarray(a).save(m / "img0.png")
    assert main([str(p), str(m)]) == 2
    err = capsys.readouterr().err
    assert "img0" in err and "--mask-threshold" in err
    assert main([str(p), str(m), "--mask-threshold", "50", "-q"]) == 0


def test_output_is_a_directory(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    assert main([str(p), str(m), "--json", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err


# -- real data --------------------------------------------------------------------------------------


@pytest.mark.shared
def test_misc_111_size_mismatch(shared_dir, tmp_path, capsys):
    nuaa = shared_dir / "data/nuaa-sirst"
    names = ["Misc_1", "Misc_2", "Misc_111", "Misc_3"]
    pred = tmp_path / "pred"
    pred.mkdir()
    for n in names:
        src = nuaa / ("fixes" if n == "Misc_111" else "masks") / f"{n}.png"
        shutil.copy(src, pred / f"{n}.png")
    split = tmp_path / "split.txt"
    split.write_text("\n".join(names))
    out = tmp_path / "out"
    proc = run_cli(pred, nuaa / "masks", "--split", split, "--json", out / "r.json", "--csv", out / "c.csv")
    _assert_input_error(proc, "Misc_111", "(220, 325)", "(400, 592)")
    assert not (out / "r.json").exists() and not (out / "c.csv").exists()

    # explicit opt-in: resized and reported
    argv = [pred, nuaa / "masks", "--split", split, "--resize-masks", "nearest", "--json", out / "r.json"]
    assert main([str(a) for a in argv]) == 0
    cap = capsys.readouterr()
    assert "resized masks" in cap.out and "note: --resize-masks nearest: 1 mask(s) resized" in cap.err
    d = json.loads((out / "r.json").read_text())
    assert d["settings"]["n_resized"] == 1 and d["settings"]["resize_masks"] == "nearest"
    assert d["n_images"] == 4


@pytest.mark.shared
def test_colour_mapped_predictions_exit_2(shared_dir, tmp_path):
    split = tmp_path / "split.txt"
    split.write_text("Misc_106\nMisc_108\n")
    proc = run_cli(
        shared_dir / "predictions/alcnet-mxnet/pred",
        shared_dir / "data/nuaa-sirst/masks",
        "--split",
        split,
        "--json",
        tmp_path / "r.json",
    )
    _assert_input_error(proc, "Misc_106.png", "colour-mapped", "grayscale")
    assert not (tmp_path / "r.json").exists()


@pytest.mark.shared
def test_alcl_net_jobs_identical(shared_dir, tmp_path):
    base = shared_dir / "predictions/alcl-net"
    split = tmp_path / "split.txt"
    split.write_text("\n".join(str(k) for k in range(0, 96, 6)))  # 16 of the 96 images keep it quick
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"r{jobs}.json"
        proc = run_cli(
            base / "pred", base / "gt512", "--split", split, "--jobs", jobs, "--json", out, "--quiet"
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(json.loads(out.read_text()))
    assert outs[0] == outs[1]
    d = outs[0]
    assert d["n_images"] == 16 and d["n_targets"] >= 16
    # hard 0/255 predictions: every threshold gives the same point
    assert len({round(r["iou"], 12) for r in d["curve"]}) == 1


def test_compat_sections(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert (
        main(["--demo", "--compat", "basicirstd", "--compat", "acm,pyirstdmetrics", "--json", str(out)]) == 0
    )
    stdout = capsys.readouterr().out
    for peer in ("basicirstd", "acm", "pyirstdmetrics"):
        assert f"Compatibility: {peer}" in stdout
    d = json.loads(out.read_text())
    assert set(d["compat"]) == {"basicirstd", "acm", "pyirstdmetrics"}
    assert d["settings"]["compat"] == ["basicirstd", "acm", "pyirstdmetrics"]


def test_unknown_plot_format_is_input_error(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["--demo", "--plot", str(tmp_path / "fig.xyz"), "--json", str(tmp_path / "r.json")]) == 2
    assert "fig.xyz" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("t", ["0.005", "0.999", "0.333", "0.42"])
def test_operating_threshold_printed_as_given(tmp_path, t, capsys):
    from hse.leaderboard import leaderboard_rows, render_markdown
    from hse.stats import load_result

    p, m = _pair_folder(tmp_path)
    out = tmp_path / "r.json"
    assert main([str(p), str(m), "--threshold", t, "--compat", "basicirstd", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"At the operating threshold {t} (prediction > threshold)" in text
    assert f"Compatibility: basicirstd at threshold {t}\n" in text
    md = render_markdown(leaderboard_rows({"m": load_result(out)}, ci=False))
    assert f"at the operating threshold {t} (prediction" in md


# -- output paths, long names, same folders, extension aliases ---------------------------------------


def _no_scoring(monkeypatch):
    """Make any scoring fail loudly: the checks below must refuse before scoring starts."""
    import hse

    def boom(*a, **k):
        raise AssertionError("scored although the output path was unusable")

    monkeypatch.setattr(hse, "evaluate", boom)


@pytest.mark.parametrize("flag", ["--csv", "--json", "--per-image"])
def test_output_under_a_file_refused_before_scoring(tmp_path, flag, monkeypatch, capsys):
    p, m = _pair_folder(tmp_path)
    (tmp_path / "afile").write_text("x")
    _no_scoring(monkeypatch)
    target = tmp_path / "afile" / "c.out"
    assert main([str(p), str(m), flag, str(target)]) == 2
    err = capsys.readouterr().err
    assert f"{flag} {target}: cannot be created, {tmp_path / 'afile'} is a file, not a folder" in err
    assert "Traceback" not in err and (tmp_path / "afile").read_text() == "x"


def test_names_too_long_are_input_errors(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    long = "x" * 300
    for argv in (
        [str(tmp_path / long), str(m)],
        [str(p), str(m), "--split", str(tmp_path / long)],
        [str(p), str(m), "--json", str(tmp_path / long / "r.json")],
        [str(p), str(m), "--json", str(tmp_path / (long + ".json"))],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and long in err and "File name too long" in err, err


def test_same_folder_and_outputs_that_are_inputs(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    assert main([str(p), str(p)]) == 2
    assert "PRED_DIR and MASK_DIR are the same folder" in capsys.readouterr().err
    before = (p / "img0.png").read_bytes()
    for flag in ("--csv", "--json", "--plot"):
        assert main([str(p), str(m), flag, str(p / "img0.png")]) == 2
        assert "is an input file" in capsys.readouterr().err
    assert (p / "img0.png").read_bytes() == before
    split = tmp_path / "split.txt"
    split.write_text("img0\nimg1\n")
    assert main([str(p), str(m), "--split", str(split), "--csv", str(split)]) == 2
    assert "is an input file" in capsys.readouterr().err and split.read_text() == "img0\nimg1\n"


def test_extension_aliases(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    import tifffile

    for k in range(3):
        a = np.asarray(Image.open(p / f"img{k}.png"))
        (p / f"img{k}.png").unlink()
        Image.fromarray(a).save(p / f"img{k}.jpeg", quality=100)
        tifffile.imwrite(p / f"img{k}.tiff", a)
    out_t, out_j = tmp_path / "t.json", tmp_path / "j.json"
    assert main([str(p), str(m), "--pred-ext", "tif", "-q", "--json", str(out_t)]) == 0
    assert json.loads(out_t.read_text())["n_images"] == 3
    assert main([str(p), str(m), "--pred-ext", ".JPG", "-q", "--json", str(out_j)]) == 0
    assert "img0.jpeg: JPEG is lossy" in capsys.readouterr().err
    assert json.loads(out_j.read_text())["inputs"]["pred_ext"] == ".JPG"


def test_compare_output_checks_before_scoring(tmp_path, monkeypatch, capsys):
    from hse.cli.compare import main as compare_main

    p, m = _pair_folder(tmp_path)
    (tmp_path / "afile").write_text("x")
    _no_scoring(monkeypatch)
    target = tmp_path / "afile" / "x.json"
    assert compare_main(["--masks", str(m), str(p), str(p), "--json", str(target)]) == 2
    err = capsys.readouterr().err
    assert "cannot be created" in err and "Traceback" not in err
    long = "y" * 300
    assert compare_main([str(tmp_path / long), str(tmp_path / "b.json")]) == 2
    assert "File name too long" in capsys.readouterr().err


def test_json_payload_is_strict_json():
    from hse.codec import dumps

    with pytest.raises(ValueError, match="JSON compliant"):
        dumps({"hse": float("nan")})


def test_ignored_files_note_on_stderr(tmp_path, capsys):
    p, m = _pair_folder(tmp_path)
    (p / "names.txt").write_text("x")
    assert main([str(p), str(m)]) == 0
    cap = capsys.readouterr()
    assert "hse-score: note: 1 file(s) ignored" in cap.err and "note:" not in cap.out
    assert main([str(p), str(m), "-q"]) == 0
    assert capsys.readouterr().err == ""
