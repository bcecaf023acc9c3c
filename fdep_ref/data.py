"""Input handling shared by training and prediction.

The base networks follow the published LESPS protocol:

* the image is read as 8-bit grayscale (PIL ``convert("L")``) and used as float;
* it is normalised with the SIRST3 training statistics, ``(x - 95.010) / 41.511``;
* for full-image inference it is zero-padded at the bottom and right to
  ``((h // 32 + 1) * 32, (w // 32 + 1) * 32)`` and the output is cropped back to ``h x w``.

Training reads random square crops of the normalised image (zero-padded when the image is
smaller than the crop) with random flips and transposition.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

MEAN = 95.010
STD = 41.511
STRIDE = 32
IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")


def read_gray(path: str | Path) -> np.ndarray:
    """Read an image as 8-bit grayscale (ITU-R 601 luma), shape (H, W), dtype uint8."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"), dtype=np.uint8).copy()
    except OSError as exc:  # PIL raises UnidentifiedImageError (an OSError) for non-images
        raise ValueError(f"cannot read {path} as an image: {exc}") from exc


def read_mask(path: str | Path) -> np.ndarray:
    """Read a ground-truth mask as bool (H, W): pixels > 127 are target."""
    return read_gray(path) > 127


def normalize(gray: np.ndarray) -> np.ndarray:
    """``(x - 95.010) / 41.511`` as float32, the normalisation the base networks expect."""
    return (np.asarray(gray, dtype=np.float32) - MEAN) / STD


