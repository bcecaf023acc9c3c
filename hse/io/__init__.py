"""Input and output at the edge of hse: reading images, pairing folders, checking paths, atomic writes.

Everything here raises :class:`hse.errors.InputError` for bad user data, with a message that names the
file and says what to do. ``read_image`` returns the raw 2-D array stored in the file: it never resizes,
clips, rescales or binarises; interpreting the values is the evaluator's job (:mod:`hse.validation`).

* :mod:`hse.io.images` - :func:`read_image` and the decoders;
* :mod:`hse.io.pairing` - :func:`pair_files`, :func:`read_split`, natural order;
* :mod:`hse.io.paths` - :func:`path_kind`, :func:`check_output_path`;
* :mod:`hse.io.atomic` - :func:`write_atomic`, :class:`AtomicOutputs`;
* :mod:`hse.io.digest` - :func:`~hse.io.digest.file_sha256`: the one file hash (manifests, cache keys, provenance).
"""

from .atomic import AtomicOutputs, check_manifest, clean_stale_temporaries, write_atomic, write_atomic_via
from .images import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, MAX_PIXELS_ENV, max_pixels, pil_to_array, read_image
from .pairing import PairReport, natural_key, natural_sorted, pair_files, read_split, read_split_lines
from .paths import check_output_path, path_kind

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "MAX_PIXELS_ENV",
    "AtomicOutputs",
    "PairReport",
    "check_manifest",
    "check_output_path",
    "clean_stale_temporaries",
    "natural_key",
    "natural_sorted",
    "pair_files",
    "max_pixels",
    "path_kind",
    "pil_to_array",
    "read_image",
    "read_split",
    "read_split_lines",
    "write_atomic",
    "write_atomic_via",
]
