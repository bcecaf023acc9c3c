"""Building a leaderboard: score (through the cache), compute the statistics, make the rows, render
them, and write every file of the leaderboard together (:class:`hse.io.AtomicOutputs`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hse.errors import InputError
from hse.io import AtomicOutputs

from .config import LeaderboardConfig, slug
from .pages import check_checkpoints, stage_pages
from .render import render_csv, render_markdown
from .runs import Scored, score_config
from .table import leaderboard_rows

#: The leaderboard run's manifest, in the output folder.
MANIFEST_NAME = "manifest.json"


def _stage_leaderboard(
    out, results, out_dir: Path, stem: str, rows, markdown: str, csv_text: str, title
) -> list[Path]:
    md_path, csv_path, png_path = (out_dir / f"{stem}{ext}" for ext in (".md", ".csv", ".png"))
    out.add(md_path, markdown)
    out.add(csv_path, csv_text)
    from hse.plot import plot_leaderboard

    fig = plot_leaderboard(results, title=title)
    out.add_via(png_path, lambda tmp: fig.savefig(tmp, format="png"))
    return [md_path, csv_path, png_path]


def write_leaderboard(
    results: Mapping[str, Any],
    out_dir: str | os.PathLike,
    published: Mapping[str, Mapping[str, float]] | None = None,
    notes: Mapping[str, str] | None = None,
    papers: Mapping[str, str] | None = None,
    title: str | None = "Leaderboard",
    stem: str = "leaderboard",
    description: str = "",
    settings: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``stem.md``, ``stem.csv`` and ``stem.png`` for ``{method name: Result}`` into ``out_dir``.

    ``published`` maps a method to its paper's numbers (``iou``, ``niou``, ``pd`` in percent, ``fa`` in
    1e-6) shown beside the recomputed ones; ``notes`` and ``papers`` map a method to text shown under
    the table. The three files are staged in full before any is published (hse.io.AtomicOutputs).
    Returns their paths."""
    if not results:
        raise InputError("write_leaderboard: no results")
    rows = leaderboard_rows(results, published, notes, papers)
    markdown = render_markdown(rows, title=title, description=description, settings=settings)
    csv_text = render_csv(rows)
    with AtomicOutputs() as out:
        paths = _stage_leaderboard(out, results, Path(out_dir), stem, rows, markdown, csv_text, title)
    return paths


def run_config(
    config: LeaderboardConfig,
    out_dir: Path,
    force: bool = False,
    jobs: int = 1,
    log=None,
    progress: bool = False,
) -> dict[str, list[Scored]]:
    """Score every (dataset, method) pair of ``config`` and write the leaderboard files into ``out_dir``.
    Returns the scored entries per dataset."""
    log = log or (lambda msg: None)
    check_checkpoints(config)  # a wrong checkpoint hash is refused before any scoring
    scored = score_config(config, out_dir / ".cache", force=force, jobs=jobs, log=log, progress=progress)

    combined = [f"# {config.title}", ""]
    rows_by_dataset = {}
    # manifest.json is removed before the files are replaced and written last: its presence marks a
    # finished, consistent set (hse.io.check_manifest).
    with AtomicOutputs(manifest=out_dir / MANIFEST_NAME) as out:
        for ds in config.datasets:
            entries = scored[ds.name]
            if not entries:
                log(f"{ds.name}: no method has predictions for it; skipped")
                continue
            results = {s.method: s.result for s in entries}
            methods = {m.name: m for m in config.methods}
            rows = leaderboard_rows(
                results,
                published={n: methods[n].published.get(ds.name, {}) for n in results},
                notes={n: methods[n].note for n in results},
                papers={n: methods[n].paper for n in results},
            )
            rows_by_dataset[ds.name] = rows
            extra = []
            fixed = sorted({n for s in entries for n in s.fixed})
            if fixed:
                extra.append(
                    f"Corrected masks used for {len(fixed)} image(s) ({', '.join(fixed[:10])}"
                    + (", ..." if len(fixed) > 10 else "")
                    + f") from {ds.mask_fixes}."
                )
            if ds.resize_masks:
                extra.append(f"Masks whose size differs from the prediction are resized ({ds.resize_masks}).")
            md = render_markdown(rows, title=ds.name, description=ds.description, settings=config.settings,
                                 extra_notes=extra)  # fmt: skip
            csv_text = render_csv(rows, dataset=ds.name, cached={s.method: s.cached for s in entries})
            stem = slug(ds.name)
            _stage_leaderboard(out, results, out_dir, stem, rows, md, csv_text, f"{config.title}: {ds.name}")
            combined.append(md.replace(f"## {ds.name}", f"## {ds.name}\n\n![{ds.name}]({stem}.png)", 1))
        out.add(out_dir / "leaderboard.md", "\n".join(combined))
        stage_pages(out, config, scored, rows_by_dataset, out_dir)  # index.html and reports/
        written = out.paths
    for p in written:
        log(f"wrote {p}")
    return scored
