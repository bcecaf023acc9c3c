"""Re-score published checkpoints under their papers' own protocols, and with HSE.

Run from the repository root::

    python benchmarks/rescore/rescore.py {lesps,repisd,rpcanet} --shared ../shared --out OUTDIR \\
        [--jobs N] [--threads T] [--limit K]

Suites (see ``docs/rescore.md``):

* ``lesps``: the six ACM / ALCNet checkpoints of LESPS (CVPR 2023) on NUAA-SIRST ``50_50/test``
  (214 images), BasicIRSTD metrics (``compat="basicirstd"``), maps at the images' size;
* ``repisd``: RepISD-Net (TGRS 2023) on ``idx_427/test`` (86 images), its own metrics
  (``compat="repisd"``, with its area quirk), maps and masks at 256x256;
* ``rpcanet``: RPCANet (WACV 2024) on ``idx_427/test``, its own metrics (``compat="rpcanet"``), maps
  and masks at 256x256.

Every checkpoint runs through :func:`fdep_ref.protocols.protocol_map` (the family's preprocessing,
network call and probability read-out); its maps are saved as float32 ``.npy`` and 8-bit PNG under
``OUTDIR/maps/<checkpoint>/`` and scored with :func:`hse.evaluate` (HSE, and the paper's metrics
through the compat preset) and :func:`hse.bootstrap` (HSE's confidence interval).

Outputs (all written atomically): ``rescore.csv``, ``leaderboard.md``, ``curves.png``, ``run.json``
and ``curves/<checkpoint>.csv``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO_ROOT))

THRESHOLD = 0.5
CI_DRAWS, CI_SEED = 1000, 0


@dataclass(frozen=True)
class Suite:
    """One family of published checkpoints, the split they were scored on and their metric code."""

    family: str
    split: str
    checkpoints: dict[str, str]  # name -> file under checkpoints/<family>/
    compat: str
    fa_key: str  # the compat key holding the paper's Fa
    fa_unit: str
    title: str
    note: str  # where the claimed numbers come from
    compat_options: dict = field(default_factory=dict)
    fixed_masks: bool = False  # replace mismatched masks by fixes/ (native-resolution suites)


SUITES = {
    "lesps": Suite(
        family="lesps",
        split="50_50/test",
        checkpoints={
            name: f"{name}.pth.tar"
            for name in (
                "ACM_full",
                "ACM_LESPS_centroid",
                "ACM_LESPS_coarse",
                "ALCNet_full",
                "ALCNet_LESPS_centroid",
                "ALCNet_LESPS_coarse",
            )
        },
        compat="basicirstd",
        fa_key="fa",
        fa_unit="all pixels",
        title="LESPS checkpoints on NUAA-SIRST (50_50 test split)",
        note="Published numbers: LESPS (CVPR 2023), Table 2.",
        fixed_masks=True,
    ),
    "repisd": Suite(
        family="repisd",
        split="idx_427/test",
        checkpoints={"RepISD_NUAA_deploy": "RepISD_NUAA_deploy.pth.tar"},
        compat="repisd",
        compat_options={"legacy_fa": True},
        fa_key="fa_legacy",
        fa_unit="all pixels (256x256 x images), unmatched components sharing a matched area dropped",
        title="RepISD-Net on NUAA-SIRST (idx_427 test split, 256x256)",
        note="Its own numbers (Pd/Fa at 0.9, area quirk) are in rescore.csv, not comparable with these columns.",
    ),
    "rpcanet": Suite(
        family="rpcanet",
        split="idx_427/test",
        checkpoints={"RPCANet_SIRST": "RPCANet_SIRST.pkl"},
        compat="rpcanet",
        fa_key="fa",
        fa_unit="background pixels of images with a target (256x256)",
        title="RPCANet on NUAA-SIRST (idx_427 test split, 256x256)",
        note="Its own numbers (relative threshold, background Fa) are in rescore.csv, not comparable here.",
    ),
}

METRICS = ("iou", "niou", "f1", "pd", "fa")
CSV_COLUMNS = (
    "checkpoint",
    "suite",
    "split",
    "n_images",
    *METRICS,
    "fa_unit",
    *(f"claimed_{m}" for m in METRICS),
    "claimed_source",
    "hse",
    "hse_low",
    "hse_high",
    "hse_pixel",
    "hse_target",
)


# --------------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic_path(path: Path, suffix: str = ""):
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    with _atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_npy(path: Path, arr: np.ndarray) -> None:
    with _atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, arr)


def write_png(path: Path, arr: np.ndarray) -> None:
    with _atomic_path(path) as tmp:
        Image.fromarray(arr).save(tmp, format="PNG")


def dataset_root(shared: Path) -> Path:
    return shared / "data" / "nuaa-sirst"


def read_names(shared: Path, split: str, limit: int | None) -> list[str]:
    path = dataset_root(shared) / "splits" / split
    names = [line.strip() for line in path.with_suffix(".txt").read_text().splitlines() if line.strip()]
    return names[:limit] if limit else names


def load_fixed_masks(shared: Path, names: list[str]) -> tuple[list[np.ndarray], dict[str, str]]:
    """Native masks as uint8 {0, 255}; a file in ``fixes/`` replaces the published mask of that name.

    Returns the masks and a record of every replacement. A mask whose size differs from its image
    (with no fix available) is an error.
    """
    root = dataset_root(shared)
    masks, fixes = [], {}
    for name in names:
        with Image.open(root / "images" / f"{name}.png") as im:
            w, h = im.size
        published = root / "masks" / f"{name}.png"
        fixed = root / "fixes" / f"{name}.png"
        path = fixed if fixed.is_file() else published
        with Image.open(path) as im:
            m = np.asarray(im)
        if m.ndim == 3:
            m = m[..., 0]
        if path == fixed:
            with Image.open(published) as im:
                pw, ph = im.size
            fixes[name] = (
                f"fixes/{name}.png ({w}x{h}) used instead of masks/{name}.png ({pw}x{ph}), "
                f"whose size does not match the {w}x{h} image"
            )
        if m.shape != (h, w):
            raise ValueError(f"{path}: mask is {m.shape[1]}x{m.shape[0]} but the image is {w}x{h}")
        masks.append(np.where(m > 0, 255, 0).astype(np.uint8))
    return masks, fixes


def load_masks(suite: Suite, shared: Path, names: list[str]) -> tuple[list[np.ndarray], dict[str, str]]:
    """The masks the suite's metric code sees: fixed native masks, or the protocol's resized ones."""
    if suite.fixed_masks:
        return load_fixed_masks(shared, names)
    from fdep_ref.protocols import read_protocol_mask

    root = dataset_root(shared)
    # The protocol resizes every published mask on its own (Misc_111's mismatched one included).
    return [read_protocol_mask(suite.family, root / "masks" / f"{n}.png") for n in names], {}


def read_claims(shared: Path, suite: Suite) -> tuple[dict[str, dict], list[dict]]:
    """Claimed numbers per checkpoint as fractions (first row per checkpoint), and all rows as read."""
    import pandas as pd

    df = pd.read_csv(shared / "checkpoints" / suite.family / "published.csv")
    claims: dict[str, dict] = {}
    rows = []
    for _, r in df.iterrows():
        row = {"source": str(r["source"]) if "source" in df.columns else "paper"}
        for col in df.columns:
            value = r[col]
            if col.endswith("_percent"):
                row[col[: -len("_percent")]] = float(value) / 100.0
            elif col.startswith("fa_1e-"):
                row["fa"] = float(value) * 10.0 ** -int(col[len("fa_1e-") :])
        rows.append({"checkpoint": r["checkpoint"], **row})
        claims.setdefault(r["checkpoint"], row)
    return claims, rows


# --------------------------------------------------------------------------------------------------
# inference
# --------------------------------------------------------------------------------------------------


def run_unit(
    family: str, ckpt: str, weights: str, images: str, out: str, names: list[str], threads: int, position: int
) -> dict:
    """Run one checkpoint on ``names`` with its family's protocol; save the maps; return timings."""
    import torch
    from tqdm import tqdm

    from fdep_ref.protocols import load_network, protocol_map

    torch.set_num_threads(max(1, threads))
    net = load_network(family, weights)
    map_dir = Path(out) / "maps" / ckpt
    t0 = time.perf_counter()
    for name in tqdm(names, desc=f"{ckpt:<22}", position=position, leave=True, file=sys.stderr):
        prob = protocol_map(family, net, Path(images) / f"{name}.png")
        write_npy(map_dir / f"{name}.npy", prob)
        write_png(map_dir / f"{name}.png", np.round(prob * 255.0).astype(np.uint8))
    return {"checkpoint": ckpt, "images": len(names), "seconds": time.perf_counter() - t0}


