"""Reading weight files safely: the one place where ``fdep_ref`` opens a checkpoint.

A PyTorch checkpoint is a pickle, and unpickling can run any code the file names. Every weight file is
therefore read either as safetensors (plain tensors, no code) or with ``torch.load(weights_only=True)``,
whose unpickler only builds tensors, plain containers and numbers. The published checkpoints also hold a
few numpy scalars (an epoch counter, a loss value); those numpy types, and nothing else, are allowed on top
(:data:`ALLOWED_GLOBALS`). A file that needs anything more is refused with a message saying what it asked
for; it is never retried with the unsafe loader.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _allowed_globals() -> list[Any]:
    """numpy scalars and dtypes as pickled by numpy 1.x and 2.x (plain data, no callables of consequence)."""
    allowed: list[Any] = [np.dtype, np.ndarray]
    try:  # numpy >= 2 keeps the scalar reconstructor in numpy._core; pickles from numpy 1.x name numpy.core
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar  # type: ignore[no-redef]
    allowed += [scalar, _reconstruct]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name)
            for name in dir(dtypes)
            if name.endswith("DType") and isinstance(getattr(dtypes, name), type)
        ]
    return allowed


#: The globals (beyond torch's own weights-only set) that a weight file may reference.
ALLOWED_GLOBALS = _allowed_globals()


class UnsafeCheckpointError(RuntimeError):
    """A weight file that cannot be read without running code from it."""


def read_weights(path: str | Path) -> Any:
    """The object stored in a weight file, read without executing anything from it.

    Parameters
    ----------
    path : str or Path
        A ``.safetensors`` file, or a PyTorch checkpoint (``.pth``, ``.pth.tar``, ``.pt``, ``.pkl``, ...).

    Returns
    -------
    object
        A dict of tensors for safetensors; for PyTorch files whatever they hold (tensors, dicts, lists,
        numbers, strings, numpy scalars).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    UnsafeCheckpointError
        The file needs objects beyond tensors, containers and numpy scalars (e.g. a class or a function):
        it is refused, not loaded. Re-save its ``state_dict()`` (or as safetensors) from a trusted session.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights not found: {path} (weights are never downloaded; give a local file)")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path), device="cpu")
    try:
        with torch.serialization.safe_globals(ALLOWED_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsafeCheckpointError(
            f"{path}: refused to load: the file asks for more than tensors, containers and numpy scalars "
            f"({reason}). Loading it would run code named by the file. If you trust it, re-save its "
            "state_dict() (or a .safetensors file) in a trusted session and load that."
        ) from None
    except (RuntimeError, EOFError, ValueError) as exc:
        raise UnsafeCheckpointError(f"{path}: not a readable PyTorch checkpoint ({exc})") from None
