"""The encoder/decoder contract shared by every base network."""

from __future__ import annotations

import torch
from torch import nn


class BaseNet(nn.Module):
    """A segmentation network split into ``encode`` and ``decode``.

    * ``encode(x) -> list[Tensor]``: multi-scale encoder features, shallowest first; the last one
      is the bottleneck (deepest) feature with ``bottleneck_channels`` channels.
    * ``decode(feats, size) -> Tensor``: logits ``(N, 1, *size)``; ``feats[-1]`` may be replaced
      by a modified bottleneck of the same shape.
    * ``forward(x) = sigmoid(decode(encode(x), x.shape[-2:]))``: the probability map.
    """

    bottleneck_channels: int
    in_channels: int

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def decode(self, feats: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} expects input (N, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        return torch.sigmoid(self.decode(self.encode(x), tuple(x.shape[-2:])))
