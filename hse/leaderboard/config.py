"""``hse-leaderboard CONFIG [--out DIR] [--force] [--jobs N]``: score many methods, rank them by HSE.

The configuration is a TOML file (see docs/leaderboard.md and examples/leaderboard.toml) with
``[settings]``, one or more ``[[datasets]]`` and ``[[methods]]``. For every dataset the command writes
a Markdown table, a CSV and a PNG, plus one ``leaderboard.md`` with all datasets. Each method's result
is cached under ``OUT/.cache/`` by a SHA-256 hash of its input files (names and bytes) and the settings,
so a rerun rescores only what changed.

Other scripts can skip the configuration and call :func:`write_leaderboard` with ready results.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io as _io
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hse import __version__
from hse.cli import parse_thresholds, run_cli
from hse.errors import InputError
from hse.io import path_kind
from hse.report import fmt_num, fmt_threshold, markdown_table, operating_metrics, pct

PROG = "hse-leaderboard"
CACHE_FORMAT = "hse-leaderboard-cache/1"

#: Published numbers are given in the papers' units: IoU, nIoU and Pd in percent, Fa in 1e-6.
PUBLISHED_KEYS = ("iou", "niou", "pd", "fa")
_PUBLISHED_LABEL = {"iou": "IoU", "niou": "nIoU", "pd": "Pd", "fa": "Fa"}


# --------------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------------


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


def _parse_settings(raw: Any, path: Path) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InputError(_where(path, "[settings] must be a table"))
    _check_keys(raw, {"thresholds", "threshold", "match", "radius"}, path, "[settings]")
    settings: dict[str, Any] = {"thresholds": "default", "threshold": 0.5, "match": "greedy", "radius": 3.0}
    if "thresholds" in raw:
        t = raw["thresholds"]
        if isinstance(t, str):
            try:
                t = parse_thresholds(t)
            except argparse.ArgumentTypeError as exc:
                raise InputError(_where(path, f"settings.thresholds: {exc}")) from None
        elif isinstance(t, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in t):
            t = [float(x) for x in t]
            if not t or not all(math.isfinite(x) for x in t):
                raise InputError(_where(path, "settings.thresholds: the list must hold finite numbers"))
        else:
            raise InputError(
                _where(path, "settings.thresholds must be 'default', 'uint8', 'START:STOP:STEP' or a list")
            )
        settings["thresholds"] = t
    for key in ("threshold", "radius"):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise InputError(_where(path, f"settings.{key} must be a finite number, got {v!r}"))
            if key == "radius" and v <= 0:
                raise InputError(_where(path, f"settings.radius must be positive, got {v!r}"))
            settings[key] = float(v)
    if "match" in raw:
        if raw["match"] not in ("greedy", "optimal"):
            raise InputError(_where(path, "settings.match must be 'greedy' or 'optimal'"))
        settings["match"] = raw["match"]
    return settings


#: File stems the command writes itself, which no dataset may take.
_RESERVED_STEMS = ("leaderboard",)


def _check_file_stem(name: str, datasets: Sequence[DatasetSpec], path: Path, ctx: str) -> None:
    """Each dataset writes ``<slug>.md/.csv/.png``: refuse a name whose file stem is taken (compared
    without case, for case-insensitive file systems)."""
    stem = _slug(name)
    if stem.lower() in _RESERVED_STEMS:
        raise InputError(
            _where(path, f"{ctx}.name {name!r} would write {stem}.md, which is the combined table; rename it")
        )
    for other in datasets:
        if _slug(other.name).lower() == stem.lower():
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
        mt = d.get("mask_threshold")
        if mt is not None and (
            isinstance(mt, bool) or not isinstance(mt, (int, float)) or not math.isfinite(mt)
        ):
            raise InputError(_where(cfg_path, f"{ctx}.mask_threshold must be a finite number, got {mt!r}"))
        rm = d.get("resize_masks")
        if rm not in (None, "nearest"):
            raise InputError(_where(cfg_path, f"{ctx}.resize_masks must be 'nearest' when given"))
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
                mask_threshold=None if mt is None else float(mt),
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
        _check_keys(m, {"name", "paper", "note", "predictions", "published"}, cfg_path, ctx)
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
        methods.append(
            MethodSpec(
                name=name,
                paper=_opt_str(m, "paper", cfg_path, ctx),
                note=_opt_str(m, "note", cfg_path, ctx),
                predictions=inputs,
                published=published,
            )
        )
    title = raw.get("title", "Leaderboard")
    if not isinstance(title, str):
        raise InputError(_where(cfg_path, "title must be a string"))
    out = _resolve(base, raw["out"], cfg_path, "out") if "out" in raw else None
    return LeaderboardConfig(cfg_path, title, settings, datasets, methods, out)


# --------------------------------------------------------------------------------------------------
# scoring with a content-addressed cache
# --------------------------------------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected an image file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None
    return h.hexdigest()


_SOURCE_DIGEST: str | None = None


def source_digest() -> str:
    """SHA-256 over the installed hse package's Python sources (relative path and bytes of every
    ``.py`` file under the package folder), so that an edited (editable) install gets new cache keys
    even when its version number stays the same. Computed once per process."""
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        root = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for f in sorted(root.rglob("*.py")):
            rel = f.relative_to(root).as_posix()
            if "__pycache__" in rel:
                continue
            h.update(f"\0{rel}\0".encode())
            try:
                h.update(f.read_bytes())
            except OSError:
                h.update(b"?")
        _SOURCE_DIGEST = h.hexdigest()
    return _SOURCE_DIGEST


def _settings_json(settings: Mapping) -> str:
    return json.dumps(dict(settings), sort_keys=True, default=str)


def cache_key(
    names: Sequence[str], pred_paths: Sequence[Path], mask_paths: Sequence[Path], settings: Mapping
) -> str:
    """SHA-256 over the settings, the hse version, a digest of the installed hse sources
    (:func:`source_digest`), and every (name, prediction bytes, mask bytes).

    File paths do not enter the key: moving or renaming the folders keeps the cache valid, while any
    change of a file's content, of the set of names, of a setting or of hse's code invalidates it."""
    h = hashlib.sha256()
    h.update(CACHE_FORMAT.encode())
    h.update(b"\0" + __version__.encode())
    h.update(b"\0" + source_digest().encode())
    h.update(b"\0" + _settings_json(settings).encode())
    for name, p, m in zip(names, pred_paths, mask_paths, strict=True):
        h.update(f"\0{len(name)}:{name}\0".encode())
        h.update(bytes.fromhex(_file_digest(Path(p))))
        h.update(bytes.fromhex(_file_digest(Path(m))))
    return h.hexdigest()


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


def _apply_fixes(names: list[str], masks: list[Path], fixes: Path | None) -> list[str]:
    if fixes is None:
        return []
    if not fixes.is_dir():
        raise InputError(f"{fixes}: mask_fixes folder not found")
    from hse.io import IMAGE_EXTENSIONS

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


def _load_cache_entry(cache_file: Path, key: str, run_settings: Mapping[str, Any]) -> Any:
    """The Result stored in ``cache_file``, or None (with a warning when the entry is unusable) so that
    the method is rescored. An entry is used only when it is a JSON object of this cache format with
    this key, the same settings, hse version and source digest, and a result that rebuilds."""
    from hse.result import Result

    try:
        payload = json.loads(cache_file.read_text(encoding="utf-8"))
        if not isinstance(payload, dict):
            raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
        if payload.get("format") != CACHE_FORMAT or payload.get("key") != key:
            raise ValueError("not an entry of this cache format and key")
        if not isinstance(payload.get("result"), dict):
            raise ValueError("its result is not a JSON object")
        if (
            payload.get("settings") != json.loads(_settings_json(run_settings))
            or payload.get("hse_version") != __version__
            or payload.get("source_digest") != source_digest()
        ):
            return None  # written by other settings or another hse: a miss, rescored quietly
        result = Result.from_dict(payload["result"])
        if not all(isinstance(x, str) for x in result.names):
            raise ValueError("its image names are not all strings")
        return result
    except (OSError, ValueError, KeyError, TypeError, OverflowError, IndexError, AttributeError) as exc:
        warnings.warn(f"{cache_file}: unreadable cache entry, rescoring ({exc})", stacklevel=3)
        return None


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
    import hse
    from hse.io import pair_files

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
        result = _load_cache_entry(cache_file, key, run_settings)
        if result is not None:
            return Scored(method.name, dataset.name, result, key, True, len(fixed), fixed)
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
        from hse.io import write_atomic

        payload = {
            "format": CACHE_FORMAT,
            "key": key,
            "method": method.name,
            "dataset": dataset.name,
            "settings": json.loads(_settings_json(run_settings)),
            "hse_version": __version__,
            "source_digest": source_digest(),
            "result": result.to_dict(include_state=True),
        }
        try:
            write_atomic(cache_file, json.dumps(payload))
        except OSError as exc:
            warnings.warn(f"{cache_file}: could not write the cache ({exc})", stacklevel=2)
    return Scored(method.name, dataset.name, result, key, False, len(fixed), fixed)


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _with_state(res: Any) -> Any:
    """The Result behind ``res`` when its per-image state is available, else None."""
    from hse.result import Result

    if isinstance(res, Result):
        return res
    if isinstance(res, Mapping) and "state" in res:
        try:
            return Result.from_dict(dict(res))
        except (ValueError, KeyError, TypeError):
            return None
    return None


def _add_intervals(
    rows: list[dict[str, Any]], results: Mapping[str, Any], n: int, seed: int, level: float
) -> None:
    """HSE intervals per row, and the bootstrap test of each row's HSE against the row ranked above:
    paired when both methods were scored on the same images (names and ground truth), else unpaired.

    A result with fewer than :data:`hse.stats.MIN_IMAGES` images gets no interval; one with fewer than
    :data:`hse.stats.FEW_IMAGES` gets one (with a single warning for the table), but is never marked as
    significantly different, and neither is any row when ``2/n`` is not below ``1 - level``."""
    from hse.stats import FEW_IMAGES, MIN_IMAGES, bootstrap, compare

    full = {r["method"]: _with_state(results[r["method"]]) for r in rows}
    few = []
    for i, r in enumerate(rows):
        r.update(hse_low=None, hse_high=None, ci_level=None, ci_n=None, p_vs_above=None,
                 paired_vs_above=None, tied_with_above=None, blocked_vs_above=None)  # fmt: skip
        res = full[r["method"]]
        if res is None or r.get("hse") is None or res.n_images < MIN_IMAGES:
            continue
        if res.n_images < FEW_IMAGES:
            few.append(r["method"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # one warning for the table, below
            iv = bootstrap(res, n=n, seed=seed, level=level)["hse"]
        r.update(hse_low=_finite(iv.low), hse_high=_finite(iv.high), ci_level=level, ci_n=n)
        above = full[rows[i - 1]["method"]] if i > 0 else None
        if above is None or rows[i - 1].get("hse") is None or above.n_images < MIN_IMAGES:
            continue
        cmp = None
        for paired in (True, False):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    cmp = compare(above, res, n=n, seed=seed, level=level, paired=paired)
                break
            except InputError:
                continue
        if cmp is not None:
            p = _finite(cmp["hse"].p_value)
            r.update(p_vs_above=p, paired_vs_above=cmp.paired, blocked_vs_above=cmp.blocker,
                     tied_with_above=None if p is None else not cmp.significant("hse"))  # fmt: skip
    if few:
        warnings.warn(
            f"{len(few)} method(s) scored on fewer than {FEW_IMAGES} images ({', '.join(few[:5])}"
            + (", ..." if len(few) > 5 else "")
            + "): their HSE intervals are unreliable and no difference with them is called significant",
            UserWarning,
            stacklevel=3,
        )


def leaderboard_rows(
    results: Mapping[str, Any],
    published: Mapping[str, Mapping[str, float]] | None = None,
    notes: Mapping[str, str] | None = None,
    papers: Mapping[str, str] | None = None,
    ci: bool = True,
    ci_n: int = 1000,
    ci_seed: int = 0,
    ci_level: float = 0.95,
) -> list[dict[str, Any]]:
    """One dict per method, ranked by HSE (best first; NaN last). Recomputed metrics are fractions
    (``iou``, ``pd``...), ``fa_1e6`` in 1e-6; ``published_*`` keep the papers' units (percent, 1e-6).

    With ``ci`` (and results that hold their per-image state) each row also gets the bootstrap interval
    of its HSE (``hse_low``, ``hse_high``, ``ci_level``) and, from rank 2 on, the two-sided bootstrap
    p-value of its HSE difference with the method ranked above (``p_vs_above``; ``paired_vs_above`` says
    whether the test was paired), and ``tied_with_above`` when that difference is not significant at
    ``1 - ci_level`` (see :mod:`hse.stats` and docs/statistics.md)."""
    published = published or {}
    notes = notes or {}
    papers = papers or {}
    rows = []
    for name, res in results.items():
        m = operating_metrics(res)
        row: dict[str, Any] = {"method": name, "paper": papers.get(name, "")}
        for k in ("hse", "hse_pixel", "hse_target", "iou", "niou", "pd", "fa_1e6"):
            row[k] = _finite(m.get(k))
        row["threshold"] = m["threshold"]
        row["n_images"] = m["n_images"]
        row["n_targets"] = m["n_targets"]
        pub = published.get(name) or {}
        for k in PUBLISHED_KEYS:
            row[f"published_{k}"] = _finite(pub.get(k))
        row["note"] = notes.get(name, "")
        rows.append(row)
    rows.sort(key=lambda r: (r["hse"] is None, -(r["hse"] or 0.0), r["method"]))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    if ci:
        _add_intervals(rows, results, ci_n, ci_seed, ci_level)
    return rows


def _recomputed_in_paper_units(row: Mapping[str, Any], key: str) -> float | None:
    if key == "fa":
        return row.get("fa_1e6")
    v = row.get(key)
    return None if v is None else 100.0 * v


def _with_published(row: Mapping[str, Any], key: str) -> str:
    pub = row.get(f"published_{key}")
    if pub is None:
        return "-"
    mine = _recomputed_in_paper_units(row, key)
    if mine is None:
        return f"{pub:.2f}"
    return f"{pub:.2f} ({mine - pub:+.2f})"


def render_markdown(
    rows: Sequence[Mapping[str, Any]],
    title: str | None = None,
    description: str = "",
    settings: Mapping[str, Any] | None = None,
    extra_notes: Sequence[str] = (),
    level: int = 2,
) -> str:
    """The Markdown leaderboard for one dataset from :func:`leaderboard_rows` rows.

    Columns: rank, method, HSE, HSE_pixel, HSE_target, and at the operating threshold IoU (%), nIoU (%),
    Pd (%), Fa (x1e-6); when any method has published numbers, one more column per published metric
    with the published value and, in brackets, recomputed minus published."""
    pub_keys = [k for k in PUBLISHED_KEYS if any(r.get(f"published_{k}") is not None for r in rows)]
    threshold = rows[0]["threshold"] if rows else (settings or {}).get("threshold", 0.5)
    levels = {r["ci_level"] for r in rows if r.get("ci_level") is not None}
    with_ci = bool(levels)
    ci_level = max(levels) if levels else 0.95
    headers = ["#", "Method", "HSE"]
    if with_ci:
        headers += [f"HSE {ci_level * 100:g}% CI", "vs above (p)"]
    headers += ["HSE_pixel", "HSE_target", "IoU (%)", "nIoU (%)", "Pd (%)", "Fa (x1e-6)"]
    unit = {"iou": "%", "niou": "%", "pd": "%", "fa": "x1e-6"}
    headers += [f"published {_PUBLISHED_LABEL[k]} ({unit[k]}) (diff)" for k in pub_keys]
    body = []
    for r in rows:
        ci_cells = [_ci_cell(r), _vs_above_cell(r)] if with_ci else []
        body.append(
            [
                r["rank"],
                r["method"],
                fmt_num(r.get("hse")),
                *ci_cells,
                fmt_num(r.get("hse_pixel")),
                fmt_num(r.get("hse_target")),
                pct(r.get("iou")),
                pct(r.get("niou")),
                pct(r.get("pd")),
                fmt_num(r.get("fa_1e6"), 2),
            ]
            + [_with_published(r, k) for k in pub_keys]
        )
    out: list[str] = []
    if title:
        out.append("#" * level + " " + title)
        out.append("")
    if description:
        out.append(description)
        out.append("")
    out.append(markdown_table(headers, body, align="rl" + "r" * (len(headers) - 2)).rstrip("\n"))
    out.append("")
    desc = f"Ranked by HSE. IoU, nIoU, Pd and Fa at the operating threshold {fmt_threshold(threshold)} (prediction > threshold)"
    if settings:
        grid = settings.get("thresholds")
        grid_text = grid if isinstance(grid, str) else f"{len(grid)} thresholds"
        desc += f"; HSE grid: {grid_text}; matching: {settings.get('match', 'greedy')}, radius {settings.get('radius', 3.0):g} px"
    desc += "."
    if pub_keys:
        desc += " Published numbers are the papers' own; in brackets: recomputed minus published."
    out.append(desc)
    n_img = {r.get("n_images") for r in rows}
    if len(n_img) == 1:
        out[-1] += f" {n_img.pop()} images, {rows[0].get('n_targets')} targets."
    if with_ci:
        alpha = 1.0 - ci_level
        text = (
            f"HSE {ci_level * 100:g}% CI: percentile bootstrap over the images (images resampled with "
            "replacement, scores recomputed from their counters). vs above (p): two-sided bootstrap "
            "p-value of the HSE difference with the method ranked just above, paired (the same resampled "
            "images for both) when both were scored on the same images and masks"
        )
        if any(r.get("paired_vs_above") is False for r in rows):
            text += "; unpaired (each resampled on its own) where marked \u2020"
        text += (
            f"; n.s.: not significantly different at {alpha:g}, so the order of the two is not established. "
            "See docs/statistics.md."
        )
        blocked = sorted({b for r in rows if (b := r.get("blocked_vs_above"))})
        if blocked:
            text += " n.s. regardless of p where " + "; where ".join(blocked) + "."
        few = [
            r["method"] for r in rows if r.get("ci_level") is not None and (r.get("n_images") or 0) < _few()
        ]
        if few:
            text += f" Intervals of {', '.join(few)} come from fewer than {_few()} images and are unreliable."
        out.append("")
        out.append(text)
    notes = [
        (r["method"], r.get("paper", ""), r.get("note", "")) for r in rows if r.get("paper") or r.get("note")
    ]
    if notes or extra_notes:
        out.append("")
        out.append("Notes:")
        out.append("")
        for method, paper, note in notes:
            parts = [p for p in (paper, note) if p]
            out.append(f"- **{method}**: " + ". ".join(p.rstrip(".") for p in parts) + ".")
        for note in extra_notes:
            out.append(f"- {note}")
    return "\n".join(out) + "\n"


def _few() -> int:
    from hse.stats import FEW_IMAGES

    return FEW_IMAGES


def _ci_cell(row: Mapping[str, Any]) -> str:
    low, high = row.get("hse_low"), row.get("hse_high")
    if low is None or high is None:
        return "-"
    return f"[{fmt_num(low)}, {fmt_num(high)}]"


def _vs_above_cell(row: Mapping[str, Any]) -> str:
    p = row.get("p_vs_above")
    if p is None:
        return ""
    n = row.get("ci_n")
    if p > 0:
        text = f"{p:.3f}"
    else:  # no draw crossed zero: p < 2/n, the resolution of n draws
        text = f"< {2.0 / n:.2g}" if n else "0.000"
    if row.get("tied_with_above"):
        text += " n.s."
    if row.get("paired_vs_above") is False:
        text += " \u2020"
    return text


CSV_COLUMNS = (
    "dataset", "rank", "method", "hse", "hse_pixel", "hse_target", "threshold", "iou_percent", "niou_percent",
    "pd_percent", "fa_1e-6", "published_iou_percent", "published_niou_percent", "published_pd_percent",
    "published_fa_1e-6", "n_images", "n_targets", "cached", "paper", "note", "hse_ci_low", "hse_ci_high",
    "ci_level", "p_vs_above", "paired_vs_above", "tied_with_above",
)  # fmt: skip


def render_csv(
    rows: Sequence[Mapping[str, Any]], dataset: str = "", cached: Mapping[str, bool] | None = None
) -> str:
    """The CSV form of :func:`leaderboard_rows` (units in the column names)."""
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    cached = cached or {}

    def num(x, scale=1.0):
        return "" if x is None else repr(float(x) * scale)

    for r in rows:
        w.writerow(
            [
                dataset,
                r["rank"],
                r["method"],
                num(r.get("hse")),
                num(r.get("hse_pixel")),
                num(r.get("hse_target")),
                num(r.get("threshold")),
                num(r.get("iou"), 100.0),
                num(r.get("niou"), 100.0),
                num(r.get("pd"), 100.0),
                num(r.get("fa_1e6")),
                num(r.get("published_iou")),
                num(r.get("published_niou")),
                num(r.get("published_pd")),
                num(r.get("published_fa")),
                r.get("n_images", ""),
                r.get("n_targets", ""),
                "" if r["method"] not in cached else str(bool(cached[r["method"]])).lower(),
                r.get("paper", ""),
                r.get("note", ""),
                num(r.get("hse_low")),
                num(r.get("hse_high")),
                num(r.get("ci_level")),
                num(r.get("p_vs_above")),
                _flag(r.get("paired_vs_above")),
                _flag(r.get("tied_with_above")),
            ]
        )
    return buf.getvalue()


def _flag(value: Any) -> str:
    return "" if value is None else str(bool(value)).lower()


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return s or "dataset"


def _stage_leaderboard(
    out, results, out_dir: Path, stem: str, rows, markdown: str, csv_text: str, title
) -> list[Path]:
    md_path, csv_path, png_path = (out_dir / f"{stem}{ext}" for ext in (".md", ".csv", ".png"))
    out.add(md_path, markdown)
    out.add(csv_path, csv_text)
    from hse.plot import plot_leaderboard

    fig = plot_leaderboard(results, title=title)
    out.add_via(png_path, lambda tmp: fig.savefig(tmp, format="png"))
    return [md_path, csv_path, png_path]


def write_leaderboard(
    results: Mapping[str, Any],
    out_dir: str | os.PathLike,
    published: Mapping[str, Mapping[str, float]] | None = None,
    notes: Mapping[str, str] | None = None,
    papers: Mapping[str, str] | None = None,
    title: str | None = "Leaderboard",
    stem: str = "leaderboard",
    description: str = "",
    settings: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``stem.md``, ``stem.csv`` and ``stem.png`` for ``{method name: Result}`` into ``out_dir``.

    ``published`` maps a method to its paper's numbers (``iou``, ``niou``, ``pd`` in percent, ``fa`` in
    1e-6) shown beside the recomputed ones; ``notes`` and ``papers`` map a method to text shown under
    the table. The three files appear together or not at all. Returns their paths."""
    from hse.io import AtomicOutputs

    if not results:
        raise InputError("write_leaderboard: no results")
    rows = leaderboard_rows(results, published, notes, papers)
    markdown = render_markdown(rows, title=title, description=description, settings=settings)
    csv_text = render_csv(rows)
    with AtomicOutputs() as out:
        paths = _stage_leaderboard(out, results, Path(out_dir), stem, rows, markdown, csv_text, title)
    return paths


