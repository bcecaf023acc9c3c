"""Re-score the six published LESPS checkpoints (ACM, ALCNet) on the NUAA-SIRST 50_50 test split.

Run from the repository root::

    python benchmarks/rescore/lesps_nuaa.py --shared ../shared --out OUTDIR [--jobs N] [--limit K]

Steps: every checkpoint is loaded strictly with :func:`fdep_ref.registry.build_base`, run on the test
images with the published inference protocol (see ``docs/rescore.md``), its probability maps are
saved as 8-bit PNG and float32 ``.npy`` under ``OUTDIR/maps/<checkpoint>/``, and the float maps are
scored with :func:`hse.evaluate` (IoU / Pd / Fa at 0.5 and the full multi-threshold HSE).

Outputs (all written atomically): ``rescore.csv``, ``leaderboard.md``, ``curves.png``, ``run.json``
and ``curves/<checkpoint>.csv`` (the full per-threshold curve of each checkpoint).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO_ROOT))

#: The six published checkpoints, in the order of the LESPS paper's table.
CHECKPOINTS = (
    "ACM_full",
    "ACM_LESPS_centroid",
    "ACM_LESPS_coarse",
    "ALCNet_full",
    "ALCNet_LESPS_centroid",
    "ALCNet_LESPS_coarse",
)
#: Mean and standard deviation of the SIRST3 training images (the checkpoints' normalisation).
NORM_MEAN, NORM_STD = 95.010, 41.511
THRESHOLD = 0.5
CSV_COLUMNS = (
    "checkpoint",
    "iou",
    "pd",
    "fa",
    "published_iou",
    "published_pd",
    "published_fa",
    "hse",
    "hse_pixel",
    "hse_target",
    "niou",
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


def read_names(shared: Path, limit: int | None) -> list[str]:
    split = shared / "data" / "nuaa-sirst" / "splits" / "50_50" / "test.txt"
    names = [line.strip() for line in split.read_text().splitlines() if line.strip()]
    return names[:limit] if limit else names


def load_gray(path: Path) -> np.ndarray:
    """8-bit grayscale (ITU-R 601 luma, PIL's ``convert('L')``) as float32."""
    with Image.open(path) as im:
        return np.asarray(im.convert("L"), dtype=np.float32)


def preprocess(gray: np.ndarray) -> np.ndarray:
    """Normalise, then zero-pad bottom/right to ``((h // 32 + 1) * 32, (w // 32 + 1) * 32)``."""
    h, w = gray.shape
    out = np.zeros(((h // 32 + 1) * 32, (w // 32 + 1) * 32), dtype=np.float32)
    out[:h, :w] = (gray - NORM_MEAN) / NORM_STD
    return out


def load_masks(shared: Path, names: list[str]) -> tuple[list[np.ndarray], dict[str, str]]:
    """Masks as uint8 {0, 255}; a file in ``fixes/`` replaces the published mask of that name.

    Returns the masks and a record of every replacement. A mask whose size differs from its image
    (with no fix available) is an error.
    """
    root = shared / "data" / "nuaa-sirst"
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


def read_published(shared: Path) -> dict[str, dict[str, float]]:
    import pandas as pd

    df = pd.read_csv(shared / "checkpoints" / "lesps" / "published.csv")
    return {
        r.checkpoint: {"iou": r.iou_percent, "pd": r.pd_percent, "fa": r["fa_1e-6"]} for _, r in df.iterrows()
    }


# --------------------------------------------------------------------------------------------------
# inference (one checkpoint per worker)
# --------------------------------------------------------------------------------------------------


def run_checkpoint(ckpt: str, shared: str, out: str, names: list[str], threads: int, position: int) -> dict:
    """Run one checkpoint on ``names``; save the maps; return timing information."""
    import torch
    from tqdm import tqdm

    from fdep_ref.registry import build_base

    torch.set_num_threads(max(1, threads))
    shared_p, out_p = Path(shared), Path(out)
    family = ckpt.split("_", 1)[0].lower()
    net = build_base(family, weights=shared_p / "checkpoints" / "lesps" / f"{ckpt}.pth.tar").eval()
    img_dir = shared_p / "data" / "nuaa-sirst" / "images"
    map_dir = out_p / "maps" / ckpt
    t0 = time.perf_counter()
    t_net = 0.0
    with torch.inference_mode():
        for name in tqdm(names, desc=f"{ckpt:<22}", position=position, leave=True, file=sys.stderr):
            gray = load_gray(img_dir / f"{name}.png")
            h, w = gray.shape
            x = torch.from_numpy(preprocess(gray))[None, None]
            t1 = time.perf_counter()
            prob = net(x)[0, 0, :h, :w].numpy().astype(np.float32)
            t_net += time.perf_counter() - t1
            write_npy(map_dir / f"{name}.npy", prob)
            write_png(map_dir / f"{name}.png", np.round(prob * 255.0).astype(np.uint8))
    return {"checkpoint": ckpt, "seconds": time.perf_counter() - t0, "network_seconds": t_net}


def run_all(shared: Path, out: Path, names: list[str], jobs: int, threads: int) -> list[dict]:
    """Run every checkpoint, ``jobs`` at a time in separate processes, ``threads`` torch threads each."""
    jobs = max(1, min(jobs, len(CHECKPOINTS)))
    if jobs == 1:
        return [run_checkpoint(c, str(shared), str(out), names, threads, 0) for c in CHECKPOINTS]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futs = [
            pool.submit(run_checkpoint, c, str(shared), str(out), names, threads, i % jobs)
            for i, c in enumerate(CHECKPOINTS)
        ]
        return [f.result() for f in futs]


# --------------------------------------------------------------------------------------------------
# scoring and reporting
# --------------------------------------------------------------------------------------------------


def score(out: Path, names: list[str], masks: list[np.ndarray]) -> dict:
    """Score the saved float maps of every checkpoint with :func:`hse.evaluate`."""
    import hse

    results = {}
    for ckpt in CHECKPOINTS:
        preds = [np.load(out / "maps" / ckpt / f"{n}.npy") for n in names]
        results[ckpt] = hse.evaluate(preds, masks, names=names, threshold=THRESHOLD, compat="basicirstd")
    return results


def build_rows(results: dict, published: dict[str, dict[str, float]]) -> list[dict]:
    rows = []
    for ckpt, res in results.items():
        at = res.at(THRESHOLD)
        pub = published.get(ckpt, {})
        rows.append(
            {
                "checkpoint": ckpt,
                "iou": 100.0 * float(at["iou"]),
                "pd": 100.0 * float(at["pd"]),
                "fa": 1e6 * float(at["fa"]),
                "published_iou": pub.get("iou", float("nan")),
                "published_pd": pub.get("pd", float("nan")),
                "published_fa": pub.get("fa", float("nan")),
                "hse": float(res.hse),
                "hse_pixel": float(res.hse_pixel),
                "hse_target": float(res.hse_target),
                "niou": 100.0 * float(at["niou"]),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    import pandas as pd

    buf = io.StringIO()
    pd.DataFrame(rows, columns=list(CSV_COLUMNS)).to_csv(buf, index=False, float_format="%.6g")
    write_text(path, buf.getvalue())


def report(out: Path, results: dict, published: dict, n_images: int, fixes: dict[str, str]) -> None:
    """``leaderboard.md`` (hse.leaderboard) and ``curves.png`` (hse.plot), both written atomically."""
    from hse.leaderboard import leaderboard_rows, render_markdown
    from hse.plot import plot_results

    rows = leaderboard_rows(results, published=published)
    notes = [f"{name}: {why}." for name, why in fixes.items()]
    md = render_markdown(
        rows,
        title="LESPS checkpoints on NUAA-SIRST (50_50 test split)",
        description=(
            f"{n_images} test images, run with the published LESPS inference protocol "
            "(benchmarks/rescore/lesps_nuaa.py). Published numbers: LESPS (CVPR 2023), Table 2."
        ),
        settings={"thresholds": "default", "match": "greedy", "radius": 3.0},
        extra_notes=notes,
        level=1,
    )
    write_text(out / "leaderboard.md", md)
    # plot_results writes atomically itself and takes the format from the extension.
    plot_results(
        results, out / "curves.png", title=f"LESPS checkpoints, NUAA-SIRST 50_50 ({n_images} images)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared", help="the shared data folder")
    ap.add_argument("--out", type=Path, required=True, help="output folder (created)")
    ap.add_argument("--jobs", type=int, default=1, help="checkpoints run in parallel processes (default 1)")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per process (default 1: these small networks gain little from intra-op "
        "threads, and several threads per process slow down badly when the cores are shared)",
    )
    ap.add_argument("--limit", type=int, default=None, help="use only the first K test images")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    shared, out = args.shared.resolve(), args.out.resolve()
    if not (shared / "data" / "nuaa-sirst").is_dir():
        ap.error(f"no data/nuaa-sirst under {shared}")
    out.mkdir(parents=True, exist_ok=True)
    names = read_names(shared, args.limit)
    masks, fixes = load_masks(shared, names)
    for name, why in fixes.items():
        print(f"mask fix: {name}: {why}", flush=True)
    published = read_published(shared)

    timings = run_all(shared, out, names, args.jobs, args.threads)
    t_infer = time.perf_counter() - t_start
    results = score(out, names, masks)
    t_score = time.perf_counter() - t_start - t_infer

    rows = build_rows(results, published)
    write_csv(out / "rescore.csv", rows)
    for ckpt, res in results.items():
        buf = io.StringIO()
        res.curve.to_csv(buf, index=False, float_format="%.8g")
        write_text(out / "curves" / f"{ckpt}.csv", buf.getvalue())
    report(out, results, published, len(names), fixes)
    total = time.perf_counter() - t_start

    meta = {
        "dataset": "NUAA-SIRST",
        "split": "50_50/test",
        "n_images": len(names),
        "threshold": THRESHOLD,
        "normalisation": {"mean": NORM_MEAN, "std": NORM_STD},
        "mask_fixes": fixes,
        "basicirstd": {
            c: {k: float(v) for k, v in res.compat["basicirstd"].items()} for c, res in results.items()
        },
        "timing_seconds": {
            "inference": t_infer,
            "scoring": t_score,
            "total": total,
            "per_checkpoint": timings,
        },
        "jobs": args.jobs,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    write_text(out / "run.json", json.dumps(meta, indent=2, default=float) + "\n")

    print()
    print(f"{'checkpoint':<22} {'IoU':>6} {'pub':>6} {'Pd':>6} {'pub':>6} {'Fa':>7} {'pub':>7} {'HSE':>7}")
    for r in rows:
        print(
            f"{r['checkpoint']:<22} {r['iou']:6.2f} {r['published_iou']:6.2f} {r['pd']:6.2f} "
            f"{r['published_pd']:6.2f} {r['fa']:7.2f} {r['published_fa']:7.2f} {r['hse']:7.4f}"
        )
    print(
        f"\n{len(names)} images, {len(CHECKPOINTS)} checkpoints: inference {t_infer:.1f} s, "
        f"scoring {t_score:.1f} s, total {total:.1f} s; outputs in {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
