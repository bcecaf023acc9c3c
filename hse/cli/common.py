"""What the commands share: the bootstrap and pairing options, reading scoring options into
:func:`hse.evaluate`, refusing outputs that would overwrite inputs, the output options of a scored result
and their writing (``hse-score`` and ``hse-score merge``: :func:`add_output_options`,
:func:`check_outputs`, :func:`write_result`), and :func:`run_cli` (exit codes and error messages). No
command module imports another; each imports this one.

Exit codes: 0 success; 2 bad input or usage (a short message on stderr naming the file and the
problem); 1 internal error (with a traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from hse._version import __version__
from hse.errors import InputError
from hse.settings import add_eval_options, number_from_text

from .html_options import add_html_options, check_html_options, html_text, html_usage_error

#: The evaluation settings that hse-score and hse-compare read from their options (:mod:`hse.settings`).
SCORING_OPTIONS = ("thresholds", "threshold", "match", "radius", "mask_threshold", "jobs")
#: The pairing options of hse-score and hse-compare, as the keywords of :func:`hse.io.pair_files`.
PAIRING_OPTIONS = ("split", "pred_suffix", "mask_suffix", "pred_ext", "mask_ext")
#: Bootstrap defaults: draws, seed, coverage.
CI_DEFAULTS = {"n": 1000, "seed": 0, "level": 0.95}

EXIT_CODES = "Exit codes: 0 success, 2 bad input or usage, 1 internal error."


def _level(text: str) -> float:
    return number_from_text(text, float, lambda x: 0.0 < x < 1.0, "must be in (0, 1), e.g. 0.95; got {text}")


def _positive_int(text: str) -> int:
    return number_from_text(text, int, lambda x: x >= 1, "must be >= 1, got {text}")


def _seed(text: str) -> int:
    return number_from_text(text, int, lambda x: x >= 0, "must be >= 0, got {text}")


def add_ci_options(group: Any, prefix_help: str = "") -> None:
    """The ``--ci-n``, ``--ci-seed`` and ``--ci-level`` options (shared by hse-score and hse-compare)."""
    group.add_argument("--ci-n", type=_positive_int, default=None, metavar="N",
                       help=f"{prefix_help}bootstrap draws (default {CI_DEFAULTS['n']})")  # fmt: skip
    group.add_argument("--ci-seed", type=_seed, default=None, metavar="S",
                       help=f"{prefix_help}seed of the draws (default {CI_DEFAULTS['seed']})")  # fmt: skip
    group.add_argument("--ci-level", type=_level, default=None, metavar="L",
                       help=f"{prefix_help}coverage of the intervals (default {CI_DEFAULTS['level']})")  # fmt: skip


def ci_values(args: argparse.Namespace) -> dict[str, Any]:
    """``n``, ``seed`` and ``level`` of the bootstrap from --ci-n, --ci-seed and --ci-level."""
    given = {"n": args.ci_n, "seed": args.ci_seed, "level": args.ci_level}
    return {k: CI_DEFAULTS[k] if v is None else v for k, v in given.items()}


def add_pairing_options(group: Any) -> None:
    """``--split``, ``--pred-suffix``, ``--mask-suffix``, ``--pred-ext`` and ``--mask-ext``."""
    group.add_argument("--split", metavar="FILE", help="score only the names listed in FILE (one per line)")
    group.add_argument("--pred-suffix", default="", metavar="S", help="suffix to strip from prediction stems")
    group.add_argument("--mask-suffix", default="", metavar="S",
                       help="suffix to strip from mask stems (e.g. _pixels0)")  # fmt: skip
    group.add_argument("--pred-ext", default=None, metavar="EXT",
                       help="read only prediction files of this format (e.g. npy) when a folder holds several")  # fmt: skip
    group.add_argument("--mask-ext", default=None, metavar="EXT", help="read only mask files of this format")
    group.add_argument("--max-pixels", type=_positive_int, default=None, metavar="N",
                       help="refuse images larger than N pixels (default 100000000; guards memory)")  # fmt: skip


def add_scoring_options(group: Any, names: Sequence[str] = SCORING_OPTIONS) -> None:
    """The evaluation settings' options, as :mod:`hse.settings` defines them."""
    add_eval_options(group, names)


