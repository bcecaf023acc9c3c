"""A small deterministic synthetic data set, so that ``hse-score --demo`` runs without any files.

Each image is a noisy background with a few smooth clutter blobs and one to three small Gaussian
targets. The ground-truth mask is the core of each target (where its profile exceeds half its peak).
The prediction is what a plausible, imperfect detector would output: a sigmoid of a local-contrast
score, so that bright clutter gives false alarms at low thresholds and faint targets are missed at
high ones. The same seed always gives the same arrays, on every platform.
"""

from __future__ import annotations

import numpy as np


def _gaussian(h: int, w: int, cy: float, cx: float, sigma: float) -> np.ndarray:
    yy = (np.arange(h) - cy)[:, None]
    xx = (np.arange(w) - cx)[None, :]
    return np.exp(-(yy * yy + xx * xx) / (2.0 * sigma * sigma))


def _box_blur(img: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window with edge padding (cumulative sums; no scipy needed)."""
    k = 2 * r + 1
    p = np.pad(img, r + 1, mode="edge")
    c = p.cumsum(0).cumsum(1)
    s = c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]
    return s[: img.shape[0], : img.shape[1]] / (k * k)


def make_demo(
    n_images: int = 24, size: int = 128, seed: int = 0
) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    """Return ``(names, predictions, masks)``: float32 maps in [0, 1] and bool masks, ``size`` square."""
    if n_images < 1 or size < 32:
        raise ValueError("make_demo needs n_images >= 1 and size >= 32")
    rng = np.random.default_rng(seed)
    names: list[str] = []
    preds: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    for i in range(n_images):
        h = w = size
        background = rng.normal(0.0, 0.06, (h, w))
        # smooth clutter: a few broad blobs, some of them small and bright enough to look like targets
        for _ in range(rng.integers(2, 6)):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            sigma = rng.uniform(1.2, 8.0)
            background += rng.uniform(0.1, 0.5) * _gaussian(h, w, cy, cx, sigma)
        signal = np.zeros((h, w))
        mask = np.zeros((h, w), dtype=bool)
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.uniform(8, h - 8), rng.uniform(8, w - 8)
            sigma = rng.uniform(0.9, 2.2)
            g = _gaussian(h, w, cy, cx, sigma)
            mask |= g > 0.5
            signal += rng.uniform(0.35, 1.0) * g
        image = background + signal
        contrast = image - _box_blur(image, 6)
        score = contrast / 0.06 - 4.0
        pred = 1.0 / (1.0 + np.exp(-score))
        names.append(f"demo_{i + 1:02d}")
        preds.append(pred.astype(np.float32))
        masks.append(mask)
    return names, preds, masks
