"""Probability maps of the eight published checkpoints, computed once per image and cached.

Each checkpoint runs through :func:`fdep_ref.protocols.run_checkpoint` with its family's own
preprocessing (LESPS: the image's size with padding; RepISD-Net and RPCANet: 256x256, the map resized
bilinearly back to the image's size, ``size="native"``). A map is stored as float32 ``.npy`` at the
image's size under ``CACHE/<key[:2]>/<key>.npy``, where ``key`` is a SHA-256 over the cache format,
the family, the checkpoint file's SHA-256 and the image file's SHA-256: a changed checkpoint or image
gives a new key. Beside each map, ``<key>.json`` records what it is and the SHA-256 of the ``.npy``;
a map is used only when that digest, its shape (the image's), dtype and range check out, otherwise
it is recomputed (with a message). Maps are written atomically (:func:`hse.io.write_atomic_via`).
"""

from __future__ import annotations

import hashlib
import io
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from hse.io import write_atomic, write_atomic_via
from hse.io.digest import file_sha256_cached

MAP_FORMAT = "hse-board-map/1"


@dataclass(frozen=True)
class Checkpoint:
    """A published checkpoint: its file, family (protocol) and what it was trained on."""

    name: str
    family: str
    path: Path
    paper: str
    trained_on: str  # NUAA-SIRST split whose images it saw in training

    @property
    def sha256(self) -> str:
        return file_sha256_cached(self.path)




LESPS_PAPER = "Ying et al., Mapping Degeneration Meets Label Evolution (LESPS), CVPR 2023"
LESPS_NAMES = ("ACM_full", "ACM_LESPS_centroid", "ACM_LESPS_coarse",
               "ALCNet_full", "ALCNet_LESPS_centroid", "ALCNet_LESPS_coarse")  # fmt: skip


def checkpoints(shared: Path) -> list[Checkpoint]:
    """The eight checkpoints of ``shared/checkpoints``, in a fixed order."""
    root = shared / "checkpoints"
    out = [
        Checkpoint(n, "lesps", root / "lesps" / f"{n}.pth.tar", LESPS_PAPER, "50_50/train")
        for n in LESPS_NAMES
    ]
    out.append(Checkpoint("RepISD_NUAA_deploy", "repisd", root / "repisd" / "RepISD_NUAA_deploy.pth.tar",
                          "Wu et al., RepISD-Net, IEEE TGRS 2023", "idx_427/trainval"))  # fmt: skip
    out.append(Checkpoint("RPCANet_SIRST", "rpcanet", root / "rpcanet" / "RPCANet_SIRST.pkl",
                          "Wu et al., RPCANet, WACV 2024", "idx_427/trainval"))  # fmt: skip
    missing = [str(c.path) for c in out if not c.path.is_file()]
    if missing:
        from hse.errors import InputError

        raise InputError(
            f"checkpoint file(s) not found: {', '.join(missing)}; is --shared the shared data folder?"
        )
    return out


def map_key(family: str, checkpoint_sha: str, image_sha: str) -> str:
    """The cache key of one checkpoint's map of one image."""
    text = "\0".join((MAP_FORMAT, family, "native", checkpoint_sha, image_sha))
    return hashlib.sha256(text.encode()).hexdigest()


def map_path(cache: Path, key: str) -> Path:
    return cache / key[:2] / f"{key}.npy"