def pair(args: argparse.Namespace, pred_dir: str, mask_dir: str, **more: Any) -> tuple:
    """:func:`hse.io.pair_files` with the pairing options."""
    from hse.io import MAX_PIXELS_ENV, pair_files

    if getattr(args, "max_pixels", None):  # the environment carries it into worker processes too
        os.environ[MAX_PIXELS_ENV] = str(args.max_pixels)
    return pair_files(pred_dir, mask_dir, **{k: getattr(args, k) for k in PAIRING_OPTIONS}, **more)


def evaluate(args: argparse.Namespace, names: list[str], preds: Any, masks: Any, **more: Any) -> Any:
    """:func:`hse.evaluate` with the scoring options (:data:`SCORING_OPTIONS`)."""
    import hse

    return hse.evaluate(preds, masks, names=names, **{k: getattr(args, k) for k in SCORING_OPTIONS}, **more)


def check_not_inputs(outputs: list[tuple[str, str]], inputs: list[Any]) -> None:
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
# the outputs of a scored result (hse-score, hse-score merge)
# --------------------------------------------------------------------------------------------------

#: The output options and their argparse destinations, in the order they are written.
OUTPUT_FLAGS = (("--json", "json"), ("--csv", "csv"), ("--per-image", "per_image"), ("--plot", "plot"),
                ("--html", "html"))  # fmt: skip


def add_output_options(group: Any) -> None:
    """``--json``, ``--no-state``, ``--csv``, ``--per-image``, ``--plot``, the HTML report's options
    (:mod:`hse.cli.html_options`) and ``--quiet``."""
    from hse.codec import SCHEMA

    group.add_argument("--json", metavar="OUT", help=f"write the full result as JSON (schema {SCHEMA})")
    group.add_argument("--no-state", action="store_true",
                       help="leave the per-image state out of --json (hse-compare and hse.bootstrap need it)")  # fmt: skip
    group.add_argument("--csv", metavar="OUT", help="write the per-threshold curve as CSV")
    group.add_argument("--per-image", metavar="OUT", help="write per-image results at --threshold as CSV")
    group.add_argument("--plot", metavar="OUT.png",
                       help="write a 4-panel figure: .png, or .pdf / .svg for vector (needs matplotlib)")  # fmt: skip
    add_html_options(group)
    group.add_argument("--quiet", "-q", action="store_true", help="print nothing on success except warnings")


def add_interval_options(parser: argparse.ArgumentParser) -> None:
    """The ``confidence intervals`` group: ``--ci`` and its ``--ci-n``, ``--ci-seed``, ``--ci-level``."""
    g = parser.add_argument_group("confidence intervals (docs/statistics.md)")
    g.add_argument("--ci", action="store_true",
                   help="add bootstrap confidence intervals (images resampled) to the summary and the JSON")  # fmt: skip
    add_ci_options(g, prefix_help="with --ci: ")


