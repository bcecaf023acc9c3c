"""Reading and checking a leaderboard configuration (TOML; see docs/leaderboard.md).

The file has ``[settings]`` (the evaluation settings of :mod:`hse.settings`), one or more
``[[datasets]]`` and ``[[methods]]``. Relative paths resolve against the file's folder. Every problem is
an :class:`~hse.errors.InputError` naming the file and the entry.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hse.errors import InputError
from hse.io import path_kind
from hse.settings import check_value, defaults

#: Published numbers are given in the papers' units: IoU, nIoU and Pd in percent, Fa in 1e-6.
PUBLISHED_KEYS = ("iou", "niou", "pd", "fa")


@dataclass
class DatasetSpec:
    name: str
    masks: Path | None = None
    split: Path | None = None
    pred_suffix: str = ""
    mask_suffix: str = ""
    mask_fixes: Path | None = None
    mask_threshold: float | None = None
    resize_masks: str | None = None
    description: str = ""


@dataclass
class MethodInput:
    pred: Path
    masks: Path | None = None
    pred_suffix: str | None = None


@dataclass
class MethodSpec:
    name: str
    paper: str = ""
    note: str = ""
    predictions: dict[str, MethodInput] = field(default_factory=dict)
    published: dict[str, dict[str, float]] = field(default_factory=dict)
    checkpoint: str = ""  # the weights the predictions came from, as given (provenance only)
    checkpoint_sha256: str = ""  # as stated in the configuration, lower case


@dataclass
class LeaderboardConfig:
    path: Path
    title: str
    settings: dict[str, Any]
    datasets: list[DatasetSpec]
    methods: list[MethodSpec]
    out: Path | None = None


def _where(path: Path, ctx: str) -> str:
    return f"{path}: {ctx}"


def _resolve(base: Path, value: Any, path: Path, ctx: str) -> Path:
    if not isinstance(value, str) or not value:
        raise InputError(_where(path, f"{ctx} must be a non-empty path string"))
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else base / p


def _opt_str(table: Mapping, key: str, path: Path, ctx: str, default: str = "") -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise InputError(_where(path, f"{ctx}.{key} must be a string"))
    return value


def _check_keys(table: Mapping, allowed: set[str], path: Path, ctx: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(
            _where(
                path, f"unknown key(s) in {ctx}: {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
            )
        )


#: The evaluation settings a configuration's ``[settings]`` table may give (see :mod:`hse.settings`).
SETTING_KEYS = ("thresholds", "threshold", "match", "radius")


def _parse_settings(raw: Any, path: Path) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InputError(_where(path, "[settings] must be a table"))
    _check_keys(raw, set(SETTING_KEYS), path, "[settings]")
    settings = defaults(*SETTING_KEYS)
    for key in SETTING_KEYS:
        if key in raw:
            settings[key] = _setting(key, raw[key], path, f"settings.{key}")
    return settings


def _setting(name: str, value: Any, path: Path, label: str) -> Any:
    """A setting's value checked by :func:`hse.settings.check_value`, errors naming the file."""
    try:
        return check_value(name, value, label)
    except ValueError as exc:
        raise InputError(_where(path, str(exc))) from None


#: File stems the command writes itself, which no dataset may take.
_RESERVED_STEMS = ("leaderboard",)


def _check_file_stem(name: str, datasets: Sequence[DatasetSpec], path: Path, ctx: str) -> None:
    """Each dataset writes ``<slug>.md/.csv/.png``: refuse a name whose file stem is taken (compared
    without case, for case-insensitive file systems)."""
    stem = slug(name)
    if stem.lower() in _RESERVED_STEMS:
        raise InputError(
            _where(path, f"{ctx}.name {name!r} would write {stem}.md, which is the combined table; rename it")
        )
    for other in datasets:
        if slug(other.name).lower() == stem.lower():
            raise InputError(
                _where(
                    path,
                    f"{ctx}.name {name!r} and dataset {other.name!r} both write the files {stem}.md/.csv/.png; "
                    "rename one",
                )
            )


