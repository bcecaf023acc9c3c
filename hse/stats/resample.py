"""Confidence intervals for every score by bootstrapping images, and the resampling both the intervals and
the comparisons (:mod:`hse.stats.comparison`) use.

Every dataset-level score is a function of weighted sums of per-image counters (:mod:`hse.state`), so a
bootstrap draw is a vector of resampling counts over the images: the scores of a draw are
``curve_arrays(state, counts)`` summarised, and no pixel is re-evaluated. Draws are made in blocks, as a
(draws x images) count matrix per block, and scored with one matrix product per counter.

* :func:`bootstrap` - percentile intervals for HSE, HSE_pixel, HSE_target and IoU, nIoU, Pd, Fa at the
  operating threshold.
* :func:`hse.stats.compare` (:mod:`hse.stats.comparison`) - the paired bootstrap distribution of the
  difference ``a - b`` of each score for two methods scored on the same images, its percentile interval
  and a two-sided p-value.

Everything here works on results already scored (or the result files :func:`hse.result.load_result`
reads): nothing parses command-line options, formats or prints. The text tables are
:func:`hse.report.format_intervals` and :func:`hse.report.format_comparison`; the command line,
``hse-compare``, is :mod:`hse.cli.compare`.

What is resampled, the p-value's definition and its limits are described in docs/statistics.md.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hse.codec import decode
from hse.codec import plain as _plain
from hse.errors import InputError, SmallSampleWarning
from hse.result import Result, load_result
from hse.score import curve_arrays, summarise

#: The scores that get intervals: the HSE summary over the grid, then four numbers at the operating threshold.
SCORES = ("hse", "hse_pixel", "hse_target", "iou", "niou", "pd", "fa")
#: Settings that must agree for two results to be compared.
COMPARED_SETTINGS = ("evaluation_grid", "thresholds", "threshold", "match", "radius", "preset")
#: Differences closer to zero than this count as zero in the p-value (float rounding of equal scores).
ZERO_TOL = 1e-12
#: Upper bound of one block of draws, in (draws x images) matrix cells.
#: Fewest images :func:`bootstrap` and :func:`compare` accept: one image resamples to itself only.
MIN_IMAGES = 2
#: Below this many images the intervals are unreliable: a SmallSampleWarning is given, and no difference is
#: reported as significant (see docs/statistics.md, "Small test sets").
FEW_IMAGES = 10
_BLOCK_CELLS = 1 << 18
_MAX_BLOCK = 250


# --------------------------------------------------------------------------------------------------
# inputs and the vectorised scoring of draws
# --------------------------------------------------------------------------------------------------


def _as_result(obj: Any, what: str = "result") -> Result:
    """A :class:`Result` from a Result, an :class:`hse.HSEMetric`, a ``to_dict()``
    dictionary, or the path of a JSON file holding one."""
    if isinstance(obj, Result):
        return obj
    if hasattr(obj, "compute") and hasattr(obj, "config"):
        return obj.compute()
    if isinstance(obj, (str, os.PathLike)):
        return load_result(obj)
    if isinstance(obj, Mapping):
        return decode(dict(obj), what, Result)
    raise InputError(f"{what}: expected an hse Result, HSEMetric or result dict, got {type(obj).__name__}")


def resampled_scores(result: Result, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every score of :data:`SCORES` for image weights of shape (N,) or (B, N): arrays of shape () or (B,).

    All-ones weights give the result's own scores; a row of bootstrap counts gives that draw's scores.
    """
    curve = curve_arrays(result.state, weights)
    # The grid columns as a C-contiguous block and a slice for summarise: its means then reduce each row
    # in the same order as an unbatched evaluation (fancy-indexing a batch gives a Fortran-ordered array,
    # whose row means are summed in another order and can differ in the last bit).
    on_grid = {key: np.ascontiguousarray(v[..., result.grid_index]) for key, v in curve.items()}
    summary = summarise(on_grid, slice(None), result.preset)
    k = result.op_index
    out = {key: summary[key] for key in ("hse", "hse_pixel", "hse_target")}
    out.update({key: curve[key][..., k] for key in ("iou", "niou", "pd", "fa")})
    return out


def point_scores(result: Result) -> dict[str, float]:
    """The scores of :data:`SCORES` on the data as it is (the point estimates)."""
    row = result.curve.iloc[result.op_index]
    out = {key: float(getattr(result, key)) for key in ("hse", "hse_pixel", "hse_target")}
    out.update({key: float(row[key]) for key in ("iou", "niou", "pd", "fa")})
    return out


