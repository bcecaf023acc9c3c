"""SAMF: Semantic Alignment Modulation Fusion.

One SAMF module fuses a ViT feature map D (the frozen foundation model's prior) into a CNN feature
map X with C channels (C even):

* D is resized (bilinear) to X's spatial size;
* X is split channel-wise into X1 and X2 (C/2 channels each);
* A = sigmoid(BN(conv1x1(D)))   -- C/2 channels, a gate in (0, 1) that modulates X1 multiplicatively;
* B = BN(conv1x1(D))            -- C/2 channels, a signed shift added to X2;
* Y1 = ReLU(BN(conv3x3(X1 * A)));
* Y2 = ReLU(BN(conv3x3(X2 + B)));
* out = ReLU(BN(conv1x1(concat(Y1, Y2) + X)))  -- same shape as X.

The 1x1 convolutions on D align the ViT embedding (e.g. 384 dims) to the CNN's channel space;
the sigmoid keeps the multiplicative path bounded (a ReLU there could switch channels off for good),
the additive path has no activation so that it can shift either way. All convolutions are bias-free
because each is followed by batch normalisation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn(cin: int, cout: int, k: int, relu: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class SAMF(nn.Module):
    """Fuse a ViT feature (N, vit_dim, h, w) into a CNN feature (N, channels, H, W); returns (N, channels, H, W)."""

    def __init__(self, channels: int, vit_dim: int):
        super().__init__()
        if channels < 2 or channels % 2:
            raise ValueError(f"SAMF needs an even channel count >= 2, got {channels}")
        half = channels // 2
        self.channels = channels
        self.vit_dim = vit_dim
        self.scale = nn.Sequential(
            nn.Conv2d(vit_dim, half, 1, bias=False), nn.BatchNorm2d(half), nn.Sigmoid()
        )
        self.shift = conv_bn(vit_dim, half, 1, relu=False)
        self.mod_conv = conv_bn(half, half, 3, relu=True)
        self.add_conv = conv_bn(half, half, 3, relu=True)
        self.out_conv = conv_bn(channels, channels, 1, relu=True)

    def forward(self, x: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.channels:
            raise ValueError(f"SAMF built for {self.channels} CNN channels, got {x.shape[1]}")
        if d.shape[1] != self.vit_dim:
            raise ValueError(f"SAMF built for {self.vit_dim} ViT channels, got {d.shape[1]}")
        if d.shape[-2:] != x.shape[-2:]:
            d = F.interpolate(d, size=x.shape[-2:], mode="bilinear", align_corners=False)
        d = d.to(x.dtype)
        x1, x2 = torch.chunk(x, 2, dim=1)
        y1 = self.mod_conv(x1 * self.scale(d))
        y2 = self.add_conv(x2 + self.shift(d))
        return self.out_conv(torch.cat([y1, y2], dim=1) + x)
