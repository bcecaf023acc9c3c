"""Bad input gets a clear error naming the array; good input in any accepted form gives the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import hse
from hse import InputError


def _pair(seed=0, shape=(12, 10)):
    rng = np.random.default_rng(seed)
    return rng.random(shape), rng.random(shape) < 0.1


def test_shape_mismatch_names_both_shapes_and_the_image():
    pred, mask = _pair()
    with pytest.raises(InputError, match=r"'b'.*\(12, 10\).*\(10, 12\)"):
        hse.evaluate([pred, pred], [mask, mask.T], names=["a", "b"])
    with pytest.raises(InputError, match=r"image #1"):
        hse.evaluate([pred, pred], [mask, mask.T])


def test_resize_is_explicit_and_counted():
    pred, mask = _pair()
    big = np.kron(mask, np.ones((2, 2), bool))
    result = hse.evaluate([pred], [big], resize_masks="nearest")
    assert result.n_resized == 1
    assert result.hse == hse.evaluate([pred], [mask]).hse


@pytest.mark.parametrize(
    ("pred", "message"),
    [
        (np.full((4, 4), np.nan), "NaN or inf"),
        (np.full((4, 4), 1.5), r"outside \[0, 1\].*never clips"),
        (np.full((4, 4), -0.1), r"outside \[0, 1\]"),
        (np.zeros((4, 4), np.int64), "dtype int64"),
        (np.zeros((2, 4, 4)), "shape"),
        (np.zeros((0, 4)), "empty"),
    ],
)
def test_bad_predictions(pred, message):
    with pytest.raises(InputError, match=message):
        hse.evaluate(
            [pred], [np.zeros(pred.shape[-2:], bool)] if pred.ndim == 2 else [np.zeros((4, 4), bool)]
        )


def test_bad_masks_and_the_explicit_threshold():
    pred = np.zeros((4, 4))
    soft = np.array([[0, 128, 255, 0]] * 4, np.uint8)
    with pytest.raises(InputError, match=r"values \{0, 128, 255\}.*mask_threshold"):
        hse.evaluate([pred], [soft])
    result = hse.evaluate([pred], [soft], mask_threshold=127)
    assert result.n_targets == 1 and result.state.scalars["n_gt_pixels"][0] == 8
    with pytest.raises(InputError, match=r"float mask with values in \[0, 255\]"):
        hse.evaluate([pred], [soft.astype(float)])


def test_counts_and_empty_input():
    pred, mask = _pair()
    with pytest.raises(InputError, match="2 predictions but 1 masks"):
        hse.evaluate([pred, pred], [mask])
    with pytest.raises(InputError, match="different number"):
        hse.evaluate(iter([pred, pred]), iter([mask]))
    with pytest.raises(InputError, match="empty"):
        hse.evaluate([], [])
    with pytest.raises(InputError, match="thresholds must be strictly increasing"):
        hse.evaluate([pred], [mask], thresholds=[0.5, 0.2])
    with pytest.raises(InputError, match="match="):
        hse.evaluate([pred], [mask], match="hungarian")


def test_equivalent_input_forms_give_identical_results():
    rng = np.random.default_rng(1)
    pred8 = rng.integers(0, 256, (16, 16)).astype(np.uint8)
    mask8 = ((rng.random((16, 16)) < 0.1) * 255).astype(np.uint8)
    reference = hse.evaluate([pred8], [mask8]).to_dict()
    forms = [
        ([pred8 / 255.0], [mask8 > 0]),
        ([Image.fromarray(pred8)], [Image.fromarray(mask8)]),
        ([pred8[None]], [mask8[None, None]]),
        ([(pred8.astype(np.uint16) * 257)], [mask8 // 255]),  # u16 = u8 * 257 gives the same value u/255
        ([pred8 / 255.0], [mask8.astype(float) / 255]),
    ]
    for preds, masks in forms:
        assert hse.evaluate(preds, masks).to_dict()["curve"] == reference["curve"]


def test_values_on_a_threshold_are_not_above_it():
    # 204/255 is exactly 0.8 in float64, so it is not > 0.8; its float32 rounding (0.80000001) is.
    pred = np.full((3, 3), 204, np.uint8)
    mask = np.ones((3, 3), bool)
    assert hse.evaluate([pred], [mask]).at(0.8)["recall"] == 0.0
    assert hse.evaluate([pred.astype(np.float32) / np.float32(255)], [mask]).at(0.8)["recall"] == 1.0


def test_torch_tensors_are_accepted_by_duck_typing():
    torch = pytest.importorskip("torch")
    pred, mask = _pair(2)
    expected = hse.evaluate([pred], [mask]).hse
    got = hse.evaluate([torch.from_numpy(pred).float().unsqueeze(0)], [torch.from_numpy(mask)]).hse
    assert got == pytest.approx(expected)
    assert got == hse.evaluate([pred.astype(np.float32)], [mask]).hse


def test_metric_library_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, hse, numpy as np; hse.evaluate([np.zeros((4,4))],[np.zeros((4,4),bool)]); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_uint8_zero_one_prediction_warns_with_the_fix():
    """A hard {0, 1} uint8 map reads as 0 and 1/255: scored silently it would give IoU 0 and Pd 0."""
    import warnings

    from hse.errors import InputWarning
    from hse.validation import as_prediction

    hard = np.zeros((8, 8), np.uint8)
    hard[2:4, 2:4] = 1
    with pytest.warns(InputWarning, match=r"save it as \{0, 255\} or pass it as bool"):
        as_prediction(hard, "p.png")
    with pytest.warns(InputWarning, match="65535"):
        as_prediction(hard.astype(np.uint16), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_prediction(hard * 255, "ok")  # {0, 255}: the intended reading, no warning
        as_prediction(np.zeros((4, 4), np.uint8), "empty")  # an empty map is fine
        as_prediction(hard.astype(bool), "bool")


def test_float_mask_below_half_is_refused():
    from hse.validation import as_mask

    mask = np.zeros((8, 8))
    mask[3, 3] = 0.4
    with pytest.raises(InputError, match=r"largest value is 0.4 <= 0.5.*mask_threshold=0"):
        as_mask(mask, "m.npy")
    assert as_mask(mask, "m.npy", mask_threshold=0).sum() == 1
    assert as_mask(np.zeros((4, 4)), "empty").sum() == 0  # background-only frames stay valid


def test_uint8_zero_one_prediction_through_evaluate_warns():
    import hse

    pred = np.zeros((16, 16), np.uint8)
    pred[4:6, 4:6] = 1
    mask = np.zeros((16, 16), np.uint8)
    mask[4:6, 4:6] = 255
    with pytest.warns(hse.InputWarning):
        res = hse.evaluate([pred], [mask])
    assert res.at(0.5)["pd"] == 0.0  # the numbers are what the reading gives; the warning says why
