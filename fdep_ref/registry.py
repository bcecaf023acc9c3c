"""A small registry of base segmentation networks (timm-like).

Base networks register themselves with :func:`register_base`; :func:`build_base` constructs one by
name and optionally loads published weights strictly::

    from fdep_ref.registry import build_base, list_bases
    net = build_base("acm", weights="../shared/checkpoints/lesps/ACM_full.pth.tar").eval()

Every registered network follows the encoder/decoder contract documented in
:mod:`fdep_ref.models`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

_REGISTRY: dict[str, Callable[..., Any]] = {}


def register_base(name: str | Callable[..., Any] | None = None):
    """Register a base-network factory (a class or a function returning an ``nn.Module``).

    Use as ``@register_base`` (registered under the lower-cased ``__name__``) or
    ``@register_base("name")``. Registering a different factory under a taken name is an error.
    """

    def _add(factory: Callable[..., Any], key: str) -> Callable[..., Any]:
        key = key.lower()
        old = _REGISTRY.get(key)
        if old is not None and old is not factory:
            raise ValueError(f"a base network named {key!r} is already registered ({old!r})")
        _REGISTRY[key] = factory
        return factory

    if callable(name):
        return _add(name, name.__name__)

    def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
        return _add(factory, name if name is not None else factory.__name__)

    return deco


def _ensure_builtin() -> None:
    # Importing the package registers the built-in networks (ACM, ALCNet).
    import fdep_ref.models  # noqa: F401


def list_bases() -> list[str]:
    """Names of all registered base networks, sorted."""
    _ensure_builtin()
    return sorted(_REGISTRY)


def build_base(name: str, weights: str | Path | None = None, **kwargs: Any):
    """Build the base network ``name``; with ``weights``, load that checkpoint strictly.

    ``weights`` is a path to a PyTorch checkpoint: either a bare state dict or a dict holding one
    under ``'state_dict'`` (as the LESPS releases do); a leading ``model.`` on the keys is stripped.
    Any missing, unexpected or mis-shaped key raises an error naming the file and the keys.
    """
    _ensure_builtin()
    key = name.lower()
    if key not in _REGISTRY:
        raise KeyError(f"unknown base network {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    net = _REGISTRY[key](**kwargs)
    if weights is not None:
        from fdep_ref.models.common import load_checkpoint

        load_checkpoint(net, weights)
    return net


__all__ = ["build_base", "list_bases", "register_base"]
