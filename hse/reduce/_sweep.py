"""Union-find sweep over thresholds (numba).

The foreground sets ``{P > t_k}`` are nested: lowering the threshold only adds pixels, so each connected
component at a high threshold is contained in one component at every lower threshold. One pass over the
foreground pixels in order of decreasing level, merging 8-connected neighbours with a union-find, therefore
yields the components (area, centroid, label order) at *every* threshold without relabelling the image K
times. Component statistics (area, coordinate sums, first pixel) are accumulated by the unions themselves.

How a level's pixels are added depends on their number:

* a level with few pixels: they are bucketed by level in one counting pass (no sort) and each is joined
  to its present 8 neighbours, with one find per group of present neighbours that touch each other (a
  256-entry table of the neighbour ring);
* a level holding a large share of the image (the lowest thresholds of a noisy map, where one component
  spans most of it): one raster scan of the image, each edge taken from its later pixel, so only the 4
  earlier neighbours are read (at most two finds) and a pixel that joins a set creates no node.

After each level only the components that changed are checked against the targets (a grid of cells keeps
that flat in the number of targets); the components near some target are then matched by the toolbox's
greedy rule. The work arrays are passed in and reused across images: mapping fresh pages for every image
costs more than the sweep itself on small images.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._label8 import find_root

#: The 8 neighbours of a pixel as (row, col) steps, in the bit order of the neighbourhood masks below.
RING = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def _ring_arcs() -> np.ndarray:
    """For each 8-bit set of present neighbours: the number of groups of mutually 8-adjacent ones, then
    one neighbour (bit index) per group.

    Two present neighbours that touch each other are already in one set (their edge was merged when the
    later of them was added), so a new pixel needs one find per group, not one per neighbour.
    """
    table = np.zeros((256, 5), dtype=np.int8)
    for bits in range(256):
        present = [i for i in range(8) if bits >> i & 1]
        group = {i: i for i in present}

        def root(i, group=group):
            while group[i] != i:
                i = group[i]
            return i

        for i in present:
            for j in present:
                if max(abs(RING[i][0] - RING[j][0]), abs(RING[i][1] - RING[j][1])) <= 1:
                    group[root(i)] = root(j)
        reps = sorted({root(i) for i in present})
        table[bits, 0] = len(reps)
        table[bits, 1 : 1 + len(reps)] = reps
    return table


_ARCS = _ring_arcs()

#: A level is added by a raster scan of the image when it holds more than 1 / SCAN_SHARE of the pixels.
SCAN_SHARE = 6


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
def _grow(a, size):
    out = np.empty(max(size, 2 * a.shape[0]), a.dtype)
    out[: a.shape[0]] = a
    return out


@nb.njit(cache=True, nogil=True)
def _target_cells(gt_rows, gt_cols, cell, n_cell_r, n_cell_c):
    """Targets bucketed by grid cell: ``items[start[b]:start[b + 1]]`` are the targets of cell b."""
    n_gt = gt_rows.shape[0]
    start = np.zeros(n_cell_r * n_cell_c + 1, np.int64)
    where = np.empty(n_gt, np.int64)
    for g in range(n_gt):
        where[g] = int(gt_rows[g] / cell) * n_cell_c + int(gt_cols[g] / cell)
        start[where[g] + 1] += 1
    for i in range(1, start.shape[0]):
        start[i] += start[i - 1]
    items = np.empty(n_gt, np.int64)
    fill = start[:-1].copy()
    for g in range(n_gt):
        items[fill[where[g]]] = g
        fill[where[g]] += 1
    return start, items


@nb.njit(cache=True, nogil=True)
def sweep(levels, hist, gt_rows, gt_cols, radius, want_pairs, lab, work32, work64):
    """Components and greedy matches at every threshold.

    Parameters
    ----------
    levels : uint8 or int32 array (H, W)
        Per-pixel level: the pixel is foreground at threshold index k iff ``levels > k``.
    hist : int64 array (K + 1,)
        ``hist[l]`` = number of pixels of level l (K, the number of thresholds, is ``hist.size - 1``).
    gt_rows, gt_cols : float64 arrays (G,)
        Ground-truth target centroids, in label order.
    radius : float
        A predicted component matches a target when the centroid distance is ``< radius``.
    want_pairs : bool
        Also return every (threshold, target, component) pair within the radius, for optimal matching.
    lab : int32 array (>= H * W,)
        Work space, all -1 on entry and again on return.
    work32, work64 : int32 array (>= 7 F,), int64 array (>= 2 F,)
        Work space for the F foreground pixels (level > 0), any content. Reused across images, so that
        the pages are not mapped afresh for every image (on small images that cost more than the sweep).

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
    n_thr = hist.shape[0] - 1
    n_gt = gt_rows.shape[0]

    # Counting sort of the foreground pixels: level K first, level 1 last.
    start = np.zeros(n_thr + 2, np.int64)
    for lv in range(n_thr, 0, -1):
        start[lv - 1] = start[lv] + hist[lv]
    n_fg = start[0]
    # A level holding a large share of the image is added by one raster scan of the image instead (one
    # find per group of touching earlier neighbours, sequential reads), the others in bucketed order.
    by_scan = np.zeros(n_thr + 1, np.bool_)
    n_sorted = 0
    lowest = n_thr + 1  # the lowest bucketed level: the test below is then rarely true on noisy maps
    for lv in range(n_thr, 0, -1):
        by_scan[lv] = hist[lv] * SCAN_SHARE > n
        if not by_scan[lv]:
            n_sorted += hist[lv]
            if hist[lv] > 0:
                lowest = lv
    order = work32[:n_fg]
    rows = work32[n_fg : 2 * n_fg]  # the row of each, so that the sweep needs no division
    parent = work32[2 * n_fg : 3 * n_fg]
    area = work32[3 * n_fg : 4 * n_fg]
    first = work32[4 * n_fg : 5 * n_fg]
    stamp = work32[5 * n_fg : 6 * n_fg]  # = level at which the root last changed
    touched = work32[6 * n_fg : 7 * n_fg]
    sum_r = work64[:n_fg]
    sum_c = work64[n_fg : 2 * n_fg]
    stamp[:] = 0
    fill = start.copy()
    if n_sorted > 0:
        i = 0
        for r in range(h):
            for _c in range(w):
                lv = flat[i]
                if lv >= lowest and not by_scan[lv]:
                    order[fill[lv]] = i
                    rows[fill[lv]] = r
                    fill[lv] += 1
                i += 1

    n_components = np.zeros(n_thr, np.int64)
    matched = np.zeros(n_thr, np.int64)
    matched_area = np.zeros(n_thr, np.int64)
    pairs = np.empty((16 if want_pairs else 0, 4), np.int64)
    pair_dist = np.empty(pairs.shape[0], np.float64)
    n_pairs = 0

    # Targets on a grid of cells no smaller than the radius: a component looks only at its own and the
    # 8 surrounding cells, so the cost stays flat in the number of targets.
    cell = max(radius, 1.0)
    n_cell_r = int(h / cell) + 2
    n_cell_c = int(w / cell) + 2
    cell_start, cell_items = _target_cells(gt_rows, gt_cols, cell, n_cell_r, n_cell_c)
    # Cells with a target in their 3x3 block: most components are far from every target, one look-up.
    crowded = np.zeros(n_cell_r * n_cell_c, np.bool_)
    for g in range(n_gt):
        tr = int(gt_rows[g] / cell)
        tc = int(gt_cols[g] / cell)
        for around in range(9):
            nr = tr - 1 + around // 3
            nc = tc - 1 + around % 3
            if 0 <= nr < n_cell_r and 0 <= nc < n_cell_c:
                crowded[nr * n_cell_c + nc] = True

    buf = np.empty(2, np.float64)
    cand = np.empty(16, np.int32)  # roots whose centroid lies within the radius of some target
    n_cand = 0
    edge_g = np.empty(16, np.int64)
    edge_c = np.empty(16, np.int64)
    edge_d = np.empty(16, np.float64)
    offsets = np.array([-w - 1, -w, -w + 1, -1, 1, w - 1, w, w + 1], np.int64)
    arcs = _ARCS  # once: each access to the global costs a reference count
    n_live = 0
    n_nodes = 0
    for lv in range(n_thr, 0, -1):
        n_touched = 0
        if by_scan[lv]:
            # Raster scan: each edge is taken from its later pixel, so only the 4 earlier neighbours are
            # read; earlier neighbours that touch each other are already one set (one find per group).
            for r in range(h):
                base = r * w
                for c in range(w):
                    p = base + c
                    own = flat[p]
                    if own < lv:
                        continue
                    g1 = -1
                    g2 = -1
                    if r > 0 and 0 < c < w - 1:  # interior; lab >= 0 exactly on the present pixels
                        g1 = lab[p - w]
                        if g1 < 0:  # else it touches the other three
                            g1 = max(lab[p - w - 1], lab[p - 1])  # these two touch each other
                            g2 = lab[p - w + 1]
                    elif r > 0:
                        if flat[p - w] >= lv:  # touches the other three
                            g1 = lab[p - w]
                        else:
                            if c > 0 and flat[p - w - 1] >= lv:
                                g1 = lab[p - w - 1]
                            elif c > 0 and flat[p - 1] >= lv:
                                g1 = lab[p - 1]
                            if c + 1 < w and flat[p - w + 1] >= lv:
                                g2 = lab[p - w + 1]
                    elif c > 0 and flat[p - 1] >= lv:
                        g1 = lab[p - 1]
                    if own > lv and g1 < 0 and g2 < 0:
                        continue
                    a = -1 if own == lv else find_root(parent, lab[p])
                    if g1 >= 0:
                        b = find_root(parent, g1)
                        if a < 0:
                            a = b
                        elif b != a:  # union by size, written out: a call per merge costs more than the merge
                            if area[a] < area[b]:
                                a, b = b, a
                            parent[b] = a
                            area[a] += area[b]
                            sum_r[a] += sum_r[b]
                            sum_c[a] += sum_c[b]
                            if first[b] < first[a]:
                                first[a] = first[b]
                            n_live -= 1
                    if g2 >= 0:
                        b = find_root(parent, g2)
                        if a < 0:
                            a = b
                        elif b != a:  # union by size, written out: a call per merge costs more than the merge
                            if area[a] < area[b]:
                                a, b = b, a
                            parent[b] = a
                            area[a] += area[b]
                            sum_r[a] += sum_r[b]
                            sum_c[a] += sum_c[b]
                            if first[b] < first[a]:
                                first[a] = first[b]
                            n_live -= 1
                    if own == lv:
                        if a < 0:
                            a = n_nodes
                            n_nodes += 1
                            parent[a] = a
                            area[a] = 0
                            sum_r[a] = 0
                            sum_c[a] = 0
                            first[a] = p
                            n_live += 1
                        area[a] += 1
                        sum_r[a] += r
                        sum_c[a] += c
                        if p < first[a]:
                            first[a] = p
                        lab[p] = a
                    if stamp[a] != lv:
                        stamp[a] = lv
                        touched[n_touched] = a
                        n_touched += 1
        for j in range(start[lv] if not by_scan[lv] else 0, start[lv - 1] if not by_scan[lv] else 0):
            p = order[j]
            r = rows[j]
            c = p - r * w
            a = n_nodes
            n_nodes += 1
            parent[a] = a
            area[a] = 1
            sum_r[a] = r
            sum_c[a] = c
            first[a] = p
            lab[p] = a
            n_live += 1
            if 0 < r < h - 1 and 0 < c < w - 1:  # interior: no bounds checks
                # Present neighbours: a higher level, or the same level and earlier in raster order
                # (pixels of one level are added in raster order).
                bits = (
                    (flat[p - w - 1] >= lv)
                    | (flat[p - w] >= lv) << 1
                    | (flat[p - w + 1] >= lv) << 2
                    | (flat[p - 1] >= lv) << 3
                    | (flat[p + 1] > lv) << 4
                    | (flat[p + w - 1] > lv) << 5
                    | (flat[p + w] > lv) << 6
                    | (flat[p + w + 1] > lv) << 7
                )
                for g in range(arcs[bits, 0]):
                    b = find_root(parent, lab[p + offsets[arcs[bits, 1 + g]]])
                    if a < 0:
                        a = b
                    elif b != a:  # union by size, written out: a call per merge costs more than the merge
                        if area[a] < area[b]:
                            a, b = b, a
                        parent[b] = a
                        area[a] += area[b]
                        sum_r[a] += sum_r[b]
                        sum_c[a] += sum_c[b]
                        if first[b] < first[a]:
                            first[a] = first[b]
                        n_live -= 1
            else:
                for dr in range(-1, 2):
                    rr = r + dr
                    if rr < 0 or rr >= h:
                        continue
                    for dc in range(-1, 2):
                        cc = c + dc
                        if cc < 0 or cc >= w:
                            continue
                        q = lab[rr * w + cc]
                        if q < 0:
                            continue
                        b = find_root(parent, q)
                        if a < 0:
                            a = b
                        elif b != a:  # union by size, written out: a call per merge costs more than the merge
                            if area[a] < area[b]:
                                a, b = b, a
                            parent[b] = a
                            area[a] += area[b]
                            sum_r[a] += sum_r[b]
                            sum_c[a] += sum_c[b]
                            if first[b] < first[a]:
                                first[a] = first[b]
                            n_live -= 1
            if stamp[a] != lv:
                stamp[a] = lv
                touched[n_touched] = a
                n_touched += 1

        k = lv - 1
        n_components[k] = n_live
        if n_gt == 0:
            continue

        # Candidates: unchanged roots keep their status; changed roots are checked again.
        kept = 0
        for i in range(n_cand):
            x = cand[i]
            if parent[x] == x and stamp[x] != lv:
                cand[kept] = x
                kept += 1
        changed = kept != n_cand or lv == n_thr
        n_cand = kept
        for i in range(n_touched):
            x = touched[i]
            if parent[x] != x:
                continue
            cy = sum_r[x] / area[x]
            cx = sum_c[x] / area[x]
            cr = int(cy / cell)
            cc = int(cx / cell)
            if not crowded[cr * n_cell_c + cc]:
                continue
            near = False
            for around in range(9):
                nr = cr - 1 + around // 3
                nc = cc - 1 + around % 3
                if nr < 0 or nr >= n_cell_r or nc < 0 or nc >= n_cell_c:
                    continue
                b = nr * n_cell_c + nc
                for item in range(cell_start[b], cell_start[b + 1]):
                    g = cell_items[item]
                    if _distance(cy - gt_rows[g], cx - gt_cols[g], radius, buf) < radius:
                        near = True
                        break
                if near:
                    break
            if near:
                if n_cand == cand.shape[0]:
                    cand = _grow(cand, n_cand + 1)
                cand[n_cand] = x
                n_cand += 1
                changed = True
        if n_cand == 0:
            continue
        if not changed and not want_pairs:  # same candidates, same statistics: same matches
            matched[k] = matched[k + 1]
            matched_area[k] = matched_area[k + 1]
            continue

        # Every (target, candidate) pair within the radius.
        n_edges = 0
        for i in range(n_cand):
            x = cand[i]
            cy = sum_r[x] / area[x]
            cx = sum_c[x] / area[x]
            cr = int(cy / cell)
            cc = int(cx / cell)
            for around in range(9):
                nr = cr - 1 + around // 3
                nc = cc - 1 + around % 3
                if nr < 0 or nr >= n_cell_r or nc < 0 or nc >= n_cell_c:
                    continue
                b = nr * n_cell_c + nc
                for item in range(cell_start[b], cell_start[b + 1]):
                    g = cell_items[item]
                    d = _distance(cy - gt_rows[g], cx - gt_cols[g], radius, buf)
                    if d >= radius:
                        continue
                    if n_edges == edge_g.shape[0]:
                        edge_g = _grow(edge_g, n_edges + 1)
                        edge_c = _grow(edge_c, n_edges + 1)
                        edge_d = _grow(edge_d, n_edges + 1)
                    edge_g[n_edges] = g
                    edge_c[n_edges] = x
                    edge_d[n_edges] = d
                    n_edges += 1

        # Greedy rule of the toolboxes: targets in label order each take the first unmatched component
        # in label order (= raster order of the first pixel) within the radius.
        keys = np.empty(n_edges, np.int64)
        for e in range(n_edges):
            keys[e] = edge_g[e] * n + first[edge_c[e]]
        by_key = np.argsort(keys)
        last_g = -1
        for e in by_key:
            g = edge_g[e]
            x = edge_c[e]
            if g == last_g:
                continue
            if stamp[x] == -lv:  # already taken at this level (stamps are >= 0 otherwise)
                continue
            stamp[x] = -lv
            last_g = g
            matched[k] += 1
            matched_area[k] += area[x]
        if want_pairs:
            for e in range(n_edges):
                if n_pairs == pairs.shape[0]:
                    grown = np.empty((max(16, 2 * n_pairs), 4), np.int64)
                    grown[:n_pairs] = pairs[:n_pairs]
                    pairs = grown
                    pair_dist = _grow(pair_dist, 2 * n_pairs)
                x = edge_c[e]
                pairs[n_pairs, 0] = k
                pairs[n_pairs, 1] = edge_g[e]
                pairs[n_pairs, 2] = first[x]
                pairs[n_pairs, 3] = area[x]
                pair_dist[n_pairs] = edge_d[e]
                n_pairs += 1

    if n_sorted == n_fg:  # leave the work space as found
        for j in range(n_fg):
            lab[order[j]] = -1
    else:
        lab[:n] = -1
    return n_components, matched, matched_area, pairs[:n_pairs].copy(), pair_dist[:n_pairs].copy()
