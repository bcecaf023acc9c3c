"""One (prediction, mask) pair to its additive :class:`~hse.state.ImageState`.

Reads the pair when paths are given (:mod:`hse.io`), validates it (:mod:`hse.validation`), then reduces it
to its counters over the evaluation grid: pixel counts (:mod:`hse.reduce.pixel`) and target counts
(:mod:`hse.reduce.target`), plus the peer accumulators asked for.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from hse.settings import EvalConfig
from hse.state import ImageState
from hse.validation import (
    as_2d,
    as_mask,
    as_prediction,
    check_same_shape,
    describe,
    mask_as_float,
    prediction_as_float,
    resize_nearest,
    to_numpy,
)

from .pixel import level_histograms, pixel_counts_from_histograms
from .target import find_targets, target_counts


def evaluate_image(
    pred: np.ndarray, mask: np.ndarray, config: EvalConfig, name: str | None = None
) -> ImageState:
    """Reduce one validated (prediction, bool mask) pair to its counters over the evaluation grid."""
    grid = config.evaluation_grid
    k = grid.size
    levels, hist, hist_gt = level_histograms(pred, mask, grid)  # one pass: levels and both histograms
    pix_tp, pix_fp = pixel_counts_from_histograms(hist, hist_gt)
    targets = find_targets(mask)
    matched, components, matched_area = target_counts(
        levels, targets, k, config.radius, config.match, hist=hist
    )
    return ImageState(
        name=name,
        pix_tp=pix_tp,
        pix_fp=pix_fp,
        tgt_matched=matched,
        tgt_components=components,
        tgt_matched_area=matched_area,
        n_pixels=int(mask.size),
        n_gt_pixels=int(hist_gt.sum()),
        n_targets=targets.count,
        height=int(mask.shape[0]),
        width=int(mask.shape[1]),
    )


def _default_name(source: Any) -> str | None:
    """File stem for paths; None for arrays, which are named by their position when the state is stacked."""
    if isinstance(source, (str, os.PathLike)):
        return Path(source).stem
    return None


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def load_pair(index: int, name: str | None, pred_src: Any, mask_src: Any, config: EvalConfig):
    """Read (if paths) and validate one pair; returns (name, pred, bool mask, raw mask, resized).

    Errors name the image by its name, else by its index, and name the files when paths were given.
    """
    label = name if name is not None else _default_name(pred_src)
    ident: str | int = name if name is not None else index
    pred = as_prediction(pred_src, str(pred_src) if _is_path(pred_src) else ident)
    mask_id = str(mask_src) if _is_path(mask_src) else ident
    raw_mask = as_2d(to_numpy(mask_src, describe(mask_id, "mask")), describe(mask_id, "mask"))
    mask = as_mask(raw_mask, mask_id, config.mask_threshold)
    resized = False
    if pred.shape != mask.shape:
        if config.resize_masks == "nearest":
            mask = resize_nearest(mask, pred.shape)
            raw_mask = None
            resized = True
        else:
            files = (
                f" (prediction {pred_src}, mask {mask_src})"
                if _is_path(pred_src) or _is_path(mask_src)
                else ""
            )
            where = label if label is not None else index
            check_same_shape(pred, mask, where, files)
    return label, pred, mask, raw_mask, resized


def process_pair(job) -> tuple[ImageState, dict, bool]:
    """Worker: one pair to (state, per-image compat accumulators, resized flag)."""
    index, name, pred_src, mask_src, config = job
    label, pred, mask, raw_mask, resized = load_pair(index, name, pred_src, mask_src, config)
    state = evaluate_image(pred, mask, config, label)
    compat = config.new_compat()
    if compat:
        pred_float = prediction_as_float(pred)
        mask_float = None if raw_mask is None else mask_as_float(raw_mask)
        if mask_float is not None and "basicirstd" in compat and raw_mask.max() == 1:
            warnings.warn(
                "compat='basicirstd' reads 8-bit masks as mask / 255, as the toolbox does, so a {0, 1} mask "
                "has no target pixels there; save masks as {0, 255} to compare with its numbers",
                UserWarning,
                stacklevel=2,
            )
        for acc in compat.values():
            acc.update(pred_float, mask, mask_float=mask_float)
    return state, compat, resized