def _block_size(n_images: int) -> int:
    return max(1, min(_MAX_BLOCK, _BLOCK_CELLS // max(n_images, 1)))


def resample_counts(
    rng: np.random.Generator, n_images: int, n: int, block: int | None = None
) -> Iterator[np.ndarray]:
    """Bootstrap resampling counts in blocks: (b, n_images) float arrays whose rows each sum to ``n_images``.

    Row r of a block counts how often each image appears in ``n_images`` draws with replacement. The
    block size (by default a function of ``n_images`` alone) is fixed per call, so the counts depend
    only on the generator's seed, ``n``, ``n_images`` and ``block``.
    """
    block = _block_size(n_images) if block is None else block
    for start in range(0, n, block):
        b = min(block, n - start)
        idx = rng.integers(0, n_images, size=(b, n_images))
        idx += (np.arange(b) * n_images)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n_images).reshape(b, n_images).astype(np.float64)


def _gather(blocks: Iterable[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The draws of every score of :data:`SCORES`, from blocks of draws as :func:`resampled_scores` gives."""
    parts: dict[str, list[np.ndarray]] = {key: [] for key in SCORES}
    for block in blocks:
        for key in SCORES:
            parts[key].append(block[key])
    return {key: np.concatenate(v) for key, v in parts.items()}


def _difference(sa: dict[str, np.ndarray], sb: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: sa[key] - sb[key] for key in SCORES}


def _check_options(n: Any, seed: Any, level: Any) -> tuple[int, int, float]:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a positive number of bootstrap draws, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise InputError(f"level must be a number in (0, 1), got {level!r}") from None
    if not (0.0 < level < 1.0):
        raise InputError(f"level must be in (0, 1), e.g. 0.95, got {level!r}")
    return int(n), int(seed), level


def _percentiles(draws: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile interval of one score's draws (linear interpolation; NaN draws are ignored)."""
    tail = (1.0 - level) / 2.0 * 100.0
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def p_resolution(n: int) -> float:
    """The smallest p-value ``n`` draws can resolve, ``2 / n``: a p of 0 means only ``p < 2/n``."""
    return 2.0 / n


def significance_blocker(n: int, n_images: int, level: float) -> str | None:
    """Why no difference can be called significant with ``n`` draws over ``n_images`` images at
    ``level``, or None when it can: ``2/n`` not below ``1 - level`` (too few draws), or fewer than
    :data:`FEW_IMAGES` images (too few images)."""
    alpha = 1.0 - level
    if n_images < FEW_IMAGES:
        return (
            f"too few images: with {n_images} images (fewer than {FEW_IMAGES}) the bootstrap is unreliable, "
            "so no difference is called significant"
        )
    if not p_resolution(n) < alpha:
        return (
            f"too few draws: {n} draws resolve p only down to 2/{n} = {p_resolution(n):.3g}, which is not "
            f"below {alpha:g}, so no difference can be called significant; use more draws (e.g. 1000)"
        )
    return None


def _check_images(n_images: int, what: str) -> None:
    """InputError below :data:`MIN_IMAGES` images; a :class:`SmallSampleWarning` below :data:`FEW_IMAGES`."""
    if n_images < MIN_IMAGES:
        raise InputError(
            f"{what} has {n_images} image(s); a bootstrap over images needs at least {MIN_IMAGES} "
            f"(and gives usable intervals only from some {FEW_IMAGES} on)"
        )
    if n_images < FEW_IMAGES:
        warnings.warn(
            f"{what} has only {n_images} images: bootstrap intervals from fewer than {FEW_IMAGES} images are "
            "unreliable (too narrow), and no difference is called significant",
            SmallSampleWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------------------
# bootstrap
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap percentile interval [low, high]."""

    estimate: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": _plain(self.estimate), "low": _plain(self.low), "high": _plain(self.high)}


@dataclass
class BootstrapResult:
    """Percentile intervals of every score of :data:`SCORES` (see :func:`bootstrap`).

    ``result["hse"]`` is an :class:`Interval`; ``draws[key]`` holds the ``n`` resampled values of a score.
    """

    scores: dict[str, Interval]
    level: float
    n: int
    seed: int
    n_images: int
    draws: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    def __getitem__(self, key: str) -> Interval:
        return self.scores[key]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the method, level, draws and seed, and ``scores`` -> {estimate, low, high}."""
        return {
            "method": "percentile bootstrap over images",
            "level": self.level,
            "n": self.n,
            "seed": self.seed,
            "n_images": self.n_images,
            "scores": {key: iv.to_dict() for key, iv in self.scores.items()},
        }


def bootstrap(result_or_metric: Any, n: int = 1000, seed: int = 0, level: float = 0.95) -> BootstrapResult:
    """Bootstrap percentile confidence intervals for HSE, HSE_pixel, HSE_target and IoU, nIoU, Pd, Fa.

    Images are resampled with replacement (``n`` draws of as many images as were scored) and each
    draw's scores are recomputed from the summed per-image counters; the interval is the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles of the draws. The same seed gives the same
    intervals.

    Parameters
    ----------
    result_or_metric : Result, HSEMetric, dict or path
        A result with its per-image state: a :class:`hse.Result`, an :class:`hse.HSEMetric` (computed),
        ``Result.to_dict()``, or a JSON file written by ``hse-score --json``.
    n : int
        Number of bootstrap draws.
    seed : int
        Seed of ``numpy.random.default_rng``.
    level : float
        Coverage of the intervals, in (0, 1).

    Returns
    -------
    BootstrapResult
        ``.scores[key]`` is an :class:`Interval` (estimate, low, high); ``.to_dict()`` is JSON-ready.
    """
    n, seed, level = _check_options(n, seed, level)
    result = _as_result(result_or_metric)
    _check_images(result.n_images, "bootstrap: the result")
    rng = np.random.default_rng(seed)
    draws = _gather(resampled_scores(result, counts) for counts in resample_counts(rng, result.n_images, n))
    point = point_scores(result)
    scores = {key: Interval(point[key], *_percentiles(draws[key], level)) for key in SCORES}
    return BootstrapResult(scores, level, n, seed, result.n_images, draws)