def _image_hw(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size[1], im.size[0]


def check_map(npy: Path, key: str, size: tuple[int, int]) -> str | None:
    """Why the cached map at ``npy`` cannot be used (None when it can)."""
    meta_path = npy.with_suffix(".json")
    if not npy.is_file() or not meta_path.is_file():
        return "missing"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = npy.read_bytes()
    except (OSError, ValueError) as exc:
        return f"unreadable ({exc})"
    if meta.get("format") != MAP_FORMAT or meta.get("key") != key:
        return "its record names another key or format"
    if hashlib.sha256(data).hexdigest() != meta.get("npy_sha256"):
        return "its bytes differ from the digest recorded when it was written"
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        return f"not a plain .npy array ({exc})"
    if arr.dtype != np.float32 or arr.shape != tuple(size):
        return f"dtype/shape {arr.dtype}{arr.shape}, expected float32{tuple(size)}"
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        return "values outside [0, 1]"
    return None


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def compute_map(ckpt: Checkpoint, image: Path, cache: Path, key: str) -> Path:
    """Run ``ckpt`` on ``image`` (native size) and store the map and its record under ``cache``."""
    from fdep_ref.protocols import run_checkpoint

    prob = run_checkpoint(ckpt.family, ckpt.path, image, size="native")
    data = _npy_bytes(prob)
    npy = map_path(cache, key)
    npy.parent.mkdir(parents=True, exist_ok=True)
    write_atomic_via(npy, lambda tmp: Path(tmp).write_bytes(data))
    meta = {"format": MAP_FORMAT, "key": key, "checkpoint": ckpt.name, "family": ckpt.family,
            "checkpoint_sha256": ckpt.sha256, "image": image.name, "image_sha256": file_sha256_cached(image),
            "shape": list(prob.shape), "npy_sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    write_atomic(npy.with_suffix(".json"), json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return npy


def _run_unit(
    ckpt: Checkpoint, images: list[str], cache: str, threads: int
) -> list[tuple[str, str, bool, str]]:
    """Worker: the maps of ``images`` for ``ckpt``; returns (image, map path, computed, why) rows."""
    import torch

    torch.set_num_threads(max(1, threads))
    rows = []
    for img in images:
        image = Path(img)
        key = map_key(ckpt.family, ckpt.sha256, file_sha256_cached(image))
        npy = map_path(Path(cache), key)
        why = check_map(npy, key, _image_hw(image))
        if why is not None:
            compute_map(ckpt, image, Path(cache), key)
        rows.append((img, str(npy), why is not None, why or ""))
    return rows


#: Relative cost per image of each family (RPCANet is ~90 GFLOP at 256x256), to start the slow units first.
_COST = {"rpcanet": 100, "repisd": 5, "lesps": 1}


def ensure_maps(
    ckpts: list[Checkpoint],
    images: list[Path],
    cache: Path,
    jobs: int = 1,
    threads: int = 1,
    chunk: int = 16,
    log=print,
) -> dict[tuple[str, str], Path]:
    """The cached map of every (checkpoint, image), computing the missing or failing ones.

    Returns ``{(checkpoint name, str(image path)): map path}``. ``jobs`` worker processes (spawned,
    ``threads`` torch threads each) take chunks of ``chunk`` images, the slowest family first."""
    cache.mkdir(parents=True, exist_ok=True)
    units = [
        (c, [str(p) for p in images[i : i + chunk]]) for c in ckpts for i in range(0, len(images), chunk)
    ]
    units.sort(key=lambda u: -_COST.get(u[0].family, 1))
    out: dict[tuple[str, str], Path] = {}
    done = computed = 0

    def collect(ckpt: Checkpoint, rows) -> None:
        nonlocal done, computed
        for img, npy, was_computed, why in rows:
            out[(ckpt.name, img)] = Path(npy)
            computed += was_computed
            if was_computed and why != "missing":
                log(f"  recomputed {ckpt.name} / {Path(img).name}: cached map {why}")
        done += 1
        log(f"maps: {done}/{len(units)} units ({ckpt.name}), {computed} computed so far")

    if jobs <= 1:
        for c, imgs in units:
            collect(c, _run_unit(c, imgs, str(cache), threads))
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            futures = [(c, pool.submit(_run_unit, c, imgs, str(cache), threads)) for c, imgs in units]
            for c, fut in futures:
                collect(c, fut.result())
    return out


def load_map(npy: Path) -> np.ndarray:
    """A cached map as float32 (plain ``.npy``, no pickle)."""
    return np.load(npy, allow_pickle=False)
