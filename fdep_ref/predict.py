"""Predict probability maps with a deployed base network (the FDEP lightweight branch).

Example::

    python -m fdep_ref.predict --weights runs/acm-fdep/last.pt --images ../shared/data/nuaa-sirst/images \\
        --out runs/acm-fdep/pred

For each image in ``--images`` (png, bmp, jpg, tif) writes ``<out>/<stem>.png``: an 8-bit grayscale
PNG holding ``round(p * 255)`` of the probability map, the size of the image, as ``hse-score`` reads
it. Inference follows the published LESPS protocol (grayscale, ``(x - 95.010) / 41.511``, zero pad
bottom/right to ``(h // 32 + 1) * 32``, crop back). The VFM is not needed.

``--weights`` is a ``last.pt``/``epoch_NNNN.pt`` written by ``fdep_ref.train`` (the base network's
name is read from it and must be registered in :mod:`fdep_ref.registry`), or any checkpoint that ``fdep_ref.registry.build_base(--base, weights=...)``
loads (a bare state dict, or the LESPS ``{'state_dict': ...}`` releases).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from .data import IMAGE_SUFFIXES, predict_probability, read_gray, to_png8
from .registry import build_base, list_bases
from .train import CHECKPOINT_FORMAT, atomic_write_bytes, pick_device
from .weights import UnsafeCheckpointError, read_weights


def load_deployable(weights: str | Path, base: str | None = None) -> tuple[nn.Module, str]:
    """The base network with trained weights, in eval mode, and its name."""
    weights = Path(weights)
    obj = read_weights(weights)  # tensors and plain data only; see fdep_ref.weights
    if isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT:
        name = base or obj.get("base_name")
        if not isinstance(name, str) or name.lower() not in list_bases():
            # The network comes from the registry only: a name in a file never imports anything.
            raise KeyError(
                f"{weights} names base network {name!r}, which is not registered "
                f"(known: {', '.join(list_bases())}); register it with fdep_ref.registry.register_base"
            )
        net = build_base(name)
        net.load_state_dict(obj["base"], strict=True)
    else:
        name = base or "acm"
        net = build_base(name, weights=weights)
    return net.eval(), name


def list_images(folder: Path, names_file: Path | None = None) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if names_file is not None:
        wanted = [n.strip() for n in names_file.read_text().splitlines() if n.strip()]
        by_stem = {p.stem: p for p in files}
        missing = [n for n in wanted if n not in by_stem]
        if missing:
            raise FileNotFoundError(f"{len(missing)} name(s) of {names_file} not in {folder}: {missing[:5]}")
        files = [by_stem[n] for n in wanted]
    stems = [p.stem for p in files]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise ValueError(f"several images share a stem in {folder} (outputs would collide): {dupes[:5]}")
    return files


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fdep_ref.predict",
        description="Write 8-bit probability PNGs (round(p*255)) with a trained base network.",
    )
    p.add_argument("--weights", required=True, help="fdep_ref.train checkpoint or a base-network checkpoint")
    p.add_argument("--images", required=True, help="folder of input images")
    p.add_argument("--out", required=True, help="output folder for <stem>.png probability maps")
    p.add_argument("--base", default=None, help="base network (default: from the checkpoint, else acm)")
    p.add_argument("--names", default=None, help="only the images named in this file (e.g. a split list)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    images = Path(args.images)
    out = Path(args.out)
    if not Path(args.weights).is_file():
        parser.error(f"--weights: no such file: {args.weights}")
    if not images.is_dir():
        parser.error(f"--images: no such directory: {images}")
    if out.exists() and out.resolve() == images.resolve():
        parser.error("--out must differ from --images (predictions would overwrite the images)")
    if args.names is not None and not Path(args.names).is_file():
        parser.error(f"--names: no such file: {args.names}")
    try:
        files = list_images(images, Path(args.names) if args.names else None)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    if not files:
        parser.error(f"--images: no images ({', '.join(IMAGE_SUFFIXES)}) in {images}")
    from tqdm.auto import tqdm

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    try:
        net, name = load_deployable(args.weights, args.base)
    except (KeyError, ValueError, RuntimeError, FileNotFoundError, UnsafeCheckpointError) as exc:
        parser.error(f"--weights {args.weights}: {exc}")
    net.to(device)
    out.mkdir(parents=True, exist_ok=True)
    for path in tqdm(files, desc=f"predict ({name})", disable=args.quiet):
        prob = predict_probability(net, read_gray(path), device)
        png = Image.fromarray(to_png8(prob))  # 2-D uint8 -> mode "L"
        atomic_write_bytes(out / f"{path.stem}.png", lambda tmp, png=png: png.save(tmp, format="PNG"))
    if not args.quiet:
        print(f"wrote {len(files)} probability maps to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
