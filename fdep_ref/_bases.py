"""The table of base networks and the decorator that fills it.

It imports nothing (no torch either), so the network modules (:mod:`fdep_ref.models.acm`, ...)
register themselves here without an import cycle; :mod:`fdep_ref.registry` builds networks from the
table.
"""

from __future__ import annotations

from collections.abc import Callable
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
