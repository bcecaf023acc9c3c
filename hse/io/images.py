"""Reading one prediction map or mask from a file (PNG, BMP, TIFF, JPEG, .npy).

Everything here raises :class:`hse.errors.InputError` for bad user data, with a message that names the
file and says what to do; the commands map it to exit code 2.

``read_image`` returns the raw 2-D array stored in the file: it never resizes, clips, rescales or
binarises. Interpreting the values (``/255``, ``> threshold``) is the evaluator's job.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from hse.errors import InputError

from .paths import path_kind

#: File extensions that :func:`read_image` understands (lower case, with the dot).
IMAGE_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg", ".npy")
_PIL_EXTENSIONS = (".png", ".bmp", ".jpg", ".jpeg")
_TIFF_EXTENSIONS = (".tif", ".tiff")

#: Environment variable holding the largest image (in pixels) that hse reads; see :func:`max_pixels`.
MAX_PIXELS_ENV = "HSE_MAX_PIXELS"
#: Default pixel limit: 100 megapixels (e.g. 10000 x 10000), a few GB of working memory when evaluated.
DEFAULT_MAX_PIXELS = 100_000_000

_GRAY_HINT = (
    "save the raw probability (or score) map as an 8- or 16-bit grayscale PNG, or as a float .npy array"
)


# --------------------------------------------------------------------------------------------------
# the pixel limit (one guard for every format)
# --------------------------------------------------------------------------------------------------


def max_pixels() -> int:
    """The largest image, in pixels, that :func:`read_image` reads: ``HSE_MAX_PIXELS`` if set, else
    :data:`DEFAULT_MAX_PIXELS`. The commands set it with ``--max-pixels N``; worker processes inherit it."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise InputError(f"{MAX_PIXELS_ENV}={text!r} must be a positive whole number of pixels")
    return value


def check_pixel_count(p: Path, shape: tuple[int, ...]) -> None:
    """Refuse, before decoding, an image larger than :func:`max_pixels` (naming the file and the limit)."""
    dims = [int(d) for d in shape[:2]]
    n = int(np.prod(dims)) if dims else 0
    limit = max_pixels()
    if n > limit:
        size = "x".join(str(d) for d in dims)
        raise InputError(
            f"{p}: {size} pixels ({n / 1e6:.1f} megapixels) is above hse's limit of {limit / 1e6:.1f} "
            "megapixels per image, which guards the memory of an evaluation (tens of bytes per pixel). "
            f"If the machine has the memory, raise the limit with --max-pixels N (or {MAX_PIXELS_ENV}=N)"
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
        lazy = np.load(p, allow_pickle=False, mmap_mode="r")
    except ValueError as exc:
        raise InputError(f"{p}: not a plain numeric .npy array ({exc})") from exc
    if not isinstance(lazy, np.ndarray):
        raise InputError(f"{p}: expected a single array in the .npy file")
    squeezed = [d for d in lazy.shape if d != 1] if lazy.ndim == 3 else list(lazy.shape)
    check_pixel_count(p, tuple(squeezed))
    arr = np.array(lazy)
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
            check_pixel_count(p, (page.imagelength, page.imagewidth))
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


def _pil_open(p: Path):
    """``Image.open`` with Pillow's own decompression-bomb limit lifted: :func:`check_pixel_count` is the
    one limit, for every format, and it names the file, the size and how to raise it."""
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        return Image.open(p)
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _read_pil(p: Path) -> np.ndarray:

    with _pil_open(p) as im:
        check_pixel_count(p, (im.height, im.width))
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
