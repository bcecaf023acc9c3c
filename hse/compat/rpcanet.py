"""Exact reproduction of RPCANet's evaluation (``cal_metric_istd.py``).

Reference: F. Wu et al., "RPCANet: Deep Unfolding RPCA Based Infrared Small Target Detection", WACV 2024
(github.com/fengyiwu98/RPCANet at 25da080): ``evaluation/TPFNFP.py`` (``SegmentationMetricTPFNFP``) and
``evaluation/my_pd_fa.py`` (``my_PD_FA``), fed 256x256 float32 maps ``sigmoid(T)`` and 256x256 masks
(``mask / mask.max()``, OpenCV nearest resize). The numbers the paper prints are:

* a **relative** threshold (``relative=True``): each image is binarised by ``p / max(p) > 0.5``, the
  division done in the map's float32 (``ratio_dtype``). When ``max(p) = 0`` the ratio is ``0 / 0 = nan``
  everywhere and nothing is predicted (the reference divides without a check);
* ``IoU = TP / (eps + TP + FP + FN)``, ``precision = TP / (eps + TP + FP)``,
  ``recall = TP / (eps + TP + FN)``, ``F1 = 2 P R / (eps + P + R)``, with TP / FP / FN pooled over the
  split and ``eps = np.spacing(1)``; the GT is ``(mask / max(mask))`` truncated to int (only the
  maximum value is target; here the boolean ``mask``);
* ``Pd``: a GT target (8-connected component) is detected when **any** predicted pixel lies on it; no
  distance rule, no one-to-one matching, a predicted blob may detect several targets;
* ``Fa = #(predicted pixels on the GT background) / #(GT background pixels)``, pooled: a fraction of the
  background, not of all pixels, and a predicted pixel that touches no target but belongs to a detected
  blob still counts;
* images without a GT target are **skipped** for Pd and Fa (their false alarms are not counted), but not
  for IoU / F1.

With ``relative=False`` the binarisation is the absolute ``p > threshold`` (hse's own reading).

Differences from hse's own metrics: the relative threshold (a map is always "confident" somewhere, even
on an image without a target), the overlap Pd, the background-pixel Fa denominator and the skipped
target-free images.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hse.reduce.labelling import label8

EPS = float(np.spacing(1))

__all__ = ["EPS", "RPCANetMetrics", "binarise", "rpcanet_counts"]


def binarise(
    pred: np.ndarray, threshold: float = 0.5, *, relative: bool = True, ratio_dtype: str = "float32"
) -> np.ndarray:
    """``pred / max(pred) > threshold`` in ``ratio_dtype`` (relative), or ``pred > threshold``.

    A map whose maximum is 0 gives ``0 / 0 = nan`` under the relative rule: no pixel is predicted.
    """
    if not relative:
        return pred > threshold
    p = np.asarray(pred, dtype=np.dtype(ratio_dtype))
    peak = p.max() if p.size else p.dtype.type(0)
    if not peak > 0:  # the reference's nan ratio: nothing compares greater than the threshold
        return np.zeros(p.shape, dtype=bool)
    return (p / peak) > threshold


def rpcanet_counts(
    pred: np.ndarray,
    mask: np.ndarray,
    *,
    threshold: float = 0.5,
    relative: bool = True,
    ratio_dtype: str = "float32",
) -> dict[str, int]:
    """Per-image counters of RPCANet's ``SegmentationMetricTPFNFP`` and ``my_PD_FA``.

    Parameters
    ----------
    pred : ndarray of float, shape (H, W)
        Probabilities in [0, 1].
    mask : ndarray of bool, shape (H, W)
        Ground truth.
    threshold : float
        0.5 in the reference.
    relative : bool
        Binarise ``pred / max(pred) > threshold`` (the reference) instead of ``pred > threshold``.
    ratio_dtype : str
        Float type of the division (the reference divides the float32 maps it saved).

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn`` (every image); ``pdfa_images``, ``targets``, ``detected``,
        ``false_pixels``, ``background`` (0 for an image without target, which the reference skips).
    """
    if pred.ndim != 2 or pred.shape != mask.shape:
        raise ValueError(f"pred {pred.shape} and mask {mask.shape} must be 2-D arrays of the same shape")
    b = binarise(pred, threshold, relative=relative, ratio_dtype=ratio_dtype)
    g = np.asarray(mask, dtype=bool)
    tp = int(np.count_nonzero(b & g))
    out = {"tp": tp, "fp": int(np.count_nonzero(b)) - tp, "fn": int(np.count_nonzero(g)) - tp}
    labels, n = label8(g)
    if n == 0:
        return {**out, "pdfa_images": 0, "targets": 0, "detected": 0, "false_pixels": 0, "background": 0}
    hit = np.unique(labels[b & g])
    background = ~g
    return {
        **out,
        "pdfa_images": 1,
        "targets": n,
        "detected": int(np.count_nonzero(hit)),
        "false_pixels": int(np.count_nonzero(b & background)),
        "background": int(np.count_nonzero(background)),
    }


class RPCANetMetrics:
    """Accumulator reproducing RPCANet's IoU, F1, precision, recall, Pd and Fa.

    Parameters
    ----------
    threshold : float, default 0.5
        Binarisation threshold, applied to ``pred / max(pred)`` when ``relative``.
    relative : bool, default True
        The reference's per-image relative threshold.
    ratio_dtype : {"float32", "float64"}, default "float32"
        Float type in which ``pred / max(pred)`` is computed; the reference divides float32 maps. hse
        hands accumulators float64 copies of float32 maps, which convert back exactly.

    Notes
    -----
    All state is additive integers, so ``merge`` is exact. ``compute()`` returns ``iou``, ``precision``,
    ``recall``, ``f1`` (pooled, with ``eps``), ``pd`` and ``fa`` (over images with a target; ``nan`` when
    there is none), and the counters ``n_images``, ``tp``, ``fp``, ``fn``, ``pdfa_images``, ``targets``,
    ``detected``, ``false_pixels``, ``background``.
    """

    name = "rpcanet"
    _KEYS = ("n_images", "tp", "fp", "fn", "pdfa_images", "targets", "detected", "false_pixels", "background")

    def __init__(
        self, threshold: float = 0.5, *, relative: bool = True, ratio_dtype: str = "float32"
    ) -> None:
        if ratio_dtype not in ("float32", "float64"):
            raise ValueError(f"ratio_dtype must be 'float32' or 'float64', got {ratio_dtype!r}")
        self.threshold = float(threshold)
        self.relative = bool(relative)
        self.ratio_dtype = ratio_dtype
        self.reset()

    def _settings(self) -> tuple[float, bool, str]:
        return self.threshold, self.relative, self.ratio_dtype

    def reset(self) -> None:
        self.counts = dict.fromkeys(self._KEYS, 0)

    def update(self, pred: np.ndarray, mask: np.ndarray, mask_float: np.ndarray | None = None) -> None:
        # mask_float is accepted for the common interface; the reference's GT is max-normalised and
        # truncated, which for a {0, max} mask is the boolean mask.
        c = rpcanet_counts(
            pred, mask, threshold=self.threshold, relative=self.relative, ratio_dtype=self.ratio_dtype
        )
        c["n_images"] = 1
        for k in self._KEYS:
            self.counts[k] += c[k]

    def merge(self, other: RPCANetMetrics) -> RPCANetMetrics:
        if other._settings() != self._settings():
            raise ValueError("cannot merge RPCANetMetrics accumulators with different settings")
        for k in self._KEYS:
            self.counts[k] += other.counts[k]
        return self

    def compute(self) -> dict[str, Any]:
        c = self.counts
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        precision = 1.0 * tp / (EPS + tp + fp)
        recall = 1.0 * tp / (EPS + tp + fn)
        out: dict[str, Any] = {
            "iou": float(1.0 * tp / (EPS + tp + fp + fn)),
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(2.0 * precision * recall / (EPS + precision + recall)),
            "pd": c["detected"] / c["targets"] if c["targets"] else float("nan"),
            "fa": c["false_pixels"] / c["background"] if c["background"] else float("nan"),
        }
        out.update({k: int(v) for k, v in c.items()})
        return out
