"""Real torch.distributed: 2 and 3 gloo processes on CPU, each feeding its DistributedSampler share to
hse.integrations.torchmetrics.HSE; every rank's compute() must be the single-process hse.evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hse

torch = pytest.importorskip("torch", reason="needs the torch extra (pip install 'hse[torch]')")
pytest.importorskip("torchmetrics", reason="needs the torch extra (pip install 'hse[torch]')")

N_IMAGES = 7  # divides evenly by neither 2 nor 3: the sampler pads by repeating indexes


def _maps() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    masks = np.zeros((N_IMAGES, 12, 12), dtype=np.uint8)
    for i in range(N_IMAGES):
        for _ in range(1 + i % 2):
            r, c = rng.integers(0, 10, 2)
            masks[i, r : r + 2, c : c + 2] = 1
    preds = np.clip(rng.random(masks.shape) * 0.7 + masks * 0.4, 0, 1).astype(np.float32)
    return preds, masks


class _Pairs(torch.utils.data.Dataset):
    def __init__(self) -> None:
        self.preds, self.masks = _maps()

    def __len__(self) -> int:
        return N_IMAGES

    def __getitem__(self, i: int):
        return torch.from_numpy(self.preds[i])[None], torch.from_numpy(self.masks[i])[None], i


def _worker(rank: int, world: int, rendezvous: str, out_dir: str) -> None:
    import torch.distributed as dist
    from torch.utils.data import DataLoader, DistributedSampler

    from hse.errors import InputError
    from hse.integrations.torchmetrics import HSE

    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    try:
        report: dict = {}
        for shuffle in (False, True):
            sampler = DistributedSampler(_Pairs(), num_replicas=world, rank=rank, shuffle=shuffle, seed=3)
            loader = DataLoader(_Pairs(), batch_size=2, sampler=sampler)
            metric = HSE()
            seen = []
            for preds, masks, indexes in loader:
                metric.update(preds, masks, indexes=indexes)
                seen += indexes.tolist()
            report[f"shuffle={shuffle}"] = {"json": metric.compute().to_json(), "seen": seen}
        try:
            HSE().update(torch.zeros(1, 4, 4), torch.zeros(1, 4, 4))
            report["no_indexes"] = "accepted"
        except InputError as exc:
            report["no_indexes"] = str(exc)
        Path(out_dir, f"rank{rank}.json").write_text(json.dumps(report))
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("world", [2, 3])
def test_every_rank_computes_the_single_process_result(world, tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_worker, args=(world, str(tmp_path / "rendezvous"), str(tmp_path)), nprocs=world, join=True)
    preds, masks = _maps()
    want = hse.evaluate(list(preds), list(masks)).to_json()
    for rank in range(world):
        report = json.loads((tmp_path / f"rank{rank}.json").read_text())
        for shuffle in ("shuffle=False", "shuffle=True"):
            assert report[shuffle]["json"] == want, (rank, shuffle)
        assert "indexes=" in report["no_indexes"]
    seen = [
        i
        for r in range(world)
        for i in json.loads((tmp_path / f"rank{r}.json").read_text())["shuffle=True"]["seen"]
    ]
    assert len(seen) > N_IMAGES and sorted(set(seen)) == list(range(N_IMAGES))  # padding repeated some
