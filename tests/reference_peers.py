"""Slow, independent references for the compat tests.

They follow the logic of the reference toolboxes step by step (skimage ``label``/``regionprops``, Python
loops, ``np.histogram(..., bins=1, range=(1, 1))``), without torch or MXNet, and share nothing with
``hse.compat``. Inputs: ``pred`` float in [0, 1], ``gt`` the float ground truth ``raw_uint8 / 255``.
"""

from __future__ import annotations

import itertools

import numpy as np
from skimage import measure


def _hist_one(x: np.ndarray) -> int:
    # the toolboxes' area count: one bin on the degenerate range (1, 1)
    counts, _ = np.histogram(x, bins=1, range=(1, 1))
    return int(counts[0])


class BasicIRSTDReference:
    """``mIoU`` + ``PD_FA`` of BasicIRSTD as written in its ``metrics.py`` (fixed and pre-2024 Fa)."""

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold
        self.inter = self.union = self.correct = self.labeled = 0
        self.targets = self.detected = self.pixels = 0
        self.fa_pixels = self.fa_pixels_legacy = 0

    def update(self, pred: np.ndarray, gt: np.ndarray) -> None:
        predict = (pred > self.threshold).astype(np.float32)
        target = gt.astype(np.float32)
        # batch_pix_accuracy
        self.labeled += int((target > 0).sum())
        self.correct += int(((predict == target) * (target > 0)).sum())
        # batch_intersection_union
        intersection = predict * (predict == target)
        a_inter = _hist_one(intersection)
        self.inter += a_inter
        self.union += _hist_one(predict) + _hist_one(target) - a_inter
        # PD_FA
        predits = (pred > self.threshold).astype(np.int64)
        labelss = target.astype(np.int64)
        coord_image = measure.regionprops(measure.label(predits, connectivity=2))
        coord_label = measure.regionprops(measure.label(labelss, connectivity=2))
        self.targets += len(coord_label)
        all_areas = [r.area for r in coord_image]
        remaining = list(coord_image)
        matched_areas = []
        matched_img = np.zeros(predits.shape)
        for gt_region in coord_label:
            c_gt = np.array(gt_region.centroid)
            for idx, region in enumerate(remaining):
                if np.linalg.norm(np.array(region.centroid) - c_gt) < 3:
                    matched_areas.append(region.area)
                    matched_img[region.coords[:, 0], region.coords[:, 1]] = 1
                    self.detected += 1
                    del remaining[idx]
                    break
        self.fa_pixels += int((predits - matched_img).sum())
        self.fa_pixels_legacy += int(sum(a for a in all_areas if a not in matched_areas))
        self.pixels += pred.shape[0] * pred.shape[1]

    def get(self) -> dict:
        eps = np.spacing(1)
        return {
            "iou": 1.0 * self.inter / (eps + self.union),
            "pix_acc": 1.0 * self.correct / (eps + self.labeled),
            "pd": self.detected / self.targets if self.targets else float("nan"),
            "fa": self.fa_pixels / self.pixels,
            "fa_legacy": self.fa_pixels_legacy / self.pixels,
        }


class ACMReference:
    """``SamplewiseSigmoidMetric`` (nIoU) and ``SigmoidMetric`` (IoU) of open-acm, per sample."""

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold
        self.inter_arr = np.array([])
        self.union_arr = np.array([])

    def update(self, pred: np.ndarray, gt: np.ndarray) -> None:
        predict = (pred > self.threshold).astype(np.int64)
        target = gt.astype(np.float32).astype(np.int64)
        intersection = predict * (predict == target)
        a_inter = _hist_one(intersection)
        a_union = _hist_one(predict) + _hist_one(target) - a_inter
        self.inter_arr = np.append(self.inter_arr, a_inter)
        self.union_arr = np.append(self.union_arr, a_union)

    def get(self) -> dict:
        eps = np.spacing(1)
        return {
            "niou": float((1.0 * self.inter_arr / (eps + self.union_arr)).mean()),
            "iou": float(1.0 * self.inter_arr.sum() / (eps + self.union_arr.sum())),
        }


def _matchings(edges: list[tuple[int, int]]):
    """All matchings (sets of vertex-disjoint edges) of a small bipartite graph."""
    for k in range(len(edges), -1, -1):
        for combo in itertools.combinations(edges, k):
            rows = [e[0] for e in combo]
            cols = [e[1] for e in combo]
            if len(set(rows)) == k and len(set(cols)) == k:
                yield combo


def _best(edges, cost):
    """Matchings of maximum cardinality and, among them, minimum total cost (within 1e-9)."""
    best, best_key = [], None
    for combo in _matchings(edges):
        key = (-len(combo), sum(cost[e] for e in combo))
        if (
            best_key is None
            or key[0] < best_key[0]
            or (key[0] == best_key[0] and key[1] < best_key[1] - 1e-9)
        ):
            best, best_key = [combo], key
        elif key[0] == best_key[0] and abs(key[1] - best_key[1]) <= 1e-9:
            best.append(combo)
    return best


def opdc_fixed_outcomes(pred_bin: np.ndarray, gt: np.ndarray, overlap=0.5, distance=3) -> set[tuple]:
    """All ``(tp, fp, fn, fp_area, round(tp_iou, 9))`` outcomes of the corrected OPDC on one binary image.

    Stage 1: among pairs with IoU >= overlap, a maximum matching of minimal distance; stage 2: among the
    leftovers, pairs at distance < distance, again maximum and of minimal distance. Brute force; ties give
    several outcomes.
    """
    pl = measure.label(pred_bin, connectivity=2)
    gl = measure.label(gt, connectivity=2)
    pp, gp = measure.regionprops(pl), measure.regionprops(gl)
    m, n = len(gp), len(pp)
    if m == 0 or n == 0:
        return {(0, n, m, int(sum(r.area for r in pp)), 0.0)}
    dist, iou = {}, {}
    for i, g in enumerate(gp):
        for j, p in enumerate(pp):
            dist[i, j] = float(np.linalg.norm(np.array(g.centroid) - np.array(p.centroid)))
            inter = int(np.count_nonzero((gl == g.label) & (pl == p.label)))
            iou[i, j] = inter / (g.area + p.area - inter) if inter else 0.0
    outcomes = set()
    stage1 = [e for e in dist if iou[e] >= overlap]
    for s1 in _best(stage1, dist):
        used_r = {e[0] for e in s1}
        used_c = {e[1] for e in s1}
        stage2 = [e for e in dist if e[0] not in used_r and e[1] not in used_c and dist[e] < distance]
        for s2 in _best(stage2, dist):
            pairs = list(s1) + list(s2)
            cols = {e[1] for e in pairs}
            fp_area = sum(pp[j].area for j in range(n) if j not in cols)
            tp = len(pairs)
            outcomes.add((tp, n - tp, m - tp, int(fp_area), round(sum(iou[e] for e in pairs), 9)))
    return outcomes
