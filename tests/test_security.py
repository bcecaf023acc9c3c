"""No code runs from a data file: crafted checkpoints are refused before they can act.

Each malicious file here is real: its pickle would create a marker file when unpickled with the unsafe
loader (checked in a subprocess, so the test proves the payload works), and every fdep_ref entry point
must refuse it with the marker never appearing.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from fdep_ref import predict  # noqa: E402
from fdep_ref.registry import build_base  # noqa: E402
from fdep_ref.train import CHECKPOINT_FORMAT  # noqa: E402
from fdep_ref.weights import UnsafeCheckpointError, read_weights  # noqa: E402

pytestmark = pytest.mark.torch


class _Payload:
    """Unpickles as ``os.system("touch MARKER")``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _malicious(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    marker = tmp_path / f"pwned-{kind}"
    path = tmp_path / f"evil-{kind}.pth.tar"
    payload = {"state_dict": {"model.x": _Payload(marker)}}
    if kind == "torch":
        torch.save(payload, path)
    else:  # a plain (legacy) pickle stream
        path.write_bytes(pickle.dumps(payload, protocol=2))
    return path, marker


@pytest.mark.parametrize("kind", ["torch", "pickle"])
def test_payload_is_real(tmp_path: Path, kind: str):
    """The unsafe loader does run the payload: the refusals below are not vacuous."""
    path, marker = _malicious(tmp_path, kind)
    code = f"import torch; torch.load({str(path)!r}, map_location='cpu', weights_only=False)"
    subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, timeout=120)
    assert marker.exists()


@pytest.mark.parametrize("kind", ["torch", "pickle"])
def test_malicious_checkpoint_refused_by_build_base(tmp_path: Path, kind: str):
    path, marker = _malicious(tmp_path, kind)
    with pytest.raises(UnsafeCheckpointError, match="refused to load"):
        build_base("acm", weights=path)
    with pytest.raises(UnsafeCheckpointError, match=str(path.name)):
        read_weights(path)
    assert not marker.exists()


def test_malicious_checkpoint_refused_by_predict(tmp_path: Path, capsys):
    path, marker = _malicious(tmp_path, "torch")
    images = tmp_path / "images"
    images.mkdir()
    from PIL import Image

    Image.new("L", (32, 32)).save(images / "a.png")
    with pytest.raises(SystemExit) as exit_info:
        predict.main(["--weights", str(path), "--images", str(images), "--out", str(tmp_path / "out"), "--quiet"])
    assert exit_info.value.code == 2
    assert "refused to load" in capsys.readouterr().err
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_checkpoint_cannot_name_a_module_to_import(tmp_path: Path, monkeypatch):
    """A training checkpoint's base name is looked up in the registry; it never imports anything."""
    marker = tmp_path / "imported"
    (tmp_path / "evilmod.py").write_text(
        f"open({str(marker)!r}, 'w').close()\ndef Net():\n    raise SystemExit('ran')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("evilmod:Net", "os:system"):
        ckpt = tmp_path / "last.pt"
        torch.save({"format": CHECKPOINT_FORMAT, "base_name": name, "base": {}}, ckpt)
        with pytest.raises(KeyError, match="not registered"):
            predict.load_deployable(ckpt)
    assert not marker.exists()
    assert "evilmod" not in sys.modules


def test_safetensors_weights_load(tmp_path: Path):
    from safetensors.torch import save_file

    net = build_base("acm")
    path = tmp_path / "acm.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    loaded = build_base("acm", weights=path)
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_numpy_scalars_are_allowed(tmp_path: Path):
    """Published checkpoints may hold numpy scalars (epoch, loss); those are plain data and load."""
    import numpy as np

    path = tmp_path / "with_numpy.pth.tar"
    torch.save({"state_dict": {"w": torch.ones(2)}, "epoch": np.int64(7), "loss": np.float64(0.25)}, path)
    obj = read_weights(path)
    assert int(obj["epoch"]) == 7 and float(obj["loss"]) == 0.25


@pytest.mark.shared
def test_published_checkpoints_need_only_weights_only(shared_dir: Path):
    files = sorted((shared_dir / "checkpoints").glob("*/*.p*"))
    assert len(files) == 8
    for path in files:
        obj = read_weights(path)
        assert isinstance(obj, dict) and obj, path
