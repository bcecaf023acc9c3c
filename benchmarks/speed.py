"""Speed of hse against pyirstdmetrics 1.0.2, side by side in one run, reported as ratios.

    python benchmarks/speed.py            # the full run (100 images of 256x256; 512x512 sweep)
    python benchmarks/speed.py --quick    # fewer images, same measurements

Measurements (targets from the project's issue on the metric core):
  (a) Pd/Fa at the peer's 10 thresholds (linspace(0, 1, 10, endpoint=False)): hse vs the peer's
      ProbabilityDetectionAndFalseAlarmRate(num_bins=10), values checked identical; target >= 50x.
  (b) hse's full 19-threshold evaluation (pixel + target level, HSE) vs the peer's Pd/Fa at ONE
      threshold; target: hse no slower (ratio >= 1).
  (c) 512x512 images with 1..128 targets: hse's time per image should stay nearly flat.
Noisy maps (benchmarks/synthetic.py: make_noisy_set; blurred disk targets, false blobs, |N(0, 0.05)| noise
on every pixel, so the lowest thresholds see one huge component), see noisy.py:
  (d) Pd/Fa at the peer's 10 thresholds, values asserted identical; target >= 100x;
  (e) hse's whole default evaluation of an image vs one scipy.ndimage.label at one threshold; target <= 3x;
  (f) time per pixel, 2048x2048 vs 256x256; target <= 1.3x;  (g) 1 -> 256 targets on 512x512; <= 1.5x;
  (h) peak memory per pixel of one image's reduction;  and the per-stage profile.
Times are best-of-N wall-clock seconds; the numba kernels are compiled (or loaded from their cache) before
timing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import make_set  # noqa: E402
from timing import best_of  # noqa: E402

import hse  # noqa: E402


def peer_pd_fa(preds, masks, num_bins):
    from py_irstd_metrics import ProbabilityDetectionAndFalseAlarmRate

    metric = ProbabilityDetectionAndFalseAlarmRate(num_bins=num_bins)
    for p, m in zip(preds, masks, strict=True):
        metric.update(p, m)
    return metric.get()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="20 images and smaller sweeps")
    parser.add_argument("--repeat", type=int, default=3, help="hse repetitions (best of); the peer runs once")
    parser.add_argument("--only", choices=("speckled", "noisy"), help="run one of the two families")
    args = parser.parse_args(argv)
    ok = True
    if args.only != "noisy":
        ok &= speckled(args)
    if args.only != "speckled":
        from noisy import noisy

        ok &= noisy(args)
    return 0 if ok else 1


def speckled(args) -> bool:
    """(a)-(c) on the speckled maps of :func:`synthetic.make_set`."""
    n_images = 20 if args.quick else 100
    rows = []

    preds, masks = make_set(n_images, 256, (1, 3), seed=0)
    hse.evaluate(preds[:1], masks[:1])  # compile / load the numba cache outside the timings

    # (a) Pd/Fa at the peer's 10 thresholds.
    grid10 = np.linspace(0, 1, 10, endpoint=False)
    start = time.perf_counter()
    peer = peer_pd_fa(preds, masks, 10)
    t_peer10 = time.perf_counter() - start
    result = hse.evaluate(preds, masks, thresholds=grid10)
    t_hse10 = best_of(lambda: hse.evaluate(preds, masks, thresholds=grid10), args.repeat)
    curve = result.curve.set_index("threshold").loc[grid10]
    same = np.array_equal(curve["pd"].to_numpy(), peer["probability_detection"]) and np.allclose(
        curve["fa"].to_numpy(), peer["false_alarm"], rtol=1e-15, atol=0
    )
    rows.append(("(a) Pd/Fa, 10 thresholds, 256x256", t_peer10, t_hse10, 50.0, same))

    # (b) Full 19-threshold HSE vs the peer's Pd/Fa at one threshold.
    start = time.perf_counter()
    peer_pd_fa(preds, masks, 1)
    t_peer1 = time.perf_counter() - start
    t_hse19 = best_of(lambda: hse.evaluate(preds, masks), args.repeat)
    rows.append(("(b) hse 19-thr HSE vs peer Pd/Fa at 1 thr", t_peer1, t_hse19, 1.0, None))

    print(f"{n_images} images of 256x256, 1-3 targets each, speckled background\n")
    print(f"{'measurement':44s} {'peer s':>9s} {'hse s':>9s} {'ratio':>8s} {'target':>7s}  values")
    for name, tp, th, target, same in rows:
        flag = "" if same is None else ("identical" if same else "DIFFER")
        print(f"{name:44s} {tp:9.3f} {th:9.3f} {tp / th:7.1f}x {target:6.0f}x  {flag}")

    # (c) Cost against the number of targets on 512x512.
    print("\n(c) 512x512, time per image against targets per image")
    counts = (1, 8, 32, 128)
    n_big = 4 if args.quick else 10
    print(f"{'targets':>8s} {'hse ms/img':>11s} {'peer Pd/Fa@1 ms/img':>20s} {'ratio':>8s}")
    base = None
    for n_t in counts:
        p, m = make_set(n_big, 512, (n_t, n_t), seed=n_t)
        t_h = best_of(lambda p=p, m=m: hse.evaluate(p, m), args.repeat) / n_big
        start = time.perf_counter()
        peer_pd_fa(p[:2], m[:2], 1)
        t_p = (time.perf_counter() - start) / 2
        base = base or t_h
        print(
            f"{n_t:8d} {t_h * 1e3:11.2f} {t_p * 1e3:20.1f} {t_p / t_h:7.1f}x   (hse {t_h / base:.2f}x of 1 target)"
        )
    return all(r[4] in (None, True) for r in rows)


if __name__ == "__main__":
    raise SystemExit(main())
