"""Input validation: turn whatever the caller passes into checked 2-D numpy arrays.

Accepted inputs are numpy arrays, torch tensors on any device (duck-typed: anything with
``detach``/``cpu``/``numpy``; torch is never imported), PIL images and file paths (read by
:func:`hse.io.read_image`). Nothing is ever resized, clipped or binarised silently: a value that does
not fit the documented conventions raises :class:`~hse.errors.InputError` naming the array.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from .errors import InputError, InputWarning


def describe(name: str | int | None, kind: str) -> str:
    """Human-readable name of an input for error messages, e.g. ``prediction 'Misc_1'``."""
    if name is None:
        return kind
    if isinstance(name, int):
        return f"{kind} #{name}"
    return f"{kind} {name!r}"


def to_numpy(x: Any, what: str) -> np.ndarray:
    """Convert an array-like (numpy, torch tensor, PIL image, path) to a numpy array, untouched."""
    if isinstance(x, (str, os.PathLike)):
        from .io import read_image  # I/O stays at the edge; imported only when a path is given

        return native_byte_order(read_image(x))
    if hasattr(x, "detach") and hasattr(x, "cpu") and hasattr(x, "numpy"):  # torch.Tensor
        return x.detach().cpu().numpy()
    if hasattr(x, "getbands") and hasattr(x, "mode"):  # PIL.Image.Image: the same rules as image files
        from .io import pil_to_array

        return native_byte_order(pil_to_array(x, what))
    try:
        return native_byte_order(np.asarray(x))
    except InputError:
        raise
    except Exception as exc:  # pragma: no cover - exotic objects
        raise InputError(f"{what} cannot be converted to an array: {exc}") from exc


def native_byte_order(arr: np.ndarray) -> np.ndarray:
    """The array in the machine's byte order (big-endian uint16 from some files is still uint16)."""
    if not arr.dtype.isnative:
        return arr.astype(arr.dtype.newbyteorder("="))
    return arr


def as_2d(arr: np.ndarray, what: str) -> np.ndarray:
    """Drop singleton batch/channel axes: (H, W), (1, H, W), (1, 1, H, W) and (H, W, 1) are accepted."""
    if arr.ndim == 2:
        return arr
    if arr.ndim == 3 and arr.shape[0] == 1:
        return arr[0]
    if arr.ndim == 3 and arr.shape[2] == 1:
        return arr[..., 0]
    if arr.ndim == 4 and arr.shape[0] == 1 and arr.shape[1] == 1:
        return arr[0, 0]
    raise InputError(
        f"{what} has shape {arr.shape}; expected one 2-D map (H, W) "
        "(a leading or trailing axis of size 1 is allowed). Pass one image at a time."
    )


