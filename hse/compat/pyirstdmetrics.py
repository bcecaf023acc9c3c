"""Exact reproduction of the pyirstdmetrics 1.0.2 package, with its two matching bugs behind ``bugs=True``.

Reference: pyirstdmetrics 1.0.2 (import name ``py_irstd_metrics``; github.com/lartpang/PyIRSTDMetrics),
which implements confusion-matrix curves, Pd/Fa, the hierarchical IoU (hIoU) with OPDC matching, and the
shooting rule of R. Li et al., "Direction-Coded Temporal U-Shape Module for Multiframe Infrared Small
Target Detection", IEEE TNNLS 2023 (DTUM).

Pixel level (``CMMetrics``)
---------------------------
* Curves ("dynamic"): ``edges = np.linspace(0, 1, num_bins)`` are used as *histogram bin edges*; the
  flipped cumulative histogram gives, for the ``num_bins - 1`` thresholds ``edges[-2], ..., edges[0]``
  (descending), ``TP(t) = #{p >= t on GT}``, ``FP(t) = #{p >= t off GT}`` (``>=``, and ``1.0`` belongs to the
  last bin). ``num_bins = 1`` gives empty curves. Per image the metric curves are ``IoU = TP/(TP+FP+FN)``,
  ``precision = TP/(TP+FP)``, ``recall = TPR = TP/(TP+FN)``, ``FPR = FP/(FP+TN)``,
  ``F = 1.3 P R / (0.3 P + R)``, every ``x/0`` being 0; the reported curve is the *mean over images* of
  the per-image curves (sample based).
* Binary: ``pred > threshold`` (0.5); either the mean over images of the per-image metric
  (``*_sample``) or the metric of the summed counts (``*_dataset``).

Target level, on the grid ``[0.5]`` when ``num_bins == 1`` else ``np.linspace(0, 1, num_bins,
endpoint=False)`` with ``pred > t``; components are 8-connected:

* ``ProbabilityDetectionAndFalseAlarmRate``: greedy first match of GT components (label order) to the
  first unmatched predicted component with centroid distance ``< 3``; ``Pd = TP / (TP + FN)`` (0 when
  there is no target), ``Fa = unmatched predicted pixels / all pixels``.
* ``ShootingRuleBasedProbabilityDetectionAndFalseAlarmRate`` (DTUM): a GT component is detected when a
  predicted pixel lies in the ``(2 r1 + 1)^2`` box (r1 = 1, 3x3) around any of its pixels;
  ``Fa`` = predicted pixels outside the union of the ``(2 r2 + 1)^2`` boxes (r2 = 4, 9x9) around all GT
  pixels, over all pixels. Boxes are clipped at the border. The DTUM original uses ``>=``; the package, and
  this module, use ``>``.
* ``MatchingBasedMetrics`` with ``OPDCMatching(0.5, 3)``: one-to-one matching, then
  ``seg_iou = sum of IoU over matched pairs / TP``, ``loc_iou = TP / (TP + FP + FN)``,
  ``hIoU = seg_iou * loc_iou``, ``Pd = TP / (TP + FN)`` and ``Fa`` = unmatched predicted pixels / pixels,
  all with ``x/0 = 0``.

Bugs of the package (reproduced with ``bugs=True``, absent by default)
---------------------------------------------------------------------
1. *Phantom targets.* The OPDC cost matrices have shape ``(max(M, 1), max(N, 1))`` for M GT and N predicted
   components, the padding cell holding distance ``H*W`` and IoU 0. The padding row/column is then
   counted: an image with no predicted component adds one phantom FP, an image without GT component adds
   one phantom FN, an image with neither adds one FP and one FN. If ``H*W < distance_threshold``
   (images of 1 or 2 pixels) the padding cell passes the distance test and is *matched* instead, adding a
   phantom TP with IoU 0 (and, when a real component sits in the other dimension, that component becomes
   "matched", so it is neither FP nor counted in Fa).
2. *Distance-first OPDC.* ``overlap_priority_constraint`` runs ``linear_sum_assignment`` on the centroid
   distances of *all* pairs and only afterwards keeps the pairs with ``IoU >= 0.5``; a GT whose distance-
   optimal partner overlaps too little loses its overlapping (IoU-valid) partner. The distance-based
   compensation likewise assigns all leftover pairs by distance and only then drops pairs at distance
   ``>= 3``, which can lose a valid distance match.

hse's default: no phantom cells (an empty side gives FP = N, FN = M, nothing matched), and each OPDC stage
is a maximum-cardinality, minimum-distance assignment restricted to its valid pairs (``IoU >= 0.5`` first,
then ``distance < 3`` among the leftovers); pairs outside the stage's valid set are never assigned.

Differences from hse's own metrics: curve grid and ``>=`` on bin edges, the per-image mean of curves, and
``x/0 = 0`` (hse reports undefined values explicitly).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from hse.reduce.labelling import components, label8

from ._components import centroid_close, divide_or_zero, greedy_first_match
from .opdc import hiou, hiou_metrics

__all__ = [
    "CM_METRICS",
    "PyIRSTDMetrics",
    "cm_binary_counts",
    "cm_curve_counts",
    "cm_metric",
    "curve_thresholds",
    "hiou",
    "hiou_metrics",
    "pd_fa_counts",
    "shooting_rule_metrics",
    "shooting_rule_pd_fa",
    "target_thresholds",
]

CM_METRICS = ("iou", "precision", "recall", "tpr", "fpr", "fmeasure")
FMEASURE_BETA = 0.3


# ----------------------------------------------------------------------------------------------- pixel level
def cm_metric(name: str, tp: Any, fp: Any, tn: Any, fn: Any, beta: float = FMEASURE_BETA) -> np.ndarray:
    """One confusion-matrix metric with the package's ``x/0 = 0`` rule (works on scalars and arrays)."""
    if name == "iou":
        return divide_or_zero(tp, tp + fp + fn)
    if name == "precision":
        return divide_or_zero(tp, tp + fp)
    if name in ("recall", "tpr"):
        return divide_or_zero(tp, tp + fn)
    if name == "fpr":
        return divide_or_zero(fp, fp + tn)
    if name == "fmeasure":
        p = divide_or_zero(tp, tp + fp)
        r = divide_or_zero(tp, tp + fn)
        return divide_or_zero((beta + 1) * p * r, beta * p + r)
    raise ValueError(f"unknown metric {name!r}; expected one of {CM_METRICS}")


