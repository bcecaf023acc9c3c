"""The leaderboard's content-addressed cache of scored results (``OUT/.cache/<key>.json``).

The key (:func:`cache_key`) is a SHA-256 over the settings, hse's version and source code, and the
names and bytes of every input file, so any change of an input's content, of a setting or of hse gives
a new key. An entry is believed only after checks (:func:`load_entry`): its own key and settings, a
digest of its result, and the consistency checks of :func:`hse.codec.decode`; anything else is
rescored with a warning, never reported as cached.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hse._version import __version__
from hse.codec import decode
from hse.errors import InputError
from hse.io import write_atomic
from hse.io.digest import file_sha256
from hse.result import Result

CACHE_FORMAT = "hse-leaderboard-cache/1"


def _file_digest(path: Path) -> str:
    try:
        return file_sha256(path)
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected an image file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None


_SOURCE_DIGEST: str | None = None


def source_digest() -> str:
    """SHA-256 over the installed hse package's Python sources (relative path and bytes of every
    ``.py`` file under the package folder), so that an edited (editable) install gets new cache keys
    even when its version number stays the same. Computed once per process."""
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for f in sorted(root.rglob("*.py")):
            rel = f.relative_to(root).as_posix()
            if "__pycache__" in rel:
                continue
            h.update(f"\0{rel}\0".encode())
            try:
                h.update(f.read_bytes())
            except OSError:
                h.update(b"?")
        _SOURCE_DIGEST = h.hexdigest()
    return _SOURCE_DIGEST


def _settings_json(settings: Mapping) -> str:
    return json.dumps(dict(settings), sort_keys=True, default=str)


def cache_key(
    names: Sequence[str], pred_paths: Sequence[Path], mask_paths: Sequence[Path], settings: Mapping
) -> str:
    """SHA-256 over the settings, the hse version, a digest of the installed hse sources
    (:func:`source_digest`), and every (name, prediction bytes, mask bytes).

    File paths do not enter the key: moving or renaming the folders keeps the cache valid, while any
    change of a file's content, of the set of names, of a setting or of hse's code invalidates it."""
    h = hashlib.sha256()
    h.update(CACHE_FORMAT.encode())
    h.update(b"\0" + __version__.encode())
    h.update(b"\0" + source_digest().encode())
    h.update(b"\0" + _settings_json(settings).encode())
    for name, p, m in zip(names, pred_paths, mask_paths, strict=True):
        h.update(f"\0{len(name)}:{name}\0".encode())
        h.update(bytes.fromhex(_file_digest(Path(p))))
        h.update(bytes.fromhex(_file_digest(Path(m))))
    return h.hexdigest()


def result_digest(result: Any) -> str:
    """SHA-256 of a result dictionary in canonical JSON (sorted keys), stored beside it in an entry."""
    return hashlib.sha256(json.dumps(result, sort_keys=True).encode()).hexdigest()


def load_entry(cache_file: Path, key: str, run_settings: Mapping[str, Any]) -> Any:
    """The Result stored in ``cache_file``, or None (with a warning when the entry is unusable) so that
    the method is rescored. An entry is used only when it is a JSON object of this cache format with
    this key, the same settings, hse version and source digest, a result whose digest is the one
    written with it (it was not edited), and a result that passes every check of
    :func:`hse.codec.decode` (consistent counters, totals and curve)."""
    try:
        payload = json.loads(cache_file.read_text(encoding="utf-8"))
        if not isinstance(payload, dict):
            raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
        if payload.get("format") != CACHE_FORMAT or payload.get("key") != key:
            raise ValueError("not an entry of this cache format and key")
        if not isinstance(payload.get("result"), dict):
            raise ValueError("its result is not a JSON object")
        if (
            payload.get("settings") != json.loads(_settings_json(run_settings))
            or payload.get("hse_version") != __version__
            or payload.get("source_digest") != source_digest()
        ):
            return None  # written by other settings or another hse: a miss, rescored quietly
        if payload.get("result_digest") != result_digest(payload["result"]):
            raise ValueError("its result does not match the digest written with it (edited?)")
        return decode(payload["result"], "its result", Result)
    except (OSError, ValueError, KeyError, TypeError, OverflowError, IndexError, AttributeError) as exc:
        warnings.warn(f"{cache_file}: unreadable cache entry, rescoring ({exc})", stacklevel=3)
        return None


def write_entry(
    cache_file: Path, key: str, run_settings: Mapping[str, Any], result: Any, method: str, dataset: str
) -> None:
    """Store ``result`` under ``cache_file`` (atomically); a failure to write is a warning only."""
    data = result.to_dict()
    payload = {
        "format": CACHE_FORMAT,
        "key": key,
        "method": method,
        "dataset": dataset,
        "settings": json.loads(_settings_json(run_settings)),
        "hse_version": __version__,
        "source_digest": source_digest(),
        "result_digest": result_digest(data),
        "result": data,
    }
    try:
        write_atomic(cache_file, json.dumps(payload))
    except (OSError, InputError) as exc:
        warnings.warn(f"{cache_file}: could not write the cache ({exc})", stacklevel=3)
