"""Segmentation losses on logits.

Both losses take logits (N, 1, H, W) and a target in [0, 1] of the same shape, and return a scalar.

* ``softiou``: ``1 - mean_n (sum(p*t) + 1) / (sum(p) + sum(t) - sum(p*t) + 1)`` with ``p = sigmoid(logits)``,
  the per-image soft IoU (smoothing 1) averaged over the batch, as used by the BasicIRSTD/LESPS toolboxes.
* ``bce+softiou``: binary cross-entropy (computed from logits, numerically stable, mean over pixels)
  plus ``softiou``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LOSSES = ("softiou", "bce+softiou")


def soft_iou_loss(prob: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """Soft IoU loss on probabilities, per image then averaged over the batch."""
    if prob.shape != target.shape:
        raise ValueError(f"prediction {tuple(prob.shape)} and target {tuple(target.shape)} differ in shape")
    dims = tuple(range(1, prob.ndim))
    inter = (prob * target).sum(dims)
    union = prob.sum(dims) + target.sum(dims) - inter
    return 1.0 - ((inter + smooth) / (union + smooth)).mean()


def softiou_from_logits(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return soft_iou_loss(torch.sigmoid(logits), target)


def bce_softiou_from_logits(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, target) + soft_iou_loss(torch.sigmoid(logits), target)


def get_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss function called ``name`` (one of ``LOSSES``), taking (logits, target)."""
    table = {"softiou": softiou_from_logits, "bce+softiou": bce_softiou_from_logits}
    if name not in table:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return table[name]
