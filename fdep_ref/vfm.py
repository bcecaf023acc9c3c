"""The frozen visual foundation model (VFM) that supplies the global semantic prior.

``FrozenVFM`` wraps a timm Vision Transformer of the DINO family. It never downloads anything:
the model is created with ``pretrained=False`` and weights come from a local file only:

* an official DINOv2 checkpoint as released by Meta (e.g. ``dinov2_vits14_pretrain.pth``), whose
  key names differ from timm's (``mask_token``, ``register_tokens``, SwiGLU ``w12``/``w3``); it is
  converted with timm's own ViT checkpoint filter (``timm.models.vision_transformer.checkpoint_filter_fn``),
  which also resamples the position embedding when the model's grid differs;
* a timm state dict (``.pth``/``.pt``/``.bin``) or a ``.safetensors`` file, e.g. the timm release of
  ``vit_small_patch14_dinov2.lvd142m``;
* a DINO (v1) checkpoint, whose keys already match timm's ViT.

Loading is strict: every key must match after conversion.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from fdep_ref.weights import read_weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def evenly_spaced_blocks(depth: int, n: int) -> list[int]:
    """``n`` block indices spread evenly over ``depth`` blocks, ending at the last one (12, 4 -> [2, 5, 8, 11])."""
    if not 1 <= n <= depth:
        raise ValueError(f"cannot take {n} blocks from a ViT with {depth} blocks")
    return [round((i + 1) * depth / n) - 1 for i in range(n)]


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint file into a flat state dict (tensors on the CPU)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"VFM weights not found: {path} (weights are never downloaded; pass a local DINOv2/timm checkpoint)"
        )
    state = read_weights(path)
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state dict (got {type(state).__name__})")
    for wrapper in ("teacher", "model", "state_dict"):
        if wrapper in state and isinstance(state[wrapper], dict):
            state = state[wrapper]
    for prefix in ("module.", "backbone."):
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    return state


def load_vit_weights(vit: nn.Module, path: str | Path) -> None:
    """Load a DINOv2-format or timm-format checkpoint into a timm ViT, strictly."""
    from timm.models.vision_transformer import checkpoint_filter_fn

    state = read_state_dict(path)
    state = checkpoint_filter_fn(state, vit)
    try:
        vit.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise RuntimeError(
            f"{path} does not fit the ViT architecture (check --vfm-arch and its kwargs): {exc}"
        ) from exc


class FrozenVFM(nn.Module):
    """A frozen DINO-family ViT returning patch-token feature maps of selected blocks.

    Args:
        arch: a timm ViT name, created with ``pretrained=False``.
        weights: a local checkpoint (see the module docstring), or None for random weights (tests only;
            a ``UserWarning`` says so).
        blocks: indices of the transformer blocks whose outputs are returned; default ``n_blocks``
            evenly spaced blocks ending at the last one.
        n_blocks: how many blocks when ``blocks`` is None.
        input_size: size the image is resized to before the ViT: None rounds each side of the input to
            the nearest multiple of the patch size; an int or (h, w) gives a fixed size (also rounded).
        norm: apply the ViT's final LayerNorm to each returned block output (as DINOv2's
            ``get_intermediate_layers`` does by default).
        **vit_kwargs: passed to ``timm.create_model`` (e.g. ``depth``, ``embed_dim``, ``num_heads``,
            ``img_size`` for small test models). ``dynamic_img_size`` defaults to True so that any
            input size works (the position embedding is interpolated).

    ``forward(img)`` takes intensities in [0, 1], shape (N, 1, H, W) (grayscale, replicated to RGB here)
    or (N, 3, H, W), and returns a list of (N, embed_dim, H/p, W/p) tensors, one per block. It always
    runs in eval mode under ``torch.no_grad()``; all parameters have ``requires_grad=False``.
    """

    def __init__(
        self,
        arch: str = "vit_small_patch14_dinov2",
        weights: str | Path | None = None,
        blocks: Sequence[int] | None = None,
        n_blocks: int = 4,
        input_size: int | tuple[int, int] | None = None,
        norm: bool = True,
        **vit_kwargs,
    ):
        super().__init__()
        import timm

        if vit_kwargs.pop("pretrained", False):
            raise ValueError("FrozenVFM never downloads weights: pass weights=PATH to a local checkpoint")
        vit_kwargs.setdefault("dynamic_img_size", True)
        vit_kwargs["num_classes"] = 0
        self.arch = arch
        self.vit = timm.create_model(arch, pretrained=False, **vit_kwargs)
        if not hasattr(self.vit, "forward_intermediates") or not hasattr(self.vit, "blocks"):
            raise ValueError(f"{arch} is not a timm ViT with forward_intermediates()")
        depth = len(self.vit.blocks)
        if blocks is None:
            blocks = evenly_spaced_blocks(depth, n_blocks)
        blocks = [int(b) for b in blocks]
        if not blocks or any(not 0 <= b < depth for b in blocks):
            raise ValueError(f"block indices {blocks} out of range for a ViT with {depth} blocks")
        self.blocks = blocks
        self.norm = norm
        self.embed_dim = int(self.vit.embed_dim)
        patch = self.vit.patch_embed.patch_size
        self.patch_size = (int(patch[0]), int(patch[1]))
        if input_size is not None and isinstance(input_size, int):
            input_size = (input_size, input_size)
        self.input_size = None if input_size is None else (int(input_size[0]), int(input_size[1]))
        self.weights = None if weights is None else str(weights)
        if weights is None:
            warnings.warn(
                f"FrozenVFM({arch}) has random weights: no prior is learned from it (pass weights=PATH "
                "to a local DINOv2/timm checkpoint for real use)",
                UserWarning,
                stacklevel=2,
            )
        else:
            load_vit_weights(self.vit, weights)
        self.vit.requires_grad_(False)
        self.vit.eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> FrozenVFM:
        """The VFM stays in eval mode whatever the parent module's mode."""
        return super().train(False)

    def vit_size(self, h: int, w: int) -> tuple[int, int]:
        ph, pw = self.patch_size
        th, tw = self.input_size if self.input_size is not None else (h, w)
        return max(ph, round(th / ph) * ph), max(pw, round(tw / pw) * pw)

    def preprocess(self, img: torch.Tensor) -> torch.Tensor:
        """[0, 1] intensities (N, 1|3, H, W) to the ViT input: RGB, resized, ImageNet-normalised."""
        if img.ndim != 4 or img.shape[1] not in (1, 3):
            raise ValueError(f"FrozenVFM expects (N, 1|3, H, W) images, got {tuple(img.shape)}")
        if img.shape[1] == 1:
            img = img.expand(-1, 3, -1, -1)
        size = self.vit_size(*img.shape[-2:])
        img = img.float()
        if tuple(img.shape[-2:]) != size:
            img = F.interpolate(img, size=size, mode="bilinear", align_corners=False)
        return (img - self.mean) / self.std

    @torch.no_grad()
    def forward(self, img: torch.Tensor) -> list[torch.Tensor]:
        x = self.preprocess(img)
        return self.vit.forward_intermediates(
            x, indices=self.blocks, norm=self.norm, output_fmt="NCHW", intermediates_only=True
        )