def curve_thresholds(num_bins: int) -> np.ndarray:
    """Thresholds of the package's curves, in its (descending) order: ``linspace(0, 1, num_bins)[-2::-1]``."""
    return np.linspace(0, 1, num_bins)[:-1][::-1]


def cm_curve_counts(pred: np.ndarray, mask: np.ndarray, num_bins: int = 10) -> dict[str, np.ndarray]:
    """Per-image ``TP(t)``, ``FP(t)`` (``pred >= t``) at :func:`curve_thresholds`, plus ``fg``/``bg`` counts."""
    fg = int(np.count_nonzero(mask))
    bg = mask.size - fg
    thr = curve_thresholds(num_bins)
    pos = np.sort(pred[mask], kind="stable")
    neg = np.sort(pred[~mask], kind="stable")
    tp = fg - np.searchsorted(pos, thr, side="left")
    fp = bg - np.searchsorted(neg, thr, side="left")
    return {"tp": tp.astype(np.int64), "fp": fp.astype(np.int64), "fg": fg, "bg": bg}


def cm_binary_counts(pred: np.ndarray, mask: np.ndarray, threshold: float = 0.5) -> dict[str, int]:
    """``tp``, ``fp``, ``tn``, ``fn`` of ``pred > threshold``."""
    b = pred > threshold
    tp = int(np.count_nonzero(b & mask))
    fp = int(np.count_nonzero(b & ~mask))
    fg = int(np.count_nonzero(mask))
    return {"tp": tp, "fp": fp, "tn": mask.size - fg - fp, "fn": fg - tp}


# ---------------------------------------------------------------------------------------------- target level
def target_thresholds(num_bins: int = 1, threshold: float = 0.5) -> np.ndarray:
    """The package's target-level grid: ``[threshold]`` (0.5 there) if ``num_bins == 1`` else
    ``linspace(0, 1, num_bins, endpoint=False)``."""
    if not (isinstance(num_bins, int | np.integer) and num_bins > 0):
        raise ValueError(f"num_bins={num_bins} must be a positive int")
    if num_bins == 1:
        return np.array([float(threshold)])
    return np.linspace(0, 1, num_bins, endpoint=False)


