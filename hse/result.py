"""The evaluation result: scores, the per-threshold curve, per-image rows and a versioned schema."""

from __future__ import annotations

import json
import math
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .errors import InputError
from .score import CURVE_COLUMNS, curve_arrays, get_preset, per_image_iou, summarise
from .state import EvalState

SCHEMA = "hse/1"
SUMMARY_KEYS = ("hse", "hse_pixel", "hse_target", "mean_pd", "mean_fa", "auc_pd_fa", "auc_roc", "auc_pr")


def _plain(x: Any) -> Any:
    """JSON-friendly Python values, recursively (numpy scalars/arrays to Python; NaN/inf become None)."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_plain(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    return x


class Result:
    """Scores of one evaluation (returned by :func:`hse.evaluate` and :meth:`hse.HSEMetric.compute`).

    Attributes
    ----------
    hse, hse_pixel, hse_target : float
        The HSE score and its pixel- and target-level halves (see docs/metrics.md).
    mean_pd, mean_fa, auc_pd_fa, auc_roc, auc_pr : float
        Means over the HSE grid and areas under the Pd-Fa, pixel ROC and pixel PR curves.
    curve : pandas.DataFrame
        One row per evaluated threshold (the HSE grid plus the operating threshold).
    per_image : pandas.DataFrame
        One row per image at the operating threshold, for error analysis.
    compat : dict
        Peer-toolbox metrics when requested (``compat=``), keyed by peer name.
    settings : dict
        Everything needed to reproduce the run.
    state : EvalState
        The per-image additive counters (used by :func:`hse.bootstrap` and :func:`hse.compare`).
    """

    def __init__(self, state: EvalState, settings: dict, compat: dict | None = None):
        self.state = state
        self.settings = settings
        self.compat = compat or {}
        self.grid = np.asarray(settings["evaluation_grid"], dtype=np.float64)
        self.thresholds = np.asarray(settings["thresholds"], dtype=np.float64)
        self.threshold = float(settings["threshold"])
        self.grid_index = np.searchsorted(self.grid, self.thresholds)
        self.op_index = int(np.searchsorted(self.grid, self.threshold))
        self.preset = get_preset(settings["preset"])
        self._curve = curve_arrays(state) if state.n_images else None
        summary = summarise(self._curve, self.grid_index, self.preset) if self._curve else {}
        for key in SUMMARY_KEYS:
            setattr(self, key, float(summary[key]) if summary else float("nan"))

    # -- counts -------------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self.state.names)

    @property
    def n_images(self) -> int:
        return self.state.n_images

    @property
    def n_targets(self) -> int:
        return int(self.state.scalars["n_targets"].sum())

    @property
    def n_resized(self) -> int:
        return int(self.settings.get("n_resized", 0))

    # -- tables -------------------------------------------------------------------------------------
    @cached_property
    def curve(self) -> pd.DataFrame:
        data = {"threshold": self.grid}
        for key in CURVE_COLUMNS[1:]:
            if key == "fa_1e6":
                data[key] = self._curve["fa"] * 1e6
            elif key in ("tp", "fp", "fn"):
                data[key] = self._curve[key].astype(np.int64)
            else:
                data[key] = self._curve[key]
        frame = pd.DataFrame(data, columns=list(CURVE_COLUMNS))
        frame["in_hse_grid"] = np.isin(np.arange(self.grid.size), self.grid_index)
        return frame

    def at(self, threshold: float) -> pd.Series:
        """The curve row at ``threshold`` (which must be evaluated: on the grid or the operating point)."""
        hits = np.flatnonzero(np.isclose(self.grid, threshold, rtol=0.0, atol=1e-12))
        if hits.size == 0:
            raise KeyError(
                f"threshold {threshold} was not evaluated; evaluated thresholds are the HSE grid plus "
                f"the operating threshold {self.threshold}"
            )
        return self.curve.iloc[int(hits[0])]

    @cached_property
    def per_image(self) -> pd.DataFrame:
        k = self.op_index
        c, s = self.state.curves, self.state.scalars
        detected = c["tgt_matched"][:, k]
        predicted_pixels = c["pix_tp"][:, k] + c["pix_fp"][:, k]
        return pd.DataFrame(
            {
                "name": self.state.names,
                "height": s["height"],
                "width": s["width"],
                "targets": s["n_targets"],
                "detected": detected,
                "missed": s["n_targets"] - detected,
                "false_targets": c["tgt_components"][:, k] - detected,
                "fa_pixels": predicted_pixels - c["tgt_matched_area"][:, k],
                "gt_pixels": s["n_gt_pixels"],
                "predicted_pixels": predicted_pixels,
                "iou": per_image_iou(self.state)[:, k],
            }
        )

    # -- serialisation ------------------------------------------------------------------------------
    def summary(self) -> dict[str, float]:
        return {key: getattr(self, key) for key in SUMMARY_KEYS}

    def to_dict(self, include_state: bool = False) -> dict:
        """The versioned, documented schema (``"schema": "hse/1"``; see docs/cli.md)."""
        out: dict[str, Any] = {"schema": SCHEMA, "hse_version": __version__}
        out.update({k: _plain(v) for k, v in self.summary().items()})
        out["n_images"] = self.n_images
        out["n_targets"] = self.n_targets
        out["threshold"] = self.threshold
        out["thresholds"] = [float(t) for t in self.thresholds]
        out["curve"] = [
            {k: _plain(v) for k, v in row.items()}
            for row in self.curve.drop(columns="in_hse_grid").to_dict("records")
        ]
        if self.compat:
            out["compat"] = _plain(self.compat)
        out["settings"] = _plain(dict(self.settings))
        if include_state:
            out["state"] = self.state.to_dict()
        return out

    def to_json(self, path=None, include_state: bool = False, indent: int = 2) -> str:
        text = json.dumps(self.to_dict(include_state=include_state), indent=indent)
        if path is not None:
            from .io import write_atomic

            write_atomic(path, text + "\n")
        return text

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        """Rebuild a Result from :meth:`to_dict` output made with ``include_state=True``."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise InputError(f"unsupported result schema {found!r}; expected {SCHEMA!r}")
        if "state" not in data:
            raise InputError(
                "this result was saved without its per-image state (to_dict(include_state=True))"
            )
        settings = data["settings"]
        try:
            grid = np.asarray(settings["evaluation_grid"], dtype=np.float64)
            thresholds = np.asarray(settings["thresholds"], dtype=np.float64)
            threshold = float(settings["threshold"])
            if grid.ndim != 1 or grid.size == 0 or np.any(np.diff(grid) <= 0):
                raise ValueError("evaluation_grid must be a non-empty, strictly increasing list")
            if not np.all(np.isin(thresholds, grid)) or threshold not in grid:
                raise ValueError("thresholds and threshold must be points of evaluation_grid")
            if not all(isinstance(n, str) for n in data["state"]["names"]):
                raise ValueError("state.names must be strings")
            state = EvalState.from_dict(data["state"], grid.size)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise InputError(f"not a valid hse/1 result with state: {exc}") from exc
        return cls(state, settings, data.get("compat"))

    def __repr__(self) -> str:
        return (
            f"Result(hse={self.hse:.4f}, hse_pixel={self.hse_pixel:.4f}, hse_target={self.hse_target:.4f}, "
            f"n_images={self.n_images}, n_targets={self.n_targets})"
        )
