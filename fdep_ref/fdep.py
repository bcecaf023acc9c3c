"""FDEP: a base SIRST network trained with a frozen foundation-model prior (SAMF) and CO-ISD.

Two branches share every parameter of the base network and see the same input:

* main branch: ``encode -> SAMF x n (fed by the VFM's block features) -> decode``;
* lightweight branch: ``encode -> decode`` (the base network unchanged).

Training minimises ``w_main * loss(main, gt) + w_light * loss(light, gt)`` with one backward pass,
so the gradient of the main (prior-aided) branch flows into the shared encoder and decoder and the
lightweight branch inherits it (collaborative optimisation, implicit self-distillation).
Inference runs the lightweight branch only: neither the VFM nor the SAMF modules run, and
``deployable()`` is the plain base network.

The encoder is run once per step and its features are used by both branches: the two branches
share the encoder's parameters and input, so running it twice would give the same tensors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from .data import MEAN, STD
from .losses import get_loss
from .samf import SAMF
from .vfm import FrozenVFM


@contextlib.contextmanager
def frozen_bn_stats(module: nn.Module) -> Iterator[None]:
    """Batch norm layers still normalise with batch statistics but leave their running statistics alone."""
    saved = []
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats and m.training:
            saved.append((m, m.momentum, m.num_batches_tracked.clone()))
            m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum, tracked in saved:
            m.momentum = momentum
            m.num_batches_tracked.copy_(tracked)


def check_base(base: nn.Module) -> None:
    missing = [a for a in ("encode", "decode", "bottleneck_channels") if not hasattr(base, a)]
    if missing:
        raise TypeError(f"{type(base).__name__} lacks {', '.join(missing)} (see the base network contract)")


class FDEP(nn.Module):
    """Foundation-Driven Efficient Paradigm around a base network.

    Args:
        base: encoder-decoder network with ``encode``, ``decode``, ``bottleneck_channels`` and
            ``forward(x) = sigmoid(decode(encode(x), x.shape[-2:]))``.
        vfm: the frozen foundation model; one SAMF module per block it returns.
        n_samf: number of SAMF modules in series at the bottleneck (must equal ``len(vfm.blocks)``).
        loss: ``"softiou"`` or ``"bce+softiou"``.
        weights: (w_main, w_light) loss weights.
        input_mean, input_std: the normalisation of the base's input; FDEP undoes it to give the VFM
            [0, 1] intensities (default: the LESPS statistics 95.010 / 41.511).
        main_updates_bn_stats: if False (default), the main branch's decoder pass normalises with batch
            statistics but does not update BN running statistics, so that the running statistics used at
            inference describe the lightweight (deployed) branch only.

    ``forward(x)`` returns probabilities: ``(main, light)`` in ``train()`` mode, ``light`` alone in
    ``eval()`` mode (computed by the base network; the VFM is not called). ``loss(x, y)`` works from
    the logits of both branches.
    """

    def __init__(
        self,
        base: nn.Module,
        vfm: FrozenVFM,
        n_samf: int = 4,
        loss: str = "softiou",
        weights: Sequence[float] = (1.0, 1.0),
        input_mean: float = MEAN,
        input_std: float = STD,
        main_updates_bn_stats: bool = False,
    ):
        super().__init__()
        check_base(base)
        if len(vfm.blocks) != n_samf:
            raise ValueError(
                f"n_samf={n_samf} but the VFM returns {len(vfm.blocks)} blocks {vfm.blocks}; "
                "each SAMF module takes one block's features"
            )
        if len(weights) != 2:
            raise ValueError("weights must be (w_main, w_light)")
        self.base = base
        self.vfm = vfm
        self.samf = nn.ModuleList(SAMF(int(base.bottleneck_channels), vfm.embed_dim) for _ in range(n_samf))
        self.loss_name = loss
        self.loss_fn = get_loss(loss)
        self.w_main, self.w_light = (float(w) for w in weights)
        self.input_mean = float(input_mean)
        self.input_std = float(input_std)
        self.main_updates_bn_stats = main_updates_bn_stats

    def vfm_image(self, x: torch.Tensor) -> torch.Tensor:
        """Recover [0, 1] grayscale intensities (N, 1, H, W) from the base's normalised input."""
        gray = x.mean(dim=1, keepdim=True) if x.shape[1] > 1 else x
        return ((gray * self.input_std + self.input_mean) / 255.0).clamp(0.0, 1.0)

    def prior(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The VFM's block features for the base input x (no gradient)."""
        return self.vfm(self.vfm_image(x))

    def branch_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (main, light), each (N, 1, H, W)."""
        size = tuple(x.shape[-2:])
        feats = list(self.base.encode(x))
        z = feats[-1]
        for samf, d in zip(self.samf, self.prior(x), strict=True):
            z = samf(z, d)
        ctx = contextlib.nullcontext() if self.main_updates_bn_stats else frozen_bn_stats(self.base)
        with ctx:
            main = self.base.decode(feats[:-1] + [z], size)
        light = self.base.decode(list(feats), size)
        return main, light

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if not self.training:
            return self.base(x)
        main, light = self.branch_logits(x)
        return torch.sigmoid(main), torch.sigmoid(light)

    def loss_terms(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"main", "light", "total"}``: the two branch losses and their weighted sum."""
        main, light = self.branch_logits(x)
        y = y.to(main.dtype)
        lm = self.loss_fn(main, y)
        ll = self.loss_fn(light, y)
        return {"main": lm, "light": ll, "total": self.w_main * lm + self.w_light * ll}

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``w_main * loss(main, y) + w_light * loss(light, y)``."""
        return self.loss_terms(x, y)["total"]

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The base network's and the SAMF modules' parameters (the VFM is frozen)."""
        return [p for p in self.parameters() if p.requires_grad]

    def deployable(self) -> nn.Module:
        """The base network itself (shared weights, same object): the lightweight branch alone."""
        return self.base
