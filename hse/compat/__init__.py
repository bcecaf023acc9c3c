"""Exact reproductions of the field's reference evaluation toolboxes (see docs/compat.md).

Each peer has pure per-image functions and one accumulator class with a uniform interface::

    acc = COMPAT[name](threshold=0.5, **peer_kwargs)
    acc.update(pred, mask, mask_float=None)   # pred: float64 in [0, 1]; mask: bool; mask_float: raw / 255
    acc.merge(other_acc)                      # exact: split evaluations combine to the single-pass result
    acc.compute()                             # JSON-serialisable dict
    acc.reset()

Peer bugs are reproduced only behind explicit flags (``BasicIRSTD(legacy_fa=True)``,
``PyIRSTDMetrics(bugs=True)``, ``RepISDMetrics(legacy_fa=True)``); the defaults are the corrected computations.
"""

from __future__ import annotations

from .acm import ACMNIoU
from .basicirstd import BasicIRSTD
from .pyirstdmetrics import PyIRSTDMetrics, hiou, hiou_metrics, shooting_rule_metrics, shooting_rule_pd_fa
from .repisd import RepISDMetrics
from .rpcanet import RPCANetMetrics

COMPAT = {
    "basicirstd": BasicIRSTD,
    "acm": ACMNIoU,
    "pyirstdmetrics": PyIRSTDMetrics,
    "repisd": RepISDMetrics,
    "rpcanet": RPCANetMetrics,
}

__all__ = [
    "ACMNIoU",
    "BasicIRSTD",
    "COMPAT",
    "PyIRSTDMetrics",
    "RPCANetMetrics",
    "RepISDMetrics",
    "hiou",
    "hiou_metrics",
    "shooting_rule_metrics",
    "shooting_rule_pd_fa",
]
