"""fdep_ref.protocols: each checkpoint family's preprocessing, read-out, resolution and mask reading."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from fdep_ref import protocols  # noqa: E402
from fdep_ref.data import predict_probability, read_gray  # noqa: E402
from fdep_ref.registry import build_base  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.fixture
def rgb_image(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "img.png"
    Image.fromarray(rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)).save(path)
    return path


def test_unknown_family_and_size_are_errors(rgb_image):
    with pytest.raises(ValueError, match="unknown checkpoint family"):
        protocols.get_protocol("nope")
    with pytest.raises(ValueError, match="size must be"):
        protocols.run_checkpoint("repisd", "x.pth", rgb_image, size="big")
    with pytest.raises(ValueError, match="ACM_ or ALCNet_"):
        protocols.network_name("lesps", "Other_full.pth.tar")
    assert protocols.network_name("lesps", "dir/ALCNet_full.pth.tar") == "alcnet"


def test_repisd_input(rgb_image):
    x = protocols.repisd_input(rgb_image)
    assert x.shape == (1, 3, 256, 256) and x.dtype == torch.float32
    with Image.open(rgb_image) as im:
        small = np.asarray(im.convert("RGB").resize((256, 256), Image.BILINEAR), dtype=np.float32) / 255
    want = (small - np.array(protocols.REPISD_MEAN)) / np.array(protocols.REPISD_STD)
    np.testing.assert_allclose(x[0].permute(1, 2, 0).numpy(), want, atol=1e-5)


def test_rpcanet_input_uses_opencv_grey_and_linear_resize(rgb_image):
    cv2 = pytest.importorskip("cv2")
    x = protocols.rpcanet_input(rgb_image)
    assert x.shape == (1, 1, 256, 256) and x.dtype == torch.float32
    grey = cv2.resize(cv2.imread(str(rgb_image), 0), (256, 256), interpolation=cv2.INTER_LINEAR)
    assert torch.equal(x[0, 0], torch.from_numpy(grey / 255.0).float())
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0


def test_protocol_maps_have_the_protocol_resolution(rgb_image, monkeypatch):
    torch.manual_seed(0)
    nets = {"repisd": build_base("repisd").eval(), "rpcanet": build_base("rpcanet", stages=1).eval()}
    for family, net in nets.items():
        p = protocols.protocol_map(family, net, rgb_image)
        assert p.shape == (256, 256) and p.dtype == np.float32
        monkeypatch.setattr(protocols, "load_network", lambda fam, w, net=net: net)
        native = protocols.run_checkpoint(family, "unused", rgb_image, size="native")
        assert native.shape == (200, 300) and native.dtype == np.float32
        assert 0.0 <= native.min() and native.max() <= 1.0


def test_lesps_protocol_is_the_data_module_one(rgb_image):
    torch.manual_seed(0)
    net = build_base("acm").eval()
    p = protocols.protocol_map("lesps", net, rgb_image)
    assert np.array_equal(p, predict_probability(net, read_gray(rgb_image)))
    assert p.shape == (200, 300)


def test_to_size_is_bilinear_and_keeps_constants():
    p = np.full((256, 256), 0.25, dtype=np.float32)
    out = protocols.to_size(p, (240, 320))
    assert out.shape == (240, 320) and np.allclose(out, 0.25)


def test_protocol_masks(tmp_path):
    pytest.importorskip("cv2")
    mask = np.zeros((7, 300), dtype=np.uint8)
    mask[3, 100:103] = 255
    path = tmp_path / "m.png"
    Image.fromarray(mask).save(path)
    for family in ("repisd", "rpcanet"):
        m = protocols.read_protocol_mask(family, path)
        assert m.shape == (256, 256) and m.dtype == bool and m.any()
    assert protocols.read_protocol_mask("lesps", path).shape == (7, 300)
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(path)
    assert not protocols.read_protocol_mask("rpcanet", path).any()  # max 0: no target


@pytest.mark.shared
def test_opencv_and_pil_nearest_differ_on_real_masks(shared_dir):
    pytest.importorskip("cv2")
    root = shared_dir / "data" / "nuaa-sirst" / "masks"
    names = ["Misc_1", "Misc_2", "Misc_3", "Misc_4", "Misc_5", "Misc_6"]
    pairs = [
        (
            protocols.read_protocol_mask("repisd", root / f"{n}.png"),
            protocols.read_protocol_mask("rpcanet", root / f"{n}.png"),
        )
        for n in names
    ]
    assert all(a.shape == b.shape == (256, 256) for a, b in pairs)
    assert any(not np.array_equal(a, b) for a, b in pairs)
