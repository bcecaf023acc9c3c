"""What the commands share: the bootstrap and pairing options, reading scoring options into
:func:`hse.evaluate`, refusing outputs that would overwrite inputs, and :func:`run_cli` (exit codes and
error messages). No command module imports another; each imports this one.

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
