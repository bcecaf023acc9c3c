"""Connected components: the one labelling helper of hse, used by target finding and by the peer
reproductions in :mod:`hse.compat`.

Every reference toolbox labels with ``skimage.measure.label(..., connectivity=2)`` (8-connectivity) and
reads ``regionprops`` areas and centroids. Here the same numbers come from :func:`scipy.ndimage.label`
with a 3x3 structure and :func:`numpy.bincount`:

* labels are assigned in raster order of each component's first pixel, as in skimage;
* a centroid is the mean of the integer pixel coordinates; sums of integer coordinates are exact in
  float64, so ``sum / count`` rounds exactly like ``coords.mean(axis=0)``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: The 3x3 structuring element of 8-connectivity.
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def label8(binary: np.ndarray) -> tuple[np.ndarray, int]:
    """Label the 8-connected components of a boolean image (labels 1..n in raster order)."""
    labels, n = ndimage.label(binary, structure=EIGHT_CONNECTED)
    return labels, int(n)


def component_stats(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Areas (int64, shape ``(n,)``) and centroids (float64, shape ``(n, 2)``, row/col) of labels 1..n."""
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.float64)
    rows, cols = np.nonzero(labels)
    lab = labels[rows, cols]
    areas = np.bincount(lab, minlength=n + 1)[1:].astype(np.int64)
    sum_r = np.bincount(lab, weights=rows.astype(np.float64), minlength=n + 1)[1:]
    sum_c = np.bincount(lab, weights=cols.astype(np.float64), minlength=n + 1)[1:]
    centroids = np.stack([sum_r / areas, sum_c / areas], axis=1)
    return areas, centroids


def component_summary(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Areas (int64, ``(n,)``) and centroids (float64, ``(n, 2)``) of the 8-connected components of a
    2-D bool image, in label order, without a label image.

    One raster pass with two rows of provisional labels (:mod:`hse.reduce._label8`, numba), for sparse
    images such as ground-truth masks; the same numbers as :func:`components` (same sums, same division).
    """
    from ._label8 import component_sums  # numba loads lazily, so `import hse` stays light

    areas, sum_r, sum_c = component_sums(np.ascontiguousarray(binary, dtype=np.bool_))
    centroids = np.empty((areas.size, 2), dtype=np.float64)
    centroids[:, 0] = sum_r / areas
    centroids[:, 1] = sum_c / areas
    return areas, centroids


def components(binary: np.ndarray) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """``(labels, n, areas, centroids)`` of the 8-connected components of ``binary``."""
    labels, n = label8(binary)
    areas, centroids = component_stats(labels, n)
    return labels, n, areas, centroids
