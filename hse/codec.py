"""The ``hse/1`` JSON of a result: the one place that writes, reads and validates it.

:func:`encode` turns a :class:`~hse.result.Result` into the documented dictionary (docs/cli.md), by
default with the per-image ``state``, so a saved result reloads. :func:`decode` rebuilds a Result from
such a dictionary and believes nothing it has not checked: the schema, the settings, that the counters
are non-negative integers that can come from real images (:func:`check_state`), and that the stored
totals, scores and curve are those the counters give (:func:`check_totals`). :func:`read_json` reads a
file; :func:`dumps` writes the text ``hse-score --json`` saves. A failure is an
:class:`~hse.errors.InputError` naming the file (or ``what``) and the field.

The Result class is passed in (``build``) rather than imported: :mod:`hse.result` calls this module, so
this module must not import it (:meth:`Result.from_dict <hse.result.Result.from_dict>` and
:func:`hse.result.load_result` are the entry points).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .errors import InputError
from .state import CURVE_FIELDS, SCALAR_FIELDS, EvalState

#: A :class:`hse.result.Result` (not imported here: hse.result imports this module).
Result = Any

#: The schema string of a result JSON.
SCHEMA = "hse/1"

#: What rebuilding a hand-edited or foreign result can raise (InputError is a ValueError).
_BAD = (ValueError, KeyError, TypeError, OverflowError, IndexError, AttributeError)


def plain(x: Any) -> Any:
    """JSON-friendly Python values, recursively (numpy scalars/arrays to Python; NaN/inf become None)."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [plain(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    return x


# --------------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------------


def encode(result: Result, include_state: bool = True) -> dict[str, Any]:
    """The ``hse/1`` dictionary of ``result``; ``include_state=False`` leaves out the per-image counters
    (the file is then for reading only: it cannot be reloaded, bootstrapped or compared)."""
    out: dict[str, Any] = {"schema": SCHEMA, "hse_version": __version__}
    out.update({k: plain(v) for k, v in result.summary().items()})
    out["n_images"] = result.n_images
    out["n_targets"] = result.n_targets
    out["threshold"] = result.threshold
    out["thresholds"] = [float(t) for t in result.thresholds]
    out["curve"] = _curve_rows(result)
    if result.compat:
        out["compat"] = plain(result.compat)
    out["settings"] = plain(dict(result.settings))
    if include_state:
        out["state"] = result.state.to_dict()
    return out


def _curve_rows(result: Result) -> list[dict[str, Any]]:
    return [
        {k: plain(v) for k, v in row.items()}
        for row in result.curve.drop(columns="in_hse_grid").to_dict("records")
    ]


def dumps(data: dict[str, Any], indent: int = 2) -> str:
    """The text of an ``hse/1`` dictionary (strict JSON: NaN is refused). Indented for reading, except the
    per-image ``state``, whose long integer lists are written on one line (last key)."""
    data = dict(data)
    state = data.pop("state", None)
    text = json.dumps(data, indent=indent, allow_nan=False)
    if state is not None:
        compact = json.dumps(state, separators=(",", ":"), allow_nan=False)
        text = text[: text.rindex("}")].rstrip() + ",\n" + " " * indent + '"state": ' + compact + "\n}"
    return text + "\n"


# --------------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------------


def decode(data: Any, what: str, build: Callable[[EvalState, dict, dict | None], Result]) -> Result:
    """Rebuild and check a Result from an ``hse/1`` dictionary: ``build(state, settings, compat)`` makes
    it (the Result class); ``what`` names the dictionary in errors."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"{what}: unsupported result schema {found!r}; expected {SCHEMA!r}")
    if data.get("state") is None:
        raise InputError(
            f"{what}: saved without its per-image state, which reloading, intervals and comparisons "
            "need; write it again with Result.to_json() or hse-score --json (without --no-state)"
        )
    try:
        settings = data["settings"]
        if not isinstance(settings, dict):
            raise ValueError("settings must be an object")
        grid = _grid(settings)
        state = _state(data["state"], grid.size)
        result = build(state, settings, data.get("compat"))
        check_totals(data, result)
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from None
    except _BAD as exc:
        raise InputError(f"{what}: not a valid {SCHEMA} result ({exc})") from None
    return result


def read_json(path: str | os.PathLike) -> dict:
    """The JSON object in a result file (for :func:`decode`); InputError naming the file otherwise."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, expected a result JSON file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: not an hse result (expected a JSON object)")
    return data


def _grid(settings: dict) -> np.ndarray:
    grid = np.asarray(settings["evaluation_grid"], dtype=np.float64)
    thresholds = np.asarray(settings["thresholds"], dtype=np.float64)
    threshold = float(settings["threshold"])
    if grid.ndim != 1 or grid.size == 0 or np.any(np.diff(grid) <= 0):
        raise ValueError("settings.evaluation_grid must be a non-empty, strictly increasing list")
    if not np.all(np.isin(thresholds, grid)) or threshold not in grid:
        raise ValueError("settings.thresholds and settings.threshold must be points of evaluation_grid")
    return grid


