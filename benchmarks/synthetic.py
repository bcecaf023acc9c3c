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
