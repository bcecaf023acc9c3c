"""Score the maps of several re-score runs under one protocol: hse's, at two resolutions.

Run from the repository root after ``rescore.py`` runs of the 256x256 suites::

    python benchmarks/rescore/one_protocol.py --runs OUT_REPISD OUT_RPCANET --shared ../shared --out DIR

Every checkpoint's saved float maps (``<run>/maps/<checkpoint>/<name>.npy``) are scored with
:func:`hse.evaluate` (HSE, and IoU / nIoU / Pd / Fa at 0.5 with the centroid rule, greedy match, Fa
over all pixels: ``compat="basicirstd"``) against the same masks for every checkpoint, the corrected
NUAA-SIRST masks (``fixes/`` replaces Misc_111):

* ``protocol``: at the maps' resolution; the masks are resized to it with PIL nearest;
* ``native``: the maps are resized bilinearly to each mask's own size
  (:func:`fdep_ref.protocols.to_size`) and scored on the original masks.

Writes ``DIR/one_protocol.csv`` (one row per checkpoint and resolution) and ``DIR/one_protocol.png``
(hse's curves of all of them).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rescore import REPO_ROOT, THRESHOLD, load_fixed_masks, write_text  # noqa: E402

COLUMNS = ("checkpoint", "resolution", "n_images", "iou", "niou", "pd", "fa", "hse", "hse_low", "hse_high")


def score_run(run: Path, shared: Path) -> dict:
    """``{(checkpoint, resolution): Result}`` for every checkpoint of one re-score run."""
    import hse
    from fdep_ref.protocols import to_size

    meta = json.loads((run / "run.json").read_text())
    split = shared / "data" / "nuaa-sirst" / "splits" / f"{meta['split']}.txt"
    names = [n.strip() for n in split.read_text().splitlines() if n.strip()][: meta["n_images"]]
    masks, _ = load_fixed_masks(shared, names)
    out = {}
    for ckpt_dir in sorted(p for p in (run / "maps").iterdir() if p.is_dir()):
        maps = [np.load(ckpt_dir / f"{n}.npy") for n in names]
        small = [
            np.asarray(Image.fromarray(m).resize(p.shape[::-1], Image.NEAREST))
            for m, p in zip(masks, maps, strict=True)
        ]
        native = [to_size(p, m.shape) for p, m in zip(maps, masks, strict=True)]
        for res, preds, gts in (("protocol", maps, small), ("native", native, masks)):
            out[(ckpt_dir.name, res)] = hse.evaluate(
                preds, gts, names=names, threshold=THRESHOLD, compat="basicirstd"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, nargs="+", required=True, help="output folders of rescore.py")
    ap.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    import pandas as pd

    import hse
    from hse.plot import plot_results

    results = {}
    for run in args.runs:
        results.update(score_run(run.resolve(), args.shared.resolve()))
    rows = []
    for (ckpt, res), r in results.items():
        c = r.compat["basicirstd"]
        ci = hse.bootstrap(r, n=1000, seed=0).scores["hse"]
        rows.append(
            {
                "checkpoint": ckpt,
                "resolution": res,
                "n_images": r.n_images,
                "iou": c["iou"],
                "niou": float(r.at(THRESHOLD)["niou"]),
                "pd": c["pd"],
                "fa": c["fa"],
                "hse": float(r.hse),
                "hse_low": float(ci.low),
                "hse_high": float(ci.high),
            }
        )
    buf = io.StringIO()
    pd.DataFrame(rows, columns=list(COLUMNS)).to_csv(buf, index=False, float_format="%.8g")
    write_text(args.out / "one_protocol.csv", buf.getvalue())
    plot_results(
        {f"{ckpt} ({res})": r for (ckpt, res), r in results.items()},
        args.out / "one_protocol.png",
        title="One protocol (hse, corrected masks): 256x256 maps and maps resized to the images",
    )
    print(pd.DataFrame(rows, columns=list(COLUMNS)).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
