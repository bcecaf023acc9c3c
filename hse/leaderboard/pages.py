"""The HTML pages of a leaderboard run: ``index.html`` and one report per (dataset, method) under
``reports/<dataset>/<method>.html``, staged into the run's :class:`hse.io.AtomicOutputs` so that they
are published with the other files and listed in its manifest (docs/html.md).

Provenance stated on the index: the masks, split file (with its SHA-256) and mask fixes of each
dataset; each method's prediction folder, checkpoint and checkpoint SHA-256 (the configuration's
optional ``checkpoint`` and ``checkpoint_sha256``: a checkpoint file that is present is hashed, and a
stated hash that differs from it is an error), and the cache key of its scores.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hse.errors import InputError, SmallSampleWarning
from hse.io.digest import file_sha256_cached

from .config import DatasetSpec, LeaderboardConfig, MethodSpec, slug
from .runs import Scored

#: The index page and the reports folder, in the output folder.
INDEX_NAME = "index.html"
REPORTS_DIR = "reports"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in blocks; InputError naming it when it cannot be read. A file
    unchanged since it was last hashed (same size and modification time) is not read again."""
    try:
        return file_sha256_cached(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read it to hash it ({exc})") from None


def checkpoint_provenance(method: MethodSpec, base: Path) -> tuple[str, str]:
    """(checkpoint, SHA-256 text) of a method: a checkpoint file found (relative to ``base``) is
    hashed and checked against the stated hash; otherwise the stated hash is shown as stated."""
    if not method.checkpoint and not method.checkpoint_sha256:
        return "-", "-"
    path = Path(method.checkpoint).expanduser() if method.checkpoint else None
    if path is not None and not path.is_absolute():
        path = base / path
    if path is not None and path.is_file():
        digest = sha256_of(path)
        if method.checkpoint_sha256 and digest != method.checkpoint_sha256:
            raise InputError(
                f"method {method.name!r}: checkpoint {path} has SHA-256 {digest}, but the configuration "
                f"states {method.checkpoint_sha256}; the file is not the one stated"
            )
        return method.checkpoint, f"{digest} ({'verified' if method.checkpoint_sha256 else 'computed'})"
    if method.checkpoint_sha256:
        where = " (file not available here)" if method.checkpoint else ""
        return method.checkpoint or "-", f"{method.checkpoint_sha256} (stated{where})"
    return method.checkpoint, "not hashed (file not found)"


def check_checkpoints(config: LeaderboardConfig) -> None:
    """Hash every method's checkpoint that is present and refuse a stated hash it does not have, before
    any scoring time is spent (the index shows the same hashes)."""
    base = config.path.resolve().parent
    for m in config.methods:
        checkpoint_provenance(m, base)


def _dataset_provenance(ds: DatasetSpec, entries: Sequence[Scored]) -> list[tuple[str, str]]:
    rows = [("masks", os.path.normpath(ds.masks) if ds.masks else "per method (below)")]
    if ds.split is not None:
        names = entries[0].inputs[0] if entries and entries[0].inputs else []
        rows.append(
            (
                "split file",
                f"{os.path.normpath(ds.split)} (SHA-256 {sha256_of(ds.split)}; {len(names)} images scored)",
            )
        )
    else:
        rows.append(("split file", "none: every paired image"))
    if ds.mask_fixes is not None:
        fixed = sorted({n for s in entries for n in s.fixed})
        shown = ", ".join(fixed[:20]) + (", ..." if len(fixed) > 20 else "")
        rows.append(
            (
                "mask fixes",
                f"{os.path.normpath(ds.mask_fixes)}: {len(fixed)} corrected mask(s) used"
                + (f" ({shown})" if fixed else ""),
            )
        )
    else:
        rows.append(("mask fixes", "none"))
    if ds.mask_threshold is not None:
        rows.append(("masks binarised", f"mask > {ds.mask_threshold:g}"))
    rows.append(
        ("masks resized", f"yes ({ds.resize_masks}), when their size differs" if ds.resize_masks else "never")
    )
    return rows


def _method_row(s: Scored, method: MethodSpec, ds: DatasetSpec, base: Path) -> dict[str, str]:
    inp = method.predictions[ds.name]
    ckpt, sha = checkpoint_provenance(method, base)
    return {
        "method": s.method,
        "predictions": os.path.normpath(inp.pred),
        "masks": os.path.normpath(inp.masks or ds.masks),
        "checkpoint": ckpt,
        "checkpoint SHA-256": sha,
        "scores": f"{'from the cache' if s.cached else 'computed in this run'} (key {s.key[:16]})",
    }


def _report_links(ds: DatasetSpec, entries: Sequence[Scored]) -> dict[str, str]:
    """method -> ``reports/<dataset>/<method>.html``, file names made unique without case."""
    taken: set[str] = set()
    links = {}
    for s in entries:
        stem, k = slug(s.method), 2
        name = stem
        while name.lower() in taken:
            name, k = f"{stem}-{k}", k + 1
        taken.add(name.lower())
        links[s.method] = f"{REPORTS_DIR}/{slug(ds.name)}/{name}.html"
    return links


def _interval_for(result: Any, row: Mapping[str, Any]) -> Any:
    """The bootstrap of a method's report, drawn like the table's interval (same n, seed 0, level)."""
    if row.get("ci_level") is None:
        return None
    from hse.stats import bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)  # the table already warned
        return bootstrap(result, n=int(row["ci_n"]), seed=0, level=float(row["ci_level"]))


def stage_pages(
    out: Any,
    config: LeaderboardConfig,
    scored: Mapping[str, Sequence[Scored]],
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    out_dir: Path,
) -> list[Path]:
    """Stage ``index.html`` and every report into ``out`` (an AtomicOutputs); returns their paths.
    ``rows`` holds each dataset's :func:`~hse.leaderboard.leaderboard_rows`."""
    from hse.html.leaderboard import DatasetSection, render_index
    from hse.html.report import render_report

    base = config.path.resolve().parent
    methods = {m.name: m for m in config.methods}
    sections, paths = [], []
    for ds in config.datasets:
        entries = scored.get(ds.name) or []
        if not entries or ds.name not in rows:
            continue
        ds_rows = {r["method"]: r for r in rows[ds.name]}
        links = _report_links(ds, entries)
        for s in entries:
            names, preds, masks = s.inputs if s.inputs else (None, None, None)
            text = render_report(
                s.result,
                title=f"{s.method} on {ds.name}",
                ci=_interval_for(s.result, ds_rows[s.method]),
                preds=preds,
                masks=masks,
                back_link=("../../" + INDEX_NAME, f"Back to the leaderboard: {config.title}"),
                inputs={
                    "predictions": os.path.normpath(methods[s.method].predictions[ds.name].pred),
                    "dataset": ds.name,
                },
            )
            path = out_dir / links[s.method]
            out.add(path, text)
            paths.append(path)
        sections.append(
            DatasetSection(
                name=ds.name,
                rows=rows[ds.name],
                results={s.method: s.result for s in entries},
                reports=links,
                description=ds.description,
                provenance=_dataset_provenance(ds, entries),
                methods=[_method_row(s, methods[s.method], ds, base) for s in entries],
            )
        )
    notes = [
        (m.name, ". ".join(p.rstrip(".") for p in (m.paper, m.note) if p) + ".")
        for m in config.methods
        if m.paper or m.note
    ]
    index = out_dir / INDEX_NAME
    out.add(index, render_index(config.title, sections, config.settings, notes))
    return [*paths, index]
