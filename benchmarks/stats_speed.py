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

import numpy as np
from timing import best_of

import hse
from hse.demo import synthetic_counters
from hse.result import Result


def synthetic_result(n_images: int, seed: int = 0, quality: float = 0.0) -> Result:
    """A Result over plausible random counters (see :func:`hse.demo.synthetic_counters`)."""
    state = synthetic_counters(n_images, np.random.default_rng(seed), quality)
    return Result(state, hse.EvalConfig.create().settings())


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
