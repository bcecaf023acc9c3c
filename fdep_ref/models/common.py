"""Building blocks shared by ACM and ALCNet, and strict checkpoint loading.

Module and parameter names follow the LESPS PyTorch release (github.com/XinyiYing/LESPS,
``model/ACM``) so that its published checkpoints load with ``strict=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from fdep_ref.weights import read_weights


class ResBlock(nn.Module):
    """ResNet basic block: two 3x3 convolutions with batch norm and an additive shortcut.

    Same layout and key names as the standard ResNet basic block (``conv1``, ``bn1``, ``conv2``,
    ``bn2``, optional ``downsample`` = 1x1 conv + BN).
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + shortcut)


def res_stage(in_ch: int, out_ch: int, blocks: int, stride: int) -> nn.Sequential:
    """``blocks`` residual blocks; the first one changes channels / stride."""
    layers = [ResBlock(in_ch, out_ch, stride)]
    layers += [ResBlock(out_ch, out_ch, 1) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def resnet_stem(in_ch: int, width: int) -> nn.Sequential:
    """Input BN, three 3x3 convs (the first with stride 2) and a stride-2 max-pool: /4 overall."""
    return nn.Sequential(
        nn.BatchNorm2d(in_ch),
        nn.Conv2d(in_ch, width, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.Conv2d(width, width, 3, stride=1, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.Conv2d(width, 2 * width, 3, stride=1, padding=1, bias=False),
        nn.BatchNorm2d(2 * width),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )


class AsymBiChaFuse(nn.Module):
    """Asymmetric bi-directional channel fusion (the ACM module).

    The high-level (deep) feature ``xh`` gates the low-level feature ``xl`` through a global
    channel attention (top-down); ``xl`` gates ``xh`` through a point-wise channel attention
    (bottom-up); ``post(2 * xl * td + 2 * xh * bu)``.
    """

    def __init__(self, channels: int, r: int = 4):
        super().__init__()
        mid = channels // r
        self.topdown = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, mid, 1),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, channels, 1),
            nn.BatchNorm2d(channels),
            nn.Sigmoid(),
        )
        self.bottomup = nn.Sequential(
            nn.Conv2d(channels, mid, 1),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, channels, 1),
            nn.BatchNorm2d(channels),
            nn.Sigmoid(),
        )
        self.post = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, xh: torch.Tensor, xl: torch.Tensor) -> torch.Tensor:
        td = self.topdown(xh)
        bu = self.bottomup(xl)
        return self.post(2 * xl * td + 2 * xh * bu)


class FCNHead(nn.Module):
    """3x3 conv to ``in_ch // 4`` channels, BN, ReLU, dropout, 1x1 conv to ``classes`` logits."""

    def __init__(self, in_ch: int, classes: int = 1):
        super().__init__()
        mid = in_ch // 4
        self.block = nn.Sequential(
            nn.Conv2d(in_ch, mid, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Dropout(0.1),
            nn.Conv2d(mid, classes, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


def resize_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize (half-pixel centres); a no-op when ``x`` already has that size."""
    size = (int(size[0]), int(size[1]))
    if tuple(x.shape[-2:]) == size:
        return x
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)


def _extract_state_dict(obj: object) -> Mapping[str, torch.Tensor]:
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise TypeError(f"expected a state dict, got {type(obj).__name__}")
    return obj


def _clip(keys: list[str], n: int = 8) -> str:
    head = ", ".join(keys[:n])
    return head + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


def load_checkpoint(net: nn.Module, path: str | Path, prefix: str = "model.") -> nn.Module:
    """Load ``path`` into ``net`` strictly, stripping ``prefix`` from the keys.

    Raises ``FileNotFoundError`` for a missing file, :class:`~fdep_ref.weights.UnsafeCheckpointError` for a
    file that cannot be read without running code from it, and ``RuntimeError`` naming the file and the
    missing / unexpected / mis-shaped keys when the checkpoint does not fit the network.
    """
    path = Path(path)
    obj = read_weights(path)  # never unpickles code: see fdep_ref.weights
    try:
        raw = _extract_state_dict(obj)
    except TypeError as err:
        raise RuntimeError(f"{path}: {err}") from None
    sd = {(k[len(prefix) :] if prefix and k.startswith(prefix) else k): v for k, v in raw.items()}
    own = net.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    shapes = sorted(
        f"{k}: checkpoint {tuple(sd[k].shape)} vs network {tuple(own[k].shape)}"
        for k in set(own) & set(sd)
        if tuple(sd[k].shape) != tuple(own[k].shape)
    )
    if missing or unexpected or shapes:
        parts = [f"checkpoint {path} does not fit {type(net).__name__}:"]
        if missing:
            parts.append(f"{len(missing)} missing key(s): {_clip(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {_clip(unexpected)}")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatch(es): {_clip(shapes, 4)}")
        raise RuntimeError("\n  ".join(parts))
    net.load_state_dict(sd, strict=True)
    return net
