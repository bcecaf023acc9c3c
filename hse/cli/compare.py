"""``hse-compare A B``: the paired bootstrap comparison (:func:`hse.stats.compare`) of two result files,
or of two prediction folders scored against ``--masks``. See docs/statistics.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hse._version import __version__
from hse.errors import InputError

from .common import (
    EXIT_CODES,
    PAIRING_OPTIONS,
    SCORING_OPTIONS,
    add_ci_options,
    add_pairing_options,
    add_scoring_options,
    check_not_inputs,
    ci_values,
    evaluate,
    pair,
    run_cli,
)

PROG = "hse-compare"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Paired bootstrap comparison of two methods scored on the same images: the difference A - B "
            "of HSE, HSE_pixel, HSE_target and IoU, nIoU, Pd, Fa at the operating threshold, its "
            "interval and a two-sided p-value. Give two result files written by 'hse-score --json', or "
            "--masks MASK_DIR and two prediction folders."
        ),
        epilog=f"{EXIT_CODES} See docs/statistics.md.",
    )
    p.add_argument("a", metavar="A", help="result JSON of method A (or its prediction folder with --masks)")
    p.add_argument("b", metavar="B", help="result JSON of method B (or its prediction folder with --masks)")
    g = p.add_argument_group("bootstrap")
    add_ci_options(g)
    g = p.add_argument_group("scoring prediction folders (with --masks)")
    g.add_argument("--masks", metavar="MASK_DIR", help="score A and B as prediction folders against MASK_DIR")
    add_pairing_options(g)
    add_scoring_options(g)
    g = p.add_argument_group("output")
    g.add_argument("--label-a", metavar="NAME", help="name of method A in the table (default from the path)")
    g.add_argument("--label-b", metavar="NAME", help="name of method B in the table (default from the path)")
    g.add_argument("--json", metavar="OUT", help="write the comparison as JSON")
    g.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    g.add_argument("--version", action="version", version=f"{PROG} (hse) {__version__}")
    return p


def _labels(a: str, b: str) -> tuple[str, str]:
    pa, pb = Path(a), Path(b)
    la = pa.stem if pa.suffix.lower() == ".json" else pa.name or str(pa)
    lb = pb.stem if pb.suffix.lower() == ".json" else pb.name or str(pb)
    if la == lb:
        la, lb = str(a), str(b)
    return la, lb


def _score_folder(args: argparse.Namespace, pred_dir: str) -> Any:
    names, preds, masks, _report = pair(args, pred_dir, args.masks)
    if args.json:
        check_not_inputs([("--json", args.json)], [*preds, *masks])
    return evaluate(args, names, preds, masks)


def _compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from hse.io import AtomicOutputs, check_output_path, path_kind
    from hse.report import format_comparison
    from hse.result import load_result
    from hse.stats import compare

    if args.json:  # before any loading or scoring
        check_output_path(args.json, f"--json {args.json}")
        check_not_inputs([("--json", args.json)], [args.a, args.b, *([args.split] if args.split else [])])
    defaults = {k: parser.get_default(k) for k in (*SCORING_OPTIONS, *PAIRING_OPTIONS)}
    if args.masks is None:
        changed = [k for k in defaults if getattr(args, k) != defaults[k]]
        if changed:
            flags = ", ".join("--" + k.replace("_", "-") for k in changed)
            raise InputError(f"{flags}: only used with --masks (result files were scored already)")
        ra, rb = load_result(args.a), load_result(args.b)
    else:
        for folder in (args.a, args.b):
            if not path_kind(Path(folder), "folder")[2]:
                raise InputError(f"{folder}: not a folder (with --masks, A and B are prediction folders)")
        ra, rb = _score_folder(args, args.a), _score_folder(args, args.b)
    la, lb = _labels(args.a, args.b)
    la, lb = args.label_a or la, args.label_b or lb
    cmp = compare(ra, rb, **ci_values(args))
    text = format_comparison(cmp, la, lb)
    if args.json:
        payload = {"schema": "hse-compare/1", "a": {"label": la, "source": str(args.a)},
                   "b": {"label": lb, "source": str(args.b)}}  # fmt: skip
        payload.update(cmp.to_dict())
        with AtomicOutputs() as files:
            files.add(Path(args.json), json.dumps(payload, indent=2) + "\n")
    if not args.quiet:
        sys.stdout.write(text)
        if args.json:
            print(f"{PROG}: wrote {args.json}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``hse-compare``; returns the exit code (0 success, 2 bad input, 1 internal error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_cli(PROG, _compare, args, parser)


if __name__ == "__main__":
    raise SystemExit(main())
