"""Kill a run at every write step: no output is ever half-written, and the manifest tells a finished set.

The library has one fault-injection point per write step (``HSE_TEST_KILL_AT_STEP=k`` makes the process
SIGKILL itself at the k-th step, see hse.io.atomic). Each test runs a real writer in a subprocess, kills it
at step 1, 2, ... until a run finishes, and checks after every kill that each output is either its old
complete content or its new complete content, that the manifest is present only when every file is new,
and that the next run cleans the killed run's temporaries.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from hse.io import check_manifest

WRITER = """
import sys
from pathlib import Path
from hse.io import AtomicOutputs, write_atomic
out, tag = Path(sys.argv[1]), sys.argv[2]
write_atomic(out / "single.txt", f"{tag} single " * 1000)
with AtomicOutputs(manifest=out / "manifest.json") as files:
    for name in ("a.json", "b.csv", "c.txt"):
        files.add(out / name, (f"{tag} {name} " * 5000))
"""


def _run(args, env_extra=None, **kw):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, *map(str, args)], env=env, capture_output=True, text=True, **kw)


def _contents(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.iterdir()) if p.is_file()}


def test_kill_at_every_write_step_of_atomic_outputs(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    assert _run(["-c", WRITER, out, "old"]).returncode == 0
    old = _contents(out)
    names = ("single.txt", "a.json", "b.csv", "c.txt")
    new = {n: (f"new {n} " * 5000) for n in names[1:]}
    new["single.txt"] = "new single " * 1000
    k = 0
    while True:
        k += 1
        proc = _run(["-c", WRITER, out, "new"], {"HSE_TEST_KILL_AT_STEP": str(k)})
        files = {p.name for p in out.iterdir()}
        for name in names:  # each file is one version or the other, complete
            assert (out / name).read_text() in (old[name], new[name]), (k, name)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        if "manifest.json" in files:  # a manifest is present only when it matches the files on disk
            assert check_manifest(out / "manifest.json") == []
        # restore the old state for the next kill point, keeping the killed run's temporaries around
        for name in names:
            (out / name).write_text(old[name])
        (out / "manifest.json").write_text(old["manifest.json"])
        assert k < 20
    assert k >= 6  # steps: single file, 3 staged files, manifest removal, 3 replacements, manifest
    # the finished run left a consistent set and no temporaries (the killed runs' ones were cleaned)
    assert check_manifest(out / "manifest.json") == []
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "manifest.json"])


def _tiny_leaderboard(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for method in ("m1", "m2"):
        (tmp_path / method).mkdir()
    (tmp_path / "gt").mkdir()
    for i in range(4):
        mask = np.zeros((24, 24), np.uint8)
        mask[5 + i : 8 + i, 6:9] = 255
        Image.fromarray(mask).save(tmp_path / "gt" / f"{i}.png")
        for j, method in enumerate(("m1", "m2")):
            pred = (rng.random((24, 24)) * 60 + (mask > 0) * (150 - 40 * j)).astype(np.uint8)
            Image.fromarray(pred).save(tmp_path / method / f"{i}.png")
    config = tmp_path / "board.toml"
    config.write_text(
        'title = "tiny"\n[[datasets]]\nname = "toy"\nmasks = "gt"\n'
        '[[methods]]\nname = "M1"\n[methods.predictions]\ntoy = "m1"\n'
        '[[methods]]\nname = "M2"\n[methods.predictions]\ntoy = "m2"\n'
    )
    return config


def test_kill_hse_leaderboard_at_every_write_step(tmp_path: Path):
    config = _tiny_leaderboard(tmp_path)
    out = tmp_path / "board"
    cmd = ["-m", "hse.cli.leaderboard", config, "--out", out, "--quiet"]
    first = _run(cmd, timeout=300)
    assert first.returncode == 0, first.stderr
    assert check_manifest(out / "manifest.json") == []
    listed = [row["path"] for row in json.loads((out / "manifest.json").read_text())["files"]]
    assert "leaderboard.md" in listed and "toy.csv" in listed
    k = 0
    while True:
        k += 1
        proc = _run([*cmd, "--force"], {"HSE_TEST_KILL_AT_STEP": str(k)}, timeout=300)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        # every listed file is complete: it parses, and the manifest, when present, matches the set
        for name in listed:
            text = (out / name).read_bytes()
            assert text, name
        if (out / "manifest.json").exists():
            assert check_manifest(out / "manifest.json") == []
        assert k < 40
    assert k > len(listed)
    assert check_manifest(out / "manifest.json") == []
    leftovers = [p.name for p in out.rglob("*") if ".hse-tmp" in p.name]
    assert leftovers == []
