"""A small deterministic synthetic data set, so that ``hse-score --demo`` runs without any files.

Each image is a noisy background with a few smooth clutter blobs and one to three small Gaussian
targets. The ground-truth mask is the core of each target (where its profile exceeds half its peak).
The prediction is what a plausible, imperfect detector would output: a sigmoid of a local-contrast
score, so that bright clutter gives false alarms at low thresholds and faint targets are missed at
high ones. The same seed always gives the same arrays, on every platform.
"""

from __future__ import annotations

import numpy as np

from .state import EvalState


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


def synthetic_counters(n: int, rng: np.random.Generator, quality: float = 0.0) -> EvalState:
    """Plausible per-image counters on the default grid (64x64 images, 0 to 3 targets each).

    No image is drawn: this is the additive state a scored test set would have, for exercising the
    statistics (bootstrap, compare) quickly in tests and benchmarks. ``quality`` shifts the detector's
    skill.
    """
    from .settings import EvalConfig  # lazy: the demo images need none of the evaluation machinery

    t = np.asarray(EvalConfig.create().evaluation_grid)[None, :]
    n_targets = rng.integers(0, 4, n)
    n_gt = n_targets * rng.integers(4, 30, n)
    skill = np.clip(rng.beta(4, 2, n) + quality, 0, 1)[:, None]
    # Pixel counts cannot grow as the threshold rises, and a component or a match needs predicted pixels:
    # the counters are made consistent as real ones are (hse.codec.check_state).
    decreasing = np.minimum.accumulate
    pix_tp = decreasing(rng.binomial(n_gt[:, None], np.clip(skill * (1.2 - t), 0, 1)), axis=1)
    pix_fp = decreasing(rng.poisson(rng.gamma(2.0, 15.0, n)[:, None] * (1.0 - t) ** 2), axis=1)
    predicted = pix_tp + pix_fp
    matched = np.minimum(rng.binomial(n_targets[:, None], np.clip(skill * (1.3 - 0.6 * t), 0, 1)), predicted)
    false_components = rng.poisson(rng.gamma(1.0, 0.8, n)[:, None] * (1.0 - t))
    curves = {
        "pix_tp": pix_tp,
        "pix_fp": pix_fp,
        "tgt_matched": matched,
        "tgt_components": np.minimum(matched + false_components, predicted),
        "tgt_matched_area": np.clip(pix_tp + rng.binomial(pix_fp, 0.3), matched, predicted),
    }
    scalars = {
        "n_pixels": np.full(n, 64 * 64),
        "n_gt_pixels": n_gt,
        "n_targets": n_targets,
        "height": np.full(n, 64),
        "width": np.full(n, 64),
    }
    return EvalState(
        [f"img{i}" for i in range(n)],
        {k: np.asarray(v, np.int64) for k, v in curves.items()},
        {k: np.asarray(v, np.int64) for k, v in scalars.items()},
    )
