"""Evaluation: a stream of (prediction, mask) pairs to a :class:`~hse.result.Result`.

Data flows one way: read (at the edge, :mod:`hse.io`), validate (:mod:`hse.validation`), reduce each image
to its counters (:mod:`hse.reduce.image`), combine (:class:`HSEMetric`, :mod:`hse.state`), score
(:mod:`hse.score`) and summarise (:class:`~hse.result.Result`). The settings are :mod:`hse.settings`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .codec import check_state, plain
from .errors import InputError
from .reduce.image import process_pair
from .result import Result
from .runner import pair_jobs, parallel_in_order
from .settings import EvalConfig, resolve_jobs
from .state import CURVE_FIELDS, SCALAR_FIELDS, EvalState, ImageState
from .thresholds import ThresholdSpec


class HSEMetric:
    """Streaming HSE evaluation with additive, mergeable state (update / compute / reset / merge).

    Parameters are those of :func:`evaluate`. The state holds, per image, its global index, its name and
    a few integer counters per threshold (never the pixels), so memory is O(images x thresholds) small
    integers. It is public: :meth:`state_dict` gives plain arrays, :meth:`load_state_dict` restores them,
    and two metrics with the same settings :meth:`merge` exactly, so shards evaluated in other processes or
    on other machines combine into the single-run result (see also :func:`hse.merge` for saved Results).

    Images are identified by a global index. Give ``index=`` to :meth:`update` (the position of the image
    in the whole set, e.g. the dataset index a ``DistributedSampler`` hands out): an image added twice
    with identical counters is then counted once, the same index with different counters is an
    :class:`~hse.errors.InputError`, and :meth:`compute` orders images by index. Without ``index=``,
    images are numbered in the order they are added and :meth:`merge` appends the other metric's images
    after these. One metric uses one of the two ways.

    Examples
    --------
    >>> metric = HSEMetric()
    >>> for i, (pred, mask) in enumerate(pairs):   # doctest: +SKIP
    ...     metric.update(pred, mask, index=i)
    >>> metric.compute().hse                       # doctest: +SKIP
    """

    def __init__(self, **settings: Any):
        # The keyword settings of evaluate() (thresholds, threshold, match, radius, mask_threshold,
        # resize_masks, compat, compat_options, preset), validated in one place.
        self.config = EvalConfig.create(**settings)
        self.reset()

    def reset(self) -> None:
        """Forget every image."""
        self._rows: dict[int, tuple[ImageState, bool]] = {}  # index -> (counters, mask resized)
        self._indexed: bool | None = None  # True: caller-given indexes; False: numbered in order
        self._compat = self.config.new_compat()

    def update(self, pred: Any, mask: Any, index: int | None = None, name: str | None = None) -> ImageState:
        """Add one image: a prediction map and its mask (arrays, tensors, PIL images or paths).

        ``index`` is the image's global position in the whole set (see the class notes); ``name`` names
        it in per-image rows and errors (default: the file stem for paths, else ``str(index)``)."""
        position = len(self._rows) if index is None else _check_index(index)
        state, compat, resized = process_pair((position, name, pred, mask, self.config))
        self.add(state, compat, resized, index=index)
        return state

    def add(
        self, state: ImageState, compat: dict | None = None, resized: bool = False, index: int | None = None
    ) -> None:
        """Add an already reduced image (e.g. computed in a worker process), with its global ``index``."""
        self._set_mode(index is not None)
        index = len(self._rows) if index is None else _check_index(index)
        if state.name is None:  # arrays are named by their global index, as in a single pass
            state = replace(state, name=str(index))
        old = self._rows.get(index)
        if old is not None:
            _check_duplicate(index, old, (state, bool(resized)))
            return  # the same image seen again (e.g. a padded DistributedSampler batch): counted once
        self._rows[index] = (state, bool(resized))
        for key, acc in (compat or {}).items():
            self._compat[key].merge(acc)

    def _set_mode(self, indexed: bool) -> None:
        if self._indexed is None or not self._rows:
            self._indexed = indexed
        elif self._indexed != indexed:
            raise InputError(
                "give every image an index= or none: this metric already holds images "
                + ("with" if self._indexed else "without")
                + " an explicit index"
            )

    def merge(self, other: HSEMetric) -> HSEMetric:
        """Add another metric's images (same settings required); returns self.

        With indexes, images are combined by index (duplicates with identical counters counted once,
        conflicts refused); without, the other metric's images follow these, renumbered."""
        if not isinstance(other, HSEMetric):
            raise InputError(f"can only merge another HSEMetric, got {type(other).__name__}")
        if other.config != self.config:
            raise InputError(
                "cannot merge metrics with different settings: "
                + _settings_difference(self.config.settings(), other.config.settings())
            )
        if not other._rows:
            return self
        if self._rows and self._indexed != other._indexed:
            raise InputError(
                "cannot merge a metric whose images have indexes with one whose images have none"
            )
        offset = 0 if other._indexed else len(self._rows)
        if self._compat and other._indexed and self._rows.keys() & other._rows.keys():
            raise InputError(
                "cannot merge metrics that share images when peer-toolbox (compat) numbers are computed: "
                "their totals cannot drop a duplicate; merge disjoint parts"
            )
        for index, (state, resized) in other._rows.items():
            new = index + offset
            if not other._indexed and state.name == str(index):
                state = replace(state, name=str(new))  # default names follow the renumbering
            old = self._rows.get(new)
            if old is not None:
                _check_duplicate(new, old, (state, resized))
            else:
                self._rows[new] = (state, resized)
        self._indexed = other._indexed
        for key, acc in other._compat.items():
            self._compat[key].merge(acc)
        return self

    def __len__(self) -> int:
        return len(self._rows)

    # -- state as plain arrays ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The whole state as plain values: numpy int64/bool arrays, ints and strings (no objects).

        Keys: ``format`` (``"hse-metric/1"``), ``settings`` (the settings as JSON text), ``indexed``
        (1 when images have caller-given indexes), ``indexes`` (N,), ``names`` (list of N str), one (N, K)
        array per curve counter, one (N,) array per per-image scalar and ``resized`` (N,) bool. Rows are
        sorted by index. Save it with ``numpy.savez`` or ``torch.save`` and restore with
        :meth:`load_state_dict` on a metric with the same settings."""
        if self._compat:
            raise InputError(
                "state_dict() covers the HSE counters; peer-toolbox (compat) accumulators are totals kept "
                "only in memory: use a metric without compat= to save and restore state"
            )
        keys = sorted(self._rows)
        state = EvalState.stack([self._rows[i][0] for i in keys], self.config.evaluation_grid.size, keys)
        out: dict[str, Any] = {
            "format": STATE_FORMAT,
            "settings": json.dumps(plain(self.config.settings()), sort_keys=True),
            "indexed": int(bool(self._indexed)),
            "indexes": state.indexes,
            "names": list(state.names),
        }
        out.update({f: state.curves[f] for f in CURVE_FIELDS})
        out.update({f: state.scalars[f] for f in SCALAR_FIELDS})
        out["resized"] = np.array([self._rows[i][1] for i in keys], dtype=bool)
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Replace the state with one from :meth:`state_dict` (checked: format, settings, shapes, counters)."""
        sd = state_dict
        if not isinstance(sd, dict) or sd.get("format") != STATE_FORMAT:
            found = sd.get("format") if isinstance(sd, dict) else type(sd).__name__
            raise InputError(f"state_dict: unsupported format {found!r}; expected {STATE_FORMAT!r}")
        mine = plain(self.config.settings())
        theirs = json.loads(str(sd["settings"]))
        if theirs != json.loads(json.dumps(mine, sort_keys=True)):
            raise InputError("state_dict: saved with other settings: " + _settings_difference(mine, theirs))
        k = self.config.evaluation_grid.size
        names = [str(n) for n in sd["names"]]
        n = len(names)
        try:
            state = EvalState(
                names,
                {f: _int_array(sd[f], f, (n, k)) for f in CURVE_FIELDS},
                {f: _int_array(sd[f], f, (n,)) for f in SCALAR_FIELDS},
                indexes=_int_array(sd["indexes"], "indexes", (n,)),
            )
            resized = np.asarray(sd["resized"], dtype=bool).reshape(n)
        except (KeyError, ValueError) as exc:
            raise InputError(f"state_dict: {exc}") from None
        if np.unique(state.indexes).size != n:
            raise InputError("state_dict: indexes must be unique (one row per image)")
        check_state(state)
        self.reset()
        for row, index in enumerate(state.indexes.tolist()):
            self._rows[index] = (_image(state, row), bool(resized[row]))
        self._indexed = bool(int(sd["indexed"])) if n else None

    def compute(self) -> Result:
        """Summarise everything added so far (images in index order)."""
        if not self._rows:
            raise InputError("no images were evaluated: the input is empty")
        keys = sorted(self._rows)
        state = EvalState.stack([self._rows[i][0] for i in keys], self.config.evaluation_grid.size, keys)
        settings = self.config.settings()
        settings["n_resized"] = sum(int(self._rows[i][1]) for i in keys)
        compat = {name: acc.compute() for name, acc in self._compat.items()}
        return Result(state, settings, compat)


