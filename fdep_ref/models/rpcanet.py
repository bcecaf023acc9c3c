"""RPCANet: deep-unfolded robust PCA for infrared small targets (Wu et al., WACV 2024).

"RPCANet: Deep Unfolding RPCA Based Infrared Small Target Detection". The image ``D`` is split
into a low-rank background ``B`` and a sparse target map ``T`` by ``stages`` unfolded iterations,
each of three learned steps (all convolutions 3x3, stride 1, padding 1, with bias):

* background: ``B = (D - T) + f_B(D - T)``, ``f_B`` = conv(1 -> c), BN, ReLU, ``llayers`` x
  [conv(c -> c), BN, ReLU], conv(c -> 1);
* target: ``T = X - eps * f_T(X)`` with ``X = T + D - B``, ``f_T`` = conv(1 -> c), ReLU,
  ``slayers`` x [conv(c -> c), ReLU], conv(c -> 1), ``eps`` a learned scalar (0.01 at init);
* image: ``D = f_D(B + T)``, ``f_D`` built like ``f_B`` with ``mlayers``.

``T`` starts at zero. The release (``RPCANet9(stage_num=6, slayers=6, llayers=3, mlayers=3,
channel=32)``, 679,896 trainable parameters) returns ``(D, T)`` and its test script reads
``sigmoid(T)`` as the target probability. Module names follow the release so that its plain
state dict loads with ``strict=True``.

Differences from the release: the :class:`~fdep_ref.models.base.BaseNet` split is degenerate
(``encode`` runs all stages and returns ``[D, T]``, the "bottleneck" being the 1-channel ``T``;
``decode`` returns ``T`` as the logits), and :meth:`RPCANet.decompose` gives ``(D, T)``.
"""

from __future__ import annotations

import torch
from torch import nn

from fdep_ref._bases import register_base

from .base import BaseNet


def _conv_stack(channels: int, layers: int, norm: bool) -> nn.Sequential:
    """conv(1 -> c) [BN] ReLU, ``layers`` x (conv(c -> c) [BN] ReLU), conv(c -> 1)."""

    def unit(cin: int) -> list[nn.Module]:
        conv = nn.Conv2d(cin, channels, 3, padding=1)
        return [conv, nn.BatchNorm2d(channels), nn.ReLU(True)] if norm else [conv, nn.ReLU(True)]

    mods = unit(1)
    for _ in range(layers):
        mods += unit(channels)
    mods.append(nn.Conv2d(channels, 1, 3, padding=1))
    return nn.Sequential(*mods)


class LowRank(nn.Module):
    """Background step: ``B = (D - T) + f_B(D - T)``."""

    def __init__(self, channels: int, layers: int):
        super().__init__()
        self.convs = _conv_stack(channels, layers, norm=True)

    def forward(self, d: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x = d - t
        return x + self.convs(x)


class Sparse(nn.Module):
    """Target step: ``T = X - eps * f_T(X)``, ``X = T + D - B``."""

    def __init__(self, channels: int, layers: int):
        super().__init__()
        self.convs = _conv_stack(channels, layers, norm=False)
        self.epsilon = nn.Parameter(torch.tensor([0.01]))

    def forward(self, d: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x = t + d - b
        return x - self.epsilon * self.convs(x)


class Merge(nn.Module):
    """Image step: ``D = f_D(B + T)``."""

    def __init__(self, channels: int, layers: int):
        super().__init__()
        self.mapping = _conv_stack(channels, layers, norm=True)

    def forward(self, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.mapping(b + t)


class Stage(nn.Module):
    """One unfolded iteration: background, then target, then image."""

    def __init__(self, channels: int, slayers: int, llayers: int, mlayers: int):
        super().__init__()
        self.lowrank = LowRank(channels, llayers)
        self.sparse = Sparse(channels, slayers)
        self.merge = Merge(channels, mlayers)

    def forward(self, d: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.lowrank(d, t)
        t = self.sparse(d, b, t)
        return self.merge(b, t), t


class RPCANet(BaseNet):
    """RPCANet9: ``stages`` unfolded RPCA iterations; input ``(N, 1, H, W)`` grey in [0, 1], any size."""

    def __init__(
        self, stages: int = 6, slayers: int = 6, llayers: int = 3, mlayers: int = 3, channels: int = 32
    ):
        super().__init__()
        self.in_channels = 1
        self.bottleneck_channels = 1
        self.decos = nn.ModuleList(Stage(channels, slayers, llayers, mlayers) for _ in range(stages))

    def decompose(self, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(D, T)`` after all stages, as the release's forward returns them."""
        t = torch.zeros_like(d)
        for stage in self.decos:
            d, t = stage(d, t)
        return d, t

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        return list(self.decompose(x))

    def decode(self, feats: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        return feats[-1]


@register_base("rpcanet")
def rpcanet(**kwargs) -> RPCANet:
    """RPCANet9 with 6 stages as released for SIRST (679,896 parameters, 1-channel input)."""
    return RPCANet(**kwargs)
