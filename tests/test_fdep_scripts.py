"""End-to-end runs of ``python -m fdep_ref.train`` and ``python -m fdep_ref.predict`` on a few images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

from fdep_ref import predict, train  # noqa: E402
from fdep_ref.data import predict_probability, read_gray  # noqa: E402

pytestmark = pytest.mark.torch

TINY_VIT = {"depth": 4, "embed_dim": 32, "num_heads": 2, "img_size": 28}
SIZES = {"a": (70, 90), "b": (64, 64), "c": (100, 81)}  # (h, w)


@pytest.fixture(autouse=True, scope="module")
def _one_cpu_thread():
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture
def toy_data(tmp_path: Path) -> Path:
    """Three synthetic images (mixed sizes, one RGB) with small bright targets, in the NUAA-SIRST layout."""
    root = tmp_path / "data"
    for sub in ("images", "masks", "splits/50_50"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, (h, w) in SIZES.items():
        img = rng.normal(90, 20, (h, w)).clip(0, 255)
        mask = np.zeros((h, w), np.uint8)
        y, x = h // 3, w // 2
        img[y : y + 3, x : x + 3] = 250
        mask[y : y + 3, x : x + 3] = 255
        im = Image.fromarray(img.astype(np.uint8))
        (im.convert("RGB") if name == "a" else im).save(root / "images" / f"{name}.png")
        Image.fromarray(mask).save(root / "masks" / f"{name}.png")
    (root / "splits/50_50/train.txt").write_text("a\nb\nc")  # no final newline, as in the real split files
    return root


def _dinov2_checkpoint(path: Path) -> Path:
    """A tiny checkpoint with the official DINOv2 key names (mask_token included)."""
    import timm

    vit = timm.create_model("vit_small_patch14_dinov2", pretrained=False, num_classes=0, **TINY_VIT)
    state = dict(vit.state_dict())
    state["mask_token"] = torch.zeros(1, TINY_VIT["embed_dim"])
    torch.save(state, path)
    return path


def _train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--base", "acm", "--data", str(data), "--split", "50_50", "--epochs", "3", "--max-steps", "2",
        "--batch-size", "2", "--crop", "32", "--vfm-kwargs", json.dumps(TINY_VIT), "--out", str(out),
        "--quiet", "--threads", "1", *extra,
    ]  # fmt: skip


def test_train_then_predict(toy_data: Path, tmp_path: Path):
    out = tmp_path / "run"
    weights = _dinov2_checkpoint(tmp_path / "dinov2_tiny_pretrain.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # real (local) VFM weights: no random-weights warning
        assert (
            train.main(_train_args(toy_data, out, "--vfm-weights", str(weights), "--loss", "bce+softiou"))
            == 0
        )
    assert sorted(p.name for p in out.iterdir()) == ["base_last.pth", "config.json", "last.pt", "log.jsonl"]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    # 3 images, batch 2, last partial batch dropped: one step per epoch; --max-steps 2 stops after epoch 2 of 3
    assert [(r["epoch"], r["step"]) for r in log] == [(1, 1), (2, 2)]
    assert {"loss", "loss_main", "loss_light", "lr", "seconds"} <= set(log[-1])
    assert all(np.isfinite(r["loss"]) for r in log)
    ckpt = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["format"] == train.CHECKPOINT_FORMAT and ckpt["base_name"] == "acm" and ckpt["step"] == 2
    assert ckpt["vfm"]["weights"] == str(weights) and len(ckpt["samf"]) > 0
    assert not any(k.startswith("vfm.") for k in ckpt["base"]), "the frozen VFM is not saved"

    pred = tmp_path / "pred"
    assert predict.main(["--weights", str(out / "last.pt"), "--images", str(toy_data / "images"),
                         "--out", str(pred), "--quiet", "--threads", "1"]) == 0  # fmt: skip
    assert sorted(p.name for p in pred.iterdir()) == ["a.png", "b.png", "c.png"]
    from fdep_ref.registry import build_base

    deployed = build_base("acm", weights=out / "base_last.pth").eval()
    for name, (h, w) in SIZES.items():
        with Image.open(pred / f"{name}.png") as im:
            assert im.mode == "L" and im.size == (w, h)
            got = np.asarray(im)
        expected = np.rint(
            predict_probability(deployed, read_gray(toy_data / "images" / f"{name}.png")) * 255
        )
        assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def test_registered_custom_base(toy_data: Path, tmp_path: Path):
    """A network registered with ``register_base`` trains and predicts by its registered name."""
    from torch import nn

    from fdep_ref._bases import _REGISTRY, register_base

    class TinyBase(nn.Module):
        bottleneck_channels = 4

        def __init__(self):
            super().__init__()
            self.enc = nn.Conv2d(1, 4, 3, stride=2, padding=1)
            self.head = nn.Conv2d(4, 1, 1)

        def encode(self, x):
            return [torch.relu(self.enc(x))]

        def decode(self, feats, size):
            return nn.functional.interpolate(self.head(feats[-1]), size=size, mode="bilinear")

        def forward(self, x):
            return torch.sigmoid(self.decode(self.encode(x), x.shape[-2:]))

    register_base("tinybase_for_test")(TinyBase)
    try:
        out = tmp_path / "run"
        args = _train_args(toy_data, out, "--n-samf", "2")
        args[args.index("acm")] = "tinybase_for_test"
        with pytest.warns(UserWarning, match="random weights"):
            assert train.main(args) == 0
        assert json.loads((out / "config.json").read_text())["vfm_blocks"] == [1, 3]
        pred = tmp_path / "pred"
        assert predict.main(["--weights", str(out / "last.pt"), "--images", str(toy_data / "images"),
                             "--out", str(pred), "--quiet", "--names", str(toy_data / "splits/50_50/train.txt")]) == 0  # fmt: skip
        assert len(list(pred.glob("*.png"))) == 3
    finally:
        _REGISTRY.pop("tinybase_for_test", None)

def test_clear_errors_for_bad_paths(toy_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    def fails(main, argv, needle):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        assert needle in capsys.readouterr().err

    fails(train.main, _train_args(tmp_path / "nowhere", tmp_path / "o"), "--data: no such directory")
    fails(train.main, _train_args(toy_data, tmp_path / "o", "--split", "70_30"), "--split")
    fails(
        train.main,
        _train_args(toy_data, tmp_path / "o", "--vfm-weights", str(tmp_path / "x.pth")),
        "--vfm-weights",
    )
    fails(train.main, _train_args(toy_data, tmp_path / "o", "--vfm-kwargs", "{depth: 2}"), "--vfm-kwargs")
    fails(train.main, _train_args(toy_data, tmp_path / "o", "--batch-size", "1"), "--batch-size")
    fails(train.main, _train_args(toy_data, tmp_path / "o", "--base", "resnet9000"), "unknown base network")
    fails(
        train.main,
        _train_args(toy_data, tmp_path / "o", "--vfm-arch", "vit_nonexistent"),
        "VFM (vit_nonexistent",
    )
    fails(
        train.main,
        _train_args(toy_data, tmp_path / "o", "--vfm-kwargs", '{"pretrained": true}'),
        "never downloads",
    )
    (toy_data / "splits/50_50/val.txt").write_text("a\nmissing_image\n")
    fails(train.main, _train_args(toy_data, tmp_path / "o", "--subset", "val"), "missing_image")
    ckpt = tmp_path / "w.pth"
    torch.save({"unrelated": torch.zeros(1)}, ckpt)
    images = str(toy_data / "images")
    fails(
        predict.main, ["--weights", str(tmp_path / "none.pt"), "--images", images, "--out", "p"], "--weights"
    )
    fails(
        predict.main, ["--weights", str(ckpt), "--images", str(tmp_path / "none"), "--out", "p"], "--images"
    )
    fails(predict.main, ["--weights", str(ckpt), "--images", images, "--out", images], "must differ")
    empty = tmp_path / "empty"
    empty.mkdir()
    fails(
        predict.main,
        ["--weights", str(ckpt), "--images", str(empty), "--out", str(tmp_path / "p")],
        "no images",
    )
    fails(
        predict.main,
        ["--weights", str(ckpt), "--images", images, "--out", str(tmp_path / "p")],
        "does not fit",
    )
    assert not (tmp_path / "o").exists() and not (tmp_path / "p").exists()


@pytest.mark.shared
def test_predict_with_published_lesps_checkpoint(shared_dir: Path, tmp_path: Path):
    """The predict path (grayscale, normalisation, padding) finds the targets with the published ACM weights."""
    root = shared_dir / "data" / "nuaa-sirst"
    names = ["Misc_10", "Misc_13", "Misc_14"]
    images = tmp_path / "images"
    images.mkdir()
    for n in names:
        (images / f"{n}.png").write_bytes((root / "images" / f"{n}.png").read_bytes())
    weights = shared_dir / "checkpoints" / "lesps" / "ACM_full.pth.tar"
    out = tmp_path / "pred"
    assert predict.main(["--weights", str(weights), "--base", "acm", "--images", str(images),
                         "--out", str(out), "--quiet"]) == 0  # fmt: skip
    hits = 0
    for n in names:
        mask = read_gray(root / "masks" / f"{n}.png") > 127
        with Image.open(out / f"{n}.png") as im:
            pred = np.asarray(im)
        assert pred.shape == mask.shape and pred.dtype == np.uint8
        hits += int(pred[mask].max() > 127)
    assert hits >= 2
    # the maps are what hse-score reads
    from hse.cli.score import main as hse_score

    masks = tmp_path / "masks"
    masks.mkdir()
    for n in names:
        (masks / f"{n}.png").write_bytes((root / "masks" / f"{n}.png").read_bytes())
    assert hse_score([str(out), str(masks), "--quiet", "--json", str(tmp_path / "score.json")]) == 0
    assert (tmp_path / "score.json").is_file()


@pytest.mark.shared
@pytest.mark.slow
def test_scripts_as_modules_on_real_images(shared_dir: Path, tmp_path: Path, repo_root: Path):
    """``python -m fdep_ref.train`` then ``python -m fdep_ref.predict`` on three NUAA-SIRST images."""
    src = shared_dir / "data" / "nuaa-sirst"
    names = ["Misc_1", "Misc_2", "Misc_3"]
    data = tmp_path / "nuaa"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
        for n in names:
            (data / sub / f"{n}.png").write_bytes((src / sub / f"{n}.png").read_bytes())
    (data / "splits" / "50_50").mkdir(parents=True)
    (data / "splits" / "50_50" / "train.txt").write_text("\n".join(names))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)}
    out = tmp_path / "run"
    args = _train_args(data, out, "--pos-prob", "1")
    args[args.index("--crop") + 1] = "64"
    run = subprocess.run(
        [sys.executable, "-m", "fdep_ref.train", *args], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert (out / "last.pt").is_file() and (out / "log.jsonl").is_file()
    pred = tmp_path / "pred"
    run = subprocess.run(
        [sys.executable, "-m", "fdep_ref.predict", "--weights", str(out / "last.pt"),
         "--images", str(data / "images"), "--out", str(pred)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    for n in names:
        with Image.open(pred / f"{n}.png") as im, Image.open(data / "images" / f"{n}.png") as ref:
            assert im.mode == "L" and im.size == ref.size
