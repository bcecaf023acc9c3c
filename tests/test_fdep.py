"""FDEP reference (fdep_ref): frozen VFM, SAMF, CO-ISD branches, losses, input protocol, weight loading."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

from torch import nn  # noqa: E402

from fdep_ref.data import (  # noqa: E402
    SirstCrops,
    load_pair,
    padded_size,
    predict_probability,
    read_split,
    to_input,
    to_png8,
)
from fdep_ref.fdep import FDEP  # noqa: E402
from fdep_ref.losses import get_loss, soft_iou_loss  # noqa: E402
from fdep_ref.samf import SAMF  # noqa: E402
from fdep_ref.vfm import FrozenVFM, evenly_spaced_blocks  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True, scope="module")
def _one_cpu_thread():
    """Tiny tensors: one thread is fastest, and avoids OpenMP stalls on a busy machine."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


TINY_VIT = {"depth": 4, "embed_dim": 32, "num_heads": 2, "img_size": 28}


class TinyBase(nn.Module):
    """A two-level encoder-decoder following the base-network contract."""

    bottleneck_channels = 16

    def __init__(self, in_channels: int = 1):
        super().__init__()
        self.in_channels = in_channels
        self.enc1 = nn.Sequential(nn.Conv2d(in_channels, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=4, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.dec = nn.Sequential(nn.Conv2d(24, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Conv2d(8, 1, 1)

    def encode(self, x):
        f1 = self.enc1(x)
        return [f1, self.enc2(f1)]

    def decode(self, feats, size):
        f1, f2 = feats
        up = nn.functional.interpolate(f2, size=f1.shape[-2:], mode="bilinear", align_corners=False)
        y = self.head(self.dec(torch.cat([f1, up], 1)))
        return nn.functional.interpolate(y, size=size, mode="bilinear", align_corners=False)

    def forward(self, x):
        return torch.sigmoid(self.decode(self.encode(x), x.shape[-2:]))


def tiny_vfm(**kwargs) -> FrozenVFM:
    params = {**TINY_VIT, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return FrozenVFM("vit_small_patch14_dinov2", **params)


def tiny_model(base=None, **kwargs) -> FDEP:
    torch.manual_seed(0)
    return FDEP(base if base is not None else TinyBase(), tiny_vfm(), **kwargs)


def batch(n=2, size=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, size, size, generator=g)
    y = (torch.rand(n, 1, size, size, generator=g) > 0.9).float()
    return x, y


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------- frozen VFM


def test_random_vfm_warns_and_blocks_are_evenly_spaced():
    with pytest.warns(UserWarning, match="random weights"):
        vfm = FrozenVFM("vit_small_patch14_dinov2", **TINY_VIT)
    assert vfm.blocks == [0, 1, 2, 3]
    assert evenly_spaced_blocks(12, 4) == [2, 5, 8, 11]
    assert evenly_spaced_blocks(24, 4) == [5, 11, 17, 23]
    assert evenly_spaced_blocks(12, 1) == [11]
    with pytest.raises(ValueError):
        evenly_spaced_blocks(4, 5)
    with pytest.raises(ValueError, match="out of range"):
        tiny_vfm(blocks=[0, 4])


def test_vfm_features_shape_and_no_grad():
    vfm = tiny_vfm(blocks=[1, 3])
    img = torch.rand(2, 1, 40, 61, requires_grad=True)
    feats = vfm(img)
    # 40 -> 42 (3 patches), 61 -> 56 (4 patches): nearest multiples of the patch size
    assert [tuple(f.shape) for f in feats] == [(2, 32, 3, 4)] * 2
    assert not any(f.requires_grad for f in feats)
    assert all(not p.requires_grad for p in vfm.parameters())
    fixed = tiny_vfm(n_blocks=2, input_size=56)
    assert [tuple(f.shape) for f in fixed(torch.rand(1, 3, 20, 30))] == [(1, 32, 4, 4)] * 2


def test_frozen_means_frozen():
    model = tiny_model()
    model.train()
    assert not model.vfm.training and not model.vfm.vit.training
    before = {k: v.clone() for k, v in model.vfm.state_dict().items()}
    base_before = copy.deepcopy(model.base.state_dict())
    # an optimiser over *all* parameters: the frozen ones must still not move
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    x, y = batch()
    for _ in range(2):
        opt.zero_grad()
        model.loss(x, y).backward()
        opt.step()
    assert all(p.grad is None for p in model.vfm.parameters())
    for k, v in model.vfm.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert any(not torch.equal(v, base_before[k]) for k, v in model.base.state_dict().items())
    assert set(map(id, model.trainable_parameters())) == set(map(id, model.base.parameters())) | set(
        map(id, model.samf.parameters())
    )


# ---------------------------------------------------------------- CO-ISD branches


def test_branches_share_one_set_of_base_parameters():
    model = tiny_model()
    n_base, n_samf, n_vfm = count_params(model.base), count_params(model.samf), count_params(model.vfm)
    assert count_params(model) == n_base + n_samf + n_vfm  # nothing duplicated
    model.train()
    x, y = batch()
    main, light = model(x)
    assert main.shape == light.shape == (2, 1, 32, 32)
    assert 0 <= float(light.min().detach()) and float(light.max().detach()) <= 1
    # the light branch is the base network itself
    assert torch.allclose(light, model.base(x), atol=1e-6)


def test_main_loss_alone_changes_the_light_branch():
    model = tiny_model()
    x, y = batch()
    model.eval()
    light_before = model(x).detach()
    model.train()
    main_logits, _ = model.branch_logits(x)
    loss = get_loss("softiou")(main_logits, y)
    loss.backward()
    grads = [p.grad for p in model.base.parameters()]
    assert all(g is not None for g in grads), "the main loss reaches every shared base parameter"
    torch.optim.SGD(model.trainable_parameters(), lr=0.5).step()
    model.eval()
    light_after = model(x).detach()
    assert not torch.allclose(light_before, light_after)


def test_loss_is_weighted_sum_of_branch_losses():
    x, y = batch()
    model = tiny_model(weights=(0.25, 2.0), loss="bce+softiou")
    model.train()
    terms = model.loss_terms(x, y)
    assert torch.allclose(terms["total"], 0.25 * terms["main"] + 2.0 * terms["light"])
    light_only = tiny_model(weights=(0.0, 1.0))
    t = light_only.loss_terms(x, y)
    assert torch.allclose(
        t["total"], get_loss("softiou")(light_only.base.decode(light_only.base.encode(x), (32, 32)), y)
    )


def test_main_branch_leaves_bn_running_stats_to_the_light_branch():
    x, _ = batch()
    model = tiny_model()
    reference = copy.deepcopy(model.base)
    model.train()
    reference.train()
    with torch.no_grad():
        model(x)
        reference(x)  # one encoder + one decoder pass: what the deployed network's BN should have seen
    for (k, a), b in zip(model.base.state_dict().items(), reference.state_dict().values(), strict=True):
        assert torch.allclose(a.float(), b.float()), k
    both = tiny_model(main_updates_bn_stats=True)
    both.train()
    with torch.no_grad():
        both(x)
    assert not torch.allclose(both.base.dec[1].running_mean, reference.dec[1].running_mean)


def test_eval_does_not_run_vfm_and_deployable_is_the_base():
    model = tiny_model()
    calls = {"vfm": 0, "samf": 0}
    model.vfm.register_forward_hook(lambda *a: calls.__setitem__("vfm", calls["vfm"] + 1))
    for s in model.samf:
        s.register_forward_hook(lambda *a: calls.__setitem__("samf", calls["samf"] + 1))
    x, _ = batch()
    model.train()
    model(x)
    assert calls == {"vfm": 1, "samf": 4}
    model.eval()
    with torch.no_grad():
        out = model(x)
        deployed = model.deployable()
        dep_out = deployed(x)
    assert calls == {"vfm": 1, "samf": 4}, "eval-mode forward must not call the VFM or SAMF"
    assert isinstance(out, torch.Tensor) and out.shape == (2, 1, 32, 32)
    assert torch.equal(out, dep_out)
    assert count_params(deployed) == count_params(TinyBase())
    assert not any(p is q for p in deployed.parameters() for q in model.vfm.parameters())


def test_fdep_rejects_bad_configuration():
    with pytest.raises(ValueError, match="n_samf"):
        FDEP(TinyBase(), tiny_vfm(), n_samf=3)
    with pytest.raises(TypeError, match="encode"):
        FDEP(nn.Conv2d(1, 1, 1), tiny_vfm())
    with pytest.raises(ValueError, match="unknown loss"):
        FDEP(TinyBase(), tiny_vfm(), loss="dice")


@pytest.mark.parametrize("name", ["acm", "alcnet"])
def test_fdep_with_registered_bases(name):
    from fdep_ref.registry import build_base

    torch.manual_seed(0)
    base = build_base(name)
    model = FDEP(base, tiny_vfm())
    x, y = batch(n=2, size=64)
    model.train()
    loss = model.loss(x, y)
    assert torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in model.samf.parameters())
    model.eval()
    model.vfm.forward = None  # eval must not touch the VFM at all
    with torch.no_grad():
        out = model(x)
        assert torch.equal(out, model.deployable()(x))
    assert count_params(model.deployable()) == count_params(build_base(name))


# ---------------------------------------------------------------- SAMF


@pytest.mark.parametrize("channels", [2, 8, 64])
@pytest.mark.parametrize("size", [(1, 1), (4, 4), (5, 7), (16, 16)])
@pytest.mark.parametrize("vit_size", [(2, 2), (5, 7), (9, 3)])
def test_samf_shape_contract(channels, size, vit_size):
    samf = SAMF(channels, vit_dim=12)
    x = torch.randn(2, channels, *size, requires_grad=True)
    d = torch.randn(2, 12, *vit_size)
    out = samf(x, d)
    assert out.shape == x.shape
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_samf_rejects_bad_inputs():
    with pytest.raises(ValueError, match="even"):
        SAMF(7, 12)
    samf = SAMF(8, 12)
    with pytest.raises(ValueError, match="CNN channels"):
        samf(torch.randn(1, 6, 4, 4), torch.randn(1, 12, 4, 4))
    with pytest.raises(ValueError, match="ViT channels"):
        samf(torch.randn(1, 8, 4, 4), torch.randn(1, 10, 4, 4))


# ---------------------------------------------------------------- losses


def test_soft_iou_loss_values():
    t = torch.zeros(2, 1, 8, 8)
    t[:, :, 2:4, 2:4] = 1
    assert float(soft_iou_loss(t, t)) == pytest.approx(0.0, abs=1e-7)
    assert float(soft_iou_loss(1 - t, t)) == pytest.approx(1 - 1 / (64 + 1), abs=1e-6)
    logits = (t * 2 - 1) * 50
    assert float(get_loss("softiou")(logits, t)) < 1e-6
    assert float(get_loss("bce+softiou")(logits, t)) < 1e-6
    assert float(get_loss("bce+softiou")(-logits, t)) > float(get_loss("softiou")(-logits, t))
    with pytest.raises(ValueError, match="shape"):
        soft_iou_loss(t, t[:, :, :4])


# ---------------------------------------------------------------- input protocol


def test_published_padding_and_png_rounding():
    assert padded_size(240, 320) == (256, 352)
    assert padded_size(256, 256) == (288, 288)  # a full extra stride, as published
    np.testing.assert_array_equal(
        to_png8(np.array([0.0, 0.5 / 255 - 1e-6, 0.5, 1.0, 1.2, -0.1])), [0, 0, 128, 255, 255, 0]
    )
    assert to_input(np.zeros((5, 6), np.float32), channels=3).shape == (1, 3, 5, 6)


@pytest.mark.parametrize("in_channels", [1, 3])
def test_predict_probability_crops_back(in_channels):
    torch.manual_seed(0)
    base = TinyBase(in_channels).eval()
    gray = np.random.default_rng(0).integers(0, 256, (37, 70), dtype=np.uint8)
    prob = predict_probability(base, gray)
    assert prob.shape == (37, 70) and prob.dtype == np.float32
    assert 0 <= prob.min() and prob.max() <= 1
    model = tiny_model(TinyBase(in_channels)).eval()  # FDEP in eval mode works too (light branch)
    assert predict_probability(model, gray).shape == (37, 70)


# ---------------------------------------------------------------- weight loading


def _tiny_state(arch: str, seed: int, **kw) -> dict:
    import timm

    torch.manual_seed(seed)
    vit = timm.create_model(arch, pretrained=False, num_classes=0, **{**TINY_VIT, **kw})
    return {k: v.clone() for k, v in vit.state_dict().items()}


def test_load_official_dinov2_checkpoint(tmp_path: Path):
    ref = _tiny_state("vit_small_patch14_dinov2", seed=3)
    official = dict(ref)
    official["mask_token"] = torch.zeros(1, TINY_VIT["embed_dim"])  # present in Meta's release, not in timm
    path = tmp_path / "dinov2_tiny_pretrain.pth"
    torch.save(official, path)
    vfm = FrozenVFM("vit_small_patch14_dinov2", weights=path, **TINY_VIT)
    got = vfm.vit.state_dict()
    assert set(got) == set(ref)
    assert torch.equal(got["blocks.2.attn.qkv.weight"], ref["blocks.2.attn.qkv.weight"])
    assert torch.equal(got["blocks.3.ls2.gamma"], ref["blocks.3.ls2.gamma"])
    assert torch.equal(got["pos_embed"], ref["pos_embed"])


def test_load_official_dinov2_register_checkpoint(tmp_path: Path):
    arch = "vit_small_patch14_reg4_dinov2"
    ref = _tiny_state(arch, seed=4)
    # Meta's layout: pos_embed includes the class-token position, registers are "register_tokens"
    cls_pos = torch.randn(1, 1, TINY_VIT["embed_dim"])
    official = {k: v for k, v in ref.items() if k not in ("reg_token", "cls_token", "pos_embed")}
    official["register_tokens"] = ref["reg_token"]
    official["cls_token"] = ref["cls_token"] - cls_pos[:, 0:1]
    official["pos_embed"] = torch.cat([cls_pos, ref["pos_embed"]], dim=1)
    official["mask_token"] = torch.zeros(1, TINY_VIT["embed_dim"])
    path = tmp_path / "dinov2_tiny_reg4_pretrain.pth"
    torch.save(official, path)
    vfm = FrozenVFM(arch, weights=path, **TINY_VIT)
    got = vfm.vit.state_dict()
    assert torch.equal(got["reg_token"], ref["reg_token"])
    assert torch.equal(got["pos_embed"], ref["pos_embed"])
    assert torch.allclose(got["cls_token"], ref["cls_token"], atol=1e-6)
    assert torch.equal(got["blocks.1.mlp.fc1.weight"], ref["blocks.1.mlp.fc1.weight"])


@pytest.mark.slow
def test_default_vits14_with_meta_shapes(tmp_path: Path):
    """The default arch takes a checkpoint of dinov2_vits14's published shapes and runs at another size."""
    import timm

    vit = timm.create_model("vit_small_patch14_dinov2", pretrained=False, num_classes=0)
    state = dict(vit.state_dict())
    # dinov2_vits14_pretrain.pth: 384 channels, a 37 x 37 position grid (518 / 14) plus the class position
    assert state["pos_embed"].shape == (1, 1 + 37 * 37, 384)
    state["mask_token"] = torch.zeros(1, 384)
    path = tmp_path / "dinov2_vits14_pretrain.pth"
    torch.save(state, path)
    vfm = FrozenVFM(weights=path)
    assert vfm.blocks == [2, 5, 8, 11] and vfm.embed_dim == 384
    assert torch.equal(vfm.vit.pos_embed, state["pos_embed"])
    feats = vfm(torch.rand(1, 1, 256, 200))  # -> 252 x 196, an 18 x 14 patch grid
    assert [tuple(f.shape) for f in feats] == [(1, 384, 18, 14)] * 4


@pytest.mark.parametrize("fmt", ["pth", "safetensors", "wrapped"])
def test_load_timm_checkpoint(tmp_path: Path, fmt: str):
    ref = _tiny_state("vit_small_patch14_dinov2", seed=5)
    if fmt == "safetensors":
        from safetensors.torch import save_file

        path = tmp_path / "model.safetensors"
        save_file({k: v.contiguous() for k, v in ref.items()}, str(path))
    else:
        path = tmp_path / "model.pth"
        torch.save(
            {"state_dict": {f"module.{k}": v for k, v in ref.items()}} if fmt == "wrapped" else ref, path
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # with weights there is no random-weights warning
        vfm = FrozenVFM("vit_small_patch14_dinov2", weights=path, **TINY_VIT)
    for k, v in vfm.vit.state_dict().items():
        assert torch.equal(v, ref[k]), k


def test_weight_loading_errors(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        FrozenVFM("vit_small_patch14_dinov2", weights=tmp_path / "dinov2_vits14_pretrain.pth", **TINY_VIT)
    path = tmp_path / "deeper.pth"
    torch.save(_tiny_state("vit_small_patch14_dinov2", seed=6, depth=5), path)
    with pytest.raises(RuntimeError, match="does not fit"):
        FrozenVFM("vit_small_patch14_dinov2", weights=path, **TINY_VIT)


# ---------------------------------------------------------------- real data


@pytest.mark.shared
def test_misc_111_mask_is_fixed_or_skipped(shared_dir: Path, tmp_path: Path):
    root = shared_dir / "data" / "nuaa-sirst"
    with pytest.warns(UserWarning, match="Misc_111.*fixes"):
        image, mask = load_pair(root, "Misc_111")
    assert image.shape == mask.shape == (220, 325) and mask.sum() > 0
    # without the fix the sample is skipped with a warning
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "Misc_111.png").write_bytes((root / sub / "Misc_111.png").read_bytes())
    with pytest.warns(UserWarning, match="skipped"):
        assert load_pair(tmp_path, "Misc_111") is None


@pytest.mark.shared
def test_short_training_run_lowers_the_loss(shared_dir: Path):
    from fdep_ref.registry import build_base

    root = shared_dir / "data" / "nuaa-sirst"
    names = read_split(root, "50_50", "train")[:4]
    torch.manual_seed(0)
    data = SirstCrops(root, names, crop=64, augment=True, pos_prob=1.0)
    fixed_x, fixed_y = (torch.stack(t) for t in zip(*(data[i] for i in range(len(data))), strict=True))
    assert fixed_y.sum() > 0, "crops with pos_prob=1 hold targets"
    model = FDEP(build_base("acm"), tiny_vfm(), loss="bce+softiou")
    opt = torch.optim.AdamW(model.trainable_parameters(), lr=2e-3)
    model.train()
    with torch.no_grad():
        before = model.loss_terms(fixed_x, fixed_y)
    loader = torch.utils.data.DataLoader(data, batch_size=4, shuffle=True)
    for _ in range(10):
        for x, y in loader:
            opt.zero_grad()
            model.loss(x, y).backward()
            opt.step()
    with torch.no_grad():
        after = model.loss_terms(fixed_x, fixed_y)
    assert float(after["total"]) < float(before["total"]) - 0.1, (before, after)
    assert float(after["light"]) < float(before["light"]), "the deployable branch improves too"
