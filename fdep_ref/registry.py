"""A small registry of base segmentation networks (timm-like).

Base networks register themselves with :func:`register_base` (kept in :mod:`fdep_ref._bases`,
which imports nothing, so that the network modules and this one form no import cycle); importing
:mod:`fdep_ref.models` registers the built-in ones. :func:`build_base` constructs one by name and
optionally loads published weights strictly::

    from fdep_ref.registry import build_base, list_bases
    net = build_base("acm", weights="../shared/checkpoints/lesps/ACM_full.pth.tar").eval()

Every registered network follows the encoder/decoder contract documented in
:mod:`fdep_ref.models`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fdep_ref import _bases
from fdep_ref._bases import register_base


def _ensure_builtin() -> None:
    # Importing the package registers the built-in networks (ACM, ALCNet); it needs torch, so not at
    # import time of this module.
    import fdep_ref.models  # noqa: F401


def list_bases() -> list[str]:
    """Names of all registered base networks, sorted."""
    _ensure_builtin()
    return sorted(_bases._REGISTRY)


def build_base(name: str, weights: str | Path | None = None, **kwargs: Any):
    """Build the base network ``name``; with ``weights``, load that checkpoint strictly.

    ``weights`` is a path to a PyTorch checkpoint: either a bare state dict or a dict holding one
    under ``'state_dict'`` (as the LESPS releases do); a leading ``model.`` on the keys is stripped.
    Any missing, unexpected or mis-shaped key raises an error naming the file and the keys.
    """
    _ensure_builtin()
    key = name.lower()
    table = _bases._REGISTRY
    if key not in table:
        raise KeyError(f"unknown base network {name!r}; known: {', '.join(sorted(table))}")
    net = table[key](**kwargs)
    if weights is not None:
        from fdep_ref.models.common import load_checkpoint

        load_checkpoint(net, weights)
    return net


__all__ = ["build_base", "list_bases", "register_base"]
