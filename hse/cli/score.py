"""``hse-score PRED_DIR MASK_DIR [options]`` and ``hse-score --demo``: score one method.

Output files are written only after everything has been computed; all of them are staged before the
first is published, and each is replaced in one step (old or new, never half-written; see docs/cli.md,
"Outputs", for what a crash between two replacements leaves). Exit codes and messages are those of :func:`hse.cli.common.run_cli`.
See docs/cli.md for every option and the JSON schema.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Any

from hse._version import __version__
from hse.codec import SCHEMA
from hse.errors import InputError
from hse.settings import compat_from_flags, compat_names

from .common import (
    EXIT_CODES,
    add_ci_options,
    add_pairing_options,
    add_scoring_options,
    check_not_inputs,
    ci_values,
    evaluate,
    pair,
    run_cli,
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
        epilog=f"{EXIT_CODES} See docs/cli.md.",
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
    g = p.add_argument_group("confidence intervals (docs/statistics.md)")
    g.add_argument(
        "--ci",
        action="store_true",
        help="add bootstrap confidence intervals (images resampled) to the summary and the JSON",
    )
    add_ci_options(g, prefix_help="with --ci: ")
    g = p.add_argument_group("running and output")
    add_scoring_options(g, ("jobs",))
    g.add_argument("--json", metavar="OUT", help=f"write the full result as JSON (schema {SCHEMA})")
    g.add_argument(
        "--no-state",
        action="store_true",
        help="leave the per-image state out of --json (hse-compare and hse.bootstrap need it)",
    )
    g.add_argument("--csv", metavar="OUT", help="write the per-threshold curve as CSV")
    g.add_argument("--per-image", metavar="OUT", help="write per-image results at --threshold as CSV")
    g.add_argument("--plot", metavar="OUT.png", help="write a 4-panel figure (needs matplotlib)")
    g.add_argument("--quiet", "-q", action="store_true", help="print nothing on success except warnings")
    g.add_argument("--version", action="version", version=f"{PROG} (hse) {__version__}")
    return p


def _info(args: argparse.Namespace, msg: str) -> None:
    if not args.quiet:
        print(f"{PROG}: {msg}", file=sys.stderr)


def _check_outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    outputs = [
        (flag, getattr(args, attr))
        for flag, attr in (
            ("--json", "json"),
            ("--csv", "csv"),
            ("--per-image", "per_image"),
            ("--plot", "plot"),
        )
    ]
    outputs = [(f, v) for f, v in outputs if v]
    from hse.io import check_output_path

    seen: dict[str, str] = {}
    for flag, value in outputs:
        check_output_path(value, f"{flag} {value}")
        key = os.path.abspath(value)
        if key in seen:
            raise InputError(f"{flag} and {seen[key]} name the same file {value}")
        seen[key] = flag
    if args.plot:
        if importlib.util.find_spec("matplotlib") is None:
            raise InputError("--plot needs matplotlib; install it with: pip install 'hse[plot]'")
        from matplotlib.figure import Figure

        supported = Figure().canvas.get_supported_filetypes()
        ext = os.path.splitext(args.plot)[1].lower().lstrip(".")
        if ext not in supported:
            raise InputError(
                f"--plot {args.plot}: unknown image format {ext or '(no extension)'!r}; "
                f"use one of {', '.join(sorted(supported))}"
            )
    return outputs


def _score(args: argparse.Namespace) -> int:
    compat = compat_from_flags(args.compat)
    outputs = _check_outputs(args)
    progress = bool((not args.quiet) and sys.stderr.isatty())
    extra: dict[str, Any] = {}
    notes: list[str] = []

    if args.demo:
        from hse.demo import make_demo

        names, preds, masks = make_demo()
        extra["inputs"] = {"demo": True, "generator": "hse.demo.make_demo", "seed": 0}
        title = f"hse {__version__} - built-in demo ({len(names)} synthetic images)"
    else:
        names, preds, masks, report = pair(args, args.pred_dir, args.mask_dir, allow_missing=args.allow_missing)
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
        title = f"hse {__version__} - {args.pred_dir} vs {args.mask_dir}"

    res = evaluate(
        args,
        names,
        preds,
        masks,
        compat=compat or None,
        resize_masks=args.resize_masks,
        progress=progress,
    )
    if args.ci:
        from hse.report import format_intervals
        from hse.stats import bootstrap

        boot = bootstrap(res, **ci_values(args))
        extra["ci"] = boot.to_dict()
        notes.append(format_intervals(boot))
    if getattr(res, "n_resized", 0):
        _info(
            args, f"note: --resize-masks nearest: {res.n_resized} mask(s) resized to their prediction's size"
        )

    from hse.codec import dumps
    from hse.io import AtomicOutputs
    from hse.report import format_summary

    # Everything is computed (including the figure) before the first file is written.
    payloads: dict[str, Any] = {}
    for flag, path in outputs:
        if flag == "--json":
            payloads[path] = dumps({**res.to_dict(include_state=not args.no_state), **extra})
        elif flag == "--csv":
            payloads[path] = res.curve.to_csv(index=False, lineterminator="\n")
        elif flag == "--per-image":
            payloads[path] = res.per_image.to_csv(index=False, lineterminator="\n")
        elif flag == "--plot":
            from hse.plot import plot_results

            payloads[path] = plot_results(res, title=title)
    summary = format_summary(res, title=title, notes=notes)

    with AtomicOutputs() as out:
        for path, payload in payloads.items():
            if isinstance(payload, str):
                out.add(path, payload)
            else:
                fig = payload
                fmt = os.path.splitext(path)[1].lower().lstrip(".") or "png"
                out.add_via(path, lambda tmp, fig=fig, fmt=fmt: fig.savefig(tmp, format=fmt))
    if not args.quiet:
        sys.stdout.write(summary)
        for _flag, path in outputs:
            _info(args, f"wrote {path}")
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
    if not args.ci and (args.ci_n is not None or args.ci_seed is not None or args.ci_level is not None):
        parser.error("--ci-n, --ci-seed and --ci-level need --ci")
    if args.no_state and not args.json:
        parser.error("--no-state needs --json")
    return run_cli(PROG, _score, args)


if __name__ == "__main__":
    raise SystemExit(main())
