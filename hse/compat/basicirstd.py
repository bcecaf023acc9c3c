"""Exact reproduction of the BasicIRSTD toolbox metrics (``mIoU`` and ``PD_FA``).

Reference: X. Ying et al., BasicIRSTD toolbox, github.com/XinyiYing/BasicIRSTD, ``metrics.py`` (classes
``mIoU`` and ``PD_FA``) driven by ``test.py``; the LESPS repository (Ying et al., "Mapping Degeneration
Meets Label Evolution", CVPR 2023) ships the same file. The same ``PD_FA`` class, in its older form, is in
DNANet (Li et al., TIP 2023, ``model/metric.py``), SCTransNet and MSHNet.

What the toolbox computes, for a probability map ``pred`` and a ground truth read as
``gt = uint8_mask / 255`` (float):

* the prediction is binarised by ``pred > threshold`` (``test.py``, default 0.5);
* ``mIoU`` (which despite its name is a pooled, dataset-level IoU) accumulates per image

  - ``inter`` = #pixels with ``pred_bin & (gt == 1)``: ``predict * (predict == target)`` is 1 only where
    the prediction is 1 *and* the float GT equals exactly 1.0;
  - ``union = area_pred + area_lab - inter`` where ``area_pred`` = #``pred_bin`` and ``area_lab`` =
    #pixels with ``0.5 <= gt <= 1.5``. Both come from ``np.histogram(x, bins=1, range=(1, 1))``: numpy
    widens an empty range ``(a, a)`` to ``(a - 0.5, a + 0.5)``, so the single bin is the closed interval
    ``[0.5, 1.5]``;
  - ``correct`` = #``pred_bin & (gt == 1)`` and ``labeled`` = #``gt > 0`` (``batch_pix_accuracy``);

  and reports ``IoU = sum(inter) / (eps + sum(union))``, ``pixAcc = sum(correct) / (eps + sum(labeled))``
  with ``eps = np.spacing(1)`` (2.22e-16), so 0/0 gives 0;
* ``PD_FA`` truncates the GT to int64 (only ``gt == 1.0`` survives), labels prediction and GT with
  8-connectivity, visits GT components in label order and matches each with the first still-unmatched
  predicted component whose centroid lies at Euclidean distance ``< 3``. ``Pd = matched / #GT components``
  and ``Fa = (#predicted pixels not in a matched component) / #all pixels``.

For a boolean mask (values {0, 1} after ``/ 255`` of a {0, 255} file) all GT readings coincide with the
mask. They differ for masks with other grey values; pass ``mask_float`` (``raw_uint8 / 255``) to reproduce
the toolbox on such files exactly.

Known bug (``legacy_fa=True``): before 2024 the toolbox, and still DNANet, SCTransNet and MSHNet, computed
the false-alarm pixels as ``[x for x in image_area_total if x not in image_area_match]``: the *areas* of
all predicted components that do not equal the area of any matched component. An unmatched component whose
area equals some matched component's area is therefore dropped from Fa (all such components, since
membership in a list ignores multiplicity). hse's default (``legacy_fa=False``) is the fixed toolbox:
every pixel of every unmatched component counts.

Differences from hse's own metrics: the GT readings above (hse binarises the mask once), the pooled IoU
with ``eps`` instead of an explicit 0/0 rule, the greedy first-match assignment (hse's target metrics use an
optimal one-to-one assignment), and Pd with no GT target (the toolbox raises ``ZeroDivisionError``; here it
is ``nan``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hse.reduce.labelling import components

from ._components import centroid_close, greedy_first_match

EPS = float(np.spacing(1))
DISTANCE_THRESHOLD = 3.0

__all__ = ["BasicIRSTD", "EPS", "gt_readings", "miou_counts", "pd_fa", "pd_fa_counts"]


def _check(pred: np.ndarray, mask: np.ndarray, mask_float: np.ndarray | None) -> np.ndarray:
    if pred.ndim != 2 or pred.shape != mask.shape:
        raise ValueError(f"pred {pred.shape} and mask {mask.shape} must be 2-D arrays of the same shape")
    if mask_float is None:
        return mask.astype(np.float64)
    mask_float = np.asarray(mask_float, dtype=np.float64)
    if mask_float.shape != mask.shape:
        raise ValueError(f"mask_float {mask_float.shape} must have the shape of mask {mask.shape}")
    if mask_float.size and (mask_float.min() < 0 or mask_float.max() > 1):
        raise ValueError("mask_float must lie in [0, 1] (raw uint8 mask / 255)")
    return mask_float


def gt_readings(mask: np.ndarray, mask_float: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The four ways the toolbox reads the float ground truth ``g`` (``mask_float``, else ``mask``).

    Returns
    -------
    dict
        ``one``: ``g == 1`` (intersection, pixAcc numerator, and ``PD_FA`` after int truncation);
        ``half``: ``0.5 <= g <= 1.5`` (``area_lab`` of the ``range=(1, 1)`` histogram);
        ``positive``: ``g > 0`` (pixAcc denominator).
    """
    g = _check(np.zeros(mask.shape), mask, mask_float)
    return {"one": g == 1.0, "half": (g >= 0.5) & (g <= 1.5), "positive": g > 0}


