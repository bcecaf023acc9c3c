"""ACM / ALCNet base networks: strict loading of the LESPS checkpoints and the encode/decode contract."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from fdep_ref.registry import build_base, list_bases, register_base  # noqa: E402
from fdep_ref.weights import read_weights  # noqa: E402

pytestmark = pytest.mark.torch

VARIANTS = ("full", "LESPS_centroid", "LESPS_coarse")
FAMILIES = {"acm": "ACM", "alcnet": "ALCNet"}


def _ckpt(shared_dir, family: str, variant: str):
    return shared_dir / "checkpoints" / "lesps" / f"{FAMILIES[family]}_{variant}.pth.tar"


def test_registry_lists_builtin_bases():
    assert {"acm", "alcnet"} <= set(list_bases())
    with pytest.raises(KeyError, match="unknown base network"):
        build_base("no-such-net")


def test_register_refuses_a_second_factory_under_a_taken_name():
    with pytest.raises(ValueError, match="already registered"):
        register_base("acm")(lambda: None)


@pytest.mark.parametrize(("name", "expected"), [("acm", 0.398e6), ("alcnet", 0.520e6)])
def test_parameter_count(name, expected):
    net = build_base(name)
    n = sum(p.numel() for p in net.parameters())
    assert abs(n - expected) < 0.01e6, n


@pytest.mark.parametrize("name", ["acm", "alcnet"])
def test_input_is_one_channel(name):
    net = build_base(name).eval()
    assert net.in_channels == 1
    assert net.stem[1].weight.shape[1] == 1
    with pytest.raises(ValueError, match="expects input"):
        net(torch.zeros(1, 3, 64, 64))


@pytest.mark.parametrize("name", ["acm", "alcnet"])
@pytest.mark.parametrize("size", [(64, 96), (256, 352)])
def test_contract_and_shapes(name, size):
    torch.manual_seed(0)
    net = build_base(name).eval()
    x = torch.randn(2, 1, *size)
    with torch.no_grad():
        feats = net.encode(x)
        assert isinstance(feats, list) and len(feats) >= 2
        assert feats[-1].shape[1] == net.bottleneck_channels == 64
        assert feats[-1].shape[-2:] == (size[0] // 16, size[1] // 16)
        logits = net.decode(feats, size)
        assert logits.shape == (2, 1, *size)
        prob = net(x)
        assert prob.shape == (2, 1, *size)
        assert torch.equal(prob, torch.sigmoid(logits))
        assert float(prob.min()) >= 0.0 and float(prob.max()) <= 1.0
        # The decoder accepts a modified bottleneck of the same shape, and it matters.
        changed = net.decode([*feats[:-1], feats[-1] * 0.5 + 1.0], size)
        assert changed.shape == logits.shape
        assert not torch.allclose(changed, logits)


@pytest.mark.shared
@pytest.mark.parametrize("family", ["acm", "alcnet"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_published_checkpoints_load_strictly(shared_dir, family, variant):
    path = _ckpt(shared_dir, family, variant)
    net = build_base(family, weights=path).eval()
    raw = read_weights(path)["state_dict"]  # the published files need nothing beyond weights_only
    own = net.state_dict()
    assert len(own) == len(raw) == {"acm": 297, "alcnet": 359}[family]
    for key, value in raw.items():
        assert torch.equal(own[key.removeprefix("model.")], value), key
    x = torch.zeros(1, 1, 64, 64)
    with torch.no_grad():
        p = net(x)
    assert p.shape == (1, 1, 64, 64) and torch.isfinite(p).all()


def test_missing_checkpoint_names_the_file(tmp_path):
    path = tmp_path / "nope.pth.tar"
    with pytest.raises(FileNotFoundError, match="nope.pth.tar"):
        build_base("acm", weights=path)


def test_mismatched_checkpoint_names_file_and_keys(tmp_path):
    sd = {f"model.{k}": v for k, v in build_base("acm").state_dict().items()}
    sd.pop("model.head.block.4.bias")
    sd["model.extra.weight"] = torch.zeros(3)
    path = tmp_path / "broken.pth.tar"
    torch.save({"state_dict": sd}, path)
    with pytest.raises(RuntimeError) as err:
        build_base("acm", weights=path)
    msg = str(err.value)
    assert "broken.pth.tar" in msg
    assert "head.block.4.bias" in msg and "missing" in msg
    assert "extra.weight" in msg and "unexpected" in msg


def test_acm_weights_do_not_fit_alcnet(tmp_path):
    path = tmp_path / "acm.pth.tar"
    torch.save({"state_dict": {f"model.{k}": v for k, v in build_base("acm").state_dict().items()}}, path)
    with pytest.raises(RuntimeError, match="does not fit ALCNet"):
        build_base("alcnet", weights=path)
