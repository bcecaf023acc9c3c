"""The torchmetrics integration inside a real Lightning ``validate`` run, written as docs/training.md shows
it: the Result computed at the end of the epoch equals ``hse.evaluate`` on the same maps, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import hse

torch = pytest.importorskip("torch", reason="needs the torch extra (pip install 'hse[torch]')")
pytest.importorskip("torchmetrics", reason="needs the torch extra (pip install 'hse[torch]')")
L = pytest.importorskip("lightning", reason="needs the dev extra (pip install 'hse[dev]'), which has Lightning")

from torch.utils.data import DataLoader, Dataset  # noqa: E402

from hse.integrations.torchmetrics import HSE  # noqa: E402

N_IMAGES = 13  # batches of 4: the last one is short


class LogitMaps(Dataset):
    """(image, mask, index) with the 'image' already a logit map, so the network can be a fixed 1x1 conv."""

    def __init__(self) -> None:
        rng = np.random.default_rng(5)
        self.masks = np.zeros((N_IMAGES, 1, 24, 24), dtype=np.uint8)
        for i in range(N_IMAGES):
            for _ in range(1 + i % 3):
                r, c = rng.integers(0, 21, 2)
                self.masks[i, 0, r : r + 3, c : c + 3] = 1
        self.images = (rng.normal(-3.0, 1.5, self.masks.shape) + 5.0 * self.masks).astype(np.float32)

    def __len__(self) -> int:
        return N_IMAGES

    def __getitem__(self, i: int):
        return torch.from_numpy(self.images[i]), torch.from_numpy(self.masks[i]), i


class Module(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Conv2d(1, 1, 1)
        with torch.no_grad():  # a fixed network: logits = 2 x - 1
            self.net.weight.fill_(2.0)
            self.net.bias.fill_(-1.0)
        self.val_hse = HSE(from_logits=True)
        self.results: list[hse.Result] = []

    def validation_step(self, batch, batch_idx):
        images, masks, indexes = batch
        self.val_hse.update(self.net(images), masks, indexes=indexes)

    def on_validation_epoch_end(self):
        result = self.val_hse.compute()
        row = result.at(0.5)
        self.log_dict({"val/hse": result.hse, "val/pd": float(row["pd"])})
        self.results.append(result)
        self.val_hse.reset()


def test_validate_gives_hse_evaluate(tmp_path):
    data = LogitMaps()
    module = Module()
    trainer = L.Trainer(
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=tmp_path,
    )  # fmt: skip
    logged = trainer.validate(module, DataLoader(data, batch_size=4), verbose=False)
    trainer.validate(module, DataLoader(data, batch_size=5), verbose=False)  # reset() between epochs

    with torch.no_grad():
        probs = torch.sigmoid(module.net(torch.from_numpy(data.images))).numpy()
    reference = hse.evaluate(list(probs[:, 0]), list(data.masks[:, 0]))
    assert len(module.results) == 2
    for result in module.results:
        assert result.n_images == N_IMAGES
        assert result.to_json() == reference.to_json()
    assert logged[0]["val/hse"] == pytest.approx(reference.hse, rel=1e-6)
    assert logged[0]["val/pd"] == pytest.approx(float(reference.at(0.5)["pd"]), rel=1e-6)
