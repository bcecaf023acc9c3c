"""Statistics over scored results: bootstrap intervals and paired comparisons, by reweighting images.

The implementation is :mod:`hse.stats.resample` (resampling, :func:`bootstrap`) and
:mod:`hse.stats.comparison` (:func:`compare`); the text tables are in :mod:`hse.report`, and
``python -m hse.stats`` runs ``hse-compare`` (:mod:`hse.cli.compare`). See docs/statistics.md.
"""

from hse.result import load_result

from .comparison import Comparison, Difference, compare, p_value
from .resample import (
    COMPARED_SETTINGS,
    FEW_IMAGES,
    MIN_IMAGES,
    SCORES,
    ZERO_TOL,
    BootstrapResult,
    Interval,
    bootstrap,
    p_resolution,
    point_scores,
    resample_counts,
    resampled_scores,
    significance_blocker,
)

__all__ = [
    "COMPARED_SETTINGS",
    "FEW_IMAGES",
    "MIN_IMAGES",
    "SCORES",
    "ZERO_TOL",
    "BootstrapResult",
    "Comparison",
    "Difference",
    "Interval",
    "bootstrap",
    "compare",
    "load_result",
    "p_resolution",
    "p_value",
    "point_scores",
    "resample_counts",
    "resampled_scores",
    "significance_blocker",
]
