"""The error gallery: the images with the most missed targets and the most false-alarm pixels.

Each thumbnail is the input image (when an image folder is given) or the prediction map, in gray, with
the ground-truth targets boxed and the predicted components outlined, coloured by what the metric made
of them at the gallery threshold:

* a detected target: solid blue box, and its matched component outlined in blue;
* a missed target: dashed yellow box;
* a false alarm (a component matched to no target): magenta outline, no box.

Components come from :mod:`hse.reduce.labelling` and are matched by :func:`hse.reduce.matching.match`
with the result's radius and rule, on the same thresholded map (``level > k``, :mod:`hse.reduce.pixel`),
so the colours agree with the counts; they are checked against the result's own counters, and a pair
that gives other counts (not the files that were scored) is an error.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from hse.errors import InputError
from hse.io import IMAGE_EXTENSIONS, read_image
from hse.reduce.image import load_pair
from hse.reduce.labelling import components
from hse.reduce.matching import match
from hse.reduce.pixel import threshold_levels
from hse.settings import EvalConfig

from .page import esc

#: Outline colours (RGB): blue, yellow and magenta stay apart for the common colour-vision deficiencies,
#: and the shapes (solid box, dashed box, no box) tell the three apart without colour.
COLOURS = {"detected": (0, 150, 255), "missed": (255, 214, 0), "false_alarm": (255, 0, 200)}
#: Default number of images per gallery section (most missed targets; most false-alarm pixels).
GALLERY_SIZE = 8
#: Longest side of a thumbnail, in pixels (larger images are downscaled by a whole factor).
THUMB_SIDE = 256

Source = Any


@dataclass
class ImageErrors:
    """What the metric made of one image at one threshold."""

    gt_labels: np.ndarray
    detected: np.ndarray  # bool per target, label order
    comp_labels: np.ndarray
    matched: np.ndarray  # bool per predicted component, label order

    @property
    def n_targets(self) -> int:
        return int(self.detected.size)

    @property
    def n_detected(self) -> int:
        return int(self.detected.sum())

    @property
    def n_false(self) -> int:
        return int((~self.matched).sum())

    @property
    def fa_pixels(self) -> int:
        false_ids = np.flatnonzero(~self.matched) + 1
        return int(np.isin(self.comp_labels, false_ids).sum()) if false_ids.size else 0


def classify(
    pred: np.ndarray, mask: np.ndarray, grid: np.ndarray, k: int, radius: float, rule: str
) -> ImageErrors:
    """Targets and predicted components of one validated pair at grid threshold ``k``, matched as the
    metric matches them (centroid distance ``< radius``, ``rule`` greedy or optimal)."""
    binary = threshold_levels(pred, grid) > k
    comp_labels, _, _, comp_c = components(binary)
    gt_labels, _, _, gt_c = components(mask)
    dist = np.sqrt(((gt_c[:, None, :] - comp_c[None, :, :]) ** 2).sum(axis=2))
    detected = np.zeros(gt_c.shape[0], dtype=bool)
    matched = np.zeros(comp_c.shape[0], dtype=bool)
    for g, p in match(dist, radius, rule):
        detected[g] = matched[p] = True
    return ImageErrors(gt_labels, detected, comp_labels, matched)


# --------------------------------------------------------------------------------------------------
# choosing the images and finding their files
# --------------------------------------------------------------------------------------------------


def threshold_index(result: Any, threshold: float) -> int:
    """Index of ``threshold`` in the result's evaluated thresholds; InputError when it was not evaluated."""
    try:
        return result.threshold_index(threshold)
    except KeyError:
        raise InputError(
            f"gallery threshold {threshold:g} was not evaluated; use one of the HSE grid's thresholds or "
            f"the operating threshold {result.threshold:g}"
        ) from None


def select(result: Any, k: int, size: int = GALLERY_SIZE) -> tuple[list[int], list[int]]:
    """Image indices with the most missed targets, and (others) with the most false-alarm pixels, at
    grid index ``k``; ties by the other count, then by input order. Images with none are left out."""
    c, s = result.state.curves, result.state.scalars
    missed = s["n_targets"] - c["tgt_matched"][:, k]
    fa = c["pix_tp"][:, k] + c["pix_fp"][:, k] - c["tgt_matched_area"][:, k]
    idx = np.arange(missed.size)
    by_missed = [int(i) for i in np.lexsort((idx, -fa, -missed)) if missed[i] > 0][:size]
    taken = set(by_missed)
    by_fa = [int(i) for i in np.lexsort((idx, -missed, -fa)) if fa[i] > 0 and int(i) not in taken][:size]
    return by_missed, by_fa


