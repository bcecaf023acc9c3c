"""Evaluation: one image to an additive state, a stream of images to a :class:`~hse.result.Result`.

Data flows one way: read (at the edge, :mod:`hse.io`), validate (:mod:`hse.validation`), reduce each image
to its counters (:func:`evaluate_image`), combine (:class:`HSEMetric`), summarise (:class:`Result`).
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import InputError
from .matching import MATCH_RULES
from .pixel import pixel_counts, threshold_levels
from .result import Result
from .score import get_preset
from .state import EvalState, ImageState
from .target import find_targets, target_counts
from .thresholds import ThresholdSpec, check_operating_threshold, resolve_thresholds, with_operating_point
from .validation import (
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

_MISSING = object()


@dataclass(frozen=True)
class EvalConfig:
    """Validated evaluation settings (picklable, so worker processes get the same ones)."""

    thresholds: tuple[float, ...]
    threshold: float = 0.5
    match: str = "greedy"
    radius: float = 3.0
    mask_threshold: float | None = None
    resize_masks: str | None = None
    compat: tuple[str, ...] = ()
    compat_options: dict = field(default_factory=dict)
    preset: str = "hse-v1"

    @classmethod
    def create(
        cls,
        thresholds: ThresholdSpec | None = None,
        threshold: float = 0.5,
        match: str | None = None,
        radius: float | None = None,
        mask_threshold: float | None = None,
        resize_masks: str | None = None,
        compat: str | Sequence[str] | None = None,
        compat_options: dict | None = None,
        preset: str = "hse-v1",
    ) -> EvalConfig:
        spec = get_preset(preset)
        grid = resolve_thresholds(spec.thresholds if thresholds is None else thresholds)
        match = spec.match if match is None else match
        if match not in MATCH_RULES:
            raise InputError(f"match={match!r} is not one of {MATCH_RULES}")
        radius = spec.radius if radius is None else float(radius)
        if not np.isfinite(radius) or radius <= 0:
            raise InputError(f"radius must be a positive number of pixels, got {radius!r}")
        if mask_threshold is not None and not np.isfinite(float(mask_threshold)):
            raise InputError(f"mask_threshold must be a finite number, got {mask_threshold!r}")
        if resize_masks not in (None, "nearest"):
            raise InputError(f"resize_masks={resize_masks!r}: only None or 'nearest' is supported")
        names = (compat,) if isinstance(compat, str) else tuple(compat or ())
        if names:
            from .compat import COMPAT

            unknown = [n for n in names if n not in COMPAT]
            if unknown:
                raise InputError(f"compat={unknown} unknown; choose from {sorted(COMPAT)}")
        stray = sorted(set(compat_options or {}) - set(names))
        if stray:
            raise InputError(f"compat_options for {stray}, which are not in compat={list(names)}")
        return cls(
            thresholds=tuple(float(t) for t in grid),
            threshold=check_operating_threshold(threshold),
            match=match,
            radius=radius,
            mask_threshold=None if mask_threshold is None else float(mask_threshold),
            resize_masks=resize_masks,
            compat=names,
            compat_options=dict(compat_options or {}),
            preset=preset,
        )._checked()

    def _checked(self) -> EvalConfig:
        try:  # build each peer accumulator once, so a bad option fails here with a clear message
            self.new_compat()
        except (TypeError, ValueError) as exc:
            raise InputError(f"compat_options={self.compat_options!r}: {exc}") from exc
        return self

    @property
    def evaluation_grid(self) -> np.ndarray:
        return with_operating_point(np.asarray(self.thresholds), self.threshold)[0]

    def settings(self) -> dict:
        out = asdict(self)
        out["thresholds"] = list(self.thresholds)
        out["compat"] = list(self.compat)
        out["evaluation_grid"] = [float(t) for t in self.evaluation_grid]
        out["hse_version"] = __version__
        return out

    def new_compat(self) -> dict:
        if not self.compat:
            return {}
        from .compat import COMPAT

        return {
            name: COMPAT[name](threshold=self.threshold, **self.compat_options.get(name, {}))
            for name in self.compat
        }


def evaluate_image(
    pred: np.ndarray, mask: np.ndarray, config: EvalConfig, name: str | None = None
) -> ImageState:
    """Reduce one validated (prediction, bool mask) pair to its counters over the evaluation grid."""
    grid = config.evaluation_grid
    k = grid.size
    levels = threshold_levels(pred, grid)
    pix_tp, pix_fp = pixel_counts(levels, mask, k)
    targets = find_targets(mask)
    matched, components, matched_area = target_counts(levels, targets, k, config.radius, config.match)
    return ImageState(
        name=name,
        pix_tp=pix_tp,
        pix_fp=pix_fp,
        tgt_matched=matched,
        tgt_components=components,
        tgt_matched_area=matched_area,
        n_pixels=int(mask.size),
        n_gt_pixels=int(np.count_nonzero(mask)),
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


def _process(job) -> tuple[ImageState, dict, bool]:
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


class HSEMetric:
    """Streaming HSE evaluation with additive state (update / compute / reset / merge).

    Parameters are those of :func:`evaluate`. The state holds, per image, a few integer counters per
    threshold (never the pixels), so memory is O(images x thresholds) small integers. Two metrics with the
    same settings merge exactly: evaluate shards in different processes or machines, then ``merge`` them
    (or save ``compute().to_dict(include_state=True)`` and rebuild with :meth:`Result.from_dict`).

    Examples
    --------
    >>> metric = HSEMetric()
    >>> for pred, mask in pairs:            # doctest: +SKIP
    ...     metric.update(pred, mask)
    >>> metric.compute().hse               # doctest: +SKIP
    """

    def __init__(self, **settings: Any):
        # The keyword settings of evaluate() (thresholds, threshold, match, radius, mask_threshold,
        # resize_masks, compat, compat_options, preset), validated in one place.
        self.config = EvalConfig.create(**settings)
        self.reset()

    def reset(self) -> None:
        """Forget every image."""
        self._images: list[ImageState] = []
        self._compat = self.config.new_compat()
        self._n_resized = 0

    def update(self, pred: Any, mask: Any, name: str | None = None) -> ImageState:
        """Add one image: a prediction map and its mask (arrays, tensors, PIL images or paths)."""
        state, compat, resized = _process((len(self._images), name, pred, mask, self.config))
        self.add(state, compat, resized)
        return state

    def add(self, state: ImageState, compat: dict | None = None, resized: bool = False) -> None:
        """Add an already reduced image (e.g. computed in a worker process)."""
        self._images.append(state)
        for key, acc in (compat or {}).items():
            self._compat[key].merge(acc)
        self._n_resized += int(resized)

    def merge(self, other: HSEMetric) -> HSEMetric:
        """Append another metric's images (same settings required); returns self."""
        if other.config != self.config:
            raise ValueError("cannot merge metrics with different settings")
        self._images.extend(other._images)
        for key, acc in other._compat.items():
            self._compat[key].merge(acc)
        self._n_resized += other._n_resized
        return self

    def __len__(self) -> int:
        return len(self._images)

    def compute(self) -> Result:
        """Summarise everything added so far."""
        if not self._images:
            raise InputError("no images were evaluated: the input is empty")
        grid = self.config.evaluation_grid
        # Images added without a name (arrays) are named by their position, as in a single pass.
        images = [
            im if im.name is not None else replace(im, name=str(i)) for i, im in enumerate(self._images)
        ]
        state = EvalState.stack(images, grid.size)
        settings = self.config.settings()
        settings["n_resized"] = self._n_resized
        compat = {name: acc.compute() for name, acc in self._compat.items()}
        return Result(state, settings, compat)