def as_prediction(x: Any, name: str | int | None = None) -> np.ndarray:
    """Validate a prediction map.

    Conventions: float in [0, 1]; uint8 stands for ``u / 255`` and uint16 for ``u / 65535``; bool is a
    hard prediction. The array is returned in its own dtype (the integer dtypes are scaled lazily by the
    evaluators, which keeps 8-bit inputs exact and fast).

    Raises
    ------
    InputError
        For NaN/inf, floats outside [0, 1], signed or other integer dtypes, wrong number of axes, or an
        empty array.
    """
    what = describe(name, "prediction")
    arr = as_2d(to_numpy(x, what), what)
    if arr.size == 0:
        raise InputError(f"{what} is empty (shape {arr.shape})")
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype in (np.uint8, np.uint16):
        _warn_if_hard_zero_one(arr, what)
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        # min and max propagate NaN and show inf, so they also decide finiteness (two passes, not three)
        lo, hi = float(arr.min()), float(arr.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise InputError(
                f"{what} contains NaN or inf; predictions must be finite probabilities in [0, 1]"
            )
        if lo < 0.0 or hi > 1.0:
            raise InputError(
                f"{what} has values in [{lo:g}, {hi:g}], outside [0, 1]. hse never clips: pass probabilities "
                "(e.g. apply a sigmoid to logits), or an 8-bit/16-bit integer map"
            )
        return arr
    raise InputError(
        f"{what} has dtype {arr.dtype}; use float in [0, 1], uint8 (divided by 255), uint16 (divided by "
        "65535) or bool (a hard prediction)"
    )


def _warn_if_hard_zero_one(arr: np.ndarray, what: str) -> None:
    """Integer maps holding only {0, 1} are almost always hard masks saved without scaling."""
    if arr.max() == 1:
        top = 255 if arr.dtype == np.uint8 else 65535
        warnings.warn(
            f"{what} is {arr.dtype} with values {{0, 1}}; integer maps are read as u / {top}, so its "
            f"foreground is 1/{top} and lies below every threshold (IoU 0, Pd 0). If it is a hard "
            f"prediction, save it as {{0, {top}}} or pass it as bool (pred.astype(bool))",
            InputWarning,
            stacklevel=3,
        )


def prediction_as_float(pred: np.ndarray) -> np.ndarray:
    """The prediction as float64 probabilities (uint8 / 255, uint16 / 65535, bool as 0/1)."""
    if pred.dtype == np.uint8:
        return pred / 255.0
    if pred.dtype == np.uint16:
        return pred / 65535.0
    return pred.astype(np.float64, copy=False)


def as_mask(x: Any, name: str | int | None = None, mask_threshold: float | None = None) -> np.ndarray:
    """Validate a ground-truth mask and return it as bool.

    A target pixel is ``G > 0`` for integer masks and ``G > 0.5`` for float masks. An integer mask may only
    hold the values {0, max}; anything else (anti-aliased or JPEG-damaged masks) is an error unless
    ``mask_threshold`` is given, in which case the target pixels are ``G > mask_threshold`` in the mask's own
    units.
    """
    what = describe(name, "mask")
    arr = as_2d(to_numpy(x, what), what)
    if arr.size == 0:
        raise InputError(f"{what} is empty (shape {arr.shape})")
    if arr.dtype == np.bool_:
        return arr
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise InputError(f"{what} contains NaN or inf")
    if mask_threshold is not None:
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise InputError(f"{what} has dtype {arr.dtype}; expected an integer, float or bool mask")
        return arr > mask_threshold
    if np.issubdtype(arr.dtype, np.integer):
        values = np.unique(arr)
        top = values[-1]
        if values[0] < 0:
            raise InputError(
                f"{what} holds negative values (min {values[0]}); an integer mask holds 0 (background) and one "
                "positive value (target), or pass mask_threshold="
            )
        if not np.all((values == 0) | (values == top)):
            shown = ", ".join(str(v) for v in values[:8]) + (", ..." if values.size > 8 else "")
            raise InputError(
                f"{what} holds the values {{{shown}}}; an integer mask must hold only 0 and one other value. "
                "Pass mask_threshold= (CLI: --mask-threshold) to binarise it explicitly"
            )
        return arr > 0
    if np.issubdtype(arr.dtype, np.floating):
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise InputError(
                f"{what} is a float mask with values in [{lo:g}, {hi:g}]; float masks must lie in [0, 1] "
                "(target = value > 0.5), or pass mask_threshold="
            )
        if 0.0 < hi <= 0.5:
            raise InputError(
                f"{what} is a float mask whose largest value is {hi:g} <= 0.5, so no pixel would be a target "
                "(float masks mark targets by value > 0.5). If its non-zero pixels are the targets, pass "
                "mask_threshold=0 (CLI: --mask-threshold 0); otherwise fix the mask's scale"
            )
        return arr > 0.5
    raise InputError(f"{what} has dtype {arr.dtype}; expected an integer, float or bool mask")


def mask_as_float(raw: np.ndarray) -> np.ndarray | None:
    """The BasicIRSTD view of a raw 2-D mask: ``mask / 255`` for uint8 masks (None otherwise).

    BasicIRSTD reads 8-bit masks as float ``mask / 255`` and treats the values 255, >= 128 and >= 1
    differently (see docs/compat.md); for {0, 255} masks this equals the bool mask.
    """
    if raw.dtype == np.uint8:
        return raw / 255.0
    return None


def check_same_shape(pred: np.ndarray, mask: np.ndarray, name: str | int | None, files: str = "") -> None:
    """Raise a clear error when a prediction and its mask differ in shape (nothing is ever resized)."""
    if pred.shape != mask.shape:
        label = describe(name, "image")
        raise InputError(
            f"{label}{files}: prediction shape {pred.shape} (H, W) differs from mask shape {mask.shape}. "
            "hse never resizes silently; fix the data, or opt in with resize_masks='nearest' "
            "(CLI: --resize-masks nearest)"
        )


def resize_nearest(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a mask to ``shape`` (explicit opt-in only; sample at pixel centres)."""
    h, w = mask.shape
    rows = np.minimum(((np.arange(shape[0]) + 0.5) * h / shape[0]).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(shape[1]) + 0.5) * w / shape[1]).astype(np.int64), w - 1)
    return mask[np.ix_(rows, cols)]
