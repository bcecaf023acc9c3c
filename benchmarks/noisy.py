"""The noisy-map measurements of benchmarks/speed.py: (d)-(h) and the per-stage profile.

    python benchmarks/speed.py --only noisy [--quick]

Maps from :func:`synthetic.make_noisy_set` (a weak network's output: about a third of the pixels above
0.05). Every ratio is measured in this run, hse and its peer side by side; values are asserted identical.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage
from synthetic import make_noisy_set
from timing import best_of

import hse
from hse.reduce.image import evaluate_image
from hse.reduce.pixel import level_histograms, pixel_counts_from_histograms
from hse.reduce.target import find_targets, target_counts
from hse.validation import as_mask, as_prediction

EIGHT = np.ones((3, 3), dtype=bool)
GRID10 = np.linspace(0, 1, 10, endpoint=False)


def per_image(fn, items, repeat):
    """Best-of-``repeat`` time of ``fn`` over all items, per item (seconds)."""
    return best_of(lambda: [fn(*x) for x in items], repeat) / len(items)


def label_once(pred, threshold=0.5):
    """The yardstick: one scipy.ndimage.label (8-connectivity) of the map binarised at one threshold."""
    return ndimage.label(pred > threshold, structure=EIGHT)


def peer_vs_hse_10(preds, masks, repeat):
    """(d): seconds per image of the peer and of hse at the peer's 10 thresholds; values asserted equal."""
    from speed import peer_pd_fa

    start = time.perf_counter()
    peer = peer_pd_fa(preds, masks, 10)
    t_peer = (time.perf_counter() - start) / len(preds)
    result = hse.evaluate(preds, masks, thresholds=GRID10)
    t_hse = best_of(lambda: hse.evaluate(preds, masks, thresholds=GRID10), repeat) / len(preds)
    curve = result.curve.set_index("threshold").loc[GRID10]
    assert np.array_equal(curve["pd"].to_numpy(), peer["probability_detection"]), "Pd differs from the peer"
    assert np.allclose(curve["fa"].to_numpy(), peer["false_alarm"], rtol=1e-15, atol=0), "Fa differs"
    return t_peer, t_hse


def stage_profile(preds, masks, repeat) -> dict[str, float]:
    """Microseconds per image of each stage of the default evaluation, and of the yardstick."""
    config = hse.EvalConfig.create()
    grid = config.evaluation_grid
    pairs = list(zip(preds, masks, strict=True))
    levels = [level_histograms(p, m, grid) for p, m in pairs]
    targets = [find_targets(m) for m in masks]
    k = grid.size
    swept = [(lv, h, t) for (lv, h, _), t in zip(levels, targets, strict=True)]
    us = {
        "validation": per_image(lambda p, m: (as_prediction(p), as_mask(m)), pairs, repeat),
        "levels + pixel histograms": per_image(lambda p, m: level_histograms(p, m, grid), pairs, repeat),
        "pixel counts": per_image(lambda lv, h, hg: pixel_counts_from_histograms(h, hg), levels, repeat),
        "GT targets": per_image(lambda m: find_targets(m), [(m,) for m in masks], repeat),
        "sweep + greedy matching": per_image(
            lambda lv, h, t: target_counts(lv, t, k, config.radius, hist=h), swept, repeat
        ),
        "evaluate_image": per_image(lambda p, m: evaluate_image(p, m, config), pairs, repeat),
        "hse.evaluate, per image": best_of(lambda: hse.evaluate(preds, masks), repeat) / len(preds),
        "one ndimage.label at 0.5": per_image(label_once, [(p,) for p in preds], repeat),
        "one ndimage.label, binary given": per_image(
            lambda b: ndimage.label(b, structure=EIGHT), [(p > 0.5,) for p in preds], repeat
        ),
    }
    return {k: v * 1e6 for k, v in us.items()}


MEMORY_SCRIPT = """
import json, sys, tracemalloc
import numpy as np
sys.path.insert(0, {bench!r})
from synthetic import make_noisy_pair
import hse
from hse.reduce.image import evaluate_image
config = hse.EvalConfig.create()
evaluate_image(*make_noisy_pair(np.random.default_rng(0), 32), config)  # load the kernels
pred, mask = np.load({pred!r}), np.load({mask!r})
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak resident set (VmHWM) to the current one
before = status("VmRSS")
tracemalloc.start()
evaluate_image(pred, mask, config)
_, peak = tracemalloc.get_traced_memory()
after = status("VmHWM")
print(json.dumps({{"resident": (after - before) / pred.size, "traced": peak / pred.size}}))
"""


