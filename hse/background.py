"""False alarms on background-only frames (frames whose mask has no target pixel).

On a frame without a target every predicted pixel is a false alarm and every predicted 8-connected
component is a false target, so a detector's cost in deployment can be read off such frames directly.
These numbers come from an evaluated :class:`hse.Result` (its per-image counters, :mod:`hse.state`) at a
threshold of its grid:

* ``fa_per_mpx``: false-alarm pixels per megapixel, ``1e6 * sum(FP pixels) / sum(pixels)`` (pooled over
  frames: the pixel Fa of the BasicIRSTD toolbox and of Dai et al., WACV 2021, in 1e-6, with no target
  pixel to exclude);
* ``false_targets_per_frame``: predicted components per frame, ``sum(components) / frames`` (hse's
  unmatched predicted components, docs/metrics.md, which here are all of them);
* ``frames_with_alarm``: the share of frames with at least one predicted pixel.

Intervals resample frames with replacement (:func:`hse.stats.resample.resample_counts`, the same
draws as :func:`hse.bootstrap`) and take percentiles, so the same seed gives the same intervals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hse.errors import InputError
from hse.result import Result
from hse.stats.resample import Interval, _check_images, _check_options, _percentiles, resample_counts

#: The background numbers, in the order they are reported.
BACKGROUND_SCORES = ("fa_per_mpx", "false_targets_per_frame", "frames_with_alarm")


def _threshold_index(result: Result, threshold: float | None) -> int:
    if threshold is None:
        return result.op_index
    try:
        return result.threshold_index(threshold)
    except KeyError:
        raise InputError(f"threshold {threshold} is not on the result's evaluation grid") from None


def frame_counts(result: Result, threshold: float | None = None) -> dict[str, np.ndarray]:
    """Per frame at ``threshold`` (default: the result's operating threshold): false-alarm pixels
    ``fp``, false targets ``ft`` and pixels ``pixels``, as float arrays of shape (N,).

    Raises :class:`~hse.errors.InputError` when a frame's mask has target pixels (not background-only)."""
    if not isinstance(result, Result):
        raise InputError(f"expected an hse Result, got {type(result).__name__}")
    st = result.state
    gt = st.scalars["n_gt_pixels"]
    bad = [st.names[i] for i in np.flatnonzero(gt > 0)]
    if bad:
        raise InputError(
            f"{len(bad)} frame(s) have target pixels in their mask ({', '.join(map(str, bad[:5]))}"
            + (", ..." if len(bad) > 5 else "")
            + "); background numbers need frames whose masks are all zero"
        )
    k = _threshold_index(result, threshold)
    # With no target pixel, every predicted pixel is a false positive and every component unmatched.
    return {
        "fp": st.curves["pix_fp"][:, k].astype(np.float64),
        "ft": (st.curves["tgt_components"][:, k] - st.curves["tgt_matched"][:, k]).astype(np.float64),
        "pixels": st.scalars["n_pixels"].astype(np.float64),
    }


def _scores(counts: Mapping[str, np.ndarray], weights: np.ndarray) -> dict[str, np.ndarray]:
    """The background scores for frame weights of shape (N,) or (B, N)."""
    frames = weights.sum(axis=-1)
    return {
        "fa_per_mpx": 1e6 * (weights @ counts["fp"]) / (weights @ counts["pixels"]),
        "false_targets_per_frame": (weights @ counts["ft"]) / frames,
        "frames_with_alarm": (weights @ (counts["fp"] > 0).astype(np.float64)) / frames,
    }


@dataclass
class BackgroundAlarms:
    """The background scores with percentile intervals (``alarms["fa_per_mpx"]`` is an Interval)."""

    scores: dict[str, Interval]
    threshold: float
    n_frames: int
    megapixels: float
    level: float
    n: int
    seed: int

    def __getitem__(self, key: str) -> Interval:
        return self.scores[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "n_frames": self.n_frames,
            "megapixels": self.megapixels,
            "interval": {
                "method": "percentile bootstrap over frames",
                "level": self.level,
                "n": self.n,
                "seed": self.seed,
            },  # fmt: skip
            "scores": {key: iv.to_dict() for key, iv in self.scores.items()},
        }


def background_alarms(
    result: Result, threshold: float | None = None, n: int = 1000, seed: int = 0, level: float = 0.95
) -> BackgroundAlarms:
    """False-alarm pixels per megapixel, false targets per frame and the share of frames with any
    alarm on background-only frames, with bootstrap percentile intervals over frames.

    Parameters
    ----------
    result : Result
        An evaluation of background-only frames (every mask all zero), with its per-image state.
    threshold : float, optional
        A threshold of the result's grid; default its operating threshold.
    n, seed, level : int, int, float
        Bootstrap draws, seed of ``numpy.random.default_rng`` and interval coverage.

    Returns
    -------
    BackgroundAlarms
    """
    n, seed, level = _check_options(n, seed, level)
    counts = frame_counts(result, threshold)
    n_frames = len(counts["fp"])
    _check_images(n_frames, "background_alarms: the result")
    point = _scores(counts, np.ones(n_frames))
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {key: [] for key in BACKGROUND_SCORES}
    for w in resample_counts(rng, n_frames, n):
        for key, v in _scores(counts, w).items():
            parts[key].append(v)
    scores = {
        key: Interval(float(point[key]), *_percentiles(np.concatenate(parts[key]), level))
        for key in BACKGROUND_SCORES
    }
    k = _threshold_index(result, threshold)
    return BackgroundAlarms(scores, float(result.grid[k]), n_frames, float(counts["pixels"].sum() / 1e6),
                            level, n, seed)  # fmt: skip


__all__ = ["BACKGROUND_SCORES", "BackgroundAlarms", "background_alarms", "frame_counts"]