def padded_size(h: int, w: int, stride: int = STRIDE) -> tuple[int, int]:
    """The published padding rule: ``(h // stride + 1) * stride`` (adds a full stride when h is a multiple)."""
    return (h // stride + 1) * stride, (w // stride + 1) * stride


def in_channels_of(base: torch.nn.Module) -> int:
    """Number of input channels a base network expects (its ``in_channels`` attribute, default 1)."""
    return int(getattr(base, "in_channels", 1) or 1)


def to_input(norm: np.ndarray, channels: int = 1) -> torch.Tensor:
    """A normalised (H, W) array as a (1, C, H, W) float tensor (grayscale replicated to C channels)."""
    x = torch.from_numpy(np.ascontiguousarray(norm, dtype=np.float32))[None, None]
    return x.expand(1, channels, *x.shape[-2:]).contiguous() if channels != 1 else x


@torch.no_grad()
def predict_probability(
    model: torch.nn.Module, gray: np.ndarray, device: str | torch.device = "cpu"
) -> np.ndarray:
    """Full-image inference with the published protocol; returns the probability map (H, W) float32.

    ``model(x)`` must return a probability map (N, 1, H', W') for a normalised input (N, C, H', W'),
    which both a base network and an FDEP model in ``eval()`` mode do.
    """
    h, w = gray.shape
    ph, pw = padded_size(h, w)
    padded = np.zeros((ph, pw), dtype=np.float32)
    padded[:h, :w] = normalize(gray)
    base = getattr(model, "base", model)
    x = to_input(padded, in_channels_of(base)).to(device)
    prob = model(x)
    if isinstance(prob, (tuple, list)):
        raise TypeError("predict_probability needs a model in eval() mode (one probability map)")
    return prob[0, 0, :h, :w].float().cpu().numpy()


def to_png8(prob: np.ndarray) -> np.ndarray:
    """Probability map to 8-bit: ``round(p * 255)`` after clipping to [0, 1]."""
    return np.rint(np.clip(prob, 0.0, 1.0) * 255.0).astype(np.uint8)


def read_split(root: str | Path, split: str, subset: str) -> list[str]:
    """Image names of ``<root>/splits/<split>/<subset>.txt`` (blank lines ignored, final newline optional)."""
    path = Path(root) / "splits" / split / f"{subset}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"split file not found: {path}")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def find_image(folder: Path, name: str) -> Path:
    for suffix in IMAGE_SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no image named {name!r} in {folder}")


def load_pair(root: str | Path, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Image (uint8) and mask (bool) of one sample; None (with a warning) when they cannot be paired.

    A mask whose size differs from its image is replaced by ``<root>/fixes/<name>.png`` when that file
    exists and matches (NUAA-SIRST's Misc_111), otherwise the sample is skipped.
    """
    root = Path(root)
    image = read_gray(find_image(root / "images", name))
    mask = read_mask(find_image(root / "masks", name))
    if mask.shape != image.shape:
        fix = root / "fixes" / f"{name}.png"
        if fix.is_file() and read_mask(fix).shape == image.shape:
            warnings.warn(
                f"{name}: mask {mask.shape} does not match image {image.shape}; using {fix}",
                UserWarning,
                stacklevel=2,
            )
            mask = read_mask(fix)
        else:
            warnings.warn(
                f"{name}: mask {mask.shape} does not match image {image.shape} and no fix exists; skipped",
                UserWarning,
                stacklevel=2,
            )
            return None
    return image, mask


class SirstCrops(torch.utils.data.Dataset):
    """Random square crops of normalised images and their masks, held in memory.

    Each item is ``(x, y)``: x (C, crop, crop) float32 normalised, y (1, crop, crop) float32 in {0, 1}.
    Images smaller than the crop are zero-padded (bottom/right) in normalised space, as in the LESPS
    training code. ``augment`` adds random horizontal/vertical flips and transposition. With probability
    ``pos_prob`` a crop is placed so that it contains a randomly chosen target pixel (useful for crops much
    smaller than the image; 0, the default, gives uniform crops).
    """

    def __init__(
        self,
        root: str | Path,
        names: Sequence[str],
        crop: int = 256,
        augment: bool = True,
        channels: int = 1,
        pos_prob: float = 0.0,
    ):
        root = Path(root)
        if not 0.0 <= pos_prob <= 1.0:
            raise ValueError(f"pos_prob must lie in [0, 1], got {pos_prob}")
        self.pos_prob = float(pos_prob)
        if not (root / "images").is_dir() or not (root / "masks").is_dir():
            raise FileNotFoundError(f"{root} needs images/ and masks/ folders")
        self.crop = int(crop)
        self.augment = augment
        self.channels = channels
        self.samples: list[tuple[str, np.ndarray, np.ndarray]] = []
        for name in names:
            pair = load_pair(root, name)
            if pair is not None:
                self.samples.append((name, normalize(pair[0]), pair[1].astype(np.float32)))
        if not self.samples:
            raise ValueError(f"no usable samples in {root}")

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        _, img, mask = self.samples[index]
        c = self.crop
        h, w = img.shape
        if h < c or w < c:
            ph, pw = max(h, c), max(w, c)
            img = np.pad(img, ((0, ph - h), (0, pw - w)))
            mask = np.pad(mask, ((0, ph - h), (0, pw - w)))
            h, w = ph, pw
        # torch's generator: seeded by torch.manual_seed and re-seeded per DataLoader worker
        top = int(torch.randint(0, h - c + 1, ()))
        left = int(torch.randint(0, w - c + 1, ()))
        if self.pos_prob > 0 and float(torch.rand(())) < self.pos_prob:
            ys, xs = np.nonzero(mask)
            if len(ys):
                k = int(torch.randint(0, len(ys), ()))
                y0, x0 = int(ys[k]), int(xs[k])
                top = int(torch.randint(max(0, y0 - c + 1), min(y0, h - c) + 1, ()))
                left = int(torch.randint(max(0, x0 - c + 1), min(x0, w - c) + 1, ()))
        img = img[top : top + c, left : left + c]
        mask = mask[top : top + c, left : left + c]
        if self.augment:
            hflip, vflip, transpose = (torch.rand(3) < 0.5).tolist()
            if hflip:
                img, mask = img[:, ::-1], mask[:, ::-1]
            if vflip:
                img, mask = img[::-1, :], mask[::-1, :]
            if transpose:
                img, mask = img.T, mask.T
        x = to_input(img, self.channels)[0]
        y = torch.from_numpy(np.ascontiguousarray(mask))[None]
        return x, y
