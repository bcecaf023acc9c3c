"""Base segmentation networks for SIRST detection, loadable from published checkpoints.

Importing this package registers ``"acm"`` and ``"alcnet"`` with :mod:`fdep_ref.registry`.

Contract (see :class:`~fdep_ref.models.base.BaseNet`): every network takes ``(N, 1, H, W)`` float
input (one grayscale channel, normalised; H and W multiples of 32 in the published protocol) and
offers ``encode(x) -> list[Tensor]`` (last = bottleneck), ``decode(feats, size) -> logits``,
``bottleneck_channels`` and ``forward(x) = sigmoid(decode(encode(x), x.shape[-2:]))``.
"""

from .acm import ACM, acm
from .alcnet import ALCNet, alcnet
from .base import BaseNet
from .common import load_checkpoint
from .repisd import RepISD, repisd  # noqa: F401  (registers "repisd")
from .rpcanet import RPCANet, rpcanet  # noqa: F401  (registers "rpcanet")

__all__ = ["ACM", "ALCNet", "BaseNet", "acm", "alcnet", "load_checkpoint"]
