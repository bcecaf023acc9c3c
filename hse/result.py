"""The evaluation result: scores, the per-threshold curve and per-image rows (its JSON is :mod:`hse.codec`)."""

from __future__ import annotations

import os
from functools import cached_property

import numpy as np
import pandas as pd

from . import codec
from .score import CURVE_COLUMNS, curve_arrays, get_preset, per_image_iou, summarise
from .state import EvalState

SUMMARY_KEYS = ("hse", "hse_pixel", "hse_target", "mean_pd", "mean_fa", "auc_pd_fa", "auc_roc", "auc_pr")


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
    sources : dict or None
        ``{"preds": [...], "masks": [...]}``: the file paths scored, in image order, when
        :func:`hse.evaluate` was given paths (arrays are not kept); :meth:`to_html`'s gallery reads
        them. Not saved in the JSON: a loaded result has None.
    """

    def __init__(self, state: EvalState, settings: dict, compat: dict | None = None):
        self.state = state
        self.settings = settings
        self.compat = compat or {}
        self.sources: dict[str, list[str]] | None = None
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

    def threshold_index(self, threshold: float) -> int:
        """Position of ``threshold`` among the evaluated thresholds (:attr:`grid`); KeyError when it was not
        evaluated (neither on the HSE grid nor the operating point)."""
        hits = np.flatnonzero(np.isclose(self.grid, float(threshold), rtol=0.0, atol=1e-12))
        if hits.size == 0:
            raise KeyError(
                f"threshold {threshold} was not evaluated; evaluated thresholds are the HSE grid plus "
                f"the operating threshold {self.threshold}"
            )
        return int(hits[0])

    def at(self, threshold: float) -> pd.Series:
        """The curve row at ``threshold`` (which must be evaluated: on the grid or the operating point)."""
        return self.curve.iloc[self.threshold_index(threshold)]

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

    def to_dict(self, include_state: bool = True) -> dict:
        """The versioned, documented ``hse/1`` schema (see docs/cli.md and :mod:`hse.codec`).

        The per-image ``state`` is included, so that :meth:`from_dict`, :func:`hse.bootstrap` and
        ``hse-compare`` can rebuild the result; ``include_state=False`` leaves it out (smaller, but the
        dictionary can then no longer be reloaded)."""
        return codec.encode(self, include_state=include_state)

    def to_json(
        self, path: str | os.PathLike | None = None, include_state: bool = True, indent: int = 2
    ) -> str:
        """The ``hse/1`` JSON text (as ``hse-score --json`` writes it); with ``path``, also written
        there atomically."""
        text = codec.dumps(self.to_dict(include_state=include_state), indent)
        if path is not None:
            from .io import write_atomic

            write_atomic(path, text)
        return text

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        """Rebuild a Result from :meth:`to_dict` output, checking it first (:func:`hse.codec.decode`)."""
        return codec.decode(data, "result", cls)

    def __repr__(self) -> str:
        return (
            f"Result(hse={self.hse:.4f}, hse_pixel={self.hse_pixel:.4f}, hse_target={self.hse_target:.4f}, "
            f"n_images={self.n_images}, n_targets={self.n_targets})"
        )


def load_result(path: str | os.PathLike) -> Result:
    """Read and check a result JSON file written by ``hse-score --json`` or :meth:`Result.to_json`
    (:func:`hse.codec.decode`); an :class:`~hse.errors.InputError` names the file and the field."""
    return codec.decode(codec.read_json(path), str(path), Result)
