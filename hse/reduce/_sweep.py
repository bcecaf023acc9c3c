"""Union-find sweep over thresholds (numba).

The foreground sets ``{P > t_k}`` are nested: lowering the threshold only adds pixels, so each connected
component at a high threshold is contained in one component at every lower threshold. One pass over the
pixels in order of decreasing level, merging 8-connected neighbours with a union-find, therefore yields the
components (area, centroid, label order) at *every* threshold without relabelling the image K times.
After each level the live components are matched to the ground-truth targets by the toolbox's greedy rule.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _find(parent, x):
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:  # path compression
        nxt = parent[x]
        parent[x] = root
        x = nxt
    return root


@nb.njit(cache=True, nogil=True)
def _distance(dy, dx, radius, buf):
    """Centroid distance, decided as the toolboxes decide it near the radius.

    The toolboxes compute ``np.linalg.norm(pred_centroid - gt_centroid)``, i.e. ``sqrt(dot(v, v))`` through
    BLAS, which may round differently from ``sqrt(dy*dy + dx*dx)`` (e.g. with fused multiply-adds): a
    distance of exactly 3 can come out as 2.9999999999999996. Within 1e-9 of the radius the distance is
    therefore recomputed with the BLAS dot product, so ``d < radius`` agrees with the toolboxes.
    """
    d = math.sqrt(dy * dy + dx * dx)
    if abs(d - radius) <= 1e-9 * max(1.0, radius):
        buf[0] = dy
        buf[1] = dx
        d = math.sqrt(np.dot(buf, buf))
    return d


@nb.njit(cache=True, nogil=True)
def sweep(levels, n_thresholds, gt_rows, gt_cols, radius, want_pairs):
    """Components and greedy matches at every threshold.

    Parameters
    ----------
    levels : int32 array (H, W)
        Per-pixel level: the pixel is foreground at threshold index k iff ``levels > k``.
    n_thresholds : int
        K, the number of thresholds.
    gt_rows, gt_cols : float64 arrays (G,)
        Ground-truth target centroids, in label order.
    radius : float
        A predicted component matches a target when the centroid distance is ``< radius``.
    want_pairs : bool
        Also return every (threshold, target, component) pair within the radius, for optimal matching.

    Returns
    -------
    n_components, matched, matched_area : int64 arrays (K,)
        Components per threshold; targets matched by the greedy rule; pixels of the matched components.
    pairs : int64 array (P, 4)
        Rows ``(k, target, component first pixel, component area)`` (empty unless ``want_pairs``).
    pair_dist : float64 array (P,)
        Centroid distance of each pair.
    """
    h, w = levels.shape
    n = h * w
    flat = levels.ravel()
    n_gt = gt_rows.shape[0]

    # Counting sort of the pixels by level.
    counts = np.zeros(n_thresholds + 2, np.int64)
    for i in range(n):
        counts[flat[i] + 1] += 1
    for v in range(1, n_thresholds + 2):
        counts[v] += counts[v - 1]
    order = np.empty(n, np.int64)
    fill = counts.copy()
    for i in range(n):
        v = flat[i]
        order[fill[v]] = i
        fill[v] += 1

    parent = np.full(n, -1, np.int64)
    area = np.zeros(n, np.int64)
    sum_r = np.zeros(n, np.int64)
    sum_c = np.zeros(n, np.int64)
    first = np.zeros(n, np.int64)
    roots = np.empty(n, np.int64)
    n_roots = 0

    n_components = np.zeros(n_thresholds, np.int64)
    matched = np.zeros(n_thresholds, np.int64)
    matched_area = np.zeros(n_thresholds, np.int64)
    cap = 16
    pairs = np.empty((cap, 4), np.int64)
    pair_dist = np.empty(cap, np.float64)
    n_pairs = 0

    # Bucket the targets on a grid of cells no smaller than the radius, so a component only looks at the
    # targets in its own and the 8 surrounding cells: the cost stays flat in the number of targets.
    cell = max(radius, 1.0)
    n_cell_r = int(h / cell) + 2
    n_cell_c = int(w / cell) + 2
    cell_start = np.zeros(n_cell_r * n_cell_c + 1, np.int64)
    gt_cell = np.empty(n_gt, np.int64)
    for g in range(n_gt):
        gt_cell[g] = int(gt_rows[g] / cell) * n_cell_c + int(gt_cols[g] / cell)
        cell_start[gt_cell[g] + 1] += 1
    for i in range(1, cell_start.shape[0]):
        cell_start[i] += cell_start[i - 1]
    cell_items = np.empty(n_gt, np.int64)
    cell_fill = cell_start.copy()
    for g in range(n_gt):
        cell_items[cell_fill[gt_cell[g]]] = g
        cell_fill[gt_cell[g]] += 1

    buf = np.empty(2, np.float64)
    cand = np.empty(0, np.int64)
    for k in range(n_thresholds - 1, -1, -1):
        # Add the pixels whose level is exactly k + 1 (they are foreground from threshold k downwards).
        for j in range(counts[k + 1], counts[k + 2]):
            p = order[j]
            r = p // w
            c = p - r * w
            parent[p] = p
            area[p] = 1
            sum_r[p] = r
            sum_c[p] = c
            first[p] = p
            roots[n_roots] = p
            n_roots += 1
            for dr in range(-1, 2):
                rr = r + dr
                if rr < 0 or rr >= h:
                    continue
                for dc in range(-1, 2):
                    cc = c + dc
                    if (dr == 0 and dc == 0) or cc < 0 or cc >= w:
                        continue
                    q = rr * w + cc
                    if parent[q] < 0:
                        continue
                    a = _find(parent, p)
                    b = _find(parent, q)
                    if a == b:
                        continue
                    if area[a] < area[b]:  # union by size
                        a, b = b, a
                    parent[b] = a
                    area[a] += area[b]
                    sum_r[a] += sum_r[b]
                    sum_c[a] += sum_c[b]
                    if first[b] < first[a]:
                        first[a] = first[b]

        # Compact the list of live roots.
        live = 0
        for i in range(n_roots):
            x = roots[i]
            if parent[x] == x:
                roots[live] = x
                live += 1
        n_roots = live
        n_components[k] = live
        if n_gt == 0 or live == 0:
            continue

        # Components whose centroid lies within the radius of some target: the only ones that can match.
        n_cand = 0
        if cand.shape[0] < live:
            cand = np.empty(live, np.int64)
        for i in range(live):
            x = roots[i]
            cy = sum_r[x] / area[x]
            cx = sum_c[x] / area[x]
            near = False
            cell_r = int(cy / cell)
            cell_c = int(cx / cell)
            for around in range(9):  # the component's cell and its 8 neighbours
                nr = cell_r - 1 + around // 3
                nc = cell_c - 1 + around % 3
                if nr < 0 or nr >= n_cell_r or nc < 0 or nc >= n_cell_c:
                    continue
                b = nr * n_cell_c + nc
                for item in range(cell_start[b], cell_start[b + 1]):
                    g = cell_items[item]
                    d = _distance(cy - gt_rows[g], cx - gt_cols[g], radius, buf)
                    if d >= radius:
                        continue
                    near = True
                    if not want_pairs:
                        continue
                    if n_pairs == cap:
                        cap *= 2
                        grown = np.empty((cap, 4), np.int64)
                        grown[:n_pairs] = pairs[:n_pairs]
                        pairs = grown
                        grown_d = np.empty(cap, np.float64)
                        grown_d[:n_pairs] = pair_dist[:n_pairs]
                        pair_dist = grown_d
                    pairs[n_pairs, 0] = k
                    pairs[n_pairs, 1] = g
                    pairs[n_pairs, 2] = first[x]
                    pairs[n_pairs, 3] = area[x]
                    pair_dist[n_pairs] = d
                    n_pairs += 1
            if near:
                cand[n_cand] = x
                n_cand += 1
        if n_cand == 0:
            continue

        # Greedy rule of the toolboxes: targets in label order each take the first unmatched component
        # in label order (= order of first pixel in raster scan) within the radius.
        keys = np.empty(n_cand, np.int64)
        for i in range(n_cand):
            keys[i] = first[cand[i]]
        sorted_cand = cand[:n_cand][np.argsort(keys)]
        used = np.zeros(n_cand, np.bool_)
        for g in range(n_gt):
            for i in range(n_cand):
                if used[i]:
                    continue
                x = sorted_cand[i]
                if (
                    _distance(sum_r[x] / area[x] - gt_rows[g], sum_c[x] / area[x] - gt_cols[g], radius, buf)
                    < radius
                ):
                    used[i] = True
                    matched[k] += 1
                    matched_area[k] += area[x]
                    break

    return n_components, matched, matched_area, pairs[:n_pairs].copy(), pair_dist[:n_pairs].copy()