def run_all(suite: Suite, shared: Path, out: Path, names: list[str], jobs: int, threads: int) -> list[dict]:
    """Every checkpoint on every image, as ``jobs`` processes (a suite with fewer checkpoints than
    jobs splits its images between them)."""
    ckpts = list(suite.checkpoints)
    chunks = max(1, min(len(names), -(-max(1, jobs) // len(ckpts))))
    images = str(dataset_root(shared) / "images")
    units = [
        (
            suite.family,
            c,
            str(shared / "checkpoints" / suite.family / suite.checkpoints[c]),
            images,
            str(out),
            names[k::chunks],
        )
        for c in ckpts
        for k in range(chunks)
    ]
    if jobs <= 1:
        return [run_unit(*u, threads, 0) for u in units]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futs = [pool.submit(run_unit, *u, threads, i % jobs) for i, u in enumerate(units)]
        return [f.result() for f in futs]


# --------------------------------------------------------------------------------------------------
# scoring and reporting
# --------------------------------------------------------------------------------------------------


def score(suite: Suite, out: Path, names: list[str], masks: list[np.ndarray]) -> dict:
    """HSE and the suite's own metrics (compat preset) of every checkpoint's saved float maps."""
    import hse

    results = {}
    for ckpt in suite.checkpoints:
        preds = [np.load(out / "maps" / ckpt / f"{n}.npy") for n in names]
        results[ckpt] = hse.evaluate(
            preds,
            masks,
            names=names,
            threshold=THRESHOLD,
            compat=suite.compat,
            compat_options={suite.compat: suite.compat_options} if suite.compat_options else None,
        )
    return results


def reproduced(suite: Suite, res) -> dict[str, float]:
    """The paper's own numbers (fractions) from the compat preset; nan where the paper has none."""
    c = res.compat[suite.compat]
    out = {m: float(c.get(m, math.nan)) for m in ("iou", "niou", "f1", "pd")}
    out["fa"] = float(c[suite.fa_key])
    if suite.family == "lesps":  # BasicIRSTD has no nIoU; the LESPS table never printed one
        out["niou"] = float(res.at(THRESHOLD)["niou"])
    return out


def build_rows(suite: Suite, results: dict, claims: dict, n_images: int) -> list[dict]:
    import hse

    rows = []
    for ckpt, res in results.items():
        ci = hse.bootstrap(res, n=CI_DRAWS, seed=CI_SEED).scores["hse"]
        claim = claims.get(ckpt, {})
        rows.append(
            {
                "checkpoint": ckpt,
                "suite": suite.family,
                "split": suite.split,
                "n_images": n_images,
                **reproduced(suite, res),
                "fa_unit": suite.fa_unit,
                **{f"claimed_{m}": claim.get(m, math.nan) for m in METRICS},
                "claimed_source": claim.get("source", ""),
                "hse": float(res.hse),
                "hse_low": float(ci.low),
                "hse_high": float(ci.high),
                "hse_pixel": float(res.hse_pixel),
                "hse_target": float(res.hse_target),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    import pandas as pd

    buf = io.StringIO()
    pd.DataFrame(rows, columns=list(CSV_COLUMNS)).to_csv(buf, index=False, float_format="%.10g")
    write_text(path, buf.getvalue())


def report(suite: Suite, out: Path, results: dict, claims: dict, n_images: int, fixes: dict) -> None:
    """``leaderboard.md`` (hse.leaderboard) and ``curves.png`` (hse.plot), both written atomically."""
    from hse.leaderboard import leaderboard_rows, render_markdown
    from hse.plot import plot_results

    # Published numbers sit beside hse's only where the paper's protocol is hse's (BasicIRSTD at 0.5).
    published = None
    if suite.family == "lesps":
        published = {
            c: {"iou": 100 * v["iou"], "pd": 100 * v["pd"], "fa": 1e6 * v["fa"]} for c, v in claims.items()
        }
    rows = leaderboard_rows(results, published=published)
    notes = [f"{name}: {why}." for name, why in fixes.items()]
    md = render_markdown(
        rows,
        title=suite.title,
        description=(
            f"{n_images} test images, run with the published inference protocol "
            f"(benchmarks/rescore/rescore.py {suite.family}). {suite.note}"
        ),
        settings={"thresholds": "default", "match": "greedy", "radius": 3.0},
        extra_notes=notes,
        level=1,
    )
    write_text(out / "leaderboard.md", md)
    plot_results(results, out / "curves.png", title=f"{suite.title} ({n_images} images)")


def print_table(rows: list[dict]) -> None:
    print(f"\n{'checkpoint':<22} {'metric':>6} {'ours':>12} {'claimed':>12}")
    for r in rows:
        for m in METRICS:
            if not (math.isnan(r[m]) and math.isnan(r[f"claimed_{m}"])):
                print(f"{r['checkpoint']:<22} {m:>6} {r[m]:12.6g} {r[f'claimed_{m}']:12.6g}")
        print(f"{r['checkpoint']:<22} {'HSE':>6} {r['hse']:12.4f}  [{r['hse_low']:.4f}, {r['hse_high']:.4f}]")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("suite", choices=sorted(SUITES), help="which published checkpoints to re-score")
    ap.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared", help="the shared data folder")
    ap.add_argument("--out", type=Path, required=True, help="output folder (created)")
    ap.add_argument("--jobs", type=int, default=1, help="inference processes (default 1)")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per process (default 1: intra-op threads slow down badly on shared cores)",
    )
    ap.add_argument("--limit", type=int, default=None, help="use only the first K test images")
    args = ap.parse_args(argv)
    if args.jobs < 1 or args.threads < 1 or (args.limit is not None and args.limit < 1):
        ap.error("--jobs, --threads and --limit must be positive")

    t_start = time.perf_counter()
    suite = SUITES[args.suite]
    shared, out = args.shared.resolve(), args.out.resolve()
    if not dataset_root(shared).is_dir():
        ap.error(f"no data/nuaa-sirst under {shared}")
    out.mkdir(parents=True, exist_ok=True)
    names = read_names(shared, suite.split, args.limit)
    masks, fixes = load_masks(suite, shared, names)
    for name, why in fixes.items():
        print(f"mask fix: {name}: {why}", flush=True)
    claims, claim_rows = read_claims(shared, suite)

    timings = run_all(suite, shared, out, names, args.jobs, args.threads)
    t_infer = time.perf_counter() - t_start
    results = score(suite, out, names, masks)
    rows = build_rows(suite, results, claims, len(names))
    t_score = time.perf_counter() - t_start - t_infer

    write_csv(out / "rescore.csv", rows)
    for ckpt, res in results.items():
        buf = io.StringIO()
        res.curve.to_csv(buf, index=False, float_format="%.8g")
        write_text(out / "curves" / f"{ckpt}.csv", buf.getvalue())
    report(suite, out, results, claims, len(names), fixes)
    total = time.perf_counter() - t_start

    meta = {
        "suite": suite.family,
        "dataset": "NUAA-SIRST",
        "split": suite.split,
        "n_images": len(names),
        "threshold": THRESHOLD,
        "compat": {suite.compat: suite.compat_options},
        "claims": claim_rows,
        "mask_fixes": fixes,
        suite.compat: {c: res.compat[suite.compat] for c, res in results.items()},
        "timing_seconds": {"inference": t_infer, "scoring": t_score, "total": total, "units": timings},
        "jobs": args.jobs,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    write_text(out / "run.json", json.dumps(meta, indent=2, default=float) + "\n")
    print_table(rows)
    print(
        f"\n{len(names)} images, {len(suite.checkpoints)} checkpoint(s): inference {t_infer:.1f} s, "
        f"scoring {t_score:.1f} s, total {total:.1f} s; outputs in {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
