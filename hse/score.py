"""From additive counters to scores: the per-threshold curve and the HSE summary.

Every function here is pure and vectorised over an optional leading batch axis of image weights, so the
same code serves a plain evaluation (all weights 1) and a bootstrap (one row of resampling counts per
draw).

Conventions
-----------
A ratio whose numerator and denominator are both 0 ("nothing to find and nothing found") takes the value
of a perfect score: 1 for IoU, nIoU's per-image IoU, Pd, target IoU, precision and recall; 0 for Fa and
FPR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .state import EvalState

CURVE_COLUMNS = (
    "threshold",
    "iou",
    "niou",
    "pd",
    "fa",
    "fa_1e6",
    "target_iou",
    "tp",
    "fp",
    "fn",
    "false_targets_per_image",
    "precision",
    "recall",
    "f1",
    "tpr",
    "fpr",
)


def ratio(num, den, empty: float) -> np.ndarray:
    """``num / den`` elementwise, with ``empty`` where ``den == 0``."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast_shapes(num.shape, den.shape), float(empty))
    np.divide(num, den, out=out, where=den != 0)
    return out


def per_image_iou(state: EvalState) -> np.ndarray:
    """Pixel IoU of each image at each threshold, (N, K); an image with no target and no prediction is 1."""
    tp = state.curves["pix_tp"]
    union = state.curves["pix_fp"] + state.scalars["n_gt_pixels"][:, None]
    return ratio(tp, union, 1.0)


def curve_arrays(state: EvalState, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """All per-threshold metrics, pooled over the images.

    Parameters
    ----------
    state : EvalState
        Stacked per-image counters.
    weights : numpy.ndarray, optional
        Image weights, shape (N,) or (B, N) (e.g. bootstrap resampling counts). Default: all ones.

    Returns
    -------
    dict of numpy.ndarray
        Each metric with shape (K,) or (B, K). Definitions (sums over images i, weighted):

        - ``iou = sum TP_i / sum (TP_i + FP_i + FN_i)`` (pixels; the field's "mIoU")
        - ``niou = mean_i IoU_i``
        - ``pd = matched targets / targets``; ``fa = pixels of unmatched components / pixels``
        - ``target_iou = TP / (TP + FP + FN)`` on targets; ``false_targets_per_image = FP / images``
        - pixel ``precision``, ``recall`` (= ``tpr``), ``f1``, ``fpr``.
    """
    n = state.n_images
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    c, s = state.curves, state.scalars

    def total(x):
        return w @ x

    pix_tp, pix_fp = total(c["pix_tp"]), total(c["pix_fp"])
    n_gt_pix, n_pix = total(s["n_gt_pixels"])[..., None], total(s["n_pixels"])[..., None]
    n_targets = total(s["n_targets"])[..., None]
    n_images = w.sum(axis=-1)[..., None]
    tp = total(c["tgt_matched"])
    fp = total(c["tgt_components"]) - tp
    fn = n_targets - tp
    unmatched_pixels = pix_tp + pix_fp - total(c["tgt_matched_area"])
    precision = ratio(pix_tp, pix_tp + pix_fp, 1.0)
    recall = ratio(pix_tp, n_gt_pix, 1.0)
    return {
        "iou": ratio(pix_tp, pix_fp + n_gt_pix, 1.0),
        "niou": ratio(total(per_image_iou(state)), n_images, 1.0),
        "pd": ratio(tp, n_targets, 1.0),
        "fa": ratio(unmatched_pixels, n_pix, 0.0),
        "target_iou": ratio(tp, tp + fp + fn, 1.0),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "false_targets_per_image": ratio(fp, n_images, 0.0),
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * precision * recall, precision + recall, 0.0),
        "tpr": recall,
        "fpr": ratio(pix_fp, n_pix - n_gt_pix, 0.0),
    }


def _with_anchor(arr: np.ndarray, value: float, at_start: bool) -> np.ndarray:
    pad = np.full(arr.shape[:-1] + (1,), value)
    return np.concatenate([pad, arr] if at_start else [arr, pad], axis=-1)


