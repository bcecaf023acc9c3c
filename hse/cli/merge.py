"""``hse-score merge PART.json ... [--json OUT] [--csv --per-image --plot --ci]``: the whole set's result
from the shards written by ``hse-score PRED MASK --shard K/N --json PART.json``.

The parts must be exactly shards 1..N of one run (same settings, same data, each once; see
:func:`hse.shard.check_shards`); they are combined by global index (:func:`hse.merge`), so the merged
JSON is the unsharded run's, apart from ``merged_from`` (the part files). Outputs, summary and exit codes
are those of ``hse-score``.
"""

from __future__ import annotations

import argparse

from hse._version import __version__
from hse.errors import InputError

from .common import (
    EXIT_CODES,
    add_interval_options,
    add_intervals,
    add_output_options,
    check_not_inputs,
    check_option_use,
    check_outputs,
    folder_label,
    run_cli,
    run_title,
    write_result,
)

PROG = "hse-score merge"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Combine the result files of 'hse-score ... --shard K/N --json PART.json' (all N shards of one "
            "run) into the result of the whole set: the same numbers as one unsharded run."
        ),
        epilog=f"{EXIT_CODES} See docs/many-machines.md.",
    )
    p.add_argument("parts", nargs="+", metavar="PART.json", help="the shards' result files, in any order")
    add_interval_options(p)
    g = p.add_argument_group("output")
    add_output_options(g)
    g.add_argument("--version", action="version", version=f"{PROG} (hse) {__version__}")
    return p


def _merge(args: argparse.Namespace) -> int:
    import hse
    from hse.codec import decode, read_json
    from hse.result import Result
    from hse.shard import check_shards

    outputs = check_outputs(args)
    check_not_inputs(outputs, args.parts)
    data = [read_json(path) for path in args.parts]
    results = [decode(d, str(path), Result) for d, path in zip(data, args.parts, strict=True)]
    check_shards(
        [
            (str(path), d.get("shard"), r.state.indexes.tolist())
            for path, d, r in zip(args.parts, data, results, strict=True)
        ]
    )
    merged = hse.merge(results, names=[str(p) for p in args.parts])
    extra: dict = {}
    inputs = [d.get("inputs") for d in data]
    if all(i == inputs[0] for i in inputs):  # the shards of one run share their inputs record
        extra["inputs"] = inputs[0]
    else:
        raise InputError(
            f"{args.parts[0]} and the other parts record different inputs (folders, split or pairing): "
            "merge the shards of one hse-score run"
        )
    notes: list[str] = []
    add_intervals(args, merged, extra, notes)
    extra["merged_from"] = [str(p) for p in args.parts]
    title = run_title(
        _described(extra.get("inputs")), merged, f" - {int(data[0]['shard']['n'])} shards merged"
    )
    write_result(PROG, args, outputs, merged, extra, title, notes)
    return 0


def _described(inputs: object) -> str:
    """The unsharded run's title words (``PRED vs MASK``) from the folders the parts record, as typed on
    the scoring machine (normalised, not resolved here); a demo run's words otherwise."""
    if isinstance(inputs, dict) and "pred_dir" in inputs and "mask_dir" in inputs:
        pred = folder_label(inputs["pred_dir"], resolve=False)
        return f"{pred} vs {folder_label(inputs['mask_dir'], resolve=False)}"
    if isinstance(inputs, dict) and inputs.get("demo"):
        return "built-in demo (synthetic)"
    return "merged shards"


def main(argv: list[str] | None = None) -> int:
    """``hse-score merge``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_option_use(parser, args)
    return run_cli(PROG, _merge, args)
