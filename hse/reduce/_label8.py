"""8-connected component statistics of a sparse binary image in one raster pass (numba).

Used for ground-truth masks, which are mostly empty: only two rows of provisional labels are kept, and the
union-find always keeps the smaller provisional label as the root. Provisional labels are created in
raster order, so the root of a component is the label of its first pixel and the roots in increasing
order are the components in the order of :func:`scipy.ndimage.label` and ``skimage.measure.label``.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True, inline="always")
def find_root(parent, x):
    """The root of ``x`` in a union-find forest, halving the path on the way (shared with the sweep)."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving
        x = parent[x]
    return x


@nb.njit(cache=True, nogil=True)
def component_sums(binary):
    """Areas and coordinate sums of the 8-connected components of a 2-D bool array, in label order.

    Returns
    -------
    areas, sum_rows, sum_cols : int64 arrays (n,)
    """
    h, w = binary.shape
    n_on = 0
    for r in range(h):
        for c in range(w):
            if binary[r, c]:
                n_on += 1
    parent = np.empty(n_on, np.int64)
    area = np.empty(n_on, np.int64)
    sum_r = np.empty(n_on, np.int64)
    sum_c = np.empty(n_on, np.int64)
    prev = np.full(w, -1, np.int64)
    cur = np.full(w, -1, np.int64)
    n_lab = 0
    for r in range(h):
        for c in range(w):
            if not binary[r, c]:
                cur[c] = -1
                continue
            a = -1
            # Neighbours already scanned: left, and the three above.
            if c > 0 and cur[c - 1] >= 0:
                a = find_root(parent, cur[c - 1])
            for dc in range(-1, 2):
                cc = c + dc
                if cc < 0 or cc >= w or prev[cc] < 0:
                    continue
                b = find_root(parent, prev[cc])
                if a < 0:
                    a = b
                elif a != b:  # merge; the smaller label stays the root
                    if b < a:
                        a, b = b, a
                    parent[b] = a
                    area[a] += area[b]
                    sum_r[a] += sum_r[b]
                    sum_c[a] += sum_c[b]
            if a < 0:
                a = n_lab
                parent[a] = a
                area[a] = 0
                sum_r[a] = 0
                sum_c[a] = 0
                n_lab += 1
            area[a] += 1
            sum_r[a] += r
            sum_c[a] += c
            cur[c] = a
        prev, cur = cur, prev
    n = 0
    for x in range(n_lab):
        if parent[x] == x:
            n += 1
    areas = np.empty(n, np.int64)
    rows = np.empty(n, np.int64)
    cols = np.empty(n, np.int64)
    i = 0
    for x in range(n_lab):
        if parent[x] == x:
            areas[i] = area[x]
            rows[i] = sum_r[x]
            cols[i] = sum_c[x]
            i += 1
    return areas, rows, cols
