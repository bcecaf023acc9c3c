"""Reading prediction maps and masks from files, pairing folders, and writing outputs atomically.

Everything here raises :class:`hse.errors.InputError` for bad user data, with a message that names the
file and says what to do; the CLI maps it to exit code 2.

``read_image`` returns the raw 2-D array stored in the file: it never resizes, clips, rescales or
binarises. Interpreting the values (``/255``, ``> threshold``) is the evaluator's job.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hse.errors import InputError

#: File extensions that :func:`read_image` understands (lower case, with the dot).
IMAGE_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg", ".npy")
_PIL_EXTENSIONS = (".png", ".bmp", ".jpg", ".jpeg")
_TIFF_EXTENSIONS = (".tif", ".tiff")

_GRAY_HINT = (
    "save the raw probability (or score) map as an 8- or 16-bit grayscale PNG, or as a float .npy array"
)


# --------------------------------------------------------------------------------------------------
# reading one file
# --------------------------------------------------------------------------------------------------


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read one prediction map or mask as a raw 2-D array.

    Supported: PNG (8 and 16 bit), BMP, TIFF, JPEG (with a ``UserWarning``: lossy) and ``.npy``
    (2-D, or ``(1, H, W)`` / ``(H, W, 1)``, which are squeezed).

    * grayscale images are returned with their stored dtype (``uint8``, ``uint16``, ``int32``,
      ``float32``); 1-bit images become ``uint8`` with values 0 and 255;
    * colour images (RGB, RGBA, palette, gray+alpha) are accepted only when all colour channels are
      equal, and any alpha channel is fully opaque: the single channel is returned;
    * a colour image with unequal channels (for example a colour-mapped heat map) is refused.

    Raises :class:`InputError` naming the file for a missing, unreadable, corrupt or unsupported file.
    """
    p = Path(path)
    exists, _, is_dir = path_kind(p, "file")
    if not exists:
        raise InputError(f"{p}: file not found")
    if is_dir:
        raise InputError(f"{p}: is a directory, expected an image file")
    ext = p.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise InputError(
            f"{p}: unsupported file extension {p.suffix or '(none)'!r}; "
            f"supported: {', '.join(IMAGE_EXTENSIONS)}"
        )
    if not os.access(p, os.R_OK):
        raise InputError(f"{p}: cannot be read (permission denied)")
    try:
        if ext == ".npy":
            arr = _read_npy(p)
        elif ext in _TIFF_EXTENSIONS:
            arr = _read_tiff(p)
        else:
            arr = _read_pil(p)
    except InputError:
        raise
    except PermissionError as exc:
        raise InputError(f"{p}: cannot be read (permission denied)") from exc
    except Exception as exc:  # decoders raise many types for corrupt data
        raise InputError(
            f"{p}: cannot read the file as an image, it may be corrupt or truncated ({exc})"
        ) from exc
    if arr.ndim != 2 or arr.size == 0:
        raise InputError(f"{p}: expected a 2-D image, got shape {tuple(arr.shape)}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise InputError(f"{p}: expected numeric pixel values, got dtype {arr.dtype}")
    return arr


def _read_npy(p: Path) -> np.ndarray:
    try:
        arr = np.load(p, allow_pickle=False)
    except ValueError as exc:
        raise InputError(f"{p}: not a plain numeric .npy array ({exc})") from exc
    if not isinstance(arr, np.ndarray):
        raise InputError(f"{p}: expected a single array in the .npy file")
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    elif arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise InputError(
            f"{p}: a .npy map must be 2-D (H, W), or (1, H, W) / (H, W, 1); got shape {tuple(arr.shape)}"
        )
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{p}: expected a numeric .npy array, got dtype {arr.dtype}")
    return arr


def _read_tiff(p: Path) -> np.ndarray:
    import tifffile

    try:
        with tifffile.TiffFile(p) as tif:
            n_pages = len(tif.pages)
            if n_pages > 1:
                raise InputError(
                    f"{p}: a multi-page TIFF ({n_pages} pages); expected a single 2-D image. Save one map "
                    "per file"
                )
            page = tif.pages[0]
            photometric = getattr(page, "photometric", None)
            planar = getattr(page, "planarconfig", None)
            arr = np.asarray(page.asarray())
    except InputError:
        raise
    except Exception:
        # Some TIFF variants (old compressions) are readable by PIL but not tifffile.
        return _read_pil(p)
    is_rgb = photometric == tifffile.PHOTOMETRIC.RGB
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 3 and is_rgb and planar == tifffile.PLANARCONFIG.SEPARATE and arr.shape[0] in (3, 4):
        # planar (channels-first) colour, as the file's metadata says
        arr = _single_channel(np.moveaxis(arr, 0, -1), p, "TIFF, planar RGB")
    elif (
        arr.ndim == 3
        and planar != tifffile.PLANARCONFIG.SEPARATE
        and (arr.shape[2] in (1, 2) or (arr.shape[2] in (3, 4) and is_rgb))
    ):
        # contiguous samples: gray (+ alpha), or colour when the file says RGB
        arr = _single_channel(arr, p, "TIFF")
    if arr.ndim != 2:
        raise InputError(f"{p}: expected a single-page 2-D TIFF, got shape {tuple(arr.shape)}")
    return arr


def _read_pil(p: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(p) as im:
        im.load()
        fmt = im.format
        if fmt == "JPEG":
            warnings.warn(
                f"{p}: JPEG is lossy; values near edges and thresholds are unreliable. "
                "Save prediction maps and masks as PNG or .npy.",
                UserWarning,
                stacklevel=3,
            )
        if getattr(im, "n_frames", 1) > 1:
            raise InputError(f"{p}: has {im.n_frames} frames; expected a single 2-D image")
        mode = im.mode
        if (
            fmt == "PNG"
            and mode not in ("L", "LA", "1", "P")
            and not mode.startswith("I")
            and _png_bit_depth(p) == 16
        ):
            raise InputError(
                f"{p}: a 16-bit colour PNG ({mode}); its 16-bit values cannot be read exactly. Save it as a "
                "16-bit grayscale PNG or as a .npy array"
            )
        return pil_to_array(im, p)


def pil_to_array(im: Any, label: str | os.PathLike) -> np.ndarray:
    """A loaded PIL image as a 2-D array, by the same rules as files (``label`` names it in errors).

    1-bit images become {0, 255} uint8; palette images are mapped through their palette; colour images
    are accepted only when their channels are equal (and any alpha is opaque).
    """
    mode = im.mode
    if mode == "1":
        return np.asarray(im, dtype=bool).astype(np.uint8) * np.uint8(255)
    if mode in ("L", "I", "F") or mode.startswith("I;16"):
        return np.asarray(im)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        rgb = im.convert("RGBA" if has_alpha else "RGB")
        return _single_channel(np.asarray(rgb), label, f"palette ({mode})")
    if mode in ("LA", "La", "RGB", "RGBA", "RGBa", "RGBX"):
        arr = np.asarray(im)
        if mode == "RGBX":
            arr = arr[..., :3]
        return _single_channel(arr, label, mode)
    raise InputError(f"{label}: unsupported image mode {mode!r}; {_GRAY_HINT}")


def _png_bit_depth(p: Path) -> int | None:
    """Bit depth from the PNG header (IHDR), or None when it cannot be read."""
    with open(p, "rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return head[24]


def _alpha_is_opaque(alpha: np.ndarray) -> bool:
    if np.issubdtype(alpha.dtype, np.integer):
        return bool((alpha == np.iinfo(alpha.dtype).max).all())
    if alpha.dtype == np.bool_:
        return bool(alpha.all())
    return bool((alpha == 1.0).all())


def _single_channel(arr: np.ndarray, p: str | os.PathLike, what: str) -> np.ndarray:
    """Reduce an (H, W, C) colour array to (H, W) when it is gray in disguise; refuse otherwise."""
    c = arr.shape[2]
    if c == 1:
        return arr[..., 0]
    if c in (2, 4):
        colour, alpha = arr[..., : c - 1], arr[..., c - 1]
    else:
        colour, alpha = arr, None
    first = colour[..., 0]
    for k in range(1, colour.shape[2]):
        other = colour[..., k]
        if not np.array_equal(first, other):
            diff = np.abs(first.astype(np.float64) - other.astype(np.float64))
            raise InputError(
                f"{p}: a colour image ({what}) whose channels differ (up to {diff.max():g}, in "
                f"{np.count_nonzero(diff)} pixels); it looks colour-mapped (e.g. a heat map saved for "
                f"viewing), which cannot be read back as a probability map. Instead {_GRAY_HINT}"
            )
    if alpha is not None and not _alpha_is_opaque(alpha):
        raise InputError(
            f"{p}: has a transparent alpha channel, which is ambiguous for a map or mask; {_GRAY_HINT}"
        )
    return np.ascontiguousarray(first)


# --------------------------------------------------------------------------------------------------
# pairing folders
# --------------------------------------------------------------------------------------------------


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
    p = Path(path)
    exists, is_file, _ = path_kind(p, "split file")
    if not is_file:
        raise InputError(f"{p}: split file not found" if not exists else f"{p}: split path is not a file")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: split file is not UTF-8 text ({exc})") from exc
    except OSError as exc:
        raise InputError(f"{p}: cannot read the split file ({exc})") from exc
    names: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        name = line.strip()
        if not name:
            continue
        root, ext = os.path.splitext(name)
        if ext.lower() in IMAGE_EXTENSIONS:
            name = root
        if name not in seen:
            seen.add(name)
            names.append(name)
    if not names:
        raise InputError(f"{p}: split file lists no names")
    return names


def _same_folder(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


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
                shown = ", ".join(items[:limit]) + (
                    f", ... ({len(items) - limit} more)" if len(items) > limit else ""
                )
                parts.append(f"{len(items)} name(s) {label}: {shown}")
        return "; ".join(parts) if parts else "all names paired"

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
            wanted_list = read_split(split)
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


# --------------------------------------------------------------------------------------------------
# atomic writing
# --------------------------------------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_for(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


def check_output_path(path: str | os.PathLike, label: str | None = None, folder: bool = False) -> Path:
    """Refuse, before any work is done, an output path that cannot be created: an existing directory
    (an existing non-folder when ``folder``), a path under a regular file, or a name the system rejects
    (too long). ``label`` (e.g. ``"--csv out.csv"``) names it in the message; returns the path."""
    p = Path(path)
    label = label or str(p)
    try:
        if folder:
            if p.exists() and not p.is_dir():
                raise InputError(f"{label}: exists and is not a folder")
        elif p.is_dir():
            raise InputError(f"{label}: is a directory; give a file name")
        for parent in Path(os.path.abspath(p)).parents:
            if parent.exists():
                if not parent.is_dir():
                    raise InputError(f"{label}: cannot be created, {parent} is a file, not a folder")
                break
    except OSError as exc:
        raise InputError(f"{label}: not a usable output path ({_os_reason(exc)})") from None
    return p


def path_kind(p: Path, what: str) -> tuple[bool, bool, bool]:
    """``(exists, is_file, is_dir)`` of a path given by the user; an InputError when the path itself is
    unusable (e.g. a name too long), with ``what`` naming the path in the message."""
    try:
        return p.exists(), p.is_file(), p.is_dir()
    except OSError as exc:
        raise InputError(f"{p}: not a usable {what} path ({_os_reason(exc)})") from None


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _backup_name(target: Path) -> Path:
    """A free name next to ``target`` to keep the file it replaces until a commit succeeds."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".bak")
    os.close(fd)
    return Path(name)


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise InputError(f"{path}: output path is a directory")


def write_atomic_via(path: str | os.PathLike, writer: Callable[[Path], Any]) -> Path:
    """Write ``path`` by calling ``writer(tmp_path)`` on a temporary file in the same folder, then
    renaming it into place. The temporary path keeps the target's extension, so ``writer`` may be
    ``fig.savefig`` or ``df.to_csv``. On any error the temporary file is removed and ``path`` is
    left as it was."""
    target = Path(path)
    _check_target(target)
    tmp = _temp_for(target)
    try:
        writer(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or str as UTF-8) to ``path`` atomically (temp file + rename)."""
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return write_atomic_via(path, lambda tmp: Path(tmp).write_bytes(payload))


class AtomicOutputs:
    """Stage several output files, then publish them together.

    Each ``add`` writes a temporary file next to its target; ``commit`` renames them all into place.
    A file that already exists at a target is first moved aside to a backup name in the same folder.
    If anything fails before ``commit`` finishes (including inside a ``with`` block), the temporary
    files are removed, targets already renamed in this run are removed, and the files they replaced
    are put back, so no partial set of outputs remains and a file that existed before is left as it
    was. The backups are deleted once every file is in place. An ``OSError`` while staging or
    publishing becomes an :class:`InputError` naming the path::

        with AtomicOutputs() as out:
            out.add("res.json", text)
            out.add_via("plot.png", fig.savefig)
        # all written here, or none
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        # (target, backup of the file it replaced or None), in the order published
        self._published: list[tuple[Path, Path | None]] = []

    def add(self, path: str | os.PathLike, data: bytes | str) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self.add_via(path, lambda tmp: Path(tmp).write_bytes(payload))

    def add_via(self, path: str | os.PathLike, writer: Callable[[Path], Any]) -> None:
        target = Path(path)
        try:
            _check_target(target)
            if any(os.path.abspath(t) == os.path.abspath(target) for t, _ in self._staged):
                raise InputError(f"{target}: the same output path is given twice")
            tmp = _temp_for(target)
        except OSError as exc:
            raise InputError(f"{target}: cannot write the output file ({_os_reason(exc)})") from None
        self._staged.append((target, tmp))
        try:
            writer(tmp)
        except OSError as exc:
            raise InputError(f"{target}: cannot write the output file ({_os_reason(exc)})") from None

    @property
    def paths(self) -> list[Path]:
        return [t for t, _ in self._staged]

    def commit(self) -> list[Path]:
        target = None
        try:
            for target, tmp in self._staged:
                backup = None
                if os.path.lexists(target):
                    backup = _backup_name(target)
                    os.replace(target, backup)
                try:
                    os.replace(tmp, target)
                except BaseException:
                    if backup is not None:
                        with contextlib.suppress(OSError):
                            os.replace(backup, target)
                    raise
                self._published.append((target, backup))
        except OSError as exc:
            self.abort()
            raise InputError(f"{target}: cannot write the output file ({_os_reason(exc)})") from None
        except BaseException:
            self.abort()
            raise
        done = [t for t, _ in self._published]
        for _target, backup in self._published:
            if backup is not None:
                with contextlib.suppress(OSError):
                    os.unlink(backup)
        self._staged.clear()
        self._published.clear()
        return done

    def abort(self) -> None:
        for _target, tmp in self._staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        for target, backup in reversed(self._published):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                else:
                    target.unlink()
        self._staged.clear()
        self._published.clear()

    def __enter__(self) -> AtomicOutputs:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
