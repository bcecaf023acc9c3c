"""Additive per-image state.

Each image is reduced to a few integer counters per threshold. The dataset state is these rows stacked;
every dataset-level score is a function of their (weighted) sums, so evaluation can be split across
processes or machines and merged exactly, and a bootstrap only reweights rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Per-threshold counters, each of shape (K,) per image.
CURVE_FIELDS = ("pix_tp", "pix_fp", "tgt_matched", "tgt_components", "tgt_matched_area")
#: Per-image scalars.
SCALAR_FIELDS = ("n_pixels", "n_gt_pixels", "n_targets", "height", "width")


@dataclass(frozen=True)
class ImageState:
    """Counters of one image over the evaluation grid.

    Attributes
    ----------
    pix_tp, pix_fp : |P > t AND G| and |P > t AND NOT G| per threshold.
    tgt_matched : targets matched per threshold (Pd numerator, target TP).
    tgt_components : predicted 8-connected components per threshold.
    tgt_matched_area : pixels of matched components per threshold.
    n_pixels, n_gt_pixels, n_targets, height, width : per-image constants.
    """

    name: str | None  # None: named by its position when stacked (see HSEMetric.compute)
    pix_tp: np.ndarray
    pix_fp: np.ndarray
    tgt_matched: np.ndarray
    tgt_components: np.ndarray
    tgt_matched_area: np.ndarray
    n_pixels: int
    n_gt_pixels: int
    n_targets: int
    height: int
    width: int


@dataclass
class EvalState:
    """Stacked per-image counters: curve fields are (N, K) int64, scalar fields are (N,) int64.

    ``indexes`` (N,) int64 gives each image's global position in the whole evaluation set (default: the
    row numbers). It is what shards, processes and machines merge on (:mod:`hse.merging`): rows are kept
    sorted by it, and one index is one image.
    """

    names: list[str]
    curves: dict[str, np.ndarray]
    scalars: dict[str, np.ndarray]
    extra: dict = field(default_factory=dict)
    indexes: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.indexes is None:
            self.indexes = np.arange(len(self.names), dtype=np.int64)
        else:
            self.indexes = np.asarray(self.indexes, dtype=np.int64).reshape(len(self.names))

    @property
    def n_images(self) -> int:
        return len(self.names)

    @classmethod
    def stack(
        cls, images: list[ImageState], n_thresholds: int, indexes: list[int] | None = None
    ) -> EvalState:
        curves = {
            f: (
                np.stack([getattr(im, f) for im in images])
                if images
                else np.zeros((0, n_thresholds), np.int64)
            )
            for f in CURVE_FIELDS
        }
        scalars = {f: np.array([getattr(im, f) for im in images], dtype=np.int64) for f in SCALAR_FIELDS}
        index_array = None if indexes is None else np.asarray(indexes, dtype=np.int64)
        return cls([im.name for im in images], curves, scalars, indexes=index_array)

    def take(self, rows: np.ndarray) -> EvalState:
        """The rows ``rows`` (positions) of this state, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        return EvalState(
            [self.names[i] for i in rows],
            {f: self.curves[f][rows] for f in CURVE_FIELDS},
            {f: self.scalars[f][rows] for f in SCALAR_FIELDS},
            indexes=self.indexes[rows],
        )

    def to_dict(self) -> dict:
        out = {"names": list(self.names), "indexes": self.indexes.tolist()}
        out.update({f: self.curves[f].tolist() for f in CURVE_FIELDS})
        out.update({f: self.scalars[f].tolist() for f in SCALAR_FIELDS})
        return out
