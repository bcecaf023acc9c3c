"""RepISD-Net and RPCANet: strict loading of the published checkpoints, parameter counts, contract."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from fdep_ref.models.common import load_checkpoint  # noqa: E402
from fdep_ref.registry import build_base, list_bases  # noqa: E402

pytestmark = pytest.mark.torch

CHECKPOINTS = {
    "repisd": ("repisd", "RepISD_NUAA_deploy.pth.tar", 60),
    "rpcanet": ("rpcanet", "RPCANet_SIRST.pkl", 462),
}


def _trainable(net) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def test_registered():
    assert {"repisd", "rpcanet"} <= set(list_bases())


@pytest.mark.parametrize(("name", "expected"), [("repisd", 279_106), ("rpcanet", 679_896)])
def test_trainable_parameter_count(name, expected):
    assert _trainable(build_base(name)) == expected


@pytest.mark.parametrize(("name", "channels"), [("repisd", 3), ("rpcanet", 1)])
def test_contract(name, channels):
    torch.manual_seed(0)
    net = build_base(name).eval()
    assert net.in_channels == channels
    x = torch.randn(2, channels, 64, 96)
    with torch.no_grad():
        feats = net.encode(x)
        assert feats[-1].shape[1] == net.bottleneck_channels
        logits = net.decode(feats, (64, 96))
        assert logits.shape == (2, 1, 64, 96)
        assert torch.equal(net(x), torch.sigmoid(logits))
    with pytest.raises(ValueError, match="expects input"):
        net(torch.zeros(1, 2, 64, 64))


def test_repisd_probability_is_class_one():
    torch.manual_seed(0)
    net = build_base("repisd").eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        both = torch.sigmoid(net.logits(net.encode(x)))
        assert both.shape == (1, 2, 32, 32)
        assert torch.equal(net(x), both[:, 1:])


def test_rpcanet_starts_from_zero_target_and_returns_both_maps():
    torch.manual_seed(0)
    net = build_base("rpcanet").eval()
    x = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        d, t = net.decompose(x)
    assert d.shape == t.shape == x.shape
    one = build_base("rpcanet", stages=1).eval()
    one.decos[0].load_state_dict(net.decos[0].state_dict())
    with torch.no_grad():
        stage = net.decos[0]
        b = (x - 0) + stage.lowrank.convs(x)  # B from D - T with T = 0
        t1 = (x - b) - stage.sparse.epsilon * stage.sparse.convs(x - b)
        assert torch.allclose(one.decompose(x)[1], t1, atol=1e-6)


@pytest.mark.shared
@pytest.mark.parametrize("key", sorted(CHECKPOINTS))
def test_published_checkpoint_loads_strictly_with_weights_only(shared_dir, key):
    name, file, entries = CHECKPOINTS[key]
    path = shared_dir / "checkpoints" / key / file
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert len(raw) == entries
    net = load_checkpoint(build_base(name), path, prefix="").eval()
    own = net.state_dict()
    for k, v in raw.items():
        assert torch.equal(own[k], v), k
    size = 32
    x = torch.zeros(1, net.in_channels, size, size)
    with torch.no_grad():
        p = net(x)
    assert p.shape == (1, 1, size, size) and torch.isfinite(p).all()


@pytest.mark.shared
def test_checkpoint_of_one_does_not_fit_the_other(shared_dir):
    with pytest.raises(RuntimeError, match="does not fit RPCANet"):
        load_checkpoint(
            build_base("rpcanet"), shared_dir / "checkpoints/repisd/RepISD_NUAA_deploy.pth.tar", ""
        )
