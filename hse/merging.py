"""Combining the states of disjoint parts of one evaluation set into the state of the whole set.

Every dataset-level score is a function of per-image integer counters (:mod:`hse.state`), and every image
carries its global index in the whole set. Parts scored in other processes or on other machines therefore
combine exactly: stack their rows and sort them by index. An index seen twice with identical counters is
one image seen twice (``torch.utils.data.DistributedSampler`` pads the last batch by repeating indexes)
and is kept once; the same index with different counters or names is a conflict and an
:class:`~hse.errors.InputError`. The rows come out sorted by index, so any split and any merge order give
the single-run state bit for bit.

:func:`merge` does this for :class:`~hse.result.Result` objects (e.g. loaded from the ``hse/1`` JSON of
``hse-score --shard``); :class:`hse.HSEMetric` and :class:`hse.integrations.torchmetrics.HSE` use
:func:`combine_states` on their own rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .errors import InputError
from .result import Result, load_result
from .state import CURVE_FIELDS, SCALAR_FIELDS, EvalState

#: Settings that may differ between the parts of one evaluation (summed, not compared).
ADDITIVE_SETTINGS = ("n_resized",)


def combine_states(states: Sequence[EvalState], what: Sequence[str] | None = None) -> tuple[EvalState, int]:
    """Stack ``states`` sorted by global index, keeping one row per index.

    Parameters
    ----------
    states : sequence of EvalState
        Parts with the same number of thresholds.
    what : sequence of str, optional
        How to name each part in an error (default ``part #i``).

    Returns
    -------
    (EvalState, int)
        The combined state (rows sorted by index) and the number of duplicate rows dropped.

    Raises
    ------
    InputError
        When one index has different counters or names in two rows.
    """
    if not states:
        raise InputError("nothing to merge: no parts were given")
    labels = list(what) if what is not None else [f"part #{i}" for i in range(len(states))]
    widths = {s.curves["pix_tp"].shape[1] for s in states}
    if len(widths) > 1:
        raise InputError(f"the parts are evaluated at different numbers of thresholds: {sorted(widths)}")
    indexes = np.concatenate([s.indexes for s in states])
    names = [n for s in states for n in s.names]
    source = np.concatenate([np.full(s.n_images, i, dtype=np.int64) for i, s in enumerate(states)])
    curves = {f: np.concatenate([s.curves[f] for s in states]) for f in CURVE_FIELDS}
    scalars = {f: np.concatenate([s.scalars[f] for s in states]) for f in SCALAR_FIELDS}
    stacked = EvalState(names, curves, scalars, indexes=indexes)
    order = np.argsort(indexes, kind="stable")
    stacked = stacked.take(order)
    source = source[order]
    idx = stacked.indexes
    repeat = np.flatnonzero(idx[1:] == idx[:-1]) + 1  # rows whose index equals the previous row's
    if repeat.size == 0:
        return stacked, 0
    # The first row of each run of equal indexes is the one kept; compare every repeat with it.
    first = np.maximum.accumulate(np.where(np.r_[True, idx[1:] != idx[:-1]], np.arange(idx.size), 0))
    for row in repeat:
        keep = int(first[row])
        differs = _first_difference(stacked, keep, int(row))
        if differs is not None:
            raise InputError(
                f"image index {int(idx[row])} is in {labels[int(source[keep])]} and in "
                f"{labels[int(source[row])]} with different {differs}: two different images share one index "
                "(each image needs its own global index, its position in the whole set: score parts with "
                "hse.evaluate(..., indexes=...), HSEMetric.update(..., index=i) or hse-score --shard K/N)"
            )
    unique = np.setdiff1d(np.arange(idx.size), repeat, assume_unique=True)
    return stacked.take(unique), int(repeat.size)


def _first_difference(state: EvalState, a: int, b: int) -> str | None:
    """The first field in which rows ``a`` and ``b`` differ (None when they are identical)."""
    if state.names[a] != state.names[b]:
        return f"names ({state.names[a]!r} and {state.names[b]!r})"
    for f in SCALAR_FIELDS:
        if state.scalars[f][a] != state.scalars[f][b]:
            return f"counters ({f}: {int(state.scalars[f][a])} and {int(state.scalars[f][b])})"
    for f in CURVE_FIELDS:
        if not np.array_equal(state.curves[f][a], state.curves[f][b]):
            return f"counters ({f})"
    return None


def _comparable(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in ADDITIVE_SETTINGS}


def merge(results: Sequence[Result | str | os.PathLike], *, names: Sequence[str] | None = None) -> Result:
    """The Result of the whole set from Results of its parts (shards, processes, machines).

    Parameters
    ----------
    results : sequence of Result or path
        Results with their per-image state (paths are read with :func:`hse.result.load_result`), scored
        with the same settings (thresholds, operating threshold, preset, matching rule, ...).
    names : sequence of str, optional
        How to name each input in errors (default: the file path, else ``results[i]``).

    Returns
    -------
    Result
        Rows sorted by global index: for disjoint parts that cover a set, exactly the Result a single
        :func:`hse.evaluate` over the set gives, whatever the split or the order of ``results``. An image
        present in several parts with identical counters is counted once.

    Raises
    ------
    InputError
        No input; an input without state; settings that differ (naming the input and the setting); peer
        (``compat``) numbers, which are totals that cannot be split by image; one index with different
        counters in two inputs.
    """
    if not results:
        raise InputError("hse.merge: no results were given")
    labels = (
        list(names)
        if names is not None
        else [str(r) if isinstance(r, (str, os.PathLike)) else f"results[{i}]" for i, r in enumerate(results)]
    )
    loaded = [load_result(r) if isinstance(r, (str, os.PathLike)) else r for r in results]
    for label, res in zip(labels, loaded, strict=True):
        if not isinstance(res, Result):
            raise InputError(
                f"{label}: expected an hse Result or a result JSON path, got {type(res).__name__}"
            )
        if res.compat:
            raise InputError(
                f"{label}: holds peer-toolbox (compat) numbers, which are dataset totals and cannot be "
                "combined image by image; score the parts without compat, or the whole set in one run"
            )
    base = _comparable(loaded[0].settings)
    for label, res in zip(labels[1:], loaded[1:], strict=True):
        other = _comparable(res.settings)
        if other != base:
            keys = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            raise InputError(
                f"{label} was scored with other settings than {labels[0]} ({', '.join(keys)}: "
                f"{other.get(keys[0])!r} vs {base.get(keys[0])!r}); only parts of one evaluation merge"
            )
    state, dropped = combine_states([r.state for r in loaded], labels)
    settings = dict(loaded[0].settings)
    n_resized = sum(r.n_resized for r in loaded)
    if dropped and n_resized:
        raise InputError(
            f"{dropped} image(s) are in several inputs and masks were resized (--resize-masks): the "
            "count of resized masks cannot be told apart per image; merge disjoint parts"
        )
    if "n_resized" in settings or n_resized:
        settings["n_resized"] = n_resized
    return Result(state, settings, {})
