"""Command line: ``hse-score PRED_DIR MASK_DIR [options]``, ``hse-score --demo`` and ``hse-compare``.

Exit codes: 0 success; 2 bad input or usage (a short message on stderr naming the file and the
problem); 1 internal error (with a traceback). Output files are written only after everything has been
computed, each atomically, and either all of them appear or none does.

The option-value parsers and :func:`run_cli` (the exit codes above, warnings on stderr) serve every
command of the package, ``hse-leaderboard`` included. ``hse-compare`` is the command line of
:func:`hse.stats.compare`; the statistics themselves stay in :mod:`hse.stats`.

See docs/cli.md for every option and the JSON schema, docs/statistics.md for ``hse-compare``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hse import __version__
from hse.errors import InputError

PROG = "hse-score"
COMPARE_PROG = "hse-compare"
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


def _number(text: str, convert: type, ok: Callable[[Any], bool], need: str) -> Any:
    """``convert(text)`` when ``ok`` accepts it, else an argparse error: ``not a number`` (``not an
    integer`` for ``int``) or ``need``, where ``{text}`` stands for the value as given."""
    try:
        x = convert(text)
    except ValueError:
        what = "an integer" if convert is int else "a number"
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if not ok(x):
        raise argparse.ArgumentTypeError(need.format(text=repr(text)))
    return x


def _positive_float(text: str) -> float:
    return _number(text, float, lambda x: math.isfinite(x) and x > 0, "must be a positive number, got {text}")


def _finite_float(text: str) -> float:
    return _number(text, float, math.isfinite, "must be finite, got {text}")


def _level(text: str) -> float:
    return _number(text, float, lambda x: 0.0 < x < 1.0, "must be in (0, 1), e.g. 0.95; got {text}")


def _positive_int(text: str) -> int:
    return _number(text, int, lambda x: x >= 1, "must be >= 1, got {text}")


def _seed(text: str) -> int:
    return _number(text, int, lambda x: x >= 0, "must be >= 0, got {text}")


def _jobs(text: str) -> int:
    n = _number(text, int, lambda x: x >= 0, "must be >= 0 (0 = one per CPU core)")
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


def add_ci_options(group: Any, prefix_help: str = "") -> None:
    """The ``--ci-n``, ``--ci-seed`` and ``--ci-level`` options (shared by hse-score and hse-compare)."""
    group.add_argument("--ci-n", type=_positive_int, default=None, metavar="N",
                       help=f"{prefix_help}bootstrap draws (default 1000)")  # fmt: skip
    group.add_argument("--ci-seed", type=_seed, default=None, metavar="S",
                       help=f"{prefix_help}seed of the draws (default 0)")  # fmt: skip
    group.add_argument("--ci-level", type=_level, default=None, metavar="L",
                       help=f"{prefix_help}coverage of the intervals (default 0.95)")  # fmt: skip


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
        "--pred-ext", default=None, metavar="EXT",
        help="read only prediction files of this format (e.g. npy) when a folder holds several",
    )  # fmt: skip
    g.add_argument("--mask-ext", default=None, metavar="EXT", help="read only mask files of this format")
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
# running a command
# --------------------------------------------------------------------------------------------------


def _err(prog: str, msg: str) -> None:
    print(f"{prog}: error: {msg}", file=sys.stderr)


def run_cli(prog: str, body: Callable[..., int], *args: Any) -> int:
    """Run ``body(*args)`` as the command ``prog`` and return its exit code: the one error handling of
    ``hse-score``, ``hse-compare`` and ``hse-leaderboard``.

    While it runs, warnings print as ``PROG: warning: ...``. An :class:`hse.InputError` prints
    ``PROG: error: ...`` and gives 2; Ctrl-C gives 130; a stdout closed early (piped into ``head``)
    gives 0 quietly; any other exception prints its traceback and gives 1.
    """
    old_show = warnings.showwarning
    warnings.showwarning = lambda message, *a, **k: print(f"{prog}: warning: {message}", file=sys.stderr)
    try:
        return body(*args)
    except InputError as exc:
        _err(prog, str(exc))
        return 2
    except KeyboardInterrupt:
        _err(prog, "interrupted")
        return 130
    except BrokenPipeError:
        # stdout was closed early (e.g. piped into `head`): not an error; silence the final flush
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        traceback.print_exc()
        _err(prog, f"internal error (hse {__version__}); please report it with the traceback above")
        return 1
    finally:
        warnings.showwarning = old_show


# --------------------------------------------------------------------------------------------------
# hse-score
# --------------------------------------------------------------------------------------------------


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


def _json_payload(res: Any, extra: dict[str, Any], include_state: bool = True) -> str:
    """The hse/1 JSON; the per-image ``state`` (last key) is written compactly on one line, since its
    long integer lists would take one line per number when indented."""
    d = res.to_dict()
    d.update(extra)
    text = json.dumps(d, indent=2, allow_nan=False)
    if include_state:
        state = json.dumps(res.state.to_dict(), separators=(",", ":"))
        text = text[: text.rindex("}")].rstrip() + ',\n  "state": ' + state + "\n}"
    return text + "\n"


def _check_not_inputs(outputs: list[tuple[str, str]], inputs: list[Any]) -> None:
    """InputError when an output path is one of the input files (it would be overwritten)."""
    existing = []
    for flag, value in outputs:
        try:
            st = os.stat(value)
        except OSError:
            continue  # not there yet: cannot be an input
        existing.append((flag, value, (st.st_dev, st.st_ino)))
    if not existing:
        return
    ids: dict[tuple[int, int], str] = {}
    for path in inputs:
        with contextlib.suppress(OSError):
            st = os.stat(path)
            ids.setdefault((st.st_dev, st.st_ino), str(path))
    for flag, value, key in existing:
        if key in ids:
            raise InputError(f"{flag} {value}: is an input file ({ids[key]}); writing it would overwrite it")


def _pair(args: argparse.Namespace, pred_dir: str, mask_dir: str, **more: Any) -> tuple:
    """:func:`hse.io.pair_files` with the pairing options of hse-score and hse-compare."""
    from hse.io import pair_files

    return pair_files(
        pred_dir,
        mask_dir,
        split=args.split,
        pred_suffix=args.pred_suffix,
        mask_suffix=args.mask_suffix,
        pred_ext=args.pred_ext,
        mask_ext=args.mask_ext,
        **more,
    )


def _evaluate(args: argparse.Namespace, names: list[str], preds: Any, masks: Any, **more: Any) -> Any:
    """:func:`hse.evaluate` with the scoring options of hse-score and hse-compare (--thresholds,
    --threshold, --match, --radius, --mask-threshold, --jobs)."""
    import hse

    return hse.evaluate(
        preds,
        masks,
        names=names,
        thresholds=args.thresholds,
        match=args.match,
        radius=args.radius,
        threshold=args.threshold,
        mask_threshold=args.mask_threshold,
        jobs=args.jobs,
        **more,
    )


def _ci_values(args: argparse.Namespace) -> dict[str, Any]:
    """``n``, ``seed`` and ``level`` of the bootstrap from --ci-n, --ci-seed and --ci-level (defaults
    1000, 0 and 0.95)."""
    return {
        "n": 1000 if args.ci_n is None else args.ci_n,
        "seed": 0 if args.ci_seed is None else args.ci_seed,
        "level": 0.95 if args.ci_level is None else args.ci_level,
    }


def _score(args: argparse.Namespace) -> int:
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
        names, preds, masks, report = _pair(
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
        _check_not_inputs(outputs, [*preds, *masks, *([args.split] if args.split else [])])
        if args.ci:  # refused by the bootstrap too; here before any scoring time is spent
            from hse.stats import MIN_IMAGES

            if len(names) < MIN_IMAGES:
                raise InputError(
                    f"--ci: {len(names)} image(s) paired; a bootstrap over images needs at least {MIN_IMAGES}"
                )
        if report.n_missing:
            _info(args, f"note: --allow-missing: scored {len(names)} pairs; unpaired: {report.summary()}")
        if report.ignored:
            _info(
                args, f"note: {len(report.ignored)} file(s) ignored (other extension or without the suffix)"
            )
        title = f"hse {__version__} - {args.pred_dir} vs {args.mask_dir}"

    res = _evaluate(
        args,
        names,
        preds,
        masks,
        compat=compat or None,
        resize_masks=args.resize_masks,
        progress=progress,
    )
    if args.ci:
        from hse.stats import bootstrap, format_intervals

        boot = bootstrap(res, **_ci_values(args))
        extra["ci"] = boot.to_dict()
        notes.append(format_intervals(boot))
    if getattr(res, "n_resized", 0):
        _info(
            args, f"note: --resize-masks nearest: {res.n_resized} mask(s) resized to their prediction's size"
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


# --------------------------------------------------------------------------------------------------
# hse-compare
# --------------------------------------------------------------------------------------------------


def build_compare_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=COMPARE_PROG,
        description=(
            "Paired bootstrap comparison of two methods scored on the same images: the difference A - B "
            "of HSE, HSE_pixel, HSE_target and IoU, nIoU, Pd, Fa at the operating threshold, its "
            "interval and a two-sided p-value. Give two result files written by 'hse-score --json', or "
            "--masks MASK_DIR and two prediction folders."
        ),
        epilog="Exit codes: 0 success, 2 bad input or usage, 1 internal error. See docs/statistics.md.",
    )
    p.add_argument("a", metavar="A", help="result JSON of method A (or its prediction folder with --masks)")
    p.add_argument("b", metavar="B", help="result JSON of method B (or its prediction folder with --masks)")
    g = p.add_argument_group("bootstrap")
    add_ci_options(g)
    g = p.add_argument_group("scoring prediction folders (with --masks)")
    g.add_argument("--masks", metavar="MASK_DIR", help="score A and B as prediction folders against MASK_DIR")
    g.add_argument("--split", metavar="FILE", help="score only the names listed in FILE")
    g.add_argument("--pred-suffix", default="", metavar="S", help="suffix to strip from prediction stems")
    g.add_argument("--mask-suffix", default="", metavar="S", help="suffix to strip from mask stems")
    g.add_argument(
        "--pred-ext", default=None, metavar="EXT", help="read only prediction files of this format"
    )
    g.add_argument("--mask-ext", default=None, metavar="EXT", help="read only mask files of this format")
    g.add_argument("--thresholds", type=parse_thresholds, default="default", metavar="SPEC",
                   help="HSE grid, as in hse-score (default 'default')")  # fmt: skip
    g.add_argument("--threshold", type=_finite_float, default=0.5, help="operating threshold (default 0.5)")
    g.add_argument("--match", choices=("greedy", "optimal"), default="greedy", help="target matching")
    g.add_argument("--radius", type=_positive_float, default=3.0, help="centroid distance, px (default 3)")
    g.add_argument("--mask-threshold", type=_finite_float, default=None, metavar="T",
                   help="binarise masks as mask > T")  # fmt: skip
    g.add_argument("--jobs", type=_jobs, default=1, metavar="N", help="worker processes (0 = all cores)")
    g = p.add_argument_group("output")
    g.add_argument("--label-a", metavar="NAME", help="name of method A in the table (default from the path)")
    g.add_argument("--label-b", metavar="NAME", help="name of method B in the table (default from the path)")
    g.add_argument("--json", metavar="OUT", help="write the comparison as JSON")
    g.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    g.add_argument("--version", action="version", version=f"{COMPARE_PROG} (hse) {__version__}")
    return p


def _labels(a: str, b: str) -> tuple[str, str]:
    pa, pb = Path(a), Path(b)
    la = pa.stem if pa.suffix.lower() == ".json" else pa.name or str(pa)
    lb = pb.stem if pb.suffix.lower() == ".json" else pb.name or str(pb)
    if la == lb:
        la, lb = str(a), str(b)
    return la, lb


def _score_folder(args: argparse.Namespace, pred_dir: str) -> Any:
    names, preds, masks, _report = _pair(args, pred_dir, args.masks)
    if args.json:
        _check_not_inputs([("--json", args.json)], [*preds, *masks])
    return _evaluate(args, names, preds, masks)


def _compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from hse.io import check_output_path
    from hse.stats import compare, format_comparison, load_result

    if args.json:  # before any loading or scoring
        check_output_path(args.json, f"--json {args.json}")
        _check_not_inputs([("--json", args.json)], [args.a, args.b, *([args.split] if args.split else [])])
    scoring = ("split", "thresholds", "threshold", "match", "radius", "mask_threshold", "jobs")
    defaults = {
        k: parser.get_default(k) for k in scoring + ("pred_suffix", "mask_suffix", "pred_ext", "mask_ext")
    }
    if args.masks is None:
        changed = [k for k in defaults if getattr(args, k) != defaults[k]]
        if changed:
            flags = ", ".join("--" + k.replace("_", "-") for k in changed)
            raise InputError(f"{flags}: only used with --masks (result files were scored already)")
        ra, rb = load_result(args.a), load_result(args.b)
    else:
        for folder in (args.a, args.b):
            try:
                is_dir = Path(folder).is_dir()
            except OSError as exc:  # e.g. a name too long
                raise InputError(f"{folder}: not a usable folder path ({exc.strerror or exc})") from None
            if not is_dir:
                raise InputError(f"{folder}: not a folder (with --masks, A and B are prediction folders)")
        ra, rb = _score_folder(args, args.a), _score_folder(args, args.b)
    la, lb = _labels(args.a, args.b)
    la, lb = args.label_a or la, args.label_b or lb
    cmp = compare(ra, rb, **_ci_values(args))
    text = format_comparison(cmp, la, lb)
    if args.json:
        from hse.io import AtomicOutputs

        out = Path(args.json)
        payload = {"schema": "hse-compare/1", "a": {"label": la, "source": str(args.a)},
                   "b": {"label": lb, "source": str(args.b)}}  # fmt: skip
        payload.update(cmp.to_dict())
        with AtomicOutputs() as files:
            files.add(out, json.dumps(payload, indent=2) + "\n")
    if not args.quiet:
        sys.stdout.write(text)
        if args.json:
            print(f"{COMPARE_PROG}: wrote {args.json}", file=sys.stderr)
    return 0


def compare_main(argv: list[str] | None = None) -> int:
    """Entry point of ``hse-compare`` (:func:`hse.stats.compare` of two results or prediction folders);
    returns the exit code (0 success, 2 bad input, 1 internal error)."""
    parser = build_compare_parser()
    args = parser.parse_args(argv)
    return run_cli(COMPARE_PROG, _compare, args, parser)


if __name__ == "__main__":
    raise SystemExit(main())
