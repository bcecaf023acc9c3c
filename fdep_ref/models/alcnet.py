"""ALCNet: attentional local contrast network (Dai et al., TGRS 2021).

The PyTorch layout of the LESPS release (``ASKCResNetFPN`` with 4 residual blocks per stage,
channels 8/16/32/64): ResNet stem (/4), three residual stages (/4, /8, /16), then transposed
conv (x2) -> asymmetric fusion with the 1/8 feature -> transposed conv (x2) -> fusion with the
1/4 feature -> transposed conv (x2) -> FCN head at 1/2 resolution, logits resized bilinearly to
the input size.

That release also builds two residual decoder stages (``uplayer2``, ``uplayer1``) that its
forward pass never uses; they are kept here (unused) so that its checkpoints load strictly.
"""

from __future__ import annotations

import torch
from torch import nn

from fdep_ref._bases import register_base

from .base import BaseNet
from .common import AsymBiChaFuse, FCNHead, res_stage, resize_to, resnet_stem


class ALCNet(BaseNet):
    def __init__(
        self,
        in_channels: int = 1,
        layers: tuple[int, int, int] = (4, 4, 4),
        channels: tuple[int, int, int, int] = (8, 16, 32, 64),
        classes: int = 1,
    ):
        super().__init__()
        c0, c1, c2, c3 = channels
        self.in_channels = in_channels
        self.bottleneck_channels = c3
        self.stem = resnet_stem(in_channels, c0)
        self.head = FCNHead(c0, classes)
        self.layer1 = res_stage(2 * c0, c1, layers[0], stride=1)
        self.layer2 = res_stage(c1, c2, layers[1], stride=2)
        self.layer3 = res_stage(c2, c3, layers[2], stride=2)
        self.deconv2 = nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1)
        self.uplayer2 = res_stage(c2, c2, layers[1], stride=1)  # unused, kept for the checkpoints
        self.deconv1 = nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)
        self.deconv0 = nn.ConvTranspose2d(c1, c0, 4, stride=2, padding=1)
        self.uplayer1 = res_stage(c1, c1, layers[0], stride=1)  # unused, kept for the checkpoints
        self.fuse23 = AsymBiChaFuse(c2)
        self.fuse12 = AsymBiChaFuse(c1)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        f1 = self.layer1(self.stem(x))  # 1/4
        f2 = self.layer2(f1)  # 1/8
        f3 = self.layer3(f2)  # 1/16, bottleneck
        return [f1, f2, f3]

    def decode(self, feats: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        f1, f2, f3 = feats
        h, w = int(size[0]), int(size[1])
        # The release resizes to H/16 and H/8 before each step: identities for H, W multiple of 16.
        y = self.deconv2(resize_to(f3, (h // 16, w // 16)))
        y = self.fuse23(y, f2)
        y = self.deconv1(resize_to(y, (h // 8, w // 8)))
        y = self.fuse12(y, f1)
        y = self.head(self.deconv0(y))  # 1/2
        return resize_to(y, (h, w))


@register_base("alcnet")
def alcnet(**kwargs) -> ALCNet:
    """ALCNet as released with LESPS (about 0.52 M parameters incl. 2 unused stages, 1-channel input)."""
    return ALCNet(**kwargs)