def load_config(path: str | os.PathLike) -> LeaderboardConfig:
    """Read and check a leaderboard TOML file. Relative paths resolve against the file's folder."""
    import tomllib

    cfg_path = Path(path)
    exists, is_file, _ = path_kind(cfg_path, "configuration")
    if not is_file:
        raise InputError(
            f"{cfg_path}: configuration file not found" if not exists else f"{cfg_path}: not a file"
        )
    try:
        raw = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(_where(cfg_path, f"invalid TOML ({exc})")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(_where(cfg_path, f"cannot read the configuration ({exc})")) from None
    base = cfg_path.resolve().parent
    _check_keys(raw, {"title", "out", "settings", "datasets", "methods"}, cfg_path, "the top level")
    settings = _parse_settings(raw.get("settings"), cfg_path)

    datasets: list[DatasetSpec] = []
    raw_ds = raw.get("datasets")
    if not isinstance(raw_ds, list) or not raw_ds:
        raise InputError(_where(cfg_path, "needs at least one [[datasets]] entry"))
    ds_keys = {"name", "masks", "split", "pred_suffix", "mask_suffix", "mask_fixes", "mask_threshold",
               "resize_masks", "description"}  # fmt: skip
    for i, d in enumerate(raw_ds):
        ctx = f"datasets[{i}]"
        if not isinstance(d, Mapping):
            raise InputError(_where(cfg_path, f"{ctx} must be a table"))
        _check_keys(d, ds_keys, cfg_path, ctx)
        name = _opt_str(d, "name", cfg_path, ctx)
        if not name:
            raise InputError(_where(cfg_path, f"{ctx} needs a name"))
        if any(x.name == name for x in datasets):
            raise InputError(_where(cfg_path, f"dataset name {name!r} is used twice"))
        _check_file_stem(name, datasets, cfg_path, ctx)
        mt = _setting("mask_threshold", d.get("mask_threshold"), cfg_path, f"{ctx}.mask_threshold")
        rm = _setting("resize_masks", d.get("resize_masks"), cfg_path, f"{ctx}.resize_masks")
        datasets.append(
            DatasetSpec(
                name=name,
                masks=_resolve(base, d["masks"], cfg_path, f"{ctx}.masks") if "masks" in d else None,
                split=_resolve(base, d["split"], cfg_path, f"{ctx}.split") if "split" in d else None,
                pred_suffix=_opt_str(d, "pred_suffix", cfg_path, ctx),
                mask_suffix=_opt_str(d, "mask_suffix", cfg_path, ctx),
                mask_fixes=_resolve(base, d["mask_fixes"], cfg_path, f"{ctx}.mask_fixes")
                if "mask_fixes" in d
                else None,
                mask_threshold=mt,
                resize_masks=rm,
                description=_opt_str(d, "description", cfg_path, ctx),
            )
        )
    ds_names = {d.name for d in datasets}

    methods: list[MethodSpec] = []
    raw_m = raw.get("methods")
    if not isinstance(raw_m, list) or not raw_m:
        raise InputError(_where(cfg_path, "needs at least one [[methods]] entry"))
    for i, m in enumerate(raw_m):
        ctx = f"methods[{i}]"
        if not isinstance(m, Mapping):
            raise InputError(_where(cfg_path, f"{ctx} must be a table"))
        _check_keys(m, {"name", "paper", "note", "predictions", "published", "checkpoint", "checkpoint_sha256"},
                    cfg_path, ctx)  # fmt: skip
        name = _opt_str(m, "name", cfg_path, ctx)
        if not name:
            raise InputError(_where(cfg_path, f"{ctx} needs a name"))
        if any(x.name == name for x in methods):
            raise InputError(_where(cfg_path, f"method name {name!r} is used twice"))
        preds = m.get("predictions")
        if not isinstance(preds, Mapping) or not preds:
            raise InputError(_where(cfg_path, f"method {name!r} needs a [methods.predictions] table"))
        inputs: dict[str, MethodInput] = {}
        for ds, value in preds.items():
            if ds not in ds_names:
                raise InputError(_where(cfg_path, f"method {name!r}: unknown dataset {ds!r} in predictions"))
            pctx = f"method {name!r} predictions.{ds}"
            if isinstance(value, str):
                inputs[ds] = MethodInput(pred=_resolve(base, value, cfg_path, pctx))
            elif isinstance(value, Mapping):
                _check_keys(value, {"pred", "masks", "pred_suffix"}, cfg_path, pctx)
                if "pred" not in value:
                    raise InputError(_where(cfg_path, f'{pctx} needs pred = "FOLDER"'))
                inputs[ds] = MethodInput(
                    pred=_resolve(base, value["pred"], cfg_path, pctx + ".pred"),
                    masks=_resolve(base, value["masks"], cfg_path, pctx + ".masks")
                    if "masks" in value
                    else None,
                    pred_suffix=_opt_str(value, "pred_suffix", cfg_path, pctx)
                    if "pred_suffix" in value
                    else None,
                )
            else:
                raise InputError(_where(cfg_path, f"{pctx} must be a folder path or a table"))
            if inputs[ds].masks is None and next(x for x in datasets if x.name == ds).masks is None:
                raise InputError(
                    _where(cfg_path, f'{pctx}: dataset {ds!r} has no masks, so give masks = "FOLDER"')
                )
        published: dict[str, dict[str, float]] = {}
        raw_pub = m.get("published", {})
        if not isinstance(raw_pub, Mapping):
            raise InputError(_where(cfg_path, f"method {name!r}: published must be a table per dataset"))
        for ds, numbers in raw_pub.items():
            if ds not in ds_names:
                raise InputError(_where(cfg_path, f"method {name!r}: unknown dataset {ds!r} in published"))
            if not isinstance(numbers, Mapping):
                raise InputError(_where(cfg_path, f"method {name!r}: published.{ds} must be a table"))
            _check_keys(numbers, set(PUBLISHED_KEYS), cfg_path, f"method {name!r} published.{ds}")
            for k, v in numbers.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise InputError(
                        _where(cfg_path, f"method {name!r}: published.{ds}.{k} must be a finite number")
                    )
            published[ds] = {k: float(v) for k, v in numbers.items()}
        sha = _opt_str(m, "checkpoint_sha256", cfg_path, ctx).strip().lower()
        if sha and not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise InputError(
                _where(cfg_path, f"method {name!r}: checkpoint_sha256 must be 64 hexadecimal digits")
            )
        methods.append(
            MethodSpec(
                name=name,
                paper=_opt_str(m, "paper", cfg_path, ctx),
                note=_opt_str(m, "note", cfg_path, ctx),
                predictions=inputs,
                published=published,
                checkpoint=_opt_str(m, "checkpoint", cfg_path, ctx),
                checkpoint_sha256=sha,
            )
        )
    title = raw.get("title", "Leaderboard")
    if not isinstance(title, str):
        raise InputError(_where(cfg_path, "title must be a string"))
    out = _resolve(base, raw["out"], cfg_path, "out") if "out" in raw else None
    return LeaderboardConfig(cfg_path, title, settings, datasets, methods, out)


def slug(name: str) -> str:
    """The file stem of a dataset's outputs: its name with runs of other characters than letters,
    digits, ``.``, ``_`` and ``-`` replaced by ``-``."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return s or "dataset"
