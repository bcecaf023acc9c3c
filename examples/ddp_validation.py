"""Validate with HSE under torch.distributed (DDP): every rank gets the single-process numbers.

Each of ``--world-size`` processes (gloo, CPU) scores its ``DistributedSampler`` share of the validation
set with ``hse.integrations.torchmetrics.HSE``; ``compute()`` gathers all ranks' per-image counters,
drops the images the sampler repeated to even out the shares, and returns the Result of the whole set,
identical to ``hse.evaluate`` in one process (docs/training.md). Runs in seconds:

    python examples/ddp_validation.py --world-size 3
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DataLoader, Dataset, DistributedSampler

import hse
from hse.demo import make_demo
from hse.integrations.torchmetrics import HSE

N_VAL = 10  # not a multiple of 3 or 4: the sampler pads the last shares with repeated images


class ValSet(Dataset):
    """Saved prediction maps and masks as (prediction, mask, index)."""

    def __init__(self) -> None:
        _, self.preds, self.masks = make_demo(n_images=N_VAL, size=32, seed=4)

    def __len__(self) -> int:
        return N_VAL

    def __getitem__(self, i: int):
        return torch.from_numpy(self.preds[i])[None], torch.from_numpy(self.masks[i])[None], i


def run(rank: int, world: int, rendezvous: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    data = ValSet()
    loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, shuffle=False))
    metric = HSE()  # under DDP with the nccl backend: HSE().to(f"cuda:{rank}")
    for preds, masks, indexes in loader:  # in a real loop: preds = model(images).sigmoid()
        metric.update(preds, masks, indexes=indexes)
    result = metric.compute()  # synchronised: the same on every rank
    single = hse.evaluate(data.preds, data.masks)
    assert result.to_json() == single.to_json(), "ranks must agree with a single process"
    for turn in range(world):  # one rank prints at a time, so the lines never interleave
        if turn == rank:
            print(f"rank {rank}: {len(loader.sampler)} images here, HSE {result.hse:.6f} over "
                  f"{result.n_images} images (single process: {single.hse:.6f})", flush=True)  # fmt: skip
        dist.barrier()
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world-size", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(run, args=(args.world_size, str(Path(tmp) / "rendezvous")), nprocs=args.world_size)


if __name__ == "__main__":
    main()
