"""Deterministic synthetic SIRST-like data for the speed benchmarks.

Targets are small Gaussian blobs (1..n per image); the prediction is the blobs' response plus a noisy,
speckled background, which produces many small false components at every threshold (the case where
per-component Python loops are slowest).
"""

from __future__ import annotations

import numpy as np


def make_pair(rng: np.random.Generator, size: int, n_targets: int, noise: float = 8.0):
    h = w = size
    rows = rng.integers(4, h - 4, n_targets)
    cols = rng.integers(4, w - 4, n_targets)
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), bool)
    response = np.zeros((h, w))
    for r, c in zip(rows, cols, strict=True):
        radius = rng.uniform(1.0, 2.5)
        d2 = (yy - r) ** 2 + (xx - c) ** 2
        mask |= d2 <= radius**2
        response = np.maximum(response, rng.uniform(0.6, 1.0) * np.exp(-d2 / (2 * radius**2)))
    background = rng.random((h, w)) ** noise  # mostly near 0, a speckle of high values
    pred = np.clip(np.maximum(response, background), 0.0, 1.0)
    return pred, mask


def make_set(n_images: int, size: int, targets: tuple[int, int], seed: int = 0):
    rng = np.random.default_rng(seed)
    pairs = [make_pair(rng, size, int(rng.integers(targets[0], targets[1] + 1))) for _ in range(n_images)]
    preds, masks = zip(*pairs, strict=True)
    return list(preds), list(masks)


def make_noisy_pair(rng: np.random.Generator, size: int = 256, n_targets: tuple[int, int] = (1, 3)):
    """A weak network's map: blurred disk targets, false 3x3 blobs and |N(0, 0.05)| noise everywhere.

    1-3 disk targets of radius 1-3 (the mask), blurred with a Gaussian of sigma 1 and scaled to a peak of
    0.5-1.0; 0-2 false 3x3 blobs of 0.3-0.9 away from the targets; ``|N(0, 0.05)|`` added to every pixel
    and the sum clipped to [0, 1]. About a third of the pixels lie above 0.05, so the lowest thresholds
    see one huge component.
    """
    from scipy import ndimage

    h = w = size
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), bool)
    n_t = int(rng.integers(n_targets[0], n_targets[1] + 1))
    for _ in range(n_t):
        r, c = rng.integers(4, h - 4), rng.integers(4, w - 4)
        radius = rng.uniform(1.0, 3.0)
        mask |= (yy - r) ** 2 + (xx - c) ** 2 <= radius**2
    blurred = ndimage.gaussian_filter(mask.astype(np.float64), sigma=1.0)
    pred = blurred * (rng.uniform(0.5, 1.0) / max(float(blurred.max()), 1e-12))
    for _ in range(int(rng.integers(0, 3))):
        r, c = rng.integers(1, h - 2), rng.integers(1, w - 2)
        pred[r - 1 : r + 2, c - 1 : c + 2] = np.maximum(
            pred[r - 1 : r + 2, c - 1 : c + 2], rng.uniform(0.3, 0.9)
        )
    pred = np.clip(pred + np.abs(rng.normal(0.0, 0.05, (h, w))), 0.0, 1.0)
    return pred, mask


def make_noisy_set(n_images: int, size: int = 256, targets: tuple[int, int] = (1, 3), seed: int = 0):
    """``n_images`` seeded noisy pairs (:func:`make_noisy_pair`): lists of float64 maps and bool masks."""
    rng = np.random.default_rng(seed)
    pairs = [make_noisy_pair(rng, size, targets) for _ in range(n_images)]
    preds, masks = zip(*pairs, strict=True)
    return list(preds), list(masks)
