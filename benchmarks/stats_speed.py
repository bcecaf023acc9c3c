"""Speed of hse.bootstrap and hse.compare on synthetic per-image counters.

    python benchmarks/stats_speed.py [--images 214] [--draws 1000] [--repeat 5]

The counters stand in for a scored NUAA-SIRST test split (214 images, the default 19-threshold grid);
no image is read or evaluated, since a bootstrap only reweights the counters. Prints the best of
``--repeat`` runs. Target: 1000 draws on 214 images well under a second.

The matrix products are small ((250 draws x 214 images) by (214 x 20) per counter), so on a machine
whose cores are busy with other work a multi-threaded BLAS spends most of the time waiting for its
threads; ``OPENBLAS_NUM_THREADS=1`` (or ``OMP_NUM_THREADS=1``) then gives the single-core time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import hse
from hse.result import Result
from hse.state import EvalState


def synthetic_result(n_images: int, seed: int = 0, quality: float = 0.0) -> Result:
    """A Result built from plausible random counters (64x64 images, 0 to 3 targets each)."""
    rng = np.random.default_rng(seed)
    settings = hse.EvalConfig.create().settings()
    t = np.asarray(settings["evaluation_grid"])[None, :]
    n = n_images
    n_targets = rng.integers(0, 4, n)
    n_gt = n_targets * rng.integers(4, 30, n)
    skill = np.clip(rng.beta(4, 2, n) + quality, 0, 1)[:, None]
    pix_tp = rng.binomial(n_gt[:, None], np.clip(skill * (1.2 - t), 0, 1))
    pix_fp = rng.poisson(rng.gamma(2.0, 15.0, n)[:, None] * (1.0 - t) ** 2)
    matched = rng.binomial(n_targets[:, None], np.clip(skill * (1.3 - 0.6 * t), 0, 1))
    false_components = rng.poisson(rng.gamma(1.0, 0.8, n)[:, None] * (1.0 - t))
    matched_area = np.minimum(pix_tp + rng.binomial(pix_fp, 0.3), pix_tp + pix_fp)
    curves = {
        "pix_tp": pix_tp.astype(np.int64),
        "pix_fp": pix_fp.astype(np.int64),
        "tgt_matched": matched.astype(np.int64),
        "tgt_components": (matched + false_components).astype(np.int64),
        "tgt_matched_area": matched_area.astype(np.int64),
    }
    scalars = {
        "n_pixels": np.full(n, 64 * 64, np.int64),
        "n_gt_pixels": n_gt.astype(np.int64),
        "n_targets": n_targets.astype(np.int64),
        "height": np.full(n, 64, np.int64),
        "width": np.full(n, 64, np.int64),
    }
    return Result(EvalState([f"img{i}" for i in range(n)], curves, scalars), settings)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=214)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    a = synthetic_result(args.images, seed=1)
    b = synthetic_result(args.images, seed=1, quality=0.02)
    hse.bootstrap(a, n=10)  # warm up imports and caches
    t_boot = best_of(lambda: hse.bootstrap(a, n=args.draws, seed=0), args.repeat)
    t_cmp = best_of(lambda: hse.compare(a, b, n=args.draws, seed=0), args.repeat)
    print(f"bootstrap: {args.draws} draws on {args.images} images: {t_boot * 1000:.1f} ms")
    print(f"compare:   {args.draws} paired draws on {args.images} images: {t_cmp * 1000:.1f} ms")


if __name__ == "__main__":
    main()
