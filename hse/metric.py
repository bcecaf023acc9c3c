"""Evaluation: a stream of (prediction, mask) pairs to a :class:`~hse.result.Result`.

Data flows one way: read (at the edge, :mod:`hse.io`), validate (:mod:`hse.validation`), reduce each image
to its counters (:mod:`hse.reduce.image`), combine (:class:`HSEMetric`, :mod:`hse.state`), score
(:mod:`hse.score`) and summarise (:class:`~hse.result.Result`). The settings are :mod:`hse.settings`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from .errors import InputError
from .reduce.image import process_pair
from .result import Result
from .runner import pair_jobs, parallel_in_order
from .settings import EvalConfig, resolve_jobs
from .state import EvalState, ImageState
from .thresholds import ThresholdSpec


class HSEMetric:
    """Streaming HSE evaluation with additive state (update / compute / reset / merge).

    Parameters are those of :func:`evaluate`. The state holds, per image, a few integer counters per
    threshold (never the pixels), so memory is O(images x thresholds) small integers. Two metrics with the
    same settings merge exactly: evaluate shards in different processes or machines, then ``merge`` them
    (or save ``compute().to_dict()`` and rebuild with :meth:`Result.from_dict`).

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
        state, compat, resized = process_pair((len(self._images), name, pred, mask, self.config))
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
        Worker processes for reading and per-image evaluation (0: one per CPU core; the same rule as the
        commands' ``--jobs``, see :func:`hse.settings.resolve_jobs`); results are identical to ``jobs=1``.

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
    jobs = resolve_jobs(jobs)
    work = pair_jobs(preds, masks, names, metric.config)
    from tqdm.auto import tqdm

    with tqdm(total=total, disable=not progress, unit="img", desc="hse") as bar:
        if jobs > 1:
            for state, compat_acc, resized in parallel_in_order(work, int(jobs)):
                metric.add(state, compat_acc, resized)
                bar.update()
        else:
            for job in work:
                metric.add(*process_pair(job))
                bar.update()
    result = metric.compute()
    result.sources = _path_sources(preds, masks)
    return result


def _path_sources(preds: Any, masks: Any) -> dict[str, list[str]] | None:
    """The paths scored, when both inputs are sequences of paths (for the HTML report's gallery)."""
    if not (isinstance(preds, Sequence) and isinstance(masks, Sequence)):
        return None
    items = [*preds, *masks]
    if not all(isinstance(x, (str, os.PathLike)) for x in items):
        return None
    return {"preds": [os.fspath(p) for p in preds], "masks": [os.fspath(m) for m in masks]}