def _index_folder(folder: Path, role: str) -> dict[str, Path]:
    if not folder.is_dir():
        raise InputError(f"{folder}: {role} folder not found")
    out: dict[str, Path] = {}
    for entry in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(entry)
        if ext.lower() in IMAGE_EXTENSIONS and not entry.startswith("."):
            out.setdefault(stem, folder / entry)
    return out


def lookup(source: Any, names: Sequence[str], role: str) -> Callable[[int], Source | None]:
    """Where image ``i`` (of ``names``) is in ``source``: a folder (files found by name, any image
    extension), a mapping name -> array or path, or a sequence in the result's image order."""
    if source is None:
        return lambda i: None
    if isinstance(source, (str, os.PathLike)):
        files = _index_folder(Path(source), role)
        return lambda i: files.get(names[i])
    if isinstance(source, Mapping):
        return lambda i: source.get(names[i])
    if isinstance(source, Sequence) or hasattr(source, "__getitem__"):
        if len(source) != len(names):
            raise InputError(f"{role}: got {len(source)} items for {len(names)} scored images; give them in "
                             "the result's order, as a mapping from name, or as a folder")  # fmt: skip
        return lambda i: source[i]
    raise InputError(
        f"{role}: expected a folder, a mapping from image name, or a sequence; got {type(source).__name__}"
    )


# --------------------------------------------------------------------------------------------------
# thumbnails
# --------------------------------------------------------------------------------------------------


def _gray8(arr: np.ndarray) -> np.ndarray:
    """An image as uint8 gray for display only: colour averaged, other types stretched min-max."""
    a = np.asarray(arr)
    if a.ndim == 3:
        a = a[..., :3].astype(np.float64).mean(axis=2)
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * np.uint8(255)
    a = a.astype(np.float64)
    lo, hi = (float(np.nanmin(a)), float(np.nanmax(a))) if a.size else (0.0, 1.0)
    scaled = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return np.round(np.nan_to_num(scaled) * 255).astype(np.uint8)


def read_display_image(path: str | os.PathLike) -> np.ndarray:
    """An input image for display: hse's reader where it can (TIFF, .npy, gray files); colour images,
    which the metric refuses as maps, through Pillow."""
    try:
        return read_image(path)
    except InputError:
        from PIL import Image

        try:
            with Image.open(path) as im:
                return np.asarray(im.convert("RGB"))
        except OSError as exc:
            raise InputError(f"{path}: cannot read the input image ({exc})") from None


