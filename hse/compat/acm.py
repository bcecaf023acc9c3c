"""Exact reproduction of the ACM / ALCNet evaluation (``SigmoidMetric`` IoU and ``SamplewiseSigmoidMetric`` nIoU).

Reference: Y. Dai et al., "Asymmetric Contextual Modulation for Infrared Small Target Detection", WACV 2021
(github.com/YimianDai/open-acm, ``metric/sigmoid.py`` and ``metric/samplewise.py``); ALCNet (Dai et al.,
TGRS 2021, github.com/YimianDai/open-alcnet) uses the same metric code.

Conventions of the reference code (MXNet):

* the network output is a logit; ``SamplewiseSigmoidMetric`` binarises ``sigmoid(logit) > score_thresh``
  (0.5) and ``SigmoidMetric`` binarises ``logit > 0``, which is the same set. With probabilities as input
  this is ``pred > threshold``;
* the label is ``uint8_mask / 255`` (float32) cast with ``astype('int64')``: truncation keeps only pixels
  equal to 1.0, i.e. raw value 255;
* areas come from ``np.histogram(x, bins=1, range=(1, 1))``; numpy widens the empty range to
  ``[0.5, 1.5]``, so on these 0/1 integer arrays the histogram counts the ones;
* per image ``IoU_k = inter_k / (eps + union_k)`` with ``eps = np.spacing(1)``; ``nIoU = mean_k IoU_k``.
  An image with an empty prediction *and* an empty GT has ``0 / eps = 0``: it pulls nIoU down. hse's own
  nIoU scores such an image 1 (a perfect answer);
* ``IoU`` (``SigmoidMetric``) pools: ``sum_k inter_k / (eps + sum_k union_k)``.

The accumulator keeps the per-image integer pairs ``(inter_k, union_k)``; merging concatenates them, so a
split evaluation reproduces the single-pass mean bit for bit (the mean is taken with ``np.mean`` over the
whole array, as the reference does).
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPS = float(np.spacing(1))

__all__ = ["ACMNIoU", "EPS", "acm_gt", "niou_counts", "sample_iou"]


def acm_gt(mask: np.ndarray, mask_float: np.ndarray | None = None) -> np.ndarray:
    """The reference's GT: ``int64(mask_float) == 1`` (``mask_float = raw / 255``), else ``mask``."""
    if mask_float is None:
        return mask.astype(bool)
    mask_float = np.asarray(mask_float, dtype=np.float64)
    if mask_float.shape != mask.shape:
        raise ValueError(f"mask_float {mask_float.shape} must have the shape of mask {mask.shape}")
    return mask_float.astype(np.int64) == 1


def niou_counts(
    pred: np.ndarray, mask: np.ndarray, *, threshold: float = 0.5, mask_float: np.ndarray | None = None
) -> tuple[int, int]:
    """``(inter, union)`` pixel counts of one image under the ACM convention.

    Parameters
    ----------
    pred : ndarray of float64, shape (H, W)
        Probabilities in [0, 1]; binarised by ``pred > threshold``.
    mask : ndarray of bool, shape (H, W)
        Ground truth (ignored when ``mask_float`` is given, except for its shape).
    threshold : float
        ``score_thresh`` of the reference (0.5 = logit 0).
    mask_float : ndarray of float, optional
        Raw mask / 255; truncated to int as the reference does.
    """
    if pred.ndim != 2 or pred.shape != mask.shape:
        raise ValueError(f"pred {pred.shape} and mask {mask.shape} must be 2-D arrays of the same shape")
    p = pred > threshold
    g = acm_gt(mask, mask_float)
    inter = int(np.count_nonzero(p & g))
    return inter, int(np.count_nonzero(p)) + int(np.count_nonzero(g)) - inter


def sample_iou(
    pred: np.ndarray, mask: np.ndarray, *, threshold: float = 0.5, mask_float: np.ndarray | None = None
) -> float:
    """ACM's per-image IoU ``inter / (eps + union)``; 0 when both prediction and GT are empty."""
    inter, union = niou_counts(pred, mask, threshold=threshold, mask_float=mask_float)
    return float(1.0 * inter / (EPS + union))


class ACMNIoU:
    """Accumulator reproducing ACM's nIoU (and its pooled IoU).

    Parameters
    ----------
    threshold : float, default 0.5
        ``pred > threshold``.

    Notes
    -----
    ``compute()`` returns ``niou`` (mean over images of ``inter / (eps + union)``; ``nan`` before any
    update), ``iou`` (pooled ``sum inter / (eps + sum union)``), ``n_images``, ``inter`` and ``union``
    (integer totals).
    """

    name = "acm"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = float(threshold)
        self.reset()

    def reset(self) -> None:
        self.inter: list[int] = []
        self.union: list[int] = []

    def update(self, pred: np.ndarray, mask: np.ndarray, mask_float: np.ndarray | None = None) -> None:
        inter, union = niou_counts(pred, mask, threshold=self.threshold, mask_float=mask_float)
        self.inter.append(inter)
        self.union.append(union)

    def merge(self, other: ACMNIoU) -> ACMNIoU:
        if other.threshold != self.threshold:
            raise ValueError("cannot merge ACMNIoU accumulators with different thresholds")
        self.inter.extend(other.inter)
        self.union.extend(other.union)
        return self

    def compute(self) -> dict[str, Any]:
        inter = np.asarray(self.inter, dtype=np.float64)
        union = np.asarray(self.union, dtype=np.float64)
        niou = float((1.0 * inter / (EPS + union)).mean()) if inter.size else float("nan")
        total_inter, total_union = int(sum(self.inter)), int(sum(self.union))
        return {
            "niou": niou,
            "iou": float(1.0 * total_inter / (EPS + total_union)),
            "n_images": len(self.inter),
            "inter": total_inter,
            "union": total_union,
        }