def check_option_use(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors of the shared output and interval options (exit 2 through argparse)."""
    if not args.ci and (args.ci_n is not None or args.ci_seed is not None or args.ci_level is not None):
        parser.error("--ci-n, --ci-seed and --ci-level need --ci")
    if args.no_state and not args.json:
        parser.error("--no-state needs --json")
    if html_usage_error(args):
        parser.error(html_usage_error(args))


def check_outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The requested ``(flag, path)`` outputs, each checked before any work: a writable place, no two
    flags naming one file, and for ``--plot`` matplotlib and a figure format (.png, .pdf, .svg)."""
    import importlib.util

    from hse.io import check_output_path

    outputs = [(flag, getattr(args, attr)) for flag, attr in OUTPUT_FLAGS if getattr(args, attr)]
    seen: dict[str, str] = {}
    for flag, value in outputs:
        check_output_path(value, f"{flag} {value}")
        key = os.path.abspath(value)
        if key in seen:
            raise InputError(f"{flag} and {seen[key]} name the same file {value}")
        seen[key] = flag
    if args.plot:
        from hse.plot import plot_format

        plot_format(args.plot, "--plot")
        if importlib.util.find_spec("matplotlib") is None:
            raise InputError("--plot needs matplotlib; install it with: pip install 'hse[plot]'")
    check_html_options(args, _evaluated_grid(args))
    return outputs


def _evaluated_grid(args: argparse.Namespace) -> Any:
    """The thresholds a scoring command will evaluate (None for a command that reads saved results)."""
    if not hasattr(args, "thresholds"):
        return None
    from hse.settings import EvalConfig

    return EvalConfig.create(thresholds=args.thresholds, threshold=args.threshold).evaluation_grid


def folder_label(path: str | os.PathLike, resolve: bool = True) -> str:
    """A folder as a title shows it: its last two components, without ``.``/``..`` or a trailing slash
    (``./../runs/acm/`` -> ``runs/acm``). ``resolve`` makes the path absolute first (a folder given here);
    a path recorded by another run (``hse-score merge``) is only normalised, not resolved from this one's
    working directory."""
    from pathlib import Path, PurePath

    p = Path(path).resolve() if resolve else PurePath(os.path.normpath(os.fspath(path)))
    parts = [x for x in p.parts if x not in (p.anchor, ".", "..")]
    return "/".join(parts[-2:]) or p.anchor or os.fspath(path)


def run_title(what: str, res: Any, suffix: str = "") -> str:
    """The title of a scored run's summary, figure and report: ``hse VERSION - WHAT: N images, GRID``."""
    from hse.report import grid_text

    return f"hse {__version__} - {what}: {res.n_images} images, {grid_text(res.thresholds)}{suffix}"


def add_intervals(args: argparse.Namespace, res: Any, extra: dict[str, Any], notes: list[str]) -> None:
    """With ``--ci``: the bootstrap of ``res`` into ``extra["ci"]`` and its table into ``notes``."""
    if not args.ci:
        return
    from hse.report import format_intervals
    from hse.stats import bootstrap

    boot = bootstrap(res, **ci_values(args))
    extra["ci"] = boot.to_dict()
    notes.append(format_intervals(boot))


def write_result(
    prog: str,
    args: argparse.Namespace,
    outputs: list[tuple[str, str]],
    res: Any,
    extra: dict[str, Any],
    title: str,
    notes: Sequence[str] = (),
    pairs: tuple | None = None,
) -> None:
    """Write the outputs of ``res`` (the JSON with ``extra`` added) and print its summary. ``pairs``,
    ``(names, preds, masks)`` as scored, feed the HTML report's gallery (without them it re-pairs the
    folders recorded in ``extra["inputs"]``, :func:`hse.cli.html_options.html_text`).

    Everything, the figure included, is computed before the first file is written; the files are then
    published together (:class:`hse.io.AtomicOutputs`): all of them appear or none does."""
    from hse.codec import dumps
    from hse.io import AtomicOutputs
    from hse.report import format_summary

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
        elif flag == "--html":
            payloads[path] = html_text(
                res, args, pairs, ci=extra.get("ci"), title=title, inputs=extra.get("inputs")
            )
    summary = format_summary(res, title=title, notes=notes)

    with AtomicOutputs() as out:
        for path, payload in payloads.items():
            if isinstance(payload, str):
                out.add(path, payload)
            else:
                from hse.plot import plot_format

                fig, fmt = payload, plot_format(path, flag)
                out.add_via(path, lambda tmp, fig=fig, fmt=fmt: fig.savefig(tmp, format=fmt))
    if not args.quiet:
        sys.stdout.write(summary)
        for _flag, path in outputs:
            print(f"{prog}: wrote {path}", file=sys.stderr)
