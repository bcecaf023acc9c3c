"""Exact reproduction of RepISD-Net's evaluation (``utils/metrics.py`` driven by ``test.py``).

Reference: D. Wu et al., "RepISD-Net: Learning Efficient Infrared Small-target Detection Network via
Structural Re-parameterization", IEEE TGRS 2023 (github.com/dalinlin-Wu/RepISD-Net at 490fc46). The
code evaluates 256x256 maps (images and masks resized by the data loader) with three classes:

* ``SigmoidMetric`` (IoU) and ``SamplewiseSigmoidMetric`` (nIoU): the ACM conventions of
  :mod:`hse.compat.acm` at ``p > 0.5``: pooled ``sum inter / (eps + sum union)`` and the mean over
  images of ``inter / (eps + union)``. (``SamplewiseSigmoidMetric`` binarises ``p > 0.5`` first and
  then compares ``sigmoid(0 or 1)`` with ``score_thresh = 0.5``, which is the same set.) The GT is the
  mask ``/ 255`` truncated to int, so only value 255 is target;
* ``PD_FA``: at a hard-coded ``p > 0.9`` (``pd_fa_threshold``), 8-connected components, GT components in
  label order each take the first still-unmatched predicted component whose centroid lies at distance
  ``< 3`` (the matched one is deleted from the list); ``Pd = matched / #GT components`` and
  ``Fa = FA pixels / (256 * 256 * #images)``: a fraction of all pixels;
* the FA pixels are those of the old BasicIRSTD code, ``[a for a in areas if a not in matched_areas]``:
  an unmatched component whose area equals any matched component's area is dropped from Fa. This is the
  ``legacy_fa`` quirk of :mod:`hse.compat.basicirstd`, reported as ``fa_legacy`` when
  ``legacy_fa=True``; ``fa`` always counts every pixel of every unmatched component.

Differences from hse's own metrics: two thresholds (0.5 for IoU / nIoU, 0.9 for Pd / Fa), the ACM nIoU
(an image with empty prediction and empty GT scores 0), the greedy first-match rule, the area quirk,
and Fa over all pixels of the protocol resolution rather than of the original images. The denominator
here is the number of pixels actually scored, which is ``256 * 256 * #images`` on the protocol's maps
(the reference reshapes to 256x256 and cannot score other sizes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .acm import EPS, niou_counts
from .basicirstd import DISTANCE_THRESHOLD, pd_fa_counts

PD_FA_THRESHOLD = 0.9

__all__ = ["PD_FA_THRESHOLD", "RepISDMetrics", "repisd_counts"]


def repisd_counts(
    pred: np.ndarray,
    mask: np.ndarray,
    *,
    threshold: float = 0.5,
    pd_fa_threshold: float = PD_FA_THRESHOLD,
    distance_threshold: float = DISTANCE_THRESHOLD,
    mask_float: np.ndarray | None = None,
) -> dict[str, int]:
    """Per-image counters of RepISD-Net's three metric classes.

    Parameters
    ----------
    pred : ndarray of float64, shape (H, W)
        Probabilities in [0, 1].
    mask : ndarray of bool, shape (H, W)
        Ground truth (``mask_float``, when given, is truncated to int as the reference does).
    threshold : float
        IoU / nIoU binarisation ``pred > threshold`` (hard-coded 0.5 in the reference).
    pd_fa_threshold : float
        Pd / Fa binarisation ``pred > pd_fa_threshold`` (hard-coded 0.9 in the reference).
    distance_threshold : float
        Centroid distance below which a predicted component matches a GT component.
    mask_float : ndarray of float, optional
        Raw mask / 255.

    Returns
    -------
    dict
        ``inter``, ``union`` (at ``threshold``), ``targets``, ``detected``, ``fa_pixels``,
        ``fa_pixels_legacy``, ``pixels`` (at ``pd_fa_threshold``).
    """
    inter, union = niou_counts(pred, mask, threshold=threshold, mask_float=mask_float)
    counts = pd_fa_counts(
        pred,
        mask,
        threshold=pd_fa_threshold,
        mask_float=mask_float,
        distance_threshold=distance_threshold,
    )
    return {"inter": inter, "union": union, **counts}


class RepISDMetrics:
    """Accumulator reproducing RepISD-Net's IoU, nIoU, Pd and Fa.

    Parameters
    ----------
    threshold : float, default 0.5
        IoU / nIoU binarisation ``pred > threshold``.
    pd_fa_threshold : float, default 0.9
        Pd / Fa binarisation, hard-coded to 0.9 in the reference's ``PD_FA``.
    legacy_fa : bool, default False
        Also report ``fa_legacy``: Fa without the unmatched components whose area equals a matched
        component's area (the reference's numbers).
    distance_threshold : float, default 3.0
        Centroid distance (strict ``<``) for a match.

    Notes
    -----
    ``compute()`` returns ``iou`` (pooled), ``niou`` (mean of per-image IoUs; ``nan`` before any update),
    ``pd`` (``nan`` without targets), ``fa`` (every unmatched component's pixels / all pixels),
    [``fa_legacy``], and the integer counters ``n_images``, ``inter``, ``union``, ``targets``,
    ``detected``, ``fa_pixels``, ``fa_pixels_legacy``, ``pixels``. The per-image ``(inter, union)`` pairs
    are kept in order, so ``merge`` of split evaluations gives the single-pass numbers bit for bit.
    """

    name = "repisd"
    _KEYS = ("targets", "detected", "fa_pixels", "fa_pixels_legacy", "pixels")

    def __init__(
        self,
        threshold: float = 0.5,
        *,
        pd_fa_threshold: float = PD_FA_THRESHOLD,
        legacy_fa: bool = False,
        distance_threshold: float = DISTANCE_THRESHOLD,
    ) -> None:
        self.threshold = float(threshold)
        self.pd_fa_threshold = float(pd_fa_threshold)
        self.legacy_fa = bool(legacy_fa)
        self.distance_threshold = float(distance_threshold)
        self.reset()

    def _settings(self) -> tuple[float, float, float]:
        return self.threshold, self.pd_fa_threshold, self.distance_threshold

    def reset(self) -> None:
        self.inter: list[int] = []
        self.union: list[int] = []
        self.counts = dict.fromkeys(self._KEYS, 0)

    def update(self, pred: np.ndarray, mask: np.ndarray, mask_float: np.ndarray | None = None) -> None:
        c = repisd_counts(
            pred,
            mask,
            threshold=self.threshold,
            pd_fa_threshold=self.pd_fa_threshold,
            distance_threshold=self.distance_threshold,
            mask_float=mask_float,
        )
        self.inter.append(c["inter"])
        self.union.append(c["union"])
        for k in self._KEYS:
            self.counts[k] += c[k]

    def merge(self, other: RepISDMetrics) -> RepISDMetrics:
        if other._settings() != self._settings():
            raise ValueError("cannot merge RepISDMetrics accumulators with different settings")
        self.inter.extend(other.inter)
        self.union.extend(other.union)
        for k in self._KEYS:
            self.counts[k] += other.counts[k]
        return self

    def compute(self) -> dict[str, Any]:
        c = self.counts
        inter = np.asarray(self.inter, dtype=np.float64)
        union = np.asarray(self.union, dtype=np.float64)
        total_inter, total_union = int(sum(self.inter)), int(sum(self.union))
        out: dict[str, Any] = {
            "iou": float(1.0 * total_inter / (EPS + total_union)),
            "niou": float((1.0 * inter / (EPS + union)).mean()) if inter.size else float("nan"),
            "pd": c["detected"] / c["targets"] if c["targets"] else float("nan"),
            "fa": c["fa_pixels"] / c["pixels"] if c["pixels"] else float("nan"),
        }
        if self.legacy_fa:
            out["fa_legacy"] = c["fa_pixels_legacy"] / c["pixels"] if c["pixels"] else float("nan")
        out.update(n_images=len(self.inter), inter=total_inter, union=total_union)
        out.update({k: int(v) for k, v in c.items()})
        return out
