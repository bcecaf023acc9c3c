"""Train a base SIRST network with FDEP (frozen VFM prior + SAMF + CO-ISD).

Example::

    python -m fdep_ref.train --base acm --data ../shared/data/nuaa-sirst --split 50_50 --epochs 400 \\
        --vfm-weights dinov2_vits14_pretrain.pth --out runs/acm-fdep

Writes to ``--out`` (each file replaced atomically):

* ``last.pt``: training state (base and SAMF weights, optimiser, epoch, step, arguments);
* ``base_last.pth``: the deployable base network's state dict alone, loadable with
  ``fdep_ref.registry.build_base(name, weights=...)``;
* ``epoch_NNNN.pt`` every ``--save-every`` epochs (when > 0);
* ``log.jsonl``: one JSON object per epoch (losses of both branches, learning rate, step, seconds).

``--base`` is a name in :mod:`fdep_ref.registry` (``acm``, ``alcnet``, ...). To train another network
that follows the base-network contract, register it with ``fdep_ref.registry.register_base`` in your
own script and call :func:`main` from there; nothing is ever imported by a name given on the command
line or stored in a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .data import SirstCrops, in_channels_of, read_split
from .fdep import FDEP
from .losses import LOSSES
from .registry import build_base
from .vfm import FrozenVFM

CHECKPOINT_FORMAT = "fdep_ref.train/1"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` on a temporary file next to ``path`` and move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_save(obj: Any, path: Path) -> None:
    atomic_write_bytes(path, lambda tmp: torch.save(obj, tmp))


def atomic_write_text(text: str, path: Path) -> None:
    atomic_write_bytes(path, lambda tmp: Path(tmp).write_text(text))


def parse_blocks(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(t) for t in text.replace(" ", "").split(",") if t]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--vfm-blocks takes comma-separated integers, got {text!r}"
        ) from exc


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fdep_ref.train",
        description="Train a base SIRST network with the FDEP paradigm (the deployed model is the base network).",
    )
    p.add_argument("--base", default="acm", help="registered base network (acm, alcnet, ...; see fdep_ref.registry)")
    p.add_argument("--base-weights", help="initialise the base network from this checkpoint")
    p.add_argument("--data", required=True, help="dataset root with images/, masks/, splits/")
    p.add_argument("--split", default="50_50", help="folder under splits/ (default 50_50)")
    p.add_argument("--subset", default="train", help="split file to train on (default train)")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimiser steps")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--crop", type=int, default=256, help="random square crop size")
    p.add_argument("--pos-prob", type=float, default=0.0, help="probability that a crop contains a target")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--loss", choices=LOSSES, default="softiou")
    p.add_argument("--w-main", type=float, default=1.0, help="weight of the main (VFM-aided) branch loss")
    p.add_argument("--w-light", type=float, default=1.0, help="weight of the lightweight branch loss")
    p.add_argument("--vfm-arch", default="vit_small_patch14_dinov2", help="timm ViT name (never downloaded)")
    p.add_argument(
        "--vfm-weights", help="local DINOv2 (.pth as released) or timm (.pth/.safetensors) checkpoint"
    )
    p.add_argument("--vfm-blocks", help="comma-separated ViT block indices (default: --n-samf evenly spaced)")
    p.add_argument("--n-samf", type=int, default=4, help="SAMF modules at the bottleneck (one per ViT block)")
    p.add_argument("--vfm-size", type=int, default=None, help="resize the VFM input to this square size")
    p.add_argument(
        "--vfm-kwargs", default="{}", help="JSON kwargs for timm.create_model, e.g. '{\"depth\": 4}'"
    )
    p.add_argument("--out", default=None, help="output folder (default runs/fdep-<base>)")
    p.add_argument("--save-every", type=int, default=0, help="also keep epoch_NNNN.pt every N epochs")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    data = Path(args.data)
    if not data.is_dir():
        p.error(f"--data: no such directory: {data}")
    for sub in ("images", "masks"):
        if not (data / sub).is_dir():
            p.error(f"--data: {data} has no {sub}/ folder")
    if not (data / "splits" / args.split / f"{args.subset}.txt").is_file():
        p.error(f"--split: {data / 'splits' / args.split / (args.subset + '.txt')} not found")
    for name in ("vfm_weights", "base_weights"):
        value = getattr(args, name)
        if value is not None and not Path(value).is_file():
            p.error(f"--{name.replace('_', '-')}: no such file: {value}")
    if args.epochs < 1 or args.crop < 32:
        p.error("--epochs must be >= 1 and --crop >= 32")
    if args.batch_size < 2:
        p.error("--batch-size must be >= 2 (batch normalisation needs more than one sample in training)")
    if not 0.0 <= args.pos_prob <= 1.0:
        p.error("--pos-prob must lie in [0, 1]")
    if args.max_steps is not None and args.max_steps < 1:
        p.error("--max-steps must be >= 1")
    try:
        args.vfm_blocks = parse_blocks(args.vfm_blocks)
    except argparse.ArgumentTypeError as exc:
        p.error(str(exc))
    try:
        kwargs = json.loads(args.vfm_kwargs)
    except json.JSONDecodeError as exc:
        p.error(f"--vfm-kwargs is not valid JSON: {exc}")
    if not isinstance(kwargs, dict):
        p.error("--vfm-kwargs must be a JSON object")
    args.vfm_kwargs_dict = kwargs


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    from tqdm.auto import tqdm

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    out = Path(args.out) if args.out else Path("runs") / f"fdep-{args.base.replace(':', '_')}"

    try:
        base = build_base(args.base, weights=args.base_weights)
    except (KeyError, ValueError, RuntimeError, FileNotFoundError) as exc:
        parser.error(f"--base {args.base}: {exc}")
    n_samf = len(args.vfm_blocks) if args.vfm_blocks else args.n_samf
    try:
        vfm = FrozenVFM(
            args.vfm_arch,
            weights=args.vfm_weights,
            blocks=args.vfm_blocks,
            n_blocks=n_samf,
            input_size=args.vfm_size,
            **args.vfm_kwargs_dict,
        )
        model = FDEP(base, vfm, n_samf=n_samf, loss=args.loss, weights=(args.w_main, args.w_light))
    except (TypeError, ValueError, RuntimeError) as exc:  # timm: unknown model or bad kwargs; loading
        parser.error(f"VFM ({args.vfm_arch}, {args.vfm_weights or 'random weights'}): {exc}")
    model.to(device)
    try:
        names = read_split(args.data, args.split, args.subset)
        dataset = SirstCrops(
            args.data,
            names,
            crop=args.crop,
            augment=True,
            channels=in_channels_of(base),
            pos_prob=args.pos_prob,
        )
    except (FileNotFoundError, ValueError) as exc:
        parser.error(f"--data {args.data}: {exc}")
    if len(dataset) < 2:
        parser.error(f"--data {args.data}: training needs at least 2 usable images, found {len(dataset)}")
    out.mkdir(parents=True, exist_ok=True)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=args.batch_size,
        shuffle=True,
        num_workers=args.workers,
        drop_last=len(dataset) >= args.batch_size,  # no trailing batch of one sample (breaks batch norm)
        pin_memory=device.type == "cuda",
    )
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=args.lr, weight_decay=args.weight_decay)
    config = {k: v for k, v in vars(args).items() if k != "vfm_kwargs_dict"}
    config.update(device=str(device), n_samf=n_samf, vfm_blocks=vfm.blocks, n_train=len(dataset))
    atomic_write_text(json.dumps(config, indent=2) + "\n", out / "config.json")

    log: list[dict[str, Any]] = []
    step = 0
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        sums = {"total": 0.0, "main": 0.0, "light": 0.0}
        seen = 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", disable=args.quiet, leave=False)
        for x, y in bar:
            x = x.to(device, non_blocking=True)
            y = y.to(device, non_blocking=True)
            terms = model.loss_terms(x, y)
            if not torch.isfinite(terms["total"]):
                raise FloatingPointError(f"loss is {terms['total'].item()} at step {step + 1}")
            optimizer.zero_grad(set_to_none=True)
            terms["total"].backward()
            optimizer.step()
            step += 1
            n = x.shape[0]
            seen += n
            for k in sums:
                sums[k] += terms[k].item() * n
            bar.set_postfix(loss=f"{terms['total'].item():.4f}", step=step)
            if args.max_steps is not None and step >= args.max_steps:
                break
        bar.close()
        record = {
            "epoch": epoch,
            "step": step,
            "loss": sums["total"] / max(seen, 1),
            "loss_main": sums["main"] / max(seen, 1),
            "loss_light": sums["light"] / max(seen, 1),
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": round(time.time() - start, 3),
        }
        log.append(record)
        atomic_write_text("".join(json.dumps(r) + "\n" for r in log), out / "log.jsonl")
        state = {
            "format": CHECKPOINT_FORMAT,
            "base_name": args.base,
            "base": base.state_dict(),
            "samf": model.samf.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch,
            "step": step,
            "vfm": {"arch": args.vfm_arch, "blocks": vfm.blocks, "weights": args.vfm_weights},
            "config": json.loads(json.dumps(config)),
        }
        atomic_save(state, out / "last.pt")
        atomic_save(base.state_dict(), out / "base_last.pth")
        if args.save_every > 0 and epoch % args.save_every == 0:
            atomic_save(state, out / f"epoch_{epoch:04d}.pt")
        if not args.quiet:
            tqdm.write(
                f"epoch {epoch}: loss {record['loss']:.4f} (main {record['loss_main']:.4f}, "
                f"light {record['loss_light']:.4f}), step {step}"
            )
        if not math.isfinite(record["loss"]) or (args.max_steps is not None and step >= args.max_steps):
            break
    if not args.quiet:
        print(f"wrote {out / 'last.pt'}, {out / 'base_last.pth'} and {out / 'log.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
