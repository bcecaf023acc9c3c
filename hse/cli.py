"""Command line: ``hse-score PRED_DIR MASK_DIR [options]`` and ``hse-score --demo``.

Exit codes: 0 success; 2 bad input or usage (a short message on stderr naming the file and the
problem); 1 internal error (with a traceback). Output files are written only after everything has been
computed, each atomically, and either all of them appear or none does.

See docs/cli.md for every option and the JSON schema.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

from hse import __version__
from hse.errors import InputError

PROG = "hse-score"
COMPAT_CHOICES = ("basicirstd", "pyirstdmetrics", "acm")


# --------------------------------------------------------------------------------------------------
# option parsing
# --------------------------------------------------------------------------------------------------


def parse_thresholds(text: str) -> str | list[float]:
    """``default``, ``uint8``, a comma list (``0.1,0.5,0.9``) or ``start:stop:step``.

    A range includes ``stop`` when it lands on the grid (within 1e-9); values are rounded to 12
    decimals so that ``0.1:0.3:0.1`` gives exactly 0.1, 0.2, 0.3.
    """
    s = text.strip()
    if s in ("default", "uint8"):
        return s
    if ":" in s:
        parts = s.split(":")
        if len(parts) != 3:
            raise argparse.ArgumentTypeError(
                f"invalid range {text!r}; use START:STOP:STEP, e.g. 0.05:0.95:0.05"
            )
        try:
            start, stop, step = (float(p) for p in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid range {text!r}; START, STOP and STEP must be numbers"
            ) from None
        if not all(math.isfinite(x) for x in (start, stop, step)) or step <= 0 or stop < start:
            raise argparse.ArgumentTypeError(f"invalid range {text!r}; need START <= STOP and STEP > 0")
        n = int(math.floor((stop - start) / step + 1e-9))
        values = [round(start + k * step, 12) for k in range(n + 1)]
        if abs(start + n * step - stop) <= 1e-9:
            values[-1] = stop
        if len(values) > 100_000:
            raise argparse.ArgumentTypeError(
                f"range {text!r} gives {len(values)} thresholds; that is too many"
            )
        return values
    try:
        values = [float(p) for p in s.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid thresholds {text!r}; use 'default', 'uint8', a comma list or START:STOP:STEP"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("empty threshold list")
    return values


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return x


def _finite_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return x


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be >= 0 (0 = one per CPU core)")
    return n if n > 0 else (os.cpu_count() or 1)


def _compat_list(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        for name in v.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in COMPAT_CHOICES:
                raise InputError(f"--compat: unknown peer {name!r}; choose from {', '.join(COMPAT_CHOICES)}")
            if name not in out:
                out.append(name)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Score single-frame infrared small target detection results: HSE (holistic, multi-threshold) "
            "plus IoU, nIoU, Pd and Fa at the operating threshold. Predictions and masks are paired by "
            "file name (extension-agnostic) and scored in natural name order."
        ),
        epilog="Exit codes: 0 success, 2 bad input or usage, 1 internal error. See docs/cli.md.",
    )
    p.add_argument("pred_dir", nargs="?", metavar="PRED_DIR", help="folder of prediction maps")
    p.add_argument("mask_dir", nargs="?", metavar="MASK_DIR", help="folder of ground-truth masks")
    p.add_argument(
        "--demo", action="store_true", help="score a small built-in synthetic set (no files needed)"
    )
    g = p.add_argument_group("pairing")
    g.add_argument("--split", metavar="FILE", help="score only the names listed in FILE (one per line)")
    g.add_argument("--pred-suffix", default="", metavar="S", help="suffix to strip from prediction stems")
    g.add_argument(
        "--mask-suffix", default="", metavar="S", help="suffix to strip from mask stems (e.g. _pixels0)"
    )
    g.add_argument(
        "--allow-missing", action="store_true", help="score the paired names and report the unpaired ones"
    )
    g = p.add_argument_group("metrics")
    g.add_argument(
        "--thresholds",
        type=parse_thresholds,
        default="default",
        metavar="SPEC",
        help="HSE grid: 'default' (0.05..0.95 step 0.05), 'uint8' (k/255), a comma list, or START:STOP:STEP",
    )
    g.add_argument(
        "--threshold",
        type=_finite_float,
        default=0.5,
        help="operating threshold for IoU/nIoU/Pd/Fa (default 0.5)",
    )
    g.add_argument(
        "--match", choices=("greedy", "optimal"), default="greedy", help="target matching (default greedy)"
    )
    g.add_argument(
        "--radius",
        type=_positive_float,
        default=3.0,
        help="centroid distance for a detection, px (default 3)",
    )
    g.add_argument(
        "--mask-threshold",
        type=_finite_float,
        default=None,
        metavar="T",
        help="binarise masks as mask > T (in the mask's own units) instead of requiring {0, max} masks",
    )
    g.add_argument(
        "--compat",
        action="append",
        metavar="PEER",
        help=f"also report a peer toolbox's metrics at --threshold: {', '.join(COMPAT_CHOICES)} (repeatable)",
    )
    g.add_argument(
        "--resize-masks",
        choices=("nearest",),
        default=None,
        help="opt in to resizing a mask whose size differs from its prediction (reported in the output)",
    )
    g = p.add_argument_group("confidence intervals (docs/statistics.md)")
    g.add_argument(
        "--ci",
        action="store_true",
        help="add bootstrap confidence intervals (images resampled) to the summary and the JSON",
    )
    from hse.stats import add_ci_options

    add_ci_options(g, prefix_help="with --ci: ")
    g = p.add_argument_group("running and output")
    g.add_argument(
        "--jobs", type=_jobs, default=1, metavar="N", help="worker processes for reading (0 = all cores)"
    )
    g.add_argument("--json", metavar="OUT", help="write the full result as JSON (schema hse/1)")
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


# --------------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------------


def _err(msg: str) -> None:
    print(f"{PROG}: error: {msg}", file=sys.stderr)


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
    seen: dict[str, str] = {}
    for flag, value in outputs:
        path = Path(value)
        if path.is_dir():
            raise InputError(f"{flag} {value}: is a directory; give a file name")
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


def _json_payload(res: Any, extra: dict[str, Any], include_state: bool = True) -> str:
    """The hse/1 JSON; the per-image ``state`` (last key) is written compactly on one line, since its
    long integer lists would take one line per number when indented."""
    import json

    d = res.to_dict()
    d.update(extra)
    text = json.dumps(d, indent=2, allow_nan=True)
    if include_state:
        state = json.dumps(res.state.to_dict(), separators=(",", ":"))
        text = text[: text.rindex("}")].rstrip() + ',\n  "state": ' + state + "\n}"
    return text + "\n"


def _score(args: argparse.Namespace) -> int:
    import hse

    compat = _compat_list(args.compat)
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
        from hse.io import pair_files

        names, preds, masks, report = pair_files(
            args.pred_dir,
            args.mask_dir,
            split=args.split,
            pred_suffix=args.pred_suffix,
            mask_suffix=args.mask_suffix,
            allow_missing=args.allow_missing,
        )
        extra["inputs"] = {
            "pred_dir": str(args.pred_dir),
            "mask_dir": str(args.mask_dir),
            "split": None if args.split is None else str(args.split),
            "pred_suffix": args.pred_suffix,
            "mask_suffix": args.mask_suffix,
            "pairing": report.to_dict(),
        }
        if report.n_missing:
            notes.append(f"note: --allow-missing: scored {len(names)} pairs; unpaired: {report.summary()}")
        if report.ignored:
            notes.append(
                f"note: {len(report.ignored)} file(s) ignored (other extension or without the suffix)"
            )
        title = f"hse {__version__} - {args.pred_dir} vs {args.mask_dir}"

    res = hse.evaluate(
        preds,
        masks,
        names=names,
        thresholds=args.thresholds,
        match=args.match,
        radius=args.radius,
        threshold=args.threshold,
        mask_threshold=args.mask_threshold,
        compat=compat or None,
        resize_masks=args.resize_masks,
        progress=progress,
        jobs=args.jobs,
    )
    if args.ci:
        from hse.stats import bootstrap, format_intervals

        boot = bootstrap(
            res,
            n=1000 if args.ci_n is None else args.ci_n,
            seed=0 if args.ci_seed is None else args.ci_seed,
            level=0.95 if args.ci_level is None else args.ci_level,
        )
        extra["ci"] = boot.to_dict()
        notes.insert(0, format_intervals(boot))
    if getattr(res, "n_resized", 0):
        notes.append(
            f"note: --resize-masks nearest: {res.n_resized} mask(s) resized to their prediction's size"
        )

    from hse.io import AtomicOutputs
    from hse.report import format_summary

    # Everything is computed (including the figure) before the first file is written.
    payloads: dict[str, Any] = {}
    for flag, path in outputs:
        if flag == "--json":
            payloads[path] = _json_payload(res, extra, include_state=not args.no_state)
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


def _showwarning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``hse-score``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo and (args.pred_dir or args.mask_dir):
        parser.error("--demo takes no PRED_DIR / MASK_DIR")
    if not args.demo and not (args.pred_dir and args.mask_dir):
        parser.error("PRED_DIR and MASK_DIR are required (or use --demo)")
    if args.demo and (args.split or args.pred_suffix or args.mask_suffix or args.allow_missing):
        parser.error("--split, --pred-suffix, --mask-suffix and --allow-missing need PRED_DIR and MASK_DIR")
    if not args.ci and (args.ci_n is not None or args.ci_seed is not None or args.ci_level is not None):
        parser.error("--ci-n, --ci-seed and --ci-level need --ci")
    if args.no_state and not args.json:
        parser.error("--no-state needs --json")
    old_show = warnings.showwarning
    warnings.showwarning = _showwarning
    try:
        return _score(args)
    except InputError as exc:
        _err(str(exc))
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        # stdout was closed early (e.g. piped into `head`): not an error; silence the final flush
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        traceback.print_exc()
        _err(f"internal error (hse {__version__}); please report it with the traceback above")
        return 1
    finally:
        warnings.showwarning = old_show


def compare_main(argv: list[str] | None = None) -> int:
    """Entry point of ``hse-compare``: :func:`hse.stats.compare_main` (paired bootstrap comparison)."""
    if importlib.util.find_spec("hse.stats") is None:
        print(
            "hse-compare: not available yet in this version of hse (needs the hse.stats module)",
            file=sys.stderr,
        )
        return 2
    from hse.stats import compare_main as _compare_main

    return _compare_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