def memory_per_pixel(size: int) -> dict[str, float]:
    """(h): peak bytes per pixel of one image's reduction, in a fresh process.

    ``resident``: growth of the peak resident set (VmHWM, reset before the call; Linux) over the loaded inputs (all allocations: levels,
    histograms, the sweep's work space, kernels' temporaries); ``traced``: peak of the allocations that
    tracemalloc sees (numpy's and numba's arrays). The inputs are read from .npy files, so that the
    generator's temporaries do not set the peak beforehand.
    """
    import tempfile

    from synthetic import make_noisy_pair

    pred, mask = make_noisy_pair(np.random.default_rng(5), size)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/pred.npy", pred)
        np.save(f"{tmp}/mask.npy", mask)
        code = MEMORY_SCRIPT.format(
            bench=str(Path(__file__).resolve().parent), pred=f"{tmp}/pred.npy", mask=f"{tmp}/mask.npy"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def noisy(args) -> bool:
    """Run (d)-(h) and the profile; print every ratio against its goal."""
    quick = args.quick
    repeat = args.repeat
    preds, masks = make_noisy_set(10 if quick else 40, 256, seed=1)
    hse.evaluate(preds[:1], masks[:1])  # compile / load the numba caches outside the timings
    frac = float(np.mean([np.mean(p > 0.05) for p in preds]))
    print(f"\nNoisy maps: {len(preds)} images of 256x256, {frac:.0%} of pixels above 0.05\n")
    rows = []

    t_peer, t_hse = peer_vs_hse_10(preds, masks, repeat)
    rows.append(("(d) Pd/Fa at 10 thresholds, peer / hse", t_peer / t_hse, ">= 100x", t_peer / t_hse >= 100))

    prof = stage_profile(preds, masks, repeat)
    label = prof["one ndimage.label at 0.5"]
    whole = prof["hse.evaluate, per image"] / label
    core = prof["evaluate_image"] / label
    rows.append(("(e) hse.evaluate per image / one label", whole, "<= 3x", whole <= 3))
    rows.append(("    evaluate_image / one label", core, "<= 3x", core <= 3))

    big_p, big_m = make_noisy_set(1 if quick else 2, 2048, seed=2)
    t_big = best_of(lambda: hse.evaluate(big_p, big_m), repeat) / (len(big_p) * 2048**2)
    t_small = prof["hse.evaluate, per image"] * 1e-6 / 256**2
    rows.append(("(f) per pixel, 2048^2 / 256^2", t_big / t_small, "<= 1.3x", t_big / t_small <= 1.3))

    n_img = 3 if quick else 8
    one = make_noisy_set(n_img, 512, (1, 1), seed=3)
    many = make_noisy_set(n_img, 512, (256, 256), seed=4)
    t_one = best_of(lambda: hse.evaluate(*one), repeat)
    t_many = best_of(lambda: hse.evaluate(*many), repeat)
    rows.append(("(g) 256 / 1 targets on 512^2", t_many / t_one, "<= 1.5x", t_many / t_one <= 1.5))

    mem = memory_per_pixel(2048)
    print(f"{'measurement':44s} {'ratio':>8s} {'goal':>9s}")
    for name, ratio, goal, met in rows:
        print(f"{name:44s} {ratio:7.2f}x {goal:>9s}  {'met' if met else 'NOT met'}")
    print(f"(d) peer {t_peer * 1e3:.1f} ms/img, hse {t_hse * 1e3:.2f} ms/img; values identical (asserted)")
    print(
        f"(h) peak memory of one 2048x2048 reduction: {mem['resident']:.1f} B/px resident, "
        f"{mem['traced']:.1f} B/px traced allocations (inputs not counted: 8 B/px float64 map + 1 B/px mask)"
    )
    print("\nper-stage profile, us per 256x256 image (default 19 thresholds, greedy)")
    for name, value in prof.items():
        print(f"  {name:36s} {value:9.0f}")
    return True
