"""The leaderboard page: Markdown table, CSV, provenance JSON and one figure, regenerated from results.

Everything on the page is computed from the scored results, the published claims
(``checkpoints/*/published.csv``) and the split files; nothing is typed in by hand, and nothing on it
depends on the time or on which maps were cached, so a re-run with nothing changed writes the same
bytes. All files are staged in full before any is replaced (:class:`hse.io.AtomicOutputs`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import platform
from pathlib import Path
from typing import Any

import facts
import maps
import numpy as np
import sources

from hse import __version__ as HSE_VERSION
from hse.background import BACKGROUND_SCORES, background_alarms, frame_counts
from hse.io import AtomicOutputs
from hse.io.digest import file_sha256
from hse.leaderboard.ranks import tied_ranks
from hse.report import fmt_num, markdown_table, operating_metrics, pct

FIGURE = "img/leaderboard_curves.png"
#: The target tables, in the order the facts read them: targets and backgrounds, targets alone, NUAA-SIRST.
TABLES = ("sirst-v2-unseen", "sirst-v2-targets", "nuaa-idx427-test")
PROTOCOLS = {
    "lesps": ("NUAA-SIRST 50_50/test (214 images)",
              "BasicIRSTD mIoU / PD_FA: pooled IoU at p > 0.5, centroid distance < 3 px, Fa = unmatched "
              "pixels / all pixels, at the image's size (zero padding)"),
    "repisd": ("NUAA-SIRST idx_427/test (86 images)",
               "its own code at 256x256: pooled IoU and mean per-image nIoU at p > 0.5; Pd / Fa at p > 0.9, "
               "centroid < 3 px, Fa per 256x256 pixel (with an area quirk)"),
    "rpcanet": ("NUAA-SIRST idx_427/test (86 images)",
                "its own code at 256x256: relative threshold p / max(p) > 0.5 per image, pooled IoU, Pd = "
                "any overlap, Fa = predicted background pixels / background pixels, in 1e-5"),
}  # fmt: skip
CSV_COLUMNS = ("dataset", "method", "family", "trained_on", "n_images", "n_targets", "rank", "rank_leader",
               "hse", "hse_low", "hse_high", "p_vs_leader", "hse_pixel", "hse_target", "iou", "niou", "pd",
               "fa_1e6", *(f"{k}{s}" for k in BACKGROUND_SCORES for s in ("", "_low", "_high")))  # fmt: skip


def _plain(obj: Any) -> Any:
    """JSON-ready: numpy numbers to Python ones, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def published_claims(shared: Path, ckpts: list[maps.Checkpoint]) -> list[dict[str, Any]]:
    """Every row of the checkpoints' ``published.csv`` files, with the family and Fa's unit."""
    rows = []
    for family in ("lesps", "repisd", "rpcanet"):
        with open(shared / "checkpoints" / family / "published.csv", newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                fa_key = next(k for k in r if k.startswith("fa_"))
                rows.append({"checkpoint": r["checkpoint"], "family": family, "source": r.get("source", "paper"),
                             "iou": r.get("iou_percent") or None, "niou": r.get("niou_percent") or None,
                             "pd": r.get("pd_percent") or None, "fa": r[fa_key] or None,
                             "fa_unit": fa_key[3:]})  # fmt: skip
    names = {c.name for c in ckpts}
    return [r for r in rows if r["checkpoint"] in names]


def target_rows(results: dict[str, Any], ci: dict) -> list[dict[str, Any]]:
    """Ranked rows (ties, intervals) with the operating-point numbers of each method."""
    rows = tied_ranks(results, **ci)
    for r in rows:
        m = operating_metrics(results[r["method"]])
        r.update({k: m[k] for k in ("hse_pixel", "hse_target", "iou", "niou", "pd", "fa_1e6", "n_images",
                                     "n_targets")})  # fmt: skip
    return rows


def background_rows(results: dict[str, Any], ci: dict) -> list[dict[str, Any]]:
    """Background false alarms per method, fewest false-alarm pixels first."""
    rows = []
    for name, res in results.items():
        b = background_alarms(res, **ci)
        row = {"method": name, "n_images": b.n_frames, "megapixels": b.megapixels}
        for k in BACKGROUND_SCORES:
            row.update({k: b[k].estimate, f"{k}_low": b[k].low, f"{k}_high": b[k].high})
        rows.append(row)
    return sorted(rows, key=lambda r: (r["fa_per_mpx"], r["method"]))


def _ci(row: dict, key: str, fmt=lambda v: fmt_num(v, 3)) -> str:
    lo, hi = row.get(f"{key}_low"), row.get(f"{key}_high")
    if lo is None or hi is None:
        return fmt(row[key])
    return f"{fmt(row[key])} [{fmt(lo)}, {fmt(hi)}]"


def _target_table(rows: list[dict], ck: dict[str, maps.Checkpoint]) -> str:
    head = ["rank", "checkpoint", "trained on", "HSE [95% CI]", "p vs leader", "HSE_pixel", "HSE_target",
            "IoU %", "nIoU %", "Pd %", "Fa 1e-6"]  # fmt: skip
    body = []
    for r in rows:
        p = "leader" if r["leader"] == r["method"] else f"{fmt_num(r['p_vs_leader'], 3)} (vs {r['leader']})"
        body.append([r["rank"], r["method"], ck[r["method"]].trained_on, _ci(r, "hse"), p,
                     fmt_num(r["hse_pixel"], 3), fmt_num(r["hse_target"], 3), pct(r["iou"]), pct(r["niou"]),
                     pct(r["pd"]), fmt_num(r["fa_1e6"], 1)])  # fmt: skip
    return markdown_table(head, body, "rllrrrrrrrr")


def _background_table(rows: list[dict]) -> str:
    head = ["checkpoint", "false-alarm px per Mpx [95% CI]", "false targets per frame [95% CI]",
            "frames with any alarm"]  # fmt: skip
    body = [[r["method"], _ci(r, "fa_per_mpx", lambda v: fmt_num(v, 1)),
             _ci(r, "false_targets_per_frame", lambda v: fmt_num(v, 2)),
             _ci(r, "frames_with_alarm", lambda v: pct(v, 0) + "%")] for r in rows]  # fmt: skip
    return markdown_table(head, body, "lrrr")


def _claims_table(claims: list[dict], idx_rows: dict[str, dict] | None) -> str:
    head = ["checkpoint", "source", "paper's split", "paper's protocol", "IoU %", "nIoU %", "Pd %", "Fa",
            "here on idx_427/test: IoU %", "nIoU %", "Pd %", "Fa 1e-6"]  # fmt: skip
    body = []
    for c in claims:
        split, proto = PROTOCOLS[c["family"]]
        r = (idx_rows or {}).get(c["checkpoint"])
        here = [pct(r["iou"]), pct(r["niou"]), pct(r["pd"]), fmt_num(r["fa_1e6"], 1)] if r else ["-"] * 4
        body.append([c["checkpoint"], c["source"], split, proto, c["iou"] or "-", c["niou"] or "-", c["pd"] or "-",
                     f"{c['fa']} ({c['fa_unit']})" if c["fa"] else "-", *here])  # fmt: skip
    return markdown_table(head, body, "llllrrrrrrrr")


BG_PANELS = (("fa_per_mpx", "false-alarm px per Mpx"), ("false_targets_per_frame", "false targets per frame"),
             ("frames_with_alarm", "share of frames with an alarm"))  # fmt: skip


def _bg_value(key: str, fc: dict[str, np.ndarray]) -> float:
    if key == "fa_per_mpx":
        return float(1e6 * fc["fp"].sum() / fc["pixels"].sum())
    if key == "false_targets_per_frame":
        return float(fc["ft"].mean())
    return float((fc["fp"] > 0).mean())


def figure(tables_res: dict[str, dict[str, Any]], bg_res: dict[str, Any] | None, names: list[str]):
    """One figure: per target set pixel IoU against threshold and Pd against Fa, and the background
    false alarms against threshold; one colour per checkpoint throughout."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nrow = len(tables_res)
    fig, axes = plt.subplots(nrow, 3, figsize=(16, 4.6 * nrow), squeeze=False)
    colour = {n: f"C{i % 10}" for i, n in enumerate(names)}
    for row, (ds, results) in enumerate(tables_res.items()):
        ax_iou, ax_pdfa, ax_bg = axes[row]
        for n, res in results.items():
            c = res.curve.sort_values("threshold")
            op = c[np.isclose(c["threshold"], res.threshold)]
            ax_iou.plot(c["threshold"], c["iou"], "-", color=colour[n], label=n)
            ax_pdfa.plot(np.maximum(c["fa_1e6"], 1e-2), c["pd"], "-", color=colour[n], label=n)
            ax_pdfa.plot(np.maximum(op["fa_1e6"], 1e-2), op["pd"], "o", color=colour[n], ms=5)
        ax_iou.set(xlabel="threshold", ylabel="pixel IoU", title=f"{ds}: IoU against threshold", xlim=(0, 1))
        ax_pdfa.set(
            xscale="log",
            xlabel="Fa (1e-6, log; 0 drawn at 0.01)",
            ylabel="Pd",
            title=f"{ds}: Pd against Fa (dot: p > 0.5)",
        )
        for ax in (ax_iou, ax_pdfa):
            ax.grid(alpha=0.3)
        key, label = BG_PANELS[row % len(BG_PANELS)]
        if bg_res:
            for n, res in bg_res.items():
                vals = []
                for t in res.grid:
                    fc = frame_counts(res, float(t))
                    vals.append(_bg_value(key, fc))
                shares = key == "frames_with_alarm"
                ax_bg.plot(res.grid, vals if shares else np.maximum(vals, 1e-3), "-", color=colour[n], label=n)
            ax_bg.set(
                yscale="linear" if shares else "log",
                xlabel="threshold",
                ylabel=label if shares else f"{label} (log; 0 drawn at 0.001)",
                title=f"background frames: {label}",
                xlim=(0, 1),
            )
            ax_bg.grid(alpha=0.3)
        else:
            ax_bg.axis("off")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def provenance(datasets, ckpts, scored, args, commands, settings, ci, root_of) -> dict[str, Any]:
    """What the page was computed from (no time stamps, no machine-dependent paths)."""
    import torch

    return {
        "format": "hse-board-provenance/1",
        "hse_version": HSE_VERSION,
        "torch_version": torch.__version__.split("+")[0],
        "python": platform.python_version(),
        "commands": commands,
        "settings": settings,
        "intervals": {"method": "percentile bootstrap over images", **ci},
        "map_cache_format": maps.MAP_FORMAT,
        "checkpoints": [
            {
                "name": c.name,
                "family": c.family,
                "file": root_of(c.path),
                "sha256": c.sha256,
                "paper": c.paper,
                "trained_on": f"NUAA-SIRST {c.trained_on}",
            }
            for c in ckpts
        ],  # fmt: skip
        "datasets": [
            {
                "name": d.name,
                "title": d.title,
                "layout": d.layout,
                "n_images": len(d.names),
                "limit": args.limit,
                "background": d.background,
                "split_files": [
                    {"path": root_of(p), "sha256": file_sha256(p)} for p in d.split_files
                ],
                "mask_fixes": [
                    {
                        "name": n,
                        "mask": root_of(d.masks[d.names.index(n)]),
                        "sha256": file_sha256(d.masks[d.names.index(n)]),
                        "why": why,
                    }
                    for n, why in sorted(d.fixes.items())
                ],
                "hse_leaderboard_cache_keys": {s.method: s.key for s in scored[d.name]},
            }
            for d in datasets
        ],  # fmt: skip
    }


def write_page(page_dir: Path, datasets, ckpts, scored, args, commands, settings, ci) -> list[Path]:
    """Compute the tables and write ``leaderboard.md``, ``.csv``, ``.json`` and the figure."""
    ck = {c.name: c for c in ckpts}
    order = [c.name for c in ckpts]
    results = {d.name: {s.method: s.result for s in scored[d.name]} for d in datasets}
    tables = {d.name: target_rows(results[d.name], ci) for d in datasets if not d.background}
    bg_ds = next((d for d in datasets if d.background), None)
    bg = background_rows(results[bg_ds.name], ci) if bg_ds else None
    claims = published_claims(args.shared, ckpts)
    nuaa = next(d for d in datasets if d.name == "nuaa-idx427-test")
    leak = (len(sources.overlap_with(args.shared, "50_50/train", nuaa.names)), len(nuaa.names))
    bases = [("shared", args.shared.resolve())] + ([("data", args.data.resolve())] if args.data else [])

    def root_of(p: Path) -> str:
        p = Path(p).resolve()
        for label, base in bases:
            if p.is_relative_to(base):
                return f"{label}:{p.relative_to(base).as_posix()}"
        return p.name

    md = [f"<!-- generated by `{commands[0]}`; do not edit -->", "",
          "# Leaderboard: eight published checkpoints, one protocol, unseen images", "",
          f"Generated by `{commands[0]}` (hse {HSE_VERSION}); do not edit by hand: re-run the command. "
          "How it is made, and how to run it on the full SIRST-v2 release: "
          "[benchmarks/leaderboard/README.md](../benchmarks/leaderboard/README.md).", "",
          "Each checkpoint keeps its own input preprocessing (LESPS ACM/ALCNet: the image's size with zero "
          "padding; RepISD-Net and RPCANet: 256x256, the map resized bilinearly to the image's size); everything "
          "after the probability map is hse's one protocol at the image's native resolution: thresholds "
          "0.05..0.95, IoU/nIoU/Pd/Fa at p > 0.5, 8-connected targets, centroid distance < 3 px, greedy "
          f"matching. Intervals: {ci['n']} bootstrap draws over images, seed {ci['seed']}, {ci['level']:.0%}. "
          "Ranks: the leader has the best HSE; a method shares the rank of its group's leader when the paired "
          "bootstrap test of the HSE difference is not significant at 5% "
          "(docs/hse-leaderboard.md, \"Ranks with ties\").", "",
          "## What it shows (measured)", "", *(f"- {f}" for f in facts.all_facts(tables, bg, claims, leak, *TABLES)), "",
          f"![all eight checkpoints]({FIGURE})", ""]  # fmt: skip
    for d in datasets:
        md += [f"## {d.title} (`{d.name}`, {len(d.names)} images)", ""]
        if d.background:
            md += ["Every mask is all zero: every predicted pixel is a false alarm and every predicted component a "
                   "false target (p > 0.5). Intervals resample frames.", "", _background_table(bg)]  # fmt: skip
        else:
            md += [_target_table(tables[d.name], ck)]
        if d.fixes:
            md += [""] + [f"- {n}: {why}." for n, why in sorted(d.fixes.items())]
        md.append("")
    idx_rows = {r["method"]: r for r in tables.get("nuaa-idx427-test", [])}
    md += ["## Published claims beside the re-scored numbers", "",
           "Each paper measured on its own split, resolution and metric code (named below), so the claims are not "
           "comparable with each other; the right-hand columns are hse's one protocol on idx_427/test.", "",
           _claims_table(claims, idx_rows), "",
           f"Training data: the six LESPS checkpoints trained on SIRST3, whose NUAA-SIRST part is 50_50/train: "
           f"{leak[0]} of the {leak[1]} idx_427/test images scored here are among its training images. RepISD-Net "
           "and RPCANet trained on idx_427/trainval (no overlap with idx_427/test). No checkpoint trained on a "
           "SIRST-v2 image.", ""]  # fmt: skip
    markdown = "\n".join(md)

    csv_buf = io.StringIO()
    w = csv.DictWriter(csv_buf, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for d in datasets:
        rows = bg if d.background else tables[d.name]
        for r in sorted(rows, key=lambda r: order.index(r["method"])):
            rec = {k: r.get(k) for k in CSV_COLUMNS}
            rec.update(dataset=d.name, family=ck[r["method"]].family, trained_on=ck[r["method"]].trained_on,
                       rank_leader=r.get("leader"))  # fmt: skip
            w.writerow(
                {k: (repr(v) if isinstance(v, float) and math.isfinite(v) else v) for k, v in rec.items()}
            )
    prov = provenance(
        datasets, ckpts, scored, args, commands, {k: v for k, v in settings.items()}, ci, root_of
    )
    prov["tables"] = {**tables, **({bg_ds.name: bg} if bg_ds else {})}
    prov["published_claims"] = claims
    prov["leakage"] = {"idx_427/test in 50_50/train": leak[0], "idx_427/test images": leak[1]}

    tab_res = {d.name: {n: results[d.name][n] for n in order} for d in datasets if not d.background}
    fig = figure(tab_res, {n: results[bg_ds.name][n] for n in order} if bg_ds else None, order)
    with AtomicOutputs() as out:
        (page_dir / "img").mkdir(parents=True, exist_ok=True)
        out.add(page_dir / "leaderboard.md", markdown)
        out.add(page_dir / "leaderboard.csv", csv_buf.getvalue())
        out.add(
            page_dir / "leaderboard.json",
            json.dumps(_plain(prov), indent=1, sort_keys=True, allow_nan=False) + "\n",
        )
        out.add_via(
            page_dir / FIGURE, lambda tmp: fig.savefig(tmp, format="png", dpi=90, metadata={"Software": None})
        )
        written = out.paths
    return written
