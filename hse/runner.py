"""Running the per-image reduction over a stream of pairs, in this process or in worker processes."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import zip_longest
from pathlib import Path
from typing import Any

from .errors import InputError
from .reduce.image import process_pair
from .settings import EvalConfig

_MISSING = object()


def pair_jobs(preds: Iterable, masks: Iterable, names: Sequence[str] | None, config: EvalConfig):
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
        else:
            _check_same_name(index, pred, mask)
        yield index, name, pred, mask, config


def _check_same_name(index: int, pred: Any, mask: Any) -> None:
    """Two lists of file paths are paired by position: refuse pairs whose names differ.

    Without this, ``0.png`` would be scored against ``1.png`` when the lists are sorted differently. Giving
    ``names=`` states the pairing explicitly and skips the check.
    """
    if not (isinstance(pred, (str, os.PathLike)) and isinstance(mask, (str, os.PathLike))):
        return
    if Path(pred).stem != Path(mask).stem:
        raise InputError(
            f"item #{index}: prediction {pred} and mask {mask} have different names, but evaluate() pairs its "
            "two lists by position. Sort both lists the same way, pair folders by name with "
            "hse.io.pair_files(pred_dir, mask_dir), or pass names= to state the pairing explicitly"
        )


def parallel_in_order(work: Iterable, jobs: int):
    """``map(process_pair, work)`` in worker processes, in input order, with a bounded number in flight.

    Unlike ``Executor.map``, which consumes the whole input at once, at most ``4 * jobs`` images are read
    ahead, so a lazy stream of arrays stays O(jobs) in memory.
    """
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: deque = deque()
        for job in work:
            pending.append(pool.submit(process_pair, job))
            if len(pending) >= 4 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
