"""ACM: asymmetric contextual modulation U-Net (Dai et al., WACV 2021).

The PyTorch layout of the LESPS release (``ASKCResUNet`` with 3 residual blocks per stage,
channels 8/16/32/64): ResNet stem (/4), three residual stages (/4, /8, /16), then two decoder
steps of transposed conv (x2) -> asymmetric bi-directional fusion with the skip feature ->
residual stage, an FCN head at 1/4 resolution and a bilinear x4 upsampling of the logits.
"""

from __future__ import annotations

import torch
from torch import nn

from fdep_ref._bases import register_base

from .base import BaseNet
from .common import AsymBiChaFuse, FCNHead, res_stage, resize_to, resnet_stem


class ACM(BaseNet):
    def __init__(
        self,
        in_channels: int = 1,
        layers: tuple[int, int, int] = (3, 3, 3),
        channels: tuple[int, int, int, int] = (8, 16, 32, 64),
        classes: int = 1,
    ):
        super().__init__()
        c0, c1, c2, c3 = channels
        self.in_channels = in_channels
        self.bottleneck_channels = c3
        self.stem = resnet_stem(in_channels, c0)  # -> 2*c0 == c1 channels
        self.layer1 = res_stage(2 * c0, c1, layers[0], stride=1)
        self.layer2 = res_stage(c1, c2, layers[1], stride=2)
        self.layer3 = res_stage(c2, c3, layers[2], stride=2)
        self.deconv2 = nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1)
        self.uplayer2 = res_stage(c2, c2, layers[1], stride=1)
        self.fuse2 = AsymBiChaFuse(c2)
        self.deconv1 = nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)
        self.uplayer1 = res_stage(c1, c1, layers[0], stride=1)
        self.fuse1 = AsymBiChaFuse(c1)
        self.head = FCNHead(c1, classes)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        f1 = self.layer1(self.stem(x))  # 1/4
        f2 = self.layer2(f1)  # 1/8
        f3 = self.layer3(f2)  # 1/16, bottleneck
        return [f1, f2, f3]

    def decode(self, feats: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        f1, f2, f3 = feats
        y = self.uplayer2(self.fuse2(self.deconv2(f3), f2))
        y = self.uplayer1(self.fuse1(self.deconv1(y), f1))
        return resize_to(self.head(y), size)


@register_base("acm")
def acm(**kwargs) -> ACM:
    """ACM as released with LESPS (about 0.40 M parameters, 1-channel input)."""
    return ACM(**kwargs)
