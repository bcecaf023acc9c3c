"""fdep_ref: a compact PyTorch reference of the FDEP paradigm (see docs/fdep.md).

``import fdep_ref`` needs neither torch nor timm: the public names load their module on first use.
"""

from importlib import import_module

_EXPORTS = {
    "FDEP": "fdep",
    "FrozenVFM": "vfm",
    "SAMF": "samf",
    "get_loss": "losses",
    "soft_iou_loss": "losses",
    "predict_probability": "data",
    "build_base": "registry",
    "list_bases": "registry",
    "register_base": "registry",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