def _jobs(preds: Iterable, masks: Iterable, names: Sequence[str] | None, config: EvalConfig):
    name_iter = iter(names) if names is not None else None
    for index, (pred, mask) in enumerate(zip_longest(preds, masks, fillvalue=_MISSING)):
        if pred is _MISSING or mask is _MISSING:
            raise InputError(
                f"got a different number of predictions and masks (one list ended at item #{index}); pair them one to one"
            )
        name = None
        if name_iter is not None:
            name = next(name_iter, _MISSING)
            if name is _MISSING:
                raise InputError(f"got fewer names than images (no name for image #{index})")
        yield index, name, pred, mask, config


def _parallel_in_order(work: Iterable, jobs: int):
    """``map(_process, work)`` in worker processes, in input order, with a bounded number in flight.

    Unlike ``Executor.map``, which consumes the whole input at once, at most ``4 * jobs`` images are read
    ahead, so a lazy stream of arrays stays O(jobs) in memory.
    """
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: deque = deque()
        for job in work:
            pending.append(pool.submit(_process, job))
            if len(pending) >= 4 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def evaluate(
    preds: Iterable,
    masks: Iterable,
    *,
    names: Sequence[str] | None = None,
    thresholds: ThresholdSpec | None = None,
    threshold: float = 0.5,
    match: str | None = None,
    radius: float | None = None,
    mask_threshold: float | None = None,
    resize_masks: str | None = None,
    compat: str | Sequence[str] | None = None,
    compat_options: dict | None = None,
    preset: str = "hse-v1",
    progress: bool = False,
    jobs: int = 1,
) -> Result:
    """Evaluate prediction maps against ground-truth masks over many thresholds.

    Parameters
    ----------
    preds, masks : iterable
        Same-length sequences or iterators of 2-D maps: numpy arrays, torch tensors (any device), PIL
        images or file paths. Predictions: float in [0, 1], uint8 (/255), uint16 (/65535) or bool. Masks:
        integer {0, max}, float (target > 0.5) or bool. Images are processed one at a time.
    names : sequence of str, optional
        Image names for per-image rows and error messages (default: file stems or indices).
    thresholds : {"default", "uint8"} or sequence of float, optional
        The HSE grid (default from the preset: 0.05..0.95 step 0.05).
    threshold : float
        The operating threshold for single-threshold numbers (IoU, Pd, Fa at 0.5 by default).
    match : {"greedy", "optimal"}, optional
        Target matching rule (default: the toolboxes' greedy rule).
    radius : float, optional
        Centroid distance for a match, strict ``<`` (default 3 px).
    mask_threshold : float, optional
        Binarise masks as ``mask > mask_threshold`` (required for masks that are not {0, max}).
    resize_masks : {None, "nearest"}
        Explicit opt-in to resize a mask whose size differs from its prediction; counted in the result.
    compat : str or sequence of str, optional
        Also compute peer-toolbox metrics at ``threshold``: "basicirstd", "pyirstdmetrics", "acm".
    compat_options : dict, optional
        Per-peer keyword arguments, e.g. ``{"basicirstd": {"legacy_fa": True}}``.
    preset : str
        The HSE definition ("hse-v1").
    progress : bool
        Show a tqdm progress bar.
    jobs : int
        Worker processes for reading and per-image evaluation; results are identical to ``jobs=1``.

    Returns
    -------
    Result
    """
    metric = HSEMetric(
        thresholds=thresholds,
        threshold=threshold,
        match=match,
        radius=radius,
        mask_threshold=mask_threshold,
        resize_masks=resize_masks,
        compat=compat,
        compat_options=compat_options,
        preset=preset,
    )
    total = None
    if hasattr(preds, "__len__") and hasattr(masks, "__len__"):
        if len(preds) != len(masks):
            raise InputError(f"got {len(preds)} predictions but {len(masks)} masks; pair them one to one")
        total = len(preds)
    if names is not None and total is not None and len(names) != total:
        raise InputError(f"got {len(names)} names for {total} images")
    work = _jobs(preds, masks, names, metric.config)
    from tqdm.auto import tqdm

    with tqdm(total=total, disable=not progress, unit="img", desc="hse") as bar:
        if jobs and jobs > 1:
            for state, compat_acc, resized in _parallel_in_order(work, int(jobs)):
                metric.add(state, compat_acc, resized)
                bar.update()
        else:
            for job in work:
                metric.add(*_process(job))
                bar.update()
    return metric.compute()
