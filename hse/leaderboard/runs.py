"""Scoring the (dataset, method) pairs of a leaderboard configuration, through the cache."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hse.errors import InputError
from hse.io import IMAGE_EXTENSIONS, pair_files

from .cache import cache_key, load_entry, write_entry
from .config import DatasetSpec, LeaderboardConfig, MethodSpec


@dataclass
class Scored:
    """One method on one dataset: its Result and how it was obtained."""

    method: str
    dataset: str
    result: Any
    key: str
    cached: bool
    n_fixed: int = 0
    fixed: list[str] = field(default_factory=list)
    #: (names, prediction paths, mask paths) as scored, masks after the fixes (the HTML gallery reads them).
    inputs: tuple[list[str], list[Path], list[Path]] | None = None


def _apply_fixes(names: list[str], masks: list[Path], fixes: Path | None) -> list[str]:
    if fixes is None:
        return []
    if not fixes.is_dir():
        raise InputError(f"{fixes}: mask_fixes folder not found")
    by_stem = {}
    for entry in os.listdir(fixes):
        stem, ext = os.path.splitext(entry)
        if ext.lower() in IMAGE_EXTENSIONS and not entry.startswith("."):
            by_stem[stem] = fixes / entry
    fixed = []
    for i, n in enumerate(names):
        if n in by_stem:
            masks[i] = by_stem[n]
            fixed.append(n)
    return fixed


def score_method(
    dataset: DatasetSpec,
    method: MethodSpec,
    settings: Mapping[str, Any],
    cache_dir: Path | None = None,
    force: bool = False,
    jobs: int = 1,
    progress: bool = False,
) -> Scored:
    """Pair, hash and score one method on one dataset, reusing ``cache_dir/<key>.json`` when present."""
    import hse  # looked up at call time, so tests can stand in for hse.evaluate

    inp = method.predictions[dataset.name]
    mask_dir = inp.masks or dataset.masks
    names, preds, masks, _report = pair_files(
        inp.pred,
        mask_dir,
        split=dataset.split,
        pred_suffix=dataset.pred_suffix if inp.pred_suffix is None else inp.pred_suffix,
        mask_suffix=dataset.mask_suffix,
    )
    fixed = _apply_fixes(names, masks, dataset.mask_fixes)
    run_settings = dict(settings)
    run_settings["mask_threshold"] = dataset.mask_threshold
    run_settings["resize_masks"] = dataset.resize_masks
    key = cache_key(names, preds, masks, run_settings)
    cache_file = cache_dir / f"{key}.json" if cache_dir is not None else None
    if cache_file is not None and cache_file.is_file() and not force:
        result = load_entry(cache_file, key, run_settings)
        if result is not None:
            return Scored(
                method.name, dataset.name, result, key, True, len(fixed), fixed, (names, preds, masks)
            )
    result = hse.evaluate(
        preds,
        masks,
        names=names,
        thresholds=run_settings["thresholds"],
        threshold=run_settings["threshold"],
        match=run_settings["match"],
        radius=run_settings["radius"],
        mask_threshold=dataset.mask_threshold,
        resize_masks=dataset.resize_masks,
        progress=progress,
        jobs=jobs,
    )
    if cache_file is not None:
        write_entry(cache_file, key, run_settings, result, method.name, dataset.name)
    return Scored(method.name, dataset.name, result, key, False, len(fixed), fixed, (names, preds, masks))


def score_config(
    config: LeaderboardConfig,
    cache_dir: Path | None,
    force: bool = False,
    jobs: int = 1,
    log=None,
    progress: bool = False,
) -> dict[str, list[Scored]]:
    """Score every (dataset, method) pair of ``config``; errors name the configuration, dataset and
    method. Returns the scored entries per dataset, in the configuration's order."""
    log = log or (lambda msg: None)
    scored: dict[str, list[Scored]] = {}
    for ds in config.datasets:
        entries = []
        for m in config.methods:
            if ds.name not in m.predictions:
                continue
            try:
                s = score_method(ds, m, config.settings, cache_dir, force=force, jobs=jobs, progress=progress)
            except InputError as exc:
                msg = str(exc)
                where = f"{config.path}: dataset {ds.name!r}, method {m.name!r}"
                raise InputError(msg if msg.startswith(str(config.path)) else f"{where}: {msg}") from None
            how = "cached" if s.cached else "scored"
            log(f"{ds.name} / {m.name}: {how} ({s.result.n_images} images, key {s.key[:12]})")
            entries.append(s)
        scored[ds.name] = entries
    return scored