def miou_counts(
    pred: np.ndarray, mask: np.ndarray, *, threshold: float = 0.5, mask_float: np.ndarray | None = None
) -> dict[str, int]:
    """Per-image counters of the toolbox's ``mIoU`` class.

    Parameters
    ----------
    pred : ndarray of float64, shape (H, W)
        Probabilities in [0, 1]; binarised by ``pred > threshold``.
    mask : ndarray of bool, shape (H, W)
        Ground truth; used as ``mask.astype(float)`` unless ``mask_float`` is given.
    threshold : float
        Binarisation threshold (``test.py --threshold``, default 0.5).
    mask_float : ndarray of float, optional
        The raw mask divided by 255, as the toolbox's data loader reads it.

    Returns
    -------
    dict
        ``inter``, ``union``, ``correct``, ``labeled`` (ints), as defined in the module docstring.
    """
    g = _check(pred, mask, mask_float)
    pred_bin = pred > threshold
    one = g == 1.0
    inter = int(np.count_nonzero(pred_bin & one))
    area_pred = int(np.count_nonzero(pred_bin))
    area_lab = int(np.count_nonzero((g >= 0.5) & (g <= 1.5)))
    return {
        "inter": inter,
        "union": area_pred + area_lab - inter,
        "correct": inter,
        "labeled": int(np.count_nonzero(g > 0)),
    }