#: The ``format`` of :meth:`HSEMetric.state_dict`.
STATE_FORMAT = "hse-metric/1"


def _check_index(index: Any) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
        raise InputError(
            f"index must be a non-negative integer (the image's position in the set), got {index!r}"
        )
    return int(index)


def _check_duplicate(index: int, old: tuple[ImageState, bool], new: tuple[ImageState, bool]) -> None:
    (a, ra), (b, rb) = old, new
    same = a.name == b.name and ra == rb
    same = same and all(getattr(a, f) == getattr(b, f) for f in SCALAR_FIELDS)
    same = same and all(np.array_equal(getattr(a, f), getattr(b, f)) for f in CURVE_FIELDS)
    if not same:
        raise InputError(
            f"image index {index} was added twice with different counters or names ({a.name!r}, {b.name!r}): "
            "two different images share one index; give each image its own global index"
        )


def _settings_difference(a: dict, b: dict) -> str:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k} {a.get(k)!r} vs {b.get(k)!r}" for k in keys) or "(none)"


def _int_array(values: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu" or arr.shape != shape or (arr.size and arr.min() < 0):
        raise ValueError(
            f"{name} must be non-negative integers of shape {shape}, got {arr.dtype} {arr.shape}"
        )
    return arr.astype(np.int64)


def _image(state: EvalState, row: int) -> ImageState:
    return ImageState(
        name=state.names[row],
        **{f: state.curves[f][row] for f in CURVE_FIELDS},
        **{f: int(state.scalars[f][row]) for f in SCALAR_FIELDS},
    )


def evaluate(
    preds: Iterable,
    masks: Iterable,
    *,
    names: Sequence[str] | None = None,
    indexes: Sequence[int] | None = None,
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
        Image names for per-image rows and error messages (default: file stems or indexes).
    indexes : sequence of int, optional
        Each image's global index in a larger set (default: 0, 1, 2, ...), when this call scores one part
        of it (e.g. one shard, :mod:`hse.shard`); the parts' Results then combine with :func:`hse.merge`.
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
    if indexes is not None and total is not None and len(indexes) != total:
        raise InputError(f"got {len(indexes)} indexes for {total} images")
    index_iter = iter(indexes) if indexes is not None else None
    jobs = resolve_jobs(jobs)
    work = pair_jobs(preds, masks, names, metric.config)
    from tqdm.auto import tqdm

    with tqdm(total=total, disable=not progress, unit="img", desc="hse") as bar:
        if jobs > 1:
            for state, compat_acc, resized in parallel_in_order(work, int(jobs)):
                metric.add(state, compat_acc, resized, index=_next_index(index_iter))
                bar.update()
        else:
            for job in work:
                metric.add(*process_pair(job), index=_next_index(index_iter))
                bar.update()
    result = metric.compute()
    if indexes is None:  # images in input order: the paths line up with the result's names
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


def _next_index(indexes: Any) -> int | None:
    if indexes is None:
        return None
    index = next(indexes, None)
    if index is None:
        raise InputError("got fewer indexes than images")
    return index
