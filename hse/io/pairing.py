"""Pairing prediction and mask files by name, split files, and the natural order of names."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hse.errors import InputError

from .images import IMAGE_EXTENSIONS
from .paths import path_kind


def natural_key(name: str) -> tuple:
    """Sort key for natural order: digit runs compare as numbers (``img2`` before ``img10``)."""
    parts = re.split(r"(\d+)", name)
    key = tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in parts if t != "")
    return (key, name)


def natural_sorted(names: Iterable[str]) -> list[str]:
    return sorted(names, key=natural_key)


def read_split(path: str | os.PathLike) -> list[str]:
    """Names listed in a split file: one per line (LF or CRLF), blank lines ignored, final newline
    optional. A known image extension on a name is dropped (``Misc_1.png`` -> ``Misc_1``)."""
    return list(read_split_lines(path))


def read_split_lines(path: str | os.PathLike) -> dict[str, int]:
    """``{name: line number}`` of a split file, in file order (see :func:`read_split`); a name listed
    twice keeps its first line. Errors never quote the file's text, which may not be a split file."""
    p = Path(path)
    exists, is_file, _ = path_kind(p, "split file")
    if not is_file:
        raise InputError(f"{p}: split file not found" if not exists else f"{p}: split path is not a file")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{p}: split file is not UTF-8 text (undecodable byte at offset {exc.start}); a split file "
            "lists one image name per line"
        ) from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read the split file ({exc.strerror or exc})") from None
    names: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        name = line.strip()
        if not name:
            continue
        root, ext = os.path.splitext(name)
        if ext.lower() in IMAGE_EXTENSIONS:
            name = root
        names.setdefault(name, number)
    if not names:
        raise InputError(f"{p}: split file lists no names")
    return names


def _unknown_split_names(split: str | os.PathLike, lines: dict[str, int], known: set[str]) -> str | None:
    """The error for names of a split file that match no file in either folder (None when all do),
    by line number only:
    the file may be something else (a wrong path), whose contents an error message must not show."""
    numbers = [line for name, line in lines.items() if name not in known]
    if not numbers:
        return None
    shown = ", ".join(map(str, numbers[:10])) + (", ..." if len(numbers) > 10 else "")
    return (
        f"{split}: {len(numbers)} of its {len(lines)} name(s) match no prediction or mask file "
        f"(line(s) {shown}). A split file lists one image name (file stem) per line; check that it is "
        "the right file for these folders"
    )