def pd_fa_counts(
    pred: np.ndarray,
    mask: np.ndarray,
    *,
    threshold: float = 0.5,
    mask_float: np.ndarray | None = None,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> dict[str, int]:
    """Per-image counters of the toolbox's ``PD_FA`` class, fixed and legacy.

    Returns
    -------
    dict
        ``targets`` (GT components), ``detected`` (matched GT components), ``fa_pixels`` (pixels of
        unmatched predicted components, the fixed toolbox), ``fa_pixels_legacy`` (sum of the areas of
        predicted components whose area is not the area of any matched component, the pre-2024 code) and
        ``pixels`` (H * W).
    """
    g = _check(pred, mask, mask_float)
    _, _, p_areas, p_cent = components(pred > threshold)
    _, m, _, g_cent = components(g.astype(np.int64) == 1)
    match = greedy_first_match(centroid_close(g_cent, p_cent, distance_threshold))
    matched = match[match >= 0]
    is_matched = np.zeros(len(p_areas), dtype=bool)
    is_matched[matched] = True
    legacy_keep = ~np.isin(p_areas, p_areas[matched])
    return {
        "targets": int(m),
        "detected": int(matched.size),
        "fa_pixels": int(p_areas[~is_matched].sum()),
        "fa_pixels_legacy": int(p_areas[legacy_keep].sum()),
        "pixels": int(pred.size),
    }


def pd_fa(
    pred: np.ndarray,
    mask: np.ndarray,
    *,
    threshold: float = 0.5,
    mask_float: np.ndarray | None = None,
    legacy_fa: bool = False,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> tuple[float, float]:
    """``(Pd, Fa)`` of one image under BasicIRSTD's ``PD_FA``.

    ``Fa`` is a plain fraction (multiply by 1e6 for the usual table unit). With ``legacy_fa=True`` it is the
    pre-2024 / DNANet value (see module docstring). ``Pd`` is ``nan`` for an image without GT target (the
    toolbox would divide by zero).
    """
    c = pd_fa_counts(
        pred, mask, threshold=threshold, mask_float=mask_float, distance_threshold=distance_threshold
    )
    fa_pixels = c["fa_pixels_legacy"] if legacy_fa else c["fa_pixels"]
    pd = c["detected"] / c["targets"] if c["targets"] else float("nan")
    return pd, fa_pixels / c["pixels"]


class BasicIRSTD:
    """Accumulator reproducing BasicIRSTD's ``mIoU`` + ``PD_FA`` over a data set.

    Parameters
    ----------
    threshold : float, default 0.5
        ``pred > threshold`` binarisation.
    legacy_fa : bool, default False
        Also report ``fa_legacy``, the pre-2024 Fa that drops unmatched components sharing an area with a
        matched one (still in DNANet, SCTransNet and MSHNet).
    distance_threshold : float, default 3.0
        Centroid distance below which a predicted component matches a GT component.

    Notes
    -----
    The state is additive integer counters, so ``merge`` of split evaluations is exact.

    ``compute()`` returns ``iou`` and ``pix_acc`` (pooled, ``sum / (eps + sum)``), ``pd`` (``nan`` without
    targets), ``fa`` (fixed toolbox, a fraction of all pixels; ``nan`` before any update), ``fa_legacy``
    (only when ``legacy_fa``), and the integer counters ``n_images``, ``inter``, ``union``, ``correct``,
    ``labeled``, ``targets``, ``detected``, ``fa_pixels``, ``fa_pixels_legacy``, ``pixels``.
    """

    name = "basicirstd"
    _KEYS = (
        "n_images",
        "inter",
        "union",
        "correct",
        "labeled",
        "targets",
        "detected",
        "fa_pixels",
        "fa_pixels_legacy",
        "pixels",
    )

    def __init__(
        self,
        threshold: float = 0.5,
        *,
        legacy_fa: bool = False,
        distance_threshold: float = DISTANCE_THRESHOLD,
    ) -> None:
        self.threshold = float(threshold)
        self.legacy_fa = bool(legacy_fa)
        self.distance_threshold = float(distance_threshold)
        self.reset()

    def reset(self) -> None:
        self.counts = dict.fromkeys(self._KEYS, 0)

    def update(self, pred: np.ndarray, mask: np.ndarray, mask_float: np.ndarray | None = None) -> None:
        c = miou_counts(pred, mask, threshold=self.threshold, mask_float=mask_float)
        c.update(
            pd_fa_counts(
                pred,
                mask,
                threshold=self.threshold,
                mask_float=mask_float,
                distance_threshold=self.distance_threshold,
            )
        )
        c["n_images"] = 1
        for k in self._KEYS:
            self.counts[k] += c[k]

    def merge(self, other: BasicIRSTD) -> BasicIRSTD:
        if (other.threshold, other.distance_threshold) != (self.threshold, self.distance_threshold):
            raise ValueError("cannot merge BasicIRSTD accumulators with different settings")
        for k in self._KEYS:
            self.counts[k] += other.counts[k]
        return self

    def compute(self) -> dict[str, Any]:
        c = self.counts
        out: dict[str, Any] = {
            "iou": float(1.0 * c["inter"] / (EPS + c["union"])),
            "pix_acc": float(1.0 * c["correct"] / (EPS + c["labeled"])),
            "pd": c["detected"] / c["targets"] if c["targets"] else float("nan"),
            "fa": c["fa_pixels"] / c["pixels"] if c["pixels"] else float("nan"),
        }
        if self.legacy_fa:
            out["fa_legacy"] = c["fa_pixels_legacy"] / c["pixels"] if c["pixels"] else float("nan")
        out.update({k: int(v) for k, v in c.items()})
        return out