# --------------------------------------------------------------------------------------------------
# running a configuration
# --------------------------------------------------------------------------------------------------


def run_config(
    config: LeaderboardConfig,
    out_dir: Path,
    force: bool = False,
    jobs: int = 1,
    log=None,
    progress: bool = False,
) -> dict[str, list[Scored]]:
    """Score every (dataset, method) pair of ``config`` and write the leaderboard files into ``out_dir``.
    Returns the scored entries per dataset."""
    from hse.io import AtomicOutputs

    log = log or (lambda msg: None)
    cache_dir = out_dir / ".cache"
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

    combined = [f"# {config.title}", ""]
    with AtomicOutputs() as out:
        for ds in config.datasets:
            entries = scored[ds.name]
            if not entries:
                log(f"{ds.name}: no method has predictions for it; skipped")
                continue
            results = {s.method: s.result for s in entries}
            methods = {m.name: m for m in config.methods}
            rows = leaderboard_rows(
                results,
                published={n: methods[n].published.get(ds.name, {}) for n in results},
                notes={n: methods[n].note for n in results},
                papers={n: methods[n].paper for n in results},
            )
            extra = []
            fixed = sorted({n for s in entries for n in s.fixed})
            if fixed:
                extra.append(
                    f"Corrected masks used for {len(fixed)} image(s) ({', '.join(fixed[:10])}"
                    + (", ..." if len(fixed) > 10 else "")
                    + f") from {ds.mask_fixes}."
                )
            if ds.resize_masks:
                extra.append(f"Masks whose size differs from the prediction are resized ({ds.resize_masks}).")
            md = render_markdown(rows, title=ds.name, description=ds.description, settings=config.settings,
                                 extra_notes=extra)  # fmt: skip
            csv_text = render_csv(rows, dataset=ds.name, cached={s.method: s.cached for s in entries})
            stem = _slug(ds.name)
            _stage_leaderboard(out, results, out_dir, stem, rows, md, csv_text, f"{config.title}: {ds.name}")
            combined.append(md.replace(f"## {ds.name}", f"## {ds.name}\n\n![{ds.name}]({stem}.png)", 1))
        out.add(out_dir / "leaderboard.md", "\n".join(combined))
        written = out.paths
    for p in written:
        log(f"wrote {p}")
    return scored


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Score several methods on one or more datasets and rank them by HSE (see docs/leaderboard.md).",
        epilog="Exit codes: 0 success, 2 bad input or usage, 1 internal error.",
    )
    p.add_argument("config", metavar="CONFIG", help="leaderboard TOML file")
    p.add_argument(
        "--out", metavar="DIR", help="output folder (default: 'out' in the config, else ./leaderboard)"
    )
    p.add_argument("--force", action="store_true", help="ignore the cache and rescore every method")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes per method (default 1)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success except warnings")
    p.add_argument("--version", action="version", version=f"{PROG} (hse) {__version__}")
    return p


def _run(args: argparse.Namespace) -> int:
    def log(msg: str) -> None:
        if not args.quiet:
            print(f"{PROG}: {msg}", file=sys.stderr)

    config = load_config(args.config)
    out_dir = Path(args.out) if args.out else (config.out or Path("leaderboard"))
    from hse.io import check_output_path

    check_output_path(out_dir, f"output folder {out_dir}", folder=True)  # before any scoring
    progress = bool((not args.quiet) and sys.stderr.isatty())
    run_config(config, out_dir, force=args.force, jobs=args.jobs, log=log, progress=progress)
    if not args.quiet:
        sys.stdout.write((out_dir / "leaderboard.md").read_text(encoding="utf-8"))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``hse-leaderboard``; returns the exit code (:func:`hse.cli.run_cli`)."""
    args = build_parser().parse_args(argv)
    if args.jobs < 1:
        args.jobs = os.cpu_count() or 1
    return run_cli(PROG, _run, args)


if __name__ == "__main__":
    raise SystemExit(main())
