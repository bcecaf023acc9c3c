"""Validate with HSE inside a plain PyTorch training loop (docs/training.md).

A tiny network learns to segment the small targets of hse's synthetic demo set; after every epoch the
validation images are scored with ``hse.integrations.torchmetrics.HSE``, exactly as ``hse.evaluate``
would score the saved maps. Runs on the CPU in seconds:

    python examples/training_loop.py --epochs 8
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.data import DataLoader, Dataset

from hse.demo import make_demo
from hse.integrations.torchmetrics import HSE


class DemoSet(Dataset):
    """hse's synthetic images as (image, mask, index): the index is the image's place in the set."""

    def __init__(self, n: int, seed: int, size: int = 32) -> None:
        _, images, masks = make_demo(n_images=n, size=size, seed=seed)
        self.images = [torch.from_numpy(x).float()[None] for x in images]
        self.masks = [torch.from_numpy(m).float()[None] for m in masks]

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.images[i], self.masks[i], i


def tiny_net() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 1, 3, padding=1)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train = DataLoader(DemoSet(16, seed=1), batch_size=4, shuffle=True)
    val = DataLoader(DemoSet(8, seed=2), batch_size=4)
    model = tiny_net().to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    metric = HSE(from_logits=True).to(device)  # the network outputs logits

    for epoch in range(args.epochs):
        model.train()
        for images, masks, _ in train:
            images, masks = images.to(device), masks.to(device)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(images), masks)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

        model.eval()
        metric.reset()
        with torch.no_grad():
            for images, masks, indexes in val:
                metric.update(model(images.to(device)), masks.to(device), indexes=indexes)
        result = metric.compute()  # an hse.Result, as hse.evaluate returns
        row = result.at(0.5)
        print(
            f"epoch {epoch}: loss {loss.item():.4f}  HSE {result.hse:.4f}  "
            f"IoU {row['iou']:.4f}  Pd {row['pd']:.4f}  Fa {row['fa_1e6']:.1f}e-6"
        )


if __name__ == "__main__":
    main()
