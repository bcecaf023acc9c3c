"""Paired (and unpaired) bootstrap comparison of two methods: the difference ``a - b`` of every score,
its percentile interval and a two-sided p-value. The resampling machinery is :mod:`hse.stats.resample`;
what is resampled and the p-value's limits are described in docs/statistics.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hse.codec import plain as _plain
from hse.errors import InputError
from hse.result import Result
from hse.state import EvalState

from .resample import (
    COMPARED_SETTINGS,
    MIN_IMAGES,
    SCORES,
    ZERO_TOL,
    _as_result,
    _block_size,
    _check_images,
    _check_options,
    _difference,
    _gather,
    _percentiles,
    p_resolution,
    point_scores,
    resample_counts,
    resampled_scores,
    significance_blocker,
)


@dataclass(frozen=True)
class Difference:
    """One score of two methods, their difference ``a - b``, its interval and two-sided p-value."""

    a: float
    b: float
    diff: float
    low: float
    high: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return {k: _plain(getattr(self, k)) for k in ("a", "b", "diff", "low", "high", "p_value")}


@dataclass
class Comparison:
    """The bootstrap comparison of two methods (see :func:`compare`).

    ``comparison["hse"]`` is a :class:`Difference`; ``draws[key]`` holds the ``n`` resampled differences.
    """

    scores: dict[str, Difference]
    level: float
    n: int
    seed: int
    n_images: int
    paired: bool
    draws: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    #: Unpaired: the images of a and of b (paired: both equal ``n_images``).
    n_images_ab: tuple[int, int] = (0, 0)

    def __getitem__(self, key: str) -> Difference:
        return self.scores[key]

    @property
    def alpha(self) -> float:
        return 1.0 - self.level

    @property
    def p_resolution(self) -> float:
        """``2 / n``: the smallest p-value the draws resolve (p = 0 means p < 2/n)."""
        return p_resolution(self.n)

    @property
    def blocker(self) -> str | None:
        """Why no difference can be significant here (too few draws or images), or None."""
        return significance_blocker(self.n, self.n_images_min, self.level)

    @property
    def n_images_min(self) -> int:
        """The images of the smaller side (of the one image set when paired)."""
        if self.paired or not any(self.n_images_ab):
            return self.n_images
        return min(self.n_images_ab)

    def significant(self, key: str = "hse") -> bool:
        """Whether the difference of ``key`` is significant at ``1 - level``: p < 1 - level, and the
        comparison can resolve it at all (:attr:`blocker` is None: ``2/n < 1 - level`` and at least
        :data:`FEW_IMAGES` images)."""
        p = self.scores[key].p_value
        return bool(self.blocker is None and p < self.alpha)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": ("paired" if self.paired else "unpaired") + " percentile bootstrap over images",
            "difference": "a - b",
            "p_value": "2 * min(P(d <= 0), P(d >= 0)) over the draws d, capped at 1",
            "level": self.level,
            "n": self.n,
            "seed": self.seed,
            "n_images": self.n_images,
            "paired": self.paired,
            "p_resolution": self.p_resolution,
            "significance_blocked": self.blocker,
            "significant": {key: self.significant(key) for key in self.scores},
            "scores": {key: d.to_dict() for key, d in self.scores.items()},
        }


def p_value(diffs: np.ndarray) -> float:
    """Two-sided bootstrap p-value of draws ``d`` of a difference: ``2 * min(P(d <= 0), P(d >= 0))``,
    capped at 1, where P is the fraction of draws and ``|d| <= ZERO_TOL`` counts as 0. Draws that are all
    zero give 1; NaN draws are ignored (all NaN gives NaN)."""
    d = np.asarray(diffs, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan")
    le = np.count_nonzero(d <= ZERO_TOL) / d.size
    ge = np.count_nonzero(d >= -ZERO_TOL) / d.size
    return float(min(1.0, 2.0 * min(le, ge)))


def _check_settings(a: Result, b: Result) -> None:
    differ = []
    for key in COMPARED_SETTINGS:
        va, vb = a.settings.get(key), b.settings.get(key)
        try:
            if key in ("evaluation_grid", "thresholds"):
                same = np.array_equal(np.asarray(va, dtype=np.float64), np.asarray(vb, dtype=np.float64))
            elif key in ("threshold", "radius"):
                same = float(va) == float(vb)
            else:
                same = va == vb
        except (TypeError, ValueError):
            same = False
        if not same:
            differ.append(f"{key} ({_short(va)} vs {_short(vb)})")
    if differ:
        raise InputError(
            "the two results were scored with different settings: "
            + "; ".join(differ)
            + ". Score both with the same grid, threshold, matching and preset"
        )


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)) and len(value) > 4:
        return f"{len(value)} values {value[0]:g}..{value[-1]:g}"
    return repr(value)


def _list(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _align(a: Result, b: Result, check_truth: bool) -> np.ndarray:
    """Indices that put b's images in a's order; InputError when the image sets or the truth differ."""
    for res, label in ((a, "a"), (b, "b")):
        if len(set(res.names)) != len(res.names):
            seen: set[str] = set()
            dup = sorted({x for x in res.names if x in seen or seen.add(x)})
            raise InputError(f"result {label} names some images twice ({_list(dup)}); names must be unique")
    pos_b = {name: i for i, name in enumerate(b.names)}
    only_a = [x for x in a.names if x not in pos_b]
    names_a = set(a.names)
    only_b = [x for x in b.names if x not in names_a]
    if only_a or only_b:
        parts = []
        if only_a:
            parts.append(f"{len(only_a)} only in a ({_list(only_a)})")
        if only_b:
            parts.append(f"{len(only_b)} only in b ({_list(only_b)})")
        raise InputError(
            "a paired comparison needs the same images in both results: "
            + "; ".join(parts)
            + ". Score both methods on the same split"
        )
    order = np.array([pos_b[x] for x in a.names], dtype=np.int64)
    if check_truth:
        sa, sb = a.state.scalars, b.state.scalars
        bad = np.zeros(a.n_images, dtype=bool)
        for key in ("height", "width", "n_gt_pixels", "n_targets"):
            bad |= sa[key] != sb[key][order]
        if bad.any():
            names = [a.names[i] for i in np.flatnonzero(bad)]
            raise InputError(
                f"the two results have different ground truth for {len(names)} image(s) ({_list(names)}): "
                "size, target pixels or targets differ. Score both against the same masks "
                "(or pass check_truth=False)"
            )
    return order


def _reorder(result: Result, order: np.ndarray) -> Result:
    state = result.state
    new = EvalState(
        [state.names[i] for i in order],
        {k: v[order] for k, v in state.curves.items()},
        {k: v[order] for k, v in state.scalars.items()},
    )
    return Result(new, result.settings, result.compat)


def compare(
    a: Any,
    b: Any,
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    *,
    paired: bool = True,
    check_truth: bool = True,
) -> Comparison:
    """Bootstrap comparison of two methods: the difference ``a - b`` of every score of :data:`SCORES`.

    Paired (the default): both methods were scored on the same images, matched by name (their order may
    differ). Each draw resamples image indices once and applies the same counts to both methods, so
    the image-to-image variation both share cancels out of the difference. The interval is the
    percentile interval of the ``n`` differences; the two-sided p-value is
    ``2 * min(P(d <= 0), P(d >= 0))`` over the draws ``d``, capped at 1 (identical methods give
    differences of exactly 0 and p = 1). See :func:`p_value` and docs/statistics.md.

    Unpaired (``paired=False``): the two results may hold different images; each is resampled
    independently. Use it only when a paired comparison is impossible: it is less powerful.

    Parameters
    ----------
    a, b : Result, HSEMetric, dict or path
        Two results with their per-image state (as for :func:`bootstrap`).
    n, seed, level : int, int, float
        Number of draws, seed of ``numpy.random.default_rng``, coverage of the interval.
    paired : bool
        Paired (same images) or unpaired bootstrap.
    check_truth : bool
        Paired only: require the same ground truth per image (size, target pixels, targets).

    Raises
    ------
    hse.InputError
        Different image sets (the missing images are named), different ground truth, or different
        settings (grid, operating threshold, matching, radius, preset).
    """
    n, seed, level = _check_options(n, seed, level)
    ra, rb = _as_result(a, "a"), _as_result(b, "b")
    for res, label in ((ra, "a"), (rb, "b")):
        if res.n_images < MIN_IMAGES:
            _check_images(res.n_images, f"compare: result {label}")
    _check_settings(ra, rb)
    if paired:
        rb = _reorder(rb, _align(ra, rb, check_truth))
        _check_images(ra.n_images, "compare: the paired image set")
    else:
        for res, label in ((ra, "a"), (rb, "b")):
            _check_images(res.n_images, f"compare: result {label}")
    rng = np.random.default_rng(seed)
    if paired:
        blocks = ((counts, counts) for counts in resample_counts(rng, ra.n_images, n))
    else:
        # one block of a, then one of b, from the same generator
        block = min(_block_size(ra.n_images), _block_size(rb.n_images))
        blocks = zip(
            resample_counts(rng, ra.n_images, n, block),
            resample_counts(rng, rb.n_images, n, block),
            strict=True,
        )
    draws = _gather(
        _difference(resampled_scores(ra, counts_a), resampled_scores(rb, counts_b))
        for counts_a, counts_b in blocks
    )
    pa, pb = point_scores(ra), point_scores(rb)
    scores = {
        key: Difference(
            pa[key], pb[key], pa[key] - pb[key], *_percentiles(draws[key], level), p_value(draws[key])
        )
        for key in SCORES
    }
    n_images = ra.n_images if paired else ra.n_images + rb.n_images
    return Comparison(scores, level, n, seed, n_images, paired, draws, (ra.n_images, rb.n_images))