def auc_pd_fa(fa: np.ndarray, pd: np.ndarray, fa_max: float) -> np.ndarray:
    """Normalised area under the Pd-Fa curve on ``Fa in [0, fa_max]``.

    The grid points ``(Fa(t), Pd(t))`` are joined by straight lines after sorting by Fa, anchored at
    (0, 0), held at the Pd of the largest Fa up to ``fa_max``, cut at ``fa_max`` and divided by ``fa_max``,
    so the result lies in [0, 1]: 1 means every target found with no false-alarm pixel.
    """
    order = np.lexsort((pd, fa), axis=-1)
    x = np.take_along_axis(fa, order, axis=-1)
    y = np.take_along_axis(pd, order, axis=-1)
    x = _with_anchor(_with_anchor(x, 0.0, True), fa_max, False)
    y = _with_anchor(y, 0.0, True)
    y = np.concatenate([y, y[..., -1:]], axis=-1)
    # Cut at fa_max: points beyond it move onto fa_max with the interpolated Pd there.
    beyond = x > fa_max
    first_beyond = np.argmax(beyond, axis=-1)[..., None]
    x_lo = np.take_along_axis(x, first_beyond - 1, axis=-1)
    x_hi = np.take_along_axis(x, first_beyond, axis=-1)
    y_lo = np.take_along_axis(y, first_beyond - 1, axis=-1)
    y_hi = np.take_along_axis(y, first_beyond, axis=-1)
    y_cut = y_lo + (y_hi - y_lo) * ratio(fa_max - x_lo, x_hi - x_lo, 0.0)
    y = np.where(beyond, y_cut, y)
    x = np.minimum(x, fa_max)
    area = np.sum(np.diff(x, axis=-1) * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)
    return area / fa_max


def _trapezoid_in_threshold_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Trapezoid area along the last axis, points taken from the highest threshold to the lowest.

    For pixel curves both coordinates are monotone in the threshold (pooled TPR, FPR and recall never
    decrease as the threshold drops), so this order is the curve's own order, also where x is tied
    (a plateau is entered at its first threshold, not at its worst point).
    """
    xs, ys = x[..., ::-1], y[..., ::-1]
    return np.sum(np.diff(xs, axis=-1) * (ys[..., 1:] + ys[..., :-1]) / 2.0, axis=-1)


def auc_roc(fpr: np.ndarray, tpr: np.ndarray) -> np.ndarray:
    """Pixel ROC AUC: trapezoid rule over the grid points (ascending thresholds) plus (1, 1) and (0, 0)."""
    x = _with_anchor(_with_anchor(fpr, 1.0, True), 0.0, False)
    y = _with_anchor(_with_anchor(tpr, 1.0, True), 0.0, False)
    return _trapezoid_in_threshold_order(x, y)


def auc_pr(recall: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """Pixel precision-recall AUC: trapezoid rule over the grid points plus the anchor (recall 0, precision 1)."""
    x = _with_anchor(recall, 0.0, False)
    y = _with_anchor(precision, 1.0, False)
    return _trapezoid_in_threshold_order(x, y)


@dataclass(frozen=True)
class Preset:
    """A named definition of the HSE score: its defaults and how the two levels are combined.

    hse's definitions are reconstructed from the FDEP paper's description ("multi-threshold integral
    evaluation at both pixel-level confidence and target-level robustness"); the paper's own formula is not
    published. A new preset can be registered in :data:`PRESETS` when it is, without changing ``hse-v1``.
    """

    name: str
    thresholds: str
    match: str
    radius: float
    fa_max: float
    description: str

    def combine(self, hse_pixel, hse_target):
        return (hse_pixel + hse_target) / 2.0


PRESETS: dict[str, Preset] = {
    "hse-v1": Preset(
        name="hse-v1",
        thresholds="default",
        match="greedy",
        radius=3.0,
        fa_max=1e-4,
        description=(
            "HSE = (mean_t pixel IoU(t) + mean_t target IoU(t)) / 2 over t = 0.05..0.95 step 0.05; "
            "greedy centroid matching within 3 px"
        ),
    )
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise InputError(f"preset={name!r} is not one of {sorted(PRESETS)}") from None


def summarise(curve: dict[str, np.ndarray], grid_index: np.ndarray, preset: Preset) -> dict[str, np.ndarray]:
    """The HSE summary over the HSE grid (the columns ``grid_index`` of the curve arrays)."""

    def on_grid(key):
        return curve[key][..., grid_index]

    hse_pixel = on_grid("iou").mean(axis=-1)
    hse_target = on_grid("target_iou").mean(axis=-1)
    return {
        "hse": preset.combine(hse_pixel, hse_target),
        "hse_pixel": hse_pixel,
        "hse_target": hse_target,
        "mean_pd": on_grid("pd").mean(axis=-1),
        "mean_fa": on_grid("fa").mean(axis=-1),
        "auc_pd_fa": auc_pd_fa(on_grid("fa"), on_grid("pd"), preset.fa_max),
        "auc_roc": auc_roc(on_grid("fpr"), on_grid("tpr")),
        "auc_pr": auc_pr(on_grid("recall"), on_grid("precision")),
    }