def _scale_factors(h: int, w: int, side: int) -> tuple[int, int]:
    """(down, up): block-reduce by ``down`` then repeat by ``up``, so the longest side is <= ``side``."""
    longest = max(h, w)
    if longest > side:
        return -(-longest // side), 1
    return 1, max(1, min(4, side // longest))


def _reduce(a: np.ndarray, down: int, how: str) -> np.ndarray:
    if down == 1:
        return a
    h, w = a.shape
    pad = ((0, -h % down), (0, -w % down))
    b = np.pad(a, pad, mode="edge").reshape((h + pad[0][1]) // down, down, (w + pad[1][1]) // down, down)
    return b.any(axis=(1, 3)) if how == "any" else b.mean(axis=(1, 3))


def _box(rgb: np.ndarray, r0: int, c0: int, r1: int, c1: int, colour, dashed: bool, width: int) -> None:
    h, w = rgb.shape[:2]
    r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, h - 1), min(c1, w - 1)
    keep_r = np.ones(r1 - r0 + 1, bool)
    keep_c = np.ones(c1 - c0 + 1, bool)
    if dashed:  # 3 on, 2 off
        keep_r = (np.arange(keep_r.size) % 5) < 3
        keep_c = (np.arange(keep_c.size) % 5) < 3
    rows = np.arange(r0, r1 + 1)[keep_r]
    cols = np.arange(c0, c1 + 1)[keep_c]
    for d in range(width):
        for r in (min(r0 + d, h - 1), max(r1 - d, 0)):
            rgb[r, cols] = colour
        for c in (min(c0 + d, w - 1), max(c1 - d, 0)):
            rgb[rows, c] = colour


def thumbnail(background: np.ndarray, errors: ImageErrors, side: int = THUMB_SIDE) -> bytes:
    """The PNG bytes of one gallery thumbnail (see the module docstring for the marks)."""
    from PIL import Image

    gray = _gray8(background).astype(np.float64)
    h, w = gray.shape
    down, up = _scale_factors(h, w, side)
    bg = np.round(_reduce(gray, down, "mean")).astype(np.uint8)
    rgb = np.repeat(np.repeat(np.stack([bg] * 3, axis=2), up, 0), up, 1)

    def to_display(px: np.ndarray) -> np.ndarray:
        return np.repeat(np.repeat(_reduce(px, down, "any"), up, 0), up, 1)

    ring = ndimage.generate_binary_structure(2, 2)
    for ids_mask, colour in (
        (errors.matched, COLOURS["detected"]),
        (~errors.matched, COLOURS["false_alarm"]),
    ):
        ids = np.flatnonzero(ids_mask) + 1
        if ids.size == 0:
            continue
        px = to_display(np.isin(errors.comp_labels, ids))
        outline = ndimage.binary_dilation(px, ring, iterations=max(1, up // 2)) & ~px
        rgb[outline] = colour
    width = 2 if up >= 2 else 1
    margin = 2 + up
    for t, sl in enumerate(ndimage.find_objects(errors.gt_labels)):
        if sl is None:
            continue
        r0, r1 = sl[0].start // down * up, (sl[0].stop - 1) // down * up + up - 1
        c0, c1 = sl[1].start // down * up, (sl[1].stop - 1) // down * up + up - 1
        hit = bool(errors.detected[t])
        _box(rgb, r0 - margin, c0 - margin, r1 + margin, c1 + margin,
             COLOURS["detected" if hit else "missed"], dashed=not hit, width=width)  # fmt: skip
    buf = io.BytesIO()
    # A palette image: the gray background plus three outline colours fit in 256 entries and compress
    # far better than RGB (the size budget of the page).
    Image.fromarray(rgb).quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        buf, format="PNG", optimize=True
    )
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# the gallery section
# --------------------------------------------------------------------------------------------------


def _config(result: Any) -> EvalConfig:
    s = result.settings
    return EvalConfig(
        thresholds=tuple(float(t) for t in result.thresholds),
        threshold=result.threshold,
        match=s.get("match", "greedy"),
        radius=float(s.get("radius", 3.0)),
        mask_threshold=s.get("mask_threshold"),
        resize_masks=s.get("resize_masks"),
    )


def _check_counts(result: Any, i: int, k: int, e: ImageErrors, name: str) -> None:
    c, s = result.state.curves, result.state.scalars
    want = (int(s["n_targets"][i]), int(c["tgt_matched"][i, k]), int(c["tgt_components"][i, k]),
            int(c["pix_tp"][i, k] + c["pix_fp"][i, k] - c["tgt_matched_area"][i, k]))  # fmt: skip
    got = (e.n_targets, e.n_detected, e.comp_labels.max(initial=0), e.fa_pixels)
    if tuple(int(x) for x in got) != want:
        raise InputError(
            f"gallery: image {name!r} gives {got[0]} targets, {got[1]} detected, {got[2]} components and "
            f"{got[3]} false-alarm pixels, but the result has {want[0]}, {want[1]}, {want[2]} and {want[3]}: "
            "the prediction or mask given for the gallery is not the one that was scored"
        )


def _alt(name: str, shown: str, threshold: float, e: ImageErrors) -> str:
    return (
        f"{name}: {shown} at threshold {threshold:g}. {e.n_targets} target(s): {e.n_detected} detected "
        f"(solid blue box), {e.n_targets - e.n_detected} missed (dashed yellow box); {e.n_false} false-alarm "
        f"component(s) (magenta outline), {e.fa_pixels} false-alarm pixel(s)."
    )


def render_gallery(
    result: Any,
    preds: Any = None,
    masks: Any = None,
    images: Any = None,
    threshold: float | None = None,
    size: int = GALLERY_SIZE,
) -> str:
    """The gallery section (HTML) of ``result``. ``preds`` and ``masks`` are where the scored files
    are (see :func:`lookup`; default: the paths the result was computed from, when it kept them);
    ``images`` the input images shown instead of the prediction (optional; a missing one falls back to
    the prediction). ``threshold`` (default: the operating one) must be an evaluated threshold."""
    t = result.threshold if threshold is None else float(threshold)
    k = threshold_index(result, t)
    sources = getattr(result, "sources", None) or {}
    preds = sources.get("preds") if preds is None else preds
    masks = sources.get("masks") if masks is None else masks
    head = f'<section id="gallery" aria-labelledby="gallery-h"><h2 id="gallery-h">Error gallery at threshold {t:g}</h2>'
    if preds is None or masks is None:
        return (
            head + '<p class="note">No gallery: the prediction maps and masks are not known (give them to '
            "<code>Result.to_html(preds=..., masks=...)</code>; a result loaded from JSON does not keep "
            "them).</p></section>"
        )
    names = result.names
    pred_at, mask_at, image_at = (
        lookup(preds, names, "preds"),
        lookup(masks, names, "masks"),
        lookup(images, names, "images"),
    )
    config = _config(result)
    grid = result.grid
    by_missed, by_fa = select(result, k, size)
    legend = (
        '<p>Marks: <span class="key" style="border-color:rgb{}"></span>detected target (solid box) and its '
        'component; <span class="key" style="border-color:rgb{};border-style:dashed"></span>missed target '
        '(dashed box); <span class="key" style="border-color:rgb{}"></span>false alarm (outlined component, '
        "no box). Thumbnails are scaled by whole factors (pixels stay square).</p>"
    ).format(COLOURS["detected"], COLOURS["missed"], COLOURS["false_alarm"])
    out = [head, legend]
    for title, picked, empty in (
        ("Most missed targets", by_missed, "No target is missed at this threshold."),
        ("Most false-alarm pixels", by_fa, "No other image has false-alarm pixels at this threshold."),
    ):
        out.append(f"<h3>{title}</h3>")
        if not picked:
            out.append(f'<p class="note">{empty}</p>')
            continue
        out.append('<div class="gallery">')
        for i in picked:
            out.append(_tile(result, i, k, t, grid, config, pred_at, mask_at, image_at))
        out.append("</div>")
    out.append("</section>")
    return "\n".join(out)


def _tile(result, i, k, t, grid, config, pred_at, mask_at, image_at) -> str:
    name = result.names[i]
    p_src, m_src = pred_at(i), mask_at(i)
    if p_src is None or m_src is None:
        raise InputError(f"gallery: no {'prediction' if p_src is None else 'mask'} found for image {name!r}")
    _, pred, mask, _, _ = load_pair(i, name, p_src, m_src, config)
    e = classify(pred, mask, grid, k, config.radius, config.match)
    _check_counts(result, i, k, e, name)
    shown, background = "prediction map", pred
    img_src = image_at(i)
    if img_src is not None:
        img = read_display_image(img_src) if isinstance(img_src, (str, os.PathLike)) else np.asarray(img_src)
        if img.shape[:2] == pred.shape:
            shown, background = "input image", img
    if background.dtype != np.uint8 and shown == "prediction map":
        background = np.clip(np.asarray(background, dtype=np.float64) * (255.0 / _top(pred)), 0, 255).astype(
            np.uint8
        )
    png = thumbnail(background, e)
    alt = _alt(name, shown, t, e)
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    caption = (
        f"<strong>{esc(name)}</strong> ({shown}): {e.n_detected}/{e.n_targets} detected, "
        f"{e.n_false} false alarm(s), {e.fa_pixels} px"
    )
    return f'<figure><img src="{uri}" alt="{esc(alt)}"><figcaption>{caption}</figcaption></figure>'


def _top(pred: np.ndarray) -> float:
    """The value that means 1.0 for a validated prediction's dtype (uint16 65535, float and bool 1)."""
    return 65535.0 if pred.dtype == np.uint16 else 1.0
