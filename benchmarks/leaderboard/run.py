"""The cross-paper leaderboard: eight published checkpoints, one protocol, images none of them has seen.

Run from the repository root::

    python benchmarks/leaderboard/run.py --shared ../shared --out OUT [--data SIRST_V2_DIR]
        [--page DIR] [--limit K] [--jobs N]

Steps (each re-run reuses what is already done):

1. the datasets (:mod:`sources`): SIRST-v2 target images no NUAA-SIRST split contains, SIRST-v2
   background-only frames, NUAA-SIRST ``idx_427/test`` with the corrected ``Misc_111`` mask;
   ``--data`` reads SIRST-v2 from a full release copy in its own layout;
2. the probability maps of the eight checkpoints (:mod:`maps`): each family's own preprocessing
   (``fdep_ref.protocols``), maps at the image's size, cached by checkpoint, image and protocol;
3. ``OUT/leaderboard.toml``, an ``hse-leaderboard`` configuration over those maps (hard links under
   ``OUT/preds``), scored by :func:`hse.leaderboard.run_config` into ``OUT/hse-leaderboard`` (cached);
4. ranks with ties (:func:`hse.leaderboard.ranks.tied_ranks`), background false alarms
   (:func:`hse.background.background_alarms`), and the page (:mod:`page`): ``DIR/leaderboard.md``,
   ``.csv``, ``.json`` (provenance) and ``DIR/img/leaderboard_curves.png``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for p in (str(REPO_ROOT), str(HERE)):
    if p not in sys.path:  # run from a checkout; the spawned map workers import maps by this path
        sys.path.insert(0, p)

import maps  # noqa: E402
import page  # noqa: E402
import sources  # noqa: E402

from hse.errors import InputError  # noqa: E402

SETTINGS = {"thresholds": "default", "threshold": 0.5, "match": "greedy", "radius": 3.0}
CI = {"n": 1000, "seed": 0, "level": 0.95}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, required=True, help="the shared data folder (checkpoints, data)")
    ap.add_argument(
        "--out", type=Path, required=True, help="working folder: map cache, config, hse-leaderboard"
    )
    ap.add_argument("--data", type=Path, default=None, help="a full SIRST-v2 release copy (its own layout)")
    ap.add_argument("--page", type=Path, default=None, help="where the page goes (default: OUT/page)")
    ap.add_argument("--limit", type=int, default=None, help="only the first K images of each dataset")
    ap.add_argument("--jobs", type=int, default=1, help="inference processes (default 1)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per inference process")
    ap.add_argument("--quiet", "-q", action="store_true")
    args = ap.parse_args(argv)
    if args.limit is not None and args.limit < 2:
        ap.error("--limit must be at least 2 (intervals need two images)")
    return args


def link(src: Path, dst: Path) -> None:
    """``dst`` as a hard link to ``src`` (a copy where links are impossible); replaced if it differs."""
    if dst.exists() and os.path.samefile(src, dst):
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def prediction_folders(datasets, ckpts, found: dict, out: Path) -> dict[tuple[str, str], Path]:
    """``OUT/preds/<dataset>/<checkpoint>/<name>.npy`` for every map; stale names are removed."""
    folders = {}
    for ds in datasets:
        for c in ckpts:
            folder = out / "preds" / ds.name / c.name
            folder.mkdir(parents=True, exist_ok=True)
            wanted = {f"{n}.npy" for n in ds.names}
            for entry in os.listdir(folder):
                if entry not in wanted:
                    (folder / entry).unlink()
            for n, img in zip(ds.names, ds.images, strict=True):
                link(found[(c.name, str(img))], folder / f"{n}.npy")
            folders[(ds.name, c.name)] = folder
    return folders


def _toml_str(s: str | Path) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_text(datasets, ckpts, folders, out: Path) -> str:
    """The ``hse-leaderboard`` configuration over the prediction folders (absolute paths)."""
    lines = ['title = "Eight published checkpoints on unseen images, one protocol"', "",
             "[settings]"]  # fmt: skip
    lines += [f"{k} = {_toml_str(v) if isinstance(v, str) else v}" for k, v in SETTINGS.items()]
    for ds in datasets:
        split = out / "splits" / f"{ds.name}.txt"
        mask_dir, suffix = ds.mask_dir, ds.mask_suffix
        lines += ["", "[[datasets]]", f"name = {_toml_str(ds.name)}", f"description = {_toml_str(ds.title)}",
                  f"masks = {_toml_str(mask_dir.resolve())}", f"split = {_toml_str(split.resolve())}"]  # fmt: skip
        if suffix:
            lines.append(f"mask_suffix = {_toml_str(suffix)}")
        if ds.fixes_dir is not None:
            lines.append(f"mask_fixes = {_toml_str(ds.fixes_dir.resolve())}")
    for c in ckpts:
        lines += ["", "[[methods]]", f"name = {_toml_str(c.name)}", f"paper = {_toml_str(c.paper)}",
                  f"note = {_toml_str(f'{c.family} protocol; trained on NUAA-SIRST {c.trained_on}')}",
                  "[methods.predictions]"]  # fmt: skip
        lines += [f"{ds.name} = {_toml_str(folders[(ds.name, c.name)].resolve())}" for ds in datasets]
    return "\n".join(lines) + "\n"


def write_if_changed(path: Path, text: str) -> None:
    from hse.io import write_atomic

    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)


def command_line(argv: list[str]) -> str:
    return shlex.join(["python", "benchmarks/leaderboard/run.py", *argv])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    log = (lambda m: None) if args.quiet else (lambda m: print(m, flush=True))
    out, page_dir = args.out, args.page or args.out / "page"
    try:
        datasets = sources.load_datasets(args.shared, args.data, args.limit)
        ckpts = maps.checkpoints(args.shared)
        images = list(
            dict.fromkeys(p for ds in datasets for p in ds.images)
        )  # the unseen set repeats two others
        log(
            f"{len(ckpts)} checkpoints x {len(images)} images ({', '.join(f'{d.name} {len(d.names)}' for d in datasets)})"
        )
        found = maps.ensure_maps(ckpts, images, out / "maps", jobs=args.jobs, threads=args.threads, log=log)
        folders = prediction_folders(datasets, ckpts, found, out)
        for ds in datasets:
            write_if_changed(out / "splits" / f"{ds.name}.txt", "\n".join(ds.names) + "\n")
        cfg_path = out / "leaderboard.toml"
        write_if_changed(cfg_path, config_text(datasets, ckpts, folders, out))

        from hse.leaderboard import load_config, run_config

        config = load_config(cfg_path)
        scored = run_config(config, out / "hse-leaderboard", log=log)
        commands = [command_line(argv),
                    shlex.join(["hse-leaderboard", str(cfg_path), "--out", str(out / "hse-leaderboard")])]  # fmt: skip
        written = page.write_page(page_dir, datasets, ckpts, scored, args, commands, SETTINGS, CI)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for p in written:
        log(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
