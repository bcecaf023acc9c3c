"""Each published checkpoint family's own inference protocol: image file -> probability map.

A paper's numbers can only be reproduced with its exact preprocessing, network call, probability
read-out and resolution. This module owns them, one family at a time:

``lesps`` (ACM / ALCNet released with LESPS, Ying et al., CVPR 2023)
    PIL ``convert('L')`` as float, ``(x - 95.010) / 41.511``, zero padding at the bottom and right
    to ``(h // 32 + 1) * 32``, sigmoid output cropped back: the map has the image's own size
    (:func:`fdep_ref.data.predict_probability`). Masks: ``> 0`` at native size.
``repisd`` (RepISD-Net, Wu et al., TGRS 2023, ``dataset/nuaa.py`` test mode)
    PIL ``convert('RGB')``, ``resize((256, 256), BILINEAR)`` (antialiased when shrinking), ``/ 255``
    in float32, normalised per channel with mean (0.4287, 0.4290, 0.4314), std (0.2277, 0.2276,
    0.2292); the probability is channel 1 of the sigmoid output. Masks: PIL
    ``resize((256, 256), NEAREST)``, ``/ 255`` then truncated to int, so only value 255 is target.
``rpcanet`` (RPCANet, Wu et al., WACV 2024, ``t_models_istd.py`` / ``cal_metric_istd.py``)
    OpenCV ``imread(path, 0)`` (OpenCV's own grey conversion), ``cv2.resize`` to 256x256 with
    ``INTER_LINEAR`` (no antialias), ``/ 255`` in float64 then float32; the probability is
    ``sigmoid(T)``. Masks: ``imdecode(..., -1)``, grey if colour, ``mask / mask.max()``,
    ``cv2.resize`` ``INTER_NEAREST`` (OpenCV's nearest takes pixel ``floor(x * scale)``, not PIL's
    pixel centre), then truncated to int: only the maximum value is target.

``size="native"`` resizes a 256x256 map to the image's own size bilinearly (half-pixel centres,
antialiased along a side that shrinks); this is hse's choice for scoring every family on the
original masks, not part of any paper's protocol.

Example::

    from fdep_ref.protocols import run_checkpoint
    p = run_checkpoint("rpcanet", "../shared/checkpoints/rpcanet/RPCANet_SIRST.pkl", "Misc_1.png")
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .data import predict_probability, read_gray

FAMILIES = ("lesps", "repisd", "rpcanet")
REPISD_MEAN = (0.4287, 0.4290, 0.4314)
REPISD_STD = (0.2277, 0.2276, 0.2292)


@dataclass(frozen=True)
class Protocol:
    """What a family's protocol fixes: the network (registry name), the map size (None: the image's)."""

    family: str
    resolution: tuple[int, int] | None
    network: str | None  # None: read from the checkpoint's file name (ACM_... / ALCNet_...)


PROTOCOLS = {
    "lesps": Protocol("lesps", None, None),
    "repisd": Protocol("repisd", (256, 256), "repisd"),
    "rpcanet": Protocol("rpcanet", (256, 256), "rpcanet"),
}


def get_protocol(family: str) -> Protocol:
    """The :class:`Protocol` of ``family``; a clear error for an unknown one."""
    if family not in PROTOCOLS:
        raise ValueError(f"unknown checkpoint family {family!r}; choose from {', '.join(FAMILIES)}")
    return PROTOCOLS[family]


def network_name(family: str, weights: str | Path) -> str:
    """Registry name of the network for a checkpoint file (LESPS files are named ``ACM_*`` / ``ALCNet_*``)."""
    proto = get_protocol(family)
    if proto.network is not None:
        return proto.network
    prefix = Path(weights).name.split("_", 1)[0].lower()
    if prefix not in ("acm", "alcnet"):
        raise ValueError(f"{weights}: a LESPS checkpoint name starts with ACM_ or ALCNet_")
    return prefix


@lru_cache(maxsize=8)
def _cached_network(name: str, weights: str) -> torch.nn.Module:
    from .models.common import load_checkpoint
    from .registry import build_base

    prefix = "model." if name in ("acm", "alcnet") else ""
    return load_checkpoint(build_base(name), weights, prefix=prefix).eval()


def load_network(family: str, weights: str | Path) -> torch.nn.Module:
    """The family's network with ``weights`` loaded strictly, in eval mode (cached per file)."""
    return _cached_network(network_name(family, weights), str(Path(weights).resolve()))


# --------------------------------------------------------------------------------------------------
# preprocessing: image file -> input tensor
# --------------------------------------------------------------------------------------------------


def image_size(image_path: str | Path) -> tuple[int, int]:
    """``(height, width)`` of an image file."""
    with Image.open(image_path) as im:
        return im.size[1], im.size[0]


