"""RepISD-Net, re-parameterised deploy form (Wu et al., IEEE TGRS 2023).

"RepISD-Net: Learning Efficient Infrared Small-target Detection Network via Structural
Re-parameterization". At training time every 3x3 block of the U-Net's down and up paths sums a
dense 3x3 conv, a central-difference conv with a 1x1 branch and (when shapes allow) an identity
BN; after training each block is folded into one biased 3x3 conv followed by ReLU. This module is
that folded (deploy) network, laid out so that the published ``deploy.pth.tar`` (a plain state dict,
60 entries, 279,106 trainable parameters) loads with ``strict=True``:

* ``backbone.inc``: plain double conv (3x3 conv without bias, BN, ReLU) x2, 3 -> 32 channels;
* ``backbone.down1`` / ``down2``: 2x2 max-pool then two folded blocks, 32 -> 64 -> 64 channels
  (1/2 and 1/4 resolution);
* ``backbone.up3`` / ``up4``: bilinear x2 upsampling (``align_corners=True``), concatenation
  ``[skip, upsampled]`` and two folded blocks, to 32 channels at full resolution;
* ``ppm``: pyramid pooling with bins 1, 2, 3, 6 (1x1 conv to 8 channels, BN, ReLU, bilinear
  ``align_corners=True`` back), concatenated with its input (64 channels);
* ``cls``: 3x3 conv (64 -> 32, no bias), BN, ReLU, dropout, 1x1 conv to 2 classes; the release
  ends with a sigmoid and reads class 1 as the target probability.

Differences from the release: the output is split as the :class:`~fdep_ref.models.base.BaseNet`
contract asks (``decode`` returns the class-1 logits, so ``forward`` is the release's channel 1
exactly; :meth:`RepISD.logits` gives both classes), and no training-time branches exist here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fdep_ref._bases import register_base

from .base import BaseNet


class FoldedBlock(nn.Module):
    """A re-parameterised 3x3 block: one biased 3x3 conv, then ReLU (key ``rbr_reparam``)."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.rbr_reparam = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=True)
        self.nonlinearity = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinearity(self.rbr_reparam(x))


class FoldedDouble(nn.Module):
    """Two folded blocks, ``in -> mid -> out`` (key ``double_conv``)."""

    def __init__(self, in_ch: int, out_ch: int, mid_ch: int | None = None):
        super().__init__()
        mid_ch = mid_ch or out_ch
        self.double_conv = nn.Sequential(FoldedBlock(in_ch, mid_ch), FoldedBlock(mid_ch, out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.double_conv(x)


class PlainDouble(nn.Module):
    """The input double conv: (3x3 conv without bias, BN, ReLU) x2."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.double_conv(x)


class Down(nn.Module):
    """2x2 max-pool, then a folded double block (key ``maxpool_conv``)."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), FoldedDouble(in_ch, out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool_conv(x)


class Up(nn.Module):
    """Bilinear x2 (corners aligned), zero-pad to the skip's size, ``cat([skip, up])``, folded double block."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv = FoldedDouble(in_ch, out_ch, in_ch // 2)

    def forward(self, deep: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(deep, scale_factor=2, mode="bilinear", align_corners=True)
        dy, dx = skip.shape[-2] - up.shape[-2], skip.shape[-1] - up.shape[-1]
        if dy or dx:  # odd sizes: centre the upsampled map on the skip feature
            up = F.pad(up, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, up], dim=1))


class Backbone(nn.Module):
    """The three-level U-Net of RepISD-Net (32, 64, 64 channels), returning the full-resolution 32-channel feature."""

    def __init__(self, in_channels: int = 3):
        super().__init__()
        self.inc = PlainDouble(in_channels, 32)
        self.down1 = Down(32, 64)
        self.down2 = Down(64, 64)
        self.up3 = Up(128, 32)
        self.up4 = Up(64, 32)


class PyramidPooling(nn.Module):
    """PSPNet-style pyramid pooling: the input and, per bin, pool -> 1x1 conv -> BN -> ReLU -> upsample."""

    def __init__(self, in_ch: int, reduced: int, bins: tuple[int, ...]):
        super().__init__()
        self.features = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool2d(b),
                nn.Conv2d(in_ch, reduced, 1, bias=False),
                nn.BatchNorm2d(reduced),
                nn.ReLU(inplace=True),
            )
            for b in bins
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        pooled = [F.interpolate(f(x), size, mode="bilinear", align_corners=True) for f in self.features]
        return torch.cat([x, *pooled], dim=1)


class RepISD(BaseNet):
    """RepISD-Net deploy network; input ``(N, 3, H, W)`` normalised RGB (grey replicated), H and W multiples of 4."""

    def __init__(self, in_channels: int = 3, bins: tuple[int, ...] = (1, 2, 3, 6), classes: int = 2):
        super().__init__()
        self.in_channels = in_channels
        self.bottleneck_channels = 64
        self.backbone = Backbone(in_channels)
        self.ppm = PyramidPooling(32, 32 // len(bins), bins)
        self.cls = nn.Sequential(
            nn.Conv2d(64, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Dropout2d(p=0.1),
            nn.Conv2d(32, classes, 1),
        )

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        b = self.backbone
        f1 = b.inc(x)  # 1/1, 32 channels
        f2 = b.down1(f1)  # 1/2, 64
        f3 = b.down2(f2)  # 1/4, 64: bottleneck
        return [f1, f2, f3]

    def logits(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """Both classes' logits ``(N, 2, H, W)``; the release applies a sigmoid to each."""
        f1, f2, f3 = feats
        b = self.backbone
        y = b.up4(b.up3(f3, f2), f1)
        return self.cls(self.ppm(y))

    def decode(self, feats: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        logits = self.logits(feats)[:, 1:]
        if tuple(logits.shape[-2:]) != tuple(size):
            raise ValueError(f"RepISD decodes at the input size; got features for {tuple(logits.shape[-2:])}")
        return logits


@register_base("repisd")
def repisd(**kwargs) -> RepISD:
    """RepISD-Net as deployed for NUAA-SIRST (279,106 parameters, 3-channel input)."""
    return RepISD(**kwargs)
