"""An independent, deliberately plain reference of hse's definitions (loops, skimage, one threshold at a time).

It follows the toolbox code's logic literally (binarise with ``>``, skimage ``label``/``regionprops`` with
8-connectivity, the greedy first-match loop, ``np.linalg.norm``), so that the fast code in ``hse`` is
checked against something written a different way.
"""

from __future__ import annotations

import numpy as np
from skimage import measure


def as_float(pred: np.ndarray) -> np.ndarray:
    if pred.dtype == np.uint8:
        return pred.astype(np.float64) / 255.0
    if pred.dtype == np.uint16:
        return pred.astype(np.float64) / 65535.0
    return pred.astype(np.float64)


def reference_threshold(pred, mask, t, radius=3.0, rule="greedy"):
    """Counters of one image at one threshold, by the book."""
    p = as_float(pred)
    binary = p > t
    gt = measure.regionprops(measure.label(mask.astype(int), connectivity=2))
    comps = measure.regionprops(measure.label(binary.astype(int), connectivity=2))
    if rule == "greedy":
        used = [False] * len(comps)
        matched_ids = []
        for g in gt:
            for j, c in enumerate(comps):
                if used[j]:
                    continue
                if np.linalg.norm(np.asarray(c.centroid) - np.asarray(g.centroid)) < radius:
                    used[j] = True
                    matched_ids.append(j)
                    break
        matched = len(matched_ids)
    else:
        matched = brute_force_max_matching(gt, comps, radius)
        matched_ids = None
    out = {
        "pix_tp": int(np.sum(binary & mask)),
        "pix_fp": int(np.sum(binary & ~mask)),
        "tgt_matched": matched,
        "tgt_components": len(comps),
        "n_targets": len(gt),
    }
    if matched_ids is not None:
        out["tgt_matched_area"] = int(sum(comps[j].area for j in matched_ids))
    return out


def brute_force_max_matching(gt, comps, radius):
    """Size of a maximum one-to-one matching among admissible pairs (Kuhn's augmenting paths)."""
    admissible = [
        [
            j
            for j, c in enumerate(comps)
            if np.linalg.norm(np.asarray(c.centroid) - np.asarray(g.centroid)) < radius
        ]
        for g in gt
    ]
    owner = {}

    def augment(g, seen):
        for j in admissible[g]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = g
                return True
        return False

    return sum(augment(g, set()) for g in range(len(gt)))


def reference_scores(preds, masks, grid, radius=3.0):
    """Dataset-level curve by the definitions in docs/metrics.md, one threshold at a time."""
    rows = []
    for t in grid:
        per = [reference_threshold(p, m, t, radius) for p, m in zip(preds, masks, strict=True)]
        tp = sum(x["pix_tp"] for x in per)
        fp = sum(x["pix_fp"] for x in per)
        gt_pix = sum(int(m.sum()) for m in masks)
        n_pix = sum(m.size for m in masks)
        ious = []
        for x, m in zip(per, masks, strict=True):
            union = x["pix_fp"] + int(m.sum())
            ious.append(1.0 if union == 0 else x["pix_tp"] / union)
        matched = sum(x["tgt_matched"] for x in per)
        n_t = sum(x["n_targets"] for x in per)
        comps = sum(x["tgt_components"] for x in per)
        fa_pix = sum(x["pix_tp"] + x["pix_fp"] - x["tgt_matched_area"] for x in per)
        t_fp, t_fn = comps - matched, n_t - matched
        rows.append(
            {
                "threshold": t,
                "iou": 1.0 if fp + gt_pix == 0 else tp / (fp + gt_pix),
                "niou": float(np.mean(ious)),
                "pd": 1.0 if n_t == 0 else matched / n_t,
                "fa": fa_pix / n_pix,
                "target_iou": 1.0 if matched + t_fp + t_fn == 0 else matched / (matched + t_fp + t_fn),
                "tp": matched,
                "fp": t_fp,
                "fn": t_fn,
            }
        )
    return rows
