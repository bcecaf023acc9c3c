"""``hse-leaderboard CONFIG [--out DIR] [--force] [--jobs N]``: score many methods, rank them by HSE.

For every dataset of the configuration (docs/hse-leaderboard.md) it writes a Markdown table, a CSV and a
PNG, plus one ``leaderboard.md`` with all datasets; results are cached under ``OUT/.cache/``. The work
is :mod:`hse.leaderboard`; this module reads the command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hse._version import __version__
from hse.io import check_output_path
from hse.leaderboard import load_config, run_config
from hse.settings import jobs_from_text

from .common import EXIT_CODES, run_cli

PROG = "hse-leaderboard"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Score several methods on one or more datasets and rank them by HSE (see docs/hse-leaderboard.md).",
        epilog=EXIT_CODES,
    )
    p.add_argument("config", metavar="CONFIG", help="leaderboard TOML file")
    p.add_argument(
        "--out", metavar="DIR", help="output folder (default: 'out' in the config, else ./leaderboard)"
    )
    p.add_argument("--force", action="store_true", help="ignore the cache and rescore every method")
    p.add_argument("--jobs", type=jobs_from_text, default=1, metavar="N",
                   help="worker processes per method (default 1; 0 = one per CPU core)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success except warnings")
    p.add_argument("--version", action="version", version=f"{PROG} (hse) {__version__}")
    return p


def _run(args: argparse.Namespace) -> int:
    def log(msg: str) -> None:
        if not args.quiet:
            print(f"{PROG}: {msg}", file=sys.stderr)

    config = load_config(args.config)
    out_dir = Path(args.out) if args.out else (config.out or Path("leaderboard"))
    check_output_path(out_dir, f"output folder {out_dir}", folder=True)  # before any scoring
    progress = bool((not args.quiet) and sys.stderr.isatty())
    run_config(config, out_dir, force=args.force, jobs=args.jobs, log=log, progress=progress)
    if not args.quiet:
        sys.stdout.write((out_dir / "leaderboard.md").read_text(encoding="utf-8"))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``hse-leaderboard``; returns the exit code (:func:`hse.cli.common.run_cli`)."""
    args = build_parser().parse_args(argv)
    return run_cli(PROG, _run, args)


if __name__ == "__main__":
    raise SystemExit(main())