def _same_folder(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _shown(items: list[str], limit: int) -> str:
    return ", ".join(items[:limit]) + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


@dataclass
class PairReport:
    """What :func:`pair_files` could not pair (all lists in natural order)."""

    missing_preds: list[str] = field(default_factory=list)  # names with a mask but no prediction
    missing_masks: list[str] = field(default_factory=list)  # names with a prediction but no mask
    ignored: list[str] = field(default_factory=list)  # files skipped: other extension / no suffix
    n_paired: int = 0

    @property
    def n_missing(self) -> int:
        """Number of distinct names that could not be paired."""
        return len(set(self.missing_preds) | set(self.missing_masks))

    def summary(self, limit: int = 10) -> str:
        parts = []
        for label, items in (
            ("without a prediction", self.missing_preds),
            ("without a mask", self.missing_masks),
        ):
            if items:
                parts.append(f"{len(items)} name(s) {label}: {_shown(items, limit)}")
        return "; ".join(parts) if parts else "all names paired"

    def ignored_summary(self, limit: int = 10) -> str:
        """The ignored files, named (``"3 file(s) ignored (...): a.txt, b.jpg, c.png"``)."""
        return (
            f"{len(self.ignored)} file(s) ignored (not a readable image extension, another --*-ext, or "
            f"without the suffix): {_shown(self.ignored, limit)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_paired": self.n_paired,
            "missing_preds": list(self.missing_preds),
            "missing_masks": list(self.missing_masks),
            "ignored": list(self.ignored),
        }


#: Extensions that name the same format: ``--pred-ext jpg`` also reads ``.jpeg`` files, ``tif`` ``.tiff``.
_EXT_ALIASES = {".jpg": (".jpg", ".jpeg"), ".jpeg": (".jpg", ".jpeg"), ".tif": (".tif", ".tiff"),
                ".tiff": (".tif", ".tiff")}  # fmt: skip


def _normalise_ext(ext: str | None) -> tuple[str, ...] | None:
    """The extensions (lower case, with the dot) that ``ext`` selects: itself and its aliases."""
    if not ext:
        return None
    ext = ext.lower() if ext.startswith(".") else "." + ext.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise InputError(
            f"extension {ext!r} is not a readable format; use one of {', '.join(IMAGE_EXTENSIONS)}"
        )
    return _EXT_ALIASES.get(ext, (ext,))


def _list_stems(
    folder: Path, suffix: str, role: str, ext: tuple[str, ...] | None = None
) -> tuple[dict[str, Path], list[str]]:
    exists, _, is_dir = path_kind(folder, f"{role} folder")
    if not exists:
        raise InputError(f"{folder}: {role} folder not found")
    if not is_dir:
        raise InputError(f"{folder}: {role} path is not a folder")
    try:
        entries = sorted(os.listdir(folder))
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the {role} folder ({exc})") from exc
    by_stem: dict[str, list[Path]] = {}
    ignored: list[str] = []
    n_images = 0
    for entry in entries:
        if entry.startswith("."):
            continue
        stem, ext_only = os.path.splitext(entry)
        ext_only = ext_only.lower()
        if ext_only not in IMAGE_EXTENSIONS:
            if not (folder / entry).is_dir():
                ignored.append(str(folder / entry))
            continue
        n_images += 1
        if ext is not None and ext_only not in ext:
            ignored.append(str(folder / entry))
            continue
        if suffix:
            if not stem.endswith(suffix) or stem == suffix:
                ignored.append(str(folder / entry))
                continue
            stem = stem[: -len(suffix)]
        by_stem.setdefault(stem, []).append(folder / entry)
    if n_images == 0:
        raise InputError(
            f"{folder}: the {role} folder contains no image files ({', '.join(IMAGE_EXTENSIONS)})"
        )
    if not by_stem:
        if ext is not None:
            raise InputError(
                f"{folder}: no {role} file has the extension {' or '.join(map(repr, ext))} "
                f"(and suffix {suffix!r})"
            )
        raise InputError(f"{folder}: no {role} file name ends with the suffix {suffix!r}")
    dups = {s: ps for s, ps in by_stem.items() if len(ps) > 1}
    if dups:
        shown = "; ".join(
            f"{s}: " + ", ".join(p.name for p in ps) for s, ps in list(sorted(dups.items()))[:5]
        )
        raise InputError(
            f"{folder}: {len(dups)} name(s) have several {role} files with different extensions "
            f"({shown}); keep one file per name, or choose one format with --{'pred' if role == 'prediction' else 'mask'}-ext"
        )
    return {s: ps[0] for s, ps in by_stem.items()}, ignored


def pair_files(
    pred_dir: str | os.PathLike,
    mask_dir: str | os.PathLike,
    split: str | os.PathLike | Sequence[str] | None = None,
    pred_suffix: str = "",
    mask_suffix: str = "",
    allow_missing: bool = False,
    pred_ext: str | None = None,
    mask_ext: str | None = None,
) -> tuple[list[str], list[Path], list[Path], PairReport]:
    """Pair prediction and mask files by name.

    Files are matched by their stem, whatever the extension (``Misc_1.png`` with ``Misc_1.bmp``),
    after removing ``pred_suffix`` / ``mask_suffix`` from the end of the stem (``Misc_1_pixels0.png``
    with ``mask_suffix="_pixels0"``). Files whose extension is not an image extension, hidden files,
    and, when a suffix is given, files without it, are ignored (listed in the report).

    ``split`` (a file path or a list of names) restricts the pairing to those names. Names are
    returned in natural order (``img2`` before ``img10``).

    Unpaired names raise :class:`InputError` unless ``allow_missing``; they are listed in the
    returned :class:`PairReport` either way.

    ``pred_ext`` / ``mask_ext`` (e.g. ``"npy"``) keep only the files of that format, for folders that
    hold the same maps in several formats; the other files are ignored (listed in the report).
    ``jpg`` and ``jpeg`` select both spellings, as do ``tif`` and ``tiff``.

    The same folder for predictions and masks is refused unless the suffixes or formats tell the
    two kinds of file apart.
    """
    pred_exts, mask_exts = _normalise_ext(pred_ext), _normalise_ext(mask_ext)
    preds, ign_p = _list_stems(Path(pred_dir), pred_suffix, "prediction", pred_exts)
    masks, ign_m = _list_stems(Path(mask_dir), mask_suffix, "mask", mask_exts)
    if pred_suffix == mask_suffix and pred_exts == mask_exts and _same_folder(pred_dir, mask_dir):
        raise InputError(
            f"PRED_DIR and MASK_DIR are the same folder ({pred_dir}): every file would be paired with "
            "itself. Give the mask folder, or tell the two apart with --pred-suffix / --mask-suffix or "
            "--pred-ext / --mask-ext"
        )
    if split is None:
        wanted = set(preds) | set(masks)
        split_label = ""
    else:
        if isinstance(split, (str, os.PathLike)):
            lines = read_split_lines(split)
            unknown = _unknown_split_names(split, lines, set(preds) | set(masks))
            if unknown is not None and not allow_missing:
                raise InputError(unknown)
            wanted_list = list(lines)
            split_label = f" (split {split})"
        else:
            wanted_list = [str(s) for s in split]
            split_label = " (split)"
        wanted = set(wanted_list)
    report = PairReport(ignored=natural_sorted(ign_p + ign_m))
    report.missing_preds = natural_sorted(n for n in wanted if n not in preds)
    report.missing_masks = natural_sorted(n for n in wanted if n not in masks)
    names = natural_sorted(n for n in wanted if n in preds and n in masks)
    report.n_paired = len(names)
    if report.n_missing and not allow_missing:
        raise InputError(
            f"unpaired files between {pred_dir} and {mask_dir}{split_label}: {report.summary()}. "
            "Check names and suffixes (--pred-suffix / --mask-suffix), or pass --allow-missing to "
            "score only the paired names"
        )
    if not names:
        raise InputError(f"no prediction/mask pairs found between {pred_dir} and {mask_dir}{split_label}")
    for n in names:
        for p in (preds[n], masks[n]):
            if p.is_dir():
                raise InputError(f"{p}: is a directory, expected an image file")
    return names, [preds[n] for n in names], [masks[n] for n in names], report


