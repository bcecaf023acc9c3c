"""SHA-256 of a file's bytes: the one place that hashes files (manifests, cache keys, provenance).

Errors are the caller's to word: :func:`file_sha256` lets ``OSError`` through, so each caller names the
file in its own terms (an image to score, a split file to state, an output to check).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

_BLOCK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 (hex) of the file at ``path``, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256_cached(path: str | os.PathLike) -> str:
    """:func:`file_sha256`, not read again while the file keeps its size and modification time (a run that
    states the same checkpoint or image many times hashes it once)."""
    st = os.stat(path)
    return _cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _cached(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(path)


__all__ = ["file_sha256", "file_sha256_cached"]