def pd_fa_counts(
    pred: np.ndarray, mask: np.ndarray, thresholds: Sequence[float], *, distance_threshold: float = 3
) -> dict[str, np.ndarray]:
    """``ProbabilityDetectionAndFalseAlarmRate`` counters of one image: ``tp``, ``fp``, ``fn``, ``fp_area``
    per threshold and ``area`` (H*W)."""
    _, m, _, g_cent = components(mask)
    k = len(thresholds)
    out = {key: np.zeros(k, dtype=np.int64) for key in ("tp", "fp", "fn", "fp_area")}
    for i, t in enumerate(thresholds):
        _, n, p_areas, p_cent = components(pred > t)
        match = greedy_first_match(centroid_close(g_cent, p_cent, distance_threshold))
        taken = np.zeros(n, dtype=bool)
        taken[match[match >= 0]] = True
        tp = int(taken.sum())
        out["tp"][i], out["fp"][i], out["fn"][i] = tp, n - tp, m - tp
        out["fp_area"][i] = int(p_areas[~taken].sum())
    out["area"] = np.int64(mask.size)
    return out


def shooting_rule_pd_fa(
    pred: np.ndarray,
    mask: np.ndarray,
    thresholds: Sequence[float] = (0.5,),
    *,
    box_1_radius: int = 1,
    box_2_radius: int = 4,
) -> dict[str, Any]:
    """DTUM shooting-rule counts of one image for any threshold grid (``pred > t``); no peer bug involved.

    Returns
    -------
    dict
        ``detected`` (int array, GT components with a predicted pixel in the ``(2 r1 + 1)^2`` box around one
        of their pixels), ``fp_area`` (int array, predicted pixels outside the ``(2 r2 + 1)^2`` boxes around
        all GT pixels), ``targets`` and ``area`` (ints). These are additive over images; pass their sums to
        :func:`shooting_rule_metrics`.
    """
    if not box_2_radius > box_1_radius > 0:
        raise ValueError("need box_2_radius > box_1_radius > 0")
    g_labels, m = label8(mask)
    guard = ndimage.binary_dilation(mask, structure=np.ones((2 * box_2_radius + 1,) * 2, dtype=bool))
    box1 = np.ones((2 * box_1_radius + 1,) * 2, dtype=bool)
    k = len(thresholds)
    detected = np.zeros(k, dtype=np.int64)
    fp_area = np.zeros(k, dtype=np.int64)
    for i, t in enumerate(thresholds):
        b = pred > t
        if m:
            near = ndimage.binary_dilation(b, structure=box1)
            hit = g_labels[near & (g_labels > 0)]
            detected[i] = np.unique(hit).size
        fp_area[i] = np.count_nonzero(b & ~guard)
    return {"detected": detected, "fp_area": fp_area, "targets": int(m), "area": int(mask.size)}


def shooting_rule_metrics(counts: dict[str, Any]) -> dict[str, np.ndarray]:
    """``pd = detected / targets`` and ``fa = fp_area / area`` (``x/0 = 0``) from summed counts."""
    return {
        "pd": divide_or_zero(np.asarray(counts["detected"]), counts["targets"]),
        "fa": divide_or_zero(np.asarray(counts["fp_area"]), [counts["area"]]),
    }


