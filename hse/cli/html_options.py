"""The HTML report options of the commands, in one place: ``--html``, ``--images``,
``--gallery-threshold`` and ``--gallery-size``; their checks; and the page of a scored result.

A command adds the options (:func:`add_html_options`), checks them before any scoring
(:func:`check_html_options`), and, once it has its Result, either stages :func:`html_text` with its
other outputs or writes it alone (:func:`write_html`). See docs/html.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hse.errors import InputError
from hse.settings import number_from_text


def _threshold(text: str) -> float:
    return number_from_text(text, float, lambda x: 0.0 <= x <= 1.0, "must be in [0, 1], got {text}")


def _size(text: str) -> int:
    return number_from_text(text, int, lambda x: 0 <= x <= 100, "must be in 0..100, got {text}")


def add_html_options(group: Any) -> None:
    """``--html OUT``, ``--images DIR``, ``--gallery-threshold T`` and ``--gallery-size N``."""
    group.add_argument("--html", metavar="OUT.html",
                       help="write a self-contained HTML report: scores, curves, error gallery, tables (needs matplotlib)")  # fmt: skip
    group.add_argument("--images", metavar="DIR",
                       help="with --html: input images, found by name, shown in the gallery instead of the predictions")  # fmt: skip
    group.add_argument("--gallery-threshold", type=_threshold, default=None, metavar="T",
                       help="with --html: threshold of the gallery's marks, an evaluated one (default: --threshold)")  # fmt: skip
    group.add_argument("--gallery-size", type=_size, default=None, metavar="N",
                       help="with --html: images per gallery section (default 8; 0: no gallery)")  # fmt: skip


def html_usage_error(args: argparse.Namespace) -> str | None:
    """The usage error of the HTML options (for ``parser.error``), or None."""
    if not getattr(args, "html", None):
        given = [f for f, a in (("--images", "images"), ("--gallery-threshold", "gallery_threshold"),
                                ("--gallery-size", "gallery_size")) if getattr(args, a, None) is not None]  # fmt: skip
        if given:
            return f"{', '.join(given)} need{'s' if len(given) == 1 else ''} --html"
    return None


def check_html_options(
    args: argparse.Namespace, grid: Sequence[float] | None = None
) -> list[tuple[str, str]]:
    """Check the HTML options before any work: matplotlib installed, the image folder present, the
    gallery threshold among the evaluated ones (``grid``, when the command knows it), the output path
    writable. Returns ``[("--html", path)]`` (empty without ``--html``) for the command's output checks."""
    if not getattr(args, "html", None):
        return []
    from hse.io import check_output_path, path_kind

    check_output_path(args.html, f"--html {args.html}")
    if importlib.util.find_spec("matplotlib") is None:
        raise InputError("--html needs matplotlib for its figures; install it with: pip install 'hse[plot]'")
    if args.images is not None:
        exists, _, is_dir = path_kind(Path(args.images), "--images folder")
        if not is_dir:
            raise InputError(f"--images {args.images}: {'not a folder' if exists else 'folder not found'}")
    t = args.gallery_threshold
    if t is not None and grid is not None:
        import numpy as np

        if not np.any(np.isclose(np.asarray(grid, dtype=float), t, rtol=0.0, atol=1e-12)):
            raise InputError(
                f"--gallery-threshold {t:g}: not an evaluated threshold; use one of the HSE grid's "
                "(--thresholds) or the operating threshold (--threshold)"
            )
    return [("--html", args.html)]


def html_text(
    result: Any,
    args: argparse.Namespace,
    pairs: tuple[Sequence[str], Sequence[Any], Sequence[Any]] | None = None,
    ci: Any = None,
    title: str | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> str:
    """The report page of ``result`` from the HTML options. ``pairs`` is ``(names, preds, masks)`` as
    scored (paths or arrays, in the result's order) for the gallery; without it, the folders recorded in
    ``inputs`` (an hse-score JSON's ``inputs``) are paired again (:func:`recorded_pairs`), else the
    gallery uses the paths the result kept, if any."""
    from hse.html import render_report
    from hse.html.gallery import GALLERY_SIZE

    preds = masks = None
    if pairs is None:
        pairs = recorded_pairs(inputs, result.names)
    if pairs is not None:
        names, preds, masks = pairs
        if list(names) != list(result.names):
            raise InputError("--html: the images given for the gallery are not those of the result")
    size = GALLERY_SIZE if args.gallery_size is None else args.gallery_size
    return render_report(result, title=title, ci=ci, preds=preds, masks=masks, images=args.images,
                         threshold=args.gallery_threshold, gallery_size=size, inputs=inputs)  # fmt: skip


def recorded_pairs(inputs: Mapping[str, Any] | None, names: Sequence[str]) -> tuple | None:
    """``(names, preds, masks)`` from the folders and pairing options an hse-score run recorded, for
    the images ``names``; None, with a warning saying why, when they cannot be paired again here."""
    if not isinstance(inputs, Mapping) or "pred_dir" not in inputs or "mask_dir" not in inputs:
        return None
    import warnings

    from hse.io import pair_files

    try:
        found, preds, masks, _ = pair_files(
            inputs["pred_dir"], inputs["mask_dir"], split=inputs.get("split"),
            pred_suffix=inputs.get("pred_suffix") or "", mask_suffix=inputs.get("mask_suffix") or "",
            pred_ext=inputs.get("pred_ext"), mask_ext=inputs.get("mask_ext"), allow_missing=True,
        )  # fmt: skip
    except InputError as exc:
        warnings.warn(
            f"--html: no error gallery: the recorded input folders cannot be paired here ({exc})",
            stacklevel=2,
        )
        return None
    by_name = {n: (p, m) for n, p, m in zip(found, preds, masks, strict=True)}
    missing = [n for n in names if n not in by_name]
    if missing:
        warnings.warn(f"--html: no error gallery: {len(missing)} scored image(s) are not in the recorded folders "
                      f"(first: {missing[0]!r})", stacklevel=2)  # fmt: skip
        return None
    return list(names), [by_name[n][0] for n in names], [by_name[n][1] for n in names]


def write_html(
    result: Any,
    args: argparse.Namespace,
    pairs: tuple[Sequence[str], Sequence[Any], Sequence[Any]] | None = None,
    ci: Any = None,
    title: str | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> os.PathLike | None:
    """:func:`html_text` written atomically to ``args.html`` (nothing without ``--html``)."""
    if not getattr(args, "html", None):
        return None
    from hse.io import write_atomic

    return write_atomic(args.html, html_text(result, args, pairs, ci, title, inputs))
