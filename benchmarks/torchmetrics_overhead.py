"""Cost of the torchmetrics integration against plain ``hse.evaluate`` on the same maps, as a ratio.

    python benchmarks/torchmetrics_overhead.py            # 64 images of 256x256, batches of 16
    python benchmarks/torchmetrics_overhead.py --quick    # 16 images

Both paths run hse's per-image reduction; the integration adds the batch's device-to-host transfer
(here CPU tensors, so a view), the logits check, the state tensors and, in ``compute()``, the sort and
deduplication by index. The two Results are checked identical before anything is reported. With
``--device cuda`` the batches start on the GPU (the transfer is then included). Times are best-of-N
wall-clock seconds, numba compiled before timing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import make_set  # noqa: E402
from timing import best_of  # noqa: E402

import hse  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="16 images instead of 64")
    parser.add_argument("--batch", type=int, default=16, help="images per batch")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (best of)")
    parser.add_argument("--device", default="cpu", help="where the batches start (cpu, cuda)")
    args = parser.parse_args(argv)

    import torch

    from hse.integrations.torchmetrics import HSE

    n = 16 if args.quick else 64
    preds, masks = make_set(n, 256, (1, 3), seed=0)
    preds = [np.asarray(p, dtype=np.float32) for p in preds]
    masks = [np.asarray(m, dtype=bool) for m in masks]
    hse.evaluate(preds[:1], masks[:1])  # compile / load the numba cache outside the timings
    p_t = torch.from_numpy(np.stack(preds)).to(args.device)
    m_t = torch.from_numpy(np.stack(masks)).to(args.device)

    def plain():
        return hse.evaluate(preds, masks)

    def integration():
        metric = HSE().to(args.device)
        for start in range(0, n, args.batch):
            idx = torch.arange(start, min(start + args.batch, n))
            metric.update(p_t[start : start + args.batch], m_t[start : start + args.batch], indexes=idx)
        return metric.compute()

    if plain().to_json() != integration().to_json():
        raise SystemExit("the integration's Result differs from hse.evaluate's")
    t_plain = best_of(plain, args.repeat)
    t_int = best_of(integration, args.repeat)
    print(f"{n} images of 256x256, batches of {args.batch}, tensors on {args.device}")
    print(f"  hse.evaluate (numpy arrays)       {t_plain * 1e3 / n:8.2f} ms/image")
    print(f"  torchmetrics HSE (update+compute) {t_int * 1e3 / n:8.2f} ms/image")
    print(f"  ratio integration / plain         {t_int / t_plain:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
