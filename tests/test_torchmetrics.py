"""hse.integrations.torchmetrics.HSE against hse.evaluate on the same maps: identical Results."""

from __future__ import annotations

import numpy as np
import pytest

import hse
from hse.errors import InputError

torch = pytest.importorskip("torch", reason="needs the torch extra (pip install 'hse[torch]')")
pytest.importorskip("torchmetrics", reason="needs the torch extra (pip install 'hse[torch]')")

from hse.integrations.torchmetrics import HSE  # noqa: E402


def _set(n: int = 11, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 1, 16, 16) probabilities and {0, 1} masks with small targets and some clutter."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, 1, 16, 16), dtype=np.uint8)
    for i in range(n):
        for _ in range(i % 3):
            r, c = rng.integers(0, 13, 2)
            masks[i, 0, r : r + 3, c : c + 2] = 1
    preds = np.clip(rng.random(masks.shape) * 0.7 + masks * rng.uniform(0.2, 0.6, (n, 1, 1, 1)), 0, 1)
    return torch.from_numpy(preds.astype(np.float32)), torch.from_numpy(masks)


PREDS, MASKS = _set()
REFERENCE = hse.evaluate([p[0].numpy() for p in PREDS], [m[0].numpy() for m in MASKS])


@pytest.mark.parametrize("squeeze", [False, True])
def test_batches_in_any_order_give_hse_evaluate(squeeze):
    metric = HSE()
    order = torch.tensor([7, 2, 9, 0, 4, 10, 1, 3, 8, 5, 6])
    for start in (0, 3, 4, 8):  # uneven batches
        stop = {0: 3, 3: 4, 4: 8, 8: 11}[start]
        rows = order[start:stop]
        p, m = PREDS[rows], MASKS[rows]
        if squeeze:
            p, m = p[:, 0], m[:, 0]
        metric.update(p, m.bool() if squeeze else m, indexes=rows)
    assert metric.compute().to_json() == REFERENCE.to_json()
    metric.reset()
    with (
        pytest.raises(InputError, match="no images"),
        pytest.warns(UserWarning, match="before the ``update``"),
    ):
        metric.compute()


def test_without_indexes_images_are_numbered_in_order():
    metric = HSE()
    for start in range(0, 11, 4):
        metric.update(PREDS[start : start + 4], MASKS[start : start + 4])
    assert metric.compute().to_json() == REFERENCE.to_json()


def test_forward_gives_the_batch_result_and_accumulates():
    metric = HSE()
    batch = metric(PREDS[:5], MASKS[:5], indexes=torch.arange(5))
    alone = hse.evaluate([p[0].numpy() for p in PREDS[:5]], [m[0].numpy() for m in MASKS[:5]])
    assert batch.to_json() == alone.to_json()
    second = metric(PREDS[5:], MASKS[5:], indexes=torch.arange(5, 11))
    assert second.n_images == 6
    assert metric.compute().to_json() == REFERENCE.to_json()


def test_settings_reach_the_evaluation():
    metric = HSE(thresholds=[0.2, 0.4, 0.6], threshold=0.4, match="optimal", radius=2.0)
    metric.update(PREDS, MASKS, indexes=list(range(11)))
    want = hse.evaluate([p[0].numpy() for p in PREDS], [m[0].numpy() for m in MASKS],
                        thresholds=[0.2, 0.4, 0.6], threshold=0.4, match="optimal", radius=2.0)  # fmt: skip
    assert metric.compute().to_json() == want.to_json()
    with pytest.raises(InputError, match="compat"):
        HSE(compat="basicirstd")


def test_logits_are_refused_unless_declared():
    logits = torch.logit(PREDS.double().clamp(1e-6, 1 - 1e-6))
    with pytest.raises(InputError, match=r"outside \[0, 1\].*from_logits=True"):
        HSE().update(logits, MASKS)
    metric = HSE(from_logits=True)
    metric.update(logits, MASKS)
    want = hse.evaluate([torch.sigmoid(x[0]).numpy() for x in logits], [m[0].numpy() for m in MASKS])
    assert metric.compute().to_json() == want.to_json()


def test_duplicates_count_once_and_conflicts_are_refused():
    metric = HSE()
    metric.update(PREDS[:6], MASKS[:6], indexes=torch.arange(6))
    metric.update(PREDS[5:], MASKS[5:], indexes=torch.arange(5, 11))  # image 5 again, identical
    metric.update(PREDS[:2], MASKS[:2], indexes=torch.arange(2))  # a padded last batch
    assert metric.compute().to_json() == REFERENCE.to_json()
    metric.update(PREDS[3:4], MASKS[3:4], indexes=[0])  # another image claims index 0
    with pytest.raises(InputError, match="index 0 .* different"):
        metric.compute()


def test_bad_batches_are_refused_clearly():
    metric = HSE()
    with pytest.raises(InputError, match=r"expected a batch \(N, H, W\)"):
        metric.update(PREDS[0, 0], MASKS[0, 0])
    with pytest.raises(InputError, match="same batch and map sizes"):
        metric.update(PREDS[:2], MASKS[:3])
    with pytest.raises(InputError, match="3 indexes for a batch of 2"):
        metric.update(PREDS[:2], MASKS[:2], indexes=[0, 1, 2])
    with pytest.raises(InputError, match="integers"):
        metric.update(PREDS[:2], MASKS[:2], indexes=torch.tensor([0.0, 1.0]))
    with pytest.raises(InputError, match="torch.Tensor"):
        metric.update(PREDS[:2].numpy(), MASKS[:2])
    with pytest.raises(InputError, match="NaN|nan"):
        metric.update(torch.full((1, 4, 4), float("nan")), torch.zeros(1, 4, 4))


def test_half_precision_and_uint8_inputs():
    metric = HSE()
    metric.update((PREDS * 255).round().to(torch.uint8), MASKS * 255, indexes=torch.arange(11))
    want = hse.evaluate([(p[0] * 255).round().to(torch.uint8).numpy() for p in PREDS],
                        [m[0].numpy() * 255 for m in MASKS])  # fmt: skip
    assert metric.compute().to_json() == want.to_json()
    half = HSE()
    half.update(PREDS.to(torch.bfloat16), MASKS, indexes=torch.arange(11))
    want = hse.evaluate(
        [p[0].to(torch.bfloat16).float().numpy() for p in PREDS], [m[0].numpy() for m in MASKS]
    )
    assert half.compute().to_json() == want.to_json()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_are_accepted():
    metric = HSE().to("cuda")
    for start in range(0, 11, 4):
        rows = torch.arange(start, min(start + 4, 11), device="cuda")
        metric.update(PREDS[start : start + 4].cuda(), MASKS[start : start + 4].cuda(), indexes=rows)
    assert metric.compute().to_json() == REFERENCE.to_json()
