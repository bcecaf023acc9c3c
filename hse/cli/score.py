"""``hse-score PRED_DIR MASK_DIR [options]`` and ``hse-score --demo``: score one method.

Output files are written only after everything has been computed; all of them are staged before the
first is published, and each is replaced in one step (old or new, never half-written; see docs/cli.md,
"Outputs", for what a crash between two replacements leaves). Exit codes and messages are those of :func:`hse.cli.common.run_cli`.
See docs/cli.md for every option and the JSON schema.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hse._version import __version__
from hse.errors import InputError
from hse.settings import compat_from_flags, compat_names

from .common import (
    EXIT_CODES,
    add_interval_options,
    add_intervals,
    add_output_options,
    add_pairing_options,
    add_scoring_options,
    check_not_inputs,
    check_option_use,
    check_outputs,
    evaluate,
    folder_label,
    pair,
    run_cli,
    run_title,
    write_result,
)

PROG = "hse-score"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Score single-frame infrared small target detection results: HSE (holistic, multi-threshold) "
            "plus IoU, nIoU, Pd and Fa at the operating threshold. Predictions and masks are paired by "
            "file name (extension-agnostic) and scored in natural name order."
        ),
        epilog=f"'hse-score merge PART.json ...' combines the results of --shard runs. {EXIT_CODES} See docs/cli.md.",
    )
    p.add_argument("pred_dir", nargs="?", metavar="PRED_DIR", help="folder of prediction maps")
    p.add_argument("mask_dir", nargs="?", metavar="MASK_DIR", help="folder of ground-truth masks")
    p.add_argument(
        "--demo", action="store_true", help="score a small built-in synthetic set (no files needed)"
    )
    g = p.add_argument_group("pairing")
    add_pairing_options(g)
    g.add_argument(
        "--allow-missing", action="store_true", help="score the paired names and report the unpaired ones"
    )
    g = p.add_argument_group("metrics")
    add_scoring_options(g, ("thresholds", "threshold", "match", "radius", "mask_threshold"))
    g.add_argument(
        "--compat",
        action="append",
        metavar="PEER",
        help=f"also report a peer toolbox's metrics at --threshold: {', '.join(compat_names())} (repeatable)",
    )
    add_scoring_options(g, ("resize_masks",))
    add_interval_options(p)
    g = p.add_argument_group("running and output")
    add_scoring_options(g, ("jobs",))
    g.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="score only shard K of N (images K, K+N, K+2N, ... in name order, 1-based) for "
        "'hse-score merge' to combine; see docs/many-machines.md",
    )
    add_output_options(g)
    g.add_argument("--version", action="version", version=f"{PROG} (hse) {__version__}")
    return p


def _shard(text: str) -> tuple[int, int]:
    from hse.shard import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _select_shard(shard: tuple[int, int], names: list, preds: list, masks: list, extra: dict) -> tuple:
    """The images of shard ``K/N`` with their global indexes; the shard's record goes into the JSON."""
    from hse.shard import shard_info, shard_positions

    k, n = shard
    rows = shard_positions(len(names), k, n)
    if not rows:
        raise InputError(
            f"--shard {k}/{n}: the set has {len(names)} image(s), so shard {k} is empty; use N <= {len(names)}"
        )
    extra["shard"] = shard_info(k, n, names)
    return [names[i] for i in rows], [preds[i] for i in rows], [masks[i] for i in rows], rows


def _info(args: argparse.Namespace, msg: str) -> None:
    if not args.quiet:
        print(f"{PROG}: {msg}", file=sys.stderr)


def _score(args: argparse.Namespace) -> int:
    compat = compat_from_flags(args.compat)
    outputs = check_outputs(args)
    progress = bool((not args.quiet) and sys.stderr.isatty())
    extra: dict[str, Any] = {}
    notes: list[str] = []

    if args.demo:
        from hse.demo import make_demo

        names, preds, masks = make_demo()
        extra["inputs"] = {"demo": True, "generator": "hse.demo.make_demo", "seed": 0}
        what = "built-in demo (synthetic)"
    else:
        names, preds, masks, report = pair(
            args, args.pred_dir, args.mask_dir, allow_missing=args.allow_missing
        )
        extra["inputs"] = {
            "pred_dir": str(args.pred_dir),
            "mask_dir": str(args.mask_dir),
            "split": None if args.split is None else str(args.split),
            "pred_suffix": args.pred_suffix,
            "mask_suffix": args.mask_suffix,
            "pred_ext": args.pred_ext,
            "mask_ext": args.mask_ext,
            "pairing": report.to_dict(),
        }
        check_not_inputs(outputs, [*preds, *masks, *([args.split] if args.split else [])])
        if args.ci:  # refused by the bootstrap too; here before any scoring time is spent
            from hse.stats import MIN_IMAGES

            if len(names) < MIN_IMAGES:
                raise InputError(
                    f"--ci: {len(names)} image(s) paired; a bootstrap over images needs at least {MIN_IMAGES}"
                )
        if report.n_missing:
            _info(args, f"note: --allow-missing: scored {len(names)} pairs; unpaired: {report.summary()}")
        if report.ignored:
            _info(args, f"note: {report.ignored_summary()}")
        what = f"{folder_label(args.pred_dir)} vs {folder_label(args.mask_dir)}"

    indexes = None
    suffix = ""
    if args.shard:
        names, preds, masks, indexes = _select_shard(args.shard, names, preds, masks, extra)
        suffix = f" - shard {args.shard[0]}/{args.shard[1]}"
    res = evaluate(
        args,
        names,
        preds,
        masks,
        indexes=indexes,
        compat=compat or None,
        resize_masks=args.resize_masks,
        progress=progress,
    )
    add_intervals(args, res, extra, notes)
    if getattr(res, "n_resized", 0):
        _info(
            args, f"note: --resize-masks nearest: {res.n_resized} mask(s) resized to their prediction's size"
        )

    title = run_title(what, res, suffix)
    write_result(PROG, args, outputs, res, extra, title, notes, pairs=(names, preds, masks))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``hse-score``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo and (args.pred_dir or args.mask_dir):
        parser.error("--demo takes no PRED_DIR / MASK_DIR")
    if not args.demo and not (args.pred_dir and args.mask_dir):
        parser.error("PRED_DIR and MASK_DIR are required (or use --demo)")
    if args.demo and (
        args.split
        or args.pred_suffix
        or args.mask_suffix
        or args.pred_ext
        or args.mask_ext
        or args.allow_missing
    ):
        parser.error(
            "--split, --pred-suffix, --mask-suffix, --pred-ext, --mask-ext and --allow-missing need PRED_DIR and MASK_DIR"
        )
    check_option_use(parser, args)
    if args.shard and (args.ci or args.no_state or args.compat):
        parser.error(
            "--shard scores a part for 'hse-score merge': give --ci to the merge (intervals need every "
            "image), keep the state (no --no-state), and score --compat in one unsharded run (peer "
            "numbers are totals that cannot be combined)"
        )
    return run_cli(PROG, _score, args)


if __name__ == "__main__":
    raise SystemExit(main())