class PyIRSTDMetrics:
    """Accumulator reproducing pyirstdmetrics 1.0.2 (``CMMetrics``, ``ProbabilityDetectionAndFalseAlarmRate``,
    ``ShootingRuleBasedProbabilityDetectionAndFalseAlarmRate``, ``MatchingBasedMetrics`` + ``OPDCMatching``).

    Parameters
    ----------
    threshold : float, default 0.5
        Binary pixel threshold (``pred > threshold``) and the target-level grid when
        ``target_num_bins == 1`` (the package fixes it at 0.5).
    cm_num_bins : int, default 10
        ``CMMetrics(num_bins=...)``: curves at ``linspace(0, 1, cm_num_bins)[-2::-1]`` with ``>=``.
    target_num_bins : int, default 1
        ``num_bins`` of the target-level classes.
    distance_threshold : float, default 3
        Centroid distance for Pd/Fa and for OPDC's compensation.
    overlap_threshold : float, default 0.5
        OPDC's IoU threshold.
    box_1_radius, box_2_radius : int, default 1 and 4
        Shooting-rule boxes.
    bugs : bool, default False
        Reproduce the package's phantom targets and distance-first OPDC (only the ``hiou``, ``seg_iou``,
        ``loc_iou``, ``pd_opdc`` and ``fa_opdc`` outputs depend on it).

    Notes
    -----
    ``compute()`` returns (lists are per threshold, in the package's order):

    * ``curve_thresholds``; ``{m}_curve`` for m in iou, precision, recall, tpr, fpr, fmeasure (mean of
      per-image curves);
    * ``{m}_sample`` (mean of per-image binary metrics) and ``{m}_dataset`` (metric of summed counts);
    * ``target_thresholds``; ``pd``, ``fa`` (``ProbabilityDetectionAndFalseAlarmRate``);
      ``pd_shooting``, ``fa_shooting``; ``hiou``, ``seg_iou``, ``loc_iou``, ``pd_opdc``, ``fa_opdc``;
    * ``n_images`` and ``bugs``.

    Integer counts are additive; the float sums (per-image curves, binary metrics and matched IoU sums) are
    kept per image and reduced at ``compute()`` in image order exactly as the package does, so ``merge``
    (which appends ``other``'s images after this one's) reproduces a single pass bit for bit.
    """

    name = "pyirstdmetrics"

    def __init__(
        self,
        threshold: float = 0.5,
        *,
        cm_num_bins: int = 10,
        target_num_bins: int = 1,
        distance_threshold: float = 3,
        overlap_threshold: float = 0.5,
        box_1_radius: int = 1,
        box_2_radius: int = 4,
        bugs: bool = False,
    ) -> None:
        if not (isinstance(cm_num_bins, int) and cm_num_bins > 0):
            raise ValueError(f"cm_num_bins={cm_num_bins} must be a positive int")
        self.threshold = float(threshold)
        self.cm_num_bins = cm_num_bins
        self.target_num_bins = target_num_bins
        self.distance_threshold = distance_threshold
        self.overlap_threshold = overlap_threshold
        self.box_1_radius = box_1_radius
        self.box_2_radius = box_2_radius
        self.bugs = bool(bugs)
        self.thresholds = target_thresholds(target_num_bins, self.threshold)
        self.reset()

    def _settings(self) -> tuple:
        return (
            self.threshold,
            self.cm_num_bins,
            self.target_num_bins,
            self.distance_threshold,
            self.overlap_threshold,
            self.box_1_radius,
            self.box_2_radius,
            self.bugs,
        )

    def reset(self) -> None:
        k = len(self.thresholds)
        self.curve_tp: list[np.ndarray] = []
        self.curve_fp: list[np.ndarray] = []
        self.binary: list[tuple[int, int, int, int]] = []  # tp, fp, tn, fn per image
        self.fgbg: list[tuple[int, int]] = []
        self.pdfa = {key: np.zeros(k, dtype=np.int64) for key in ("tp", "fp", "fn", "fp_area")}
        self.shoot = {
            "detected": np.zeros(k, dtype=np.int64),
            "fp_area": np.zeros(k, dtype=np.int64),
            "targets": 0,
        }
        self.opdc = {key: np.zeros(k, dtype=np.int64) for key in ("tp", "fp", "fn", "fp_area")}
        self.opdc_tp_iou: list[np.ndarray] = []
        self.area = 0

    def update(self, pred: np.ndarray, mask: np.ndarray, mask_float: np.ndarray | None = None) -> None:
        """Add one image. ``mask_float`` is accepted for a uniform interface and ignored: the package takes
        a boolean mask (its tests read files as ``mask > 127``)."""
        if pred.ndim != 2 or pred.shape != mask.shape:
            raise ValueError(f"pred {pred.shape} and mask {mask.shape} must be 2-D arrays of the same shape")
        mask = mask.astype(bool, copy=False)
        c = cm_curve_counts(pred, mask, self.cm_num_bins)
        self.curve_tp.append(c["tp"])
        self.curve_fp.append(c["fp"])
        self.fgbg.append((c["fg"], c["bg"]))
        b = cm_binary_counts(pred, mask, self.threshold)
        self.binary.append((b["tp"], b["fp"], b["tn"], b["fn"]))
        p = pd_fa_counts(pred, mask, self.thresholds, distance_threshold=self.distance_threshold)
        for key in self.pdfa:
            self.pdfa[key] += p[key]
        s = shooting_rule_pd_fa(
            pred, mask, self.thresholds, box_1_radius=self.box_1_radius, box_2_radius=self.box_2_radius
        )
        self.shoot["detected"] += s["detected"]
        self.shoot["fp_area"] += s["fp_area"]
        self.shoot["targets"] += s["targets"]
        h = hiou(
            pred,
            mask,
            self.thresholds,
            overlap_threshold=self.overlap_threshold,
            distance_threshold=self.distance_threshold,
            bugs=self.bugs,
        )
        for key in self.opdc:
            self.opdc[key] += h[key]
        self.opdc_tp_iou.append(h["tp_iou"])
        self.area += mask.size

    def merge(self, other: PyIRSTDMetrics) -> PyIRSTDMetrics:
        if other._settings() != self._settings():
            raise ValueError("cannot merge PyIRSTDMetrics accumulators with different settings")
        self.curve_tp += other.curve_tp
        self.curve_fp += other.curve_fp
        self.binary += other.binary
        self.fgbg += other.fgbg
        for key in self.pdfa:
            self.pdfa[key] += other.pdfa[key]
        for key in ("detected", "fp_area", "targets"):
            self.shoot[key] += other.shoot[key]
        for key in self.opdc:
            self.opdc[key] += other.opdc[key]
        self.opdc_tp_iou += other.opdc_tp_iou
        self.area += other.area
        return self

    def compute(self) -> dict[str, Any]:
        n_img = len(self.binary)
        out: dict[str, Any] = {"n_images": n_img, "bugs": self.bugs}
        out["curve_thresholds"] = curve_thresholds(self.cm_num_bins).tolist()
        nan = float("nan")
        for name in CM_METRICS:
            per_image = []
            for tp, fp, (fg, bg) in zip(self.curve_tp, self.curve_fp, self.fgbg, strict=True):
                per_image.append(cm_metric(name, tp, fp, bg - fp, fg - tp))
            curve = np.mean(np.array(per_image, dtype=np.float64), axis=0) if n_img else None
            out[f"{name}_curve"] = curve.tolist() if curve is not None else []
            vals = [cm_metric(name, *b) for b in self.binary]
            out[f"{name}_sample"] = float(np.mean(np.array(vals, dtype=np.float64))) if n_img else nan
            tot = [sum(b[i] for b in self.binary) for i in range(4)]
            out[f"{name}_dataset"] = float(np.mean(cm_metric(name, *tot))) if n_img else nan
        out["target_thresholds"] = self.thresholds.tolist()
        tp, fn = self.pdfa["tp"], self.pdfa["fn"]
        out["pd"] = divide_or_zero(tp, tp + fn).tolist()
        out["fa"] = divide_or_zero(self.pdfa["fp_area"], [self.area]).tolist()
        shoot = shooting_rule_metrics({**self.shoot, "area": self.area})
        out["pd_shooting"] = shoot["pd"].tolist()
        out["fa_shooting"] = shoot["fa"].tolist()
        tp_iou = np.zeros(len(self.thresholds), dtype=np.float64)
        for v in self.opdc_tp_iou:  # image order, as the package accumulates
            tp_iou += v
        h = hiou_metrics({**self.opdc, "tp_iou": tp_iou, "area": self.area})
        out["hiou"] = h["hiou"].tolist()
        out["seg_iou"] = h["seg_iou"].tolist()
        out["loc_iou"] = h["loc_iou"].tolist()
        out["pd_opdc"] = h["pd"].tolist()
        out["fa_opdc"] = h["fa"].tolist()
        return out