def _state(raw: Any, n_thresholds: int) -> EvalState:
    if not isinstance(raw, dict):
        raise ValueError("state must be an object")
    names = raw["names"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("state.names must be a list of strings")
    n = len(names)
    curves = {f: _counters(raw[f], f).reshape(n, n_thresholds) for f in CURVE_FIELDS}
    scalars = {f: _counters(raw[f], f).reshape(n) for f in SCALAR_FIELDS}
    # Files written before images carried a global index hold their images in order: 0..n-1.
    indexes = _indexes(raw["indexes"], n) if "indexes" in raw else None
    state = EvalState(list(names), curves, scalars, indexes=indexes)
    check_state(state)
    return state


def _indexes(values: Any, n: int) -> np.ndarray:
    """``state.indexes``: one non-negative integer per image, strictly increasing (a saved result holds its
    images sorted by global index, each once)."""
    if not isinstance(values, list) or len(values) != n:
        raise ValueError(f"state.indexes must be a list of {n} integers, one per name")
    arr = _counters(values, "indexes")
    if np.any(np.diff(arr) <= 0):
        i = int(np.flatnonzero(np.diff(arr) <= 0)[0])
        raise InputError(
            f"state.indexes must be strictly increasing (each image once, sorted), but row "
            f"{i + 1} has index {int(arr[i + 1])} after {int(arr[i])}: the state is edited or corrupt"
        )
    return arr


def _counters(values: Any, field_name: str) -> np.ndarray:
    """Saved counters back to int64, refusing anything that is not a non-negative integer."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu" or (arr.size and arr.min() < 0):
        raise ValueError(f"state.{field_name} must hold non-negative integers (got dtype {arr.dtype})")
    return arr.astype(np.int64)


def check_state(state: EvalState) -> None:
    """InputError unless the counters can come from real images: each image's pixels, target pixels and
    targets agree (``n_pixels = height x width``, targets only where target pixels are); at every
    threshold TP <= target pixels, TP + FP <= pixels, matched <= targets, matched <= components <=
    predicted pixels, matched <= matched-component pixels <= predicted pixels; and the pixel counts do
    not grow as the threshold rises (``P > t`` shrinks). Component and match counts need not be monotone:
    a component can split in two as the threshold rises, and the greedy rule can gain a match."""
    c, s = state.curves, state.scalars
    predicted = c["pix_tp"] + c["pix_fp"]
    n_t = s["n_targets"][:, None]
    rules = (
        ("n_pixels", s["n_pixels"] == s["height"] * s["width"], "must equal height x width"),
        ("n_gt_pixels", s["n_gt_pixels"] <= s["n_pixels"], "must not exceed n_pixels"),
        ("n_targets", s["n_targets"] <= s["n_gt_pixels"], "must not exceed n_gt_pixels"),
        ("n_targets", (s["n_targets"] > 0) == (s["n_gt_pixels"] > 0), "must be 0 exactly when n_gt_pixels is"),
        ("pix_tp", c["pix_tp"] <= s["n_gt_pixels"][:, None], "must not exceed n_gt_pixels"),
        ("pix_fp", predicted <= s["n_pixels"][:, None], "pix_tp + pix_fp must not exceed n_pixels"),
        ("pix_tp", np.diff(c["pix_tp"], axis=1) <= 0, "must not grow as the threshold rises"),
        ("pix_fp", np.diff(c["pix_fp"], axis=1) <= 0, "must not grow as the threshold rises"),
        ("tgt_matched", c["tgt_matched"] <= n_t, "must not exceed n_targets"),
        ("tgt_matched", c["tgt_matched"] <= c["tgt_components"], "must not exceed tgt_components"),
        ("tgt_components", c["tgt_components"] <= predicted, "must not exceed pix_tp + pix_fp"),
        ("tgt_matched_area", c["tgt_matched_area"] <= predicted, "must not exceed pix_tp + pix_fp"),
        ("tgt_matched_area", c["tgt_matched_area"] >= c["tgt_matched"], "must be at least tgt_matched"),
    )  # fmt: skip
    for field_name, ok, need in rules:
        bad = ok if ok.ndim == 1 else ok.all(axis=1)
        if not bad.all():
            i = int(np.flatnonzero(~bad)[0])
            raise InputError(
                f"state.{field_name} of image {state.names[i]!r} {need}: the counters are inconsistent "
                "(edited or corrupt)"
            )


def check_totals(data: dict, result: Result) -> None:
    """InputError unless the stored totals, scores and curve are those the per-image counters give."""
    for key, value in (("n_images", result.n_images), ("n_targets", result.n_targets)):
        if key in data and data[key] != value:
            raise InputError(f"{key} is {data[key]!r} but the per-image state sums to {value}")
    for key, value in result.summary().items():
        if key in data and not _same(data[key], value):
            raise InputError(f"{key} is {data[key]!r} but the per-image state gives {value!r}")
    if "curve" in data:
        rows = data["curve"]
        expected = _curve_rows(result)
        if not isinstance(rows, list) or len(rows) != len(expected):
            raise InputError(f"curve must hold {len(expected)} rows, one per evaluated threshold")
        for i, (row, want) in enumerate(zip(rows, expected, strict=True)):
            if not isinstance(row, dict):
                raise InputError(f"curve[{i}] must be an object")
            for key, value in want.items():
                if key in row and not _same(row[key], value):
                    raise InputError(
                        f"curve[{i}].{key} is {row[key]!r} but the per-image state gives {value!r}"
                    )


def _same(stored: Any, value: Any) -> bool:
    """Stored number equals recomputed one (None stands for NaN; a relative 1e-9 allows other builds)."""
    if stored is None or value is None or (isinstance(value, float) and not math.isfinite(value)):
        return (stored is None) == (value is None or not math.isfinite(value))
    if isinstance(stored, bool) or not isinstance(stored, (int, float)):
        return False
    return math.isclose(float(stored), float(value), rel_tol=1e-9, abs_tol=1e-12)