def repisd_input(image_path: str | Path) -> torch.Tensor:
    """RepISD-Net test input ``(1, 3, 256, 256)``: RGB, PIL bilinear resize, ``/ 255``, normalised."""
    with Image.open(image_path) as im:
        rgb = im.convert("RGB").resize((256, 256), Image.BILINEAR)
    x = torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).float().div(255)
    mean = torch.tensor(REPISD_MEAN, dtype=torch.float32)[:, None, None]
    std = torch.tensor(REPISD_STD, dtype=torch.float32)[:, None, None]
    return ((x - mean) / std)[None]


def _cv2():
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the rpcanet protocol needs OpenCV: pip install opencv-python-headless") from exc
    return cv2


def rpcanet_input(image_path: str | Path) -> torch.Tensor:
    """RPCANet test input ``(1, 1, 256, 256)``: OpenCV grey, ``INTER_LINEAR`` resize, ``/ 255``."""
    cv2 = _cv2()
    gray = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise ValueError(f"OpenCV cannot read {image_path} as an image")
    gray = cv2.resize(gray, (256, 256), interpolation=cv2.INTER_LINEAR)
    return torch.from_numpy(gray.reshape(1, 1, 256, 256) / 255.0).float()


# --------------------------------------------------------------------------------------------------
# the network call and the probability read-out
# --------------------------------------------------------------------------------------------------


@torch.no_grad()
def protocol_map(family: str, net: torch.nn.Module, image_path: str | Path) -> np.ndarray:
    """The probability map of one image at the protocol's resolution, float32."""
    get_protocol(family)
    if family == "lesps":
        return predict_probability(net, read_gray(image_path)).astype(np.float32)
    x = repisd_input(image_path) if family == "repisd" else rpcanet_input(image_path)
    # Both networks' forward is sigmoid of the read-out logits: class 1 (RepISD), T (RPCANet).
    return net(x)[0, 0].numpy().astype(np.float32)


def to_size(prob: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a map to ``size`` (half-pixel centres; antialiased along a side that shrinks)."""
    size = (int(size[0]), int(size[1]))
    if prob.shape == size:
        return prob.astype(np.float32)
    from .models.common import resize_to

    out = resize_to(torch.from_numpy(np.ascontiguousarray(prob, dtype=np.float32))[None, None], size)
    return out[0, 0].clamp(0.0, 1.0).numpy()


def run_checkpoint(
    family: str, weights: str | Path, image_path: str | Path, size: str = "protocol"
) -> np.ndarray:
    """Run a published checkpoint on one image file under its family's protocol.

    Parameters
    ----------
    family : {"lesps", "repisd", "rpcanet"}
        The checkpoint family (see the module docstring for each protocol).
    weights : path
        The checkpoint file; the network is built and loaded strictly once per file.
    image_path : path
        The image file.
    size : {"protocol", "native"}
        ``"protocol"``: the map at the protocol's own resolution (256x256 for repisd / rpcanet, the
        image's size for lesps); ``"native"``: resized bilinearly to the image's size.

    Returns
    -------
    ndarray of float32, shape (H, W)
        Probabilities in [0, 1].
    """
    if size not in ("protocol", "native"):
        raise ValueError(f"size must be 'protocol' or 'native', got {size!r}")
    prob = protocol_map(family, load_network(family, weights), image_path)
    return to_size(prob, image_size(image_path)) if size == "native" else prob


# --------------------------------------------------------------------------------------------------
# ground truth as each protocol reads it
# --------------------------------------------------------------------------------------------------


def read_protocol_mask(family: str, mask_path: str | Path) -> np.ndarray:
    """A ground-truth mask file as the family's metric code sees it: bool, at the protocol's resolution."""
    get_protocol(family)
    mask_path = Path(mask_path)
    if family == "lesps":
        return read_gray(mask_path) > 0
    if family == "repisd":
        with Image.open(mask_path) as im:
            small = np.asarray(im.resize((256, 256), Image.NEAREST))
        if small.ndim == 3:
            raise ValueError(f"{mask_path}: the repisd protocol reads one-channel masks, got {small.shape}")
        # ToTensor divides 8-bit masks by 255 and the metric truncates to int64: only 255 is target.
        return small == 255
    cv2 = _cv2()
    raw = cv2.imdecode(np.fromfile(str(mask_path), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise ValueError(f"OpenCV cannot read {mask_path} as an image")
    if raw.ndim == 3:
        raw = cv2.cvtColor(raw, cv2.COLOR_BGR2GRAY)
    peak = float(raw.max())
    if peak == 0:
        return np.zeros((256, 256), dtype=bool)
    scaled = cv2.resize(raw / peak, (256, 256), interpolation=cv2.INTER_NEAREST)
    return scaled.astype(np.int64) == 1  # only the maximum survives the int truncation


def native_mask(mask_path: str | Path) -> np.ndarray:
    """A mask at its own size as hse reads it (``> 0``), for scoring native-resolution maps."""
    return read_gray(mask_path) > 0


__all__ = [
    "FAMILIES",
    "PROTOCOLS",
    "Protocol",
    "get_protocol",
    "image_size",
    "load_network",
    "native_mask",
    "network_name",
    "protocol_map",
    "read_protocol_mask",
    "repisd_input",
    "rpcanet_input",
    "run_checkpoint",
    "to_size",
]
