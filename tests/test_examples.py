"""The runnable examples of docs/training.md and docs/many-machines.md, run as a user runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(*cmd: str, timeout: int = 300) -> str:
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        PYTHON=sys.executable,
    )
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_many_machines_script(tmp_path):
    out = _run("bash", "examples/many_machines.sh", "3", str(tmp_path))
    assert "merged 3 shards" in out and "identical to the unsharded run" in out
    assert sorted(p.name for p in tmp_path.glob("part_*.json")) == [
        "part_1.json",
        "part_2.json",
        "part_3.json",
    ]


def test_training_loop_example():
    pytest.importorskip("torchmetrics", reason="needs the torch extra (pip install 'hse[torch]')")
    out = _run(sys.executable, "examples/training_loop.py", "--epochs", "2")
    lines = [line for line in out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 2 and all(re.search(r"HSE 0\.\d{4}", line) for line in lines)


def test_ddp_validation_example():
    pytest.importorskip("torchmetrics", reason="needs the torch extra (pip install 'hse[torch]')")
    out = _run(sys.executable, "examples/ddp_validation.py", "--world-size", "3")
    lines = [line for line in out.splitlines() if line.startswith("rank")]
    assert len(lines) == 3
    values = {
        re.search(r"HSE (\S+) over 10 images \(single process: (\S+)\)", line).groups() for line in lines
    }
    assert len(values) == 1 and len(set(next(iter(values)))) == 1  # every rank, and the single process
