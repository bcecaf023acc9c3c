"""Writing output files crash-safely: one file, or the several files of a run with a manifest.

What is guaranteed (docs/cli.md, "Outputs"):

* every output file is replaced in one step (``os.replace`` of a complete temporary file in the same
  folder), so at any instant, also after ``kill -9`` or a power cut, each file is either its previous
  complete version or its new complete version, never a half-written one;
* all files of a run are staged (written in full to temporaries) before the first one is published, so
  an error while producing any of them (a full disk, a figure that fails) leaves every previous file as
  it was and no new one;
* publishing several files is not one atomic step (no file system offers that across files): a crash
  *while* publishing may leave some files new and some old. A run that writes a manifest therefore
  removes the old manifest before publishing and writes the new one last; :func:`check_manifest` tells
  whether the files on disk are one run's complete set (present manifest, matching sizes and SHA-256);
* temporaries of a killed run (``.NAME.PID.RANDOM.hse-tmp.EXT`` beside ``NAME``) are removed by the next
  run that writes ``NAME``, once the process that made them is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hse.errors import InputError

from .digest import file_sha256
from .paths import _os_reason

TEMP_MARK = ".hse-tmp"
MANIFEST_FORMAT = "hse-manifest/1"
#: Fault injection for the crash tests: the process kills itself (SIGKILL) at this write step (1, 2, ...).
KILL_AT_STEP_ENV = "HSE_TEST_KILL_AT_STEP"
_steps_taken = 0


def _write_step() -> None:
    """A point between two writes, where a real crash could happen; the crash tests end the process at
    each one in turn (environment variable :data:`KILL_AT_STEP_ENV`)."""
    global _steps_taken
    _steps_taken += 1
    kill_at = os.environ.get(KILL_AT_STEP_ENV)
    if kill_at and int(kill_at) == _steps_taken:
        os.kill(os.getpid(), signal.SIGKILL)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. no permission to signal it: it exists
        return True
    return True


def clean_stale_temporaries(target: Path) -> list[Path]:
    """Remove the temporaries of ``target`` left by killed runs (their process is gone); returns them."""
    prefix = f".{target.name}."
    removed: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            name = entry.name
            if not (name.startswith(prefix) and TEMP_MARK in name[len(prefix) :]):
                continue
            pid = name[len(prefix) :].split(".", 1)[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _temp_for(path: Path) -> Path:
    """A new temporary file beside ``path``, named so that a later run can tell it is stale; it keeps the
    target's extension, so writers that infer the format from the name (savefig, to_csv) work."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=f"{TEMP_MARK}{path.suffix}"
    )
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


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
        _write_step()
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


def _digest(path: Path) -> tuple[int, str]:
    return path.stat().st_size, file_sha256(path)


def _manifest_text(manifest: Path, files: list[Path]) -> str:
    rows = []
    for f in files:
        size, sha = _digest(f)
        rows.append({"path": os.path.relpath(f, manifest.parent), "bytes": size, "sha256": sha})
    return json.dumps({"format": MANIFEST_FORMAT, "files": rows}, indent=2) + "\n"


def check_manifest(manifest: str | os.PathLike) -> list[str]:
    """Problems that keep the files listed in ``manifest`` from being one run's complete set.

    Returns an empty list when the manifest exists and every file it lists exists with its recorded size
    and SHA-256; otherwise one line per problem (no manifest: the last run did not finish publishing).
    """
    path = Path(manifest)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{path}: no manifest (the run that wrote these files did not finish)"]
    except (OSError, ValueError) as exc:
        return [f"{path}: unreadable manifest ({exc})"]
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("files"), list):
        return [f"{path}: not an {MANIFEST_FORMAT} manifest"]
    problems = []
    for row in data["files"]:
        try:
            f = path.parent / row["path"]
            size, sha = _digest(f)
        except FileNotFoundError:
            problems.append(f"{row.get('path')}: missing")
            continue
        except (OSError, KeyError, TypeError) as exc:
            problems.append(f"{row!r}: unreadable entry ({exc})")
            continue
        if (size, sha) != (row.get("bytes"), row.get("sha256")):
            problems.append(f"{row['path']}: differs from the manifest (written by another run)")
    return problems


class AtomicOutputs:
    """Stage several output files, then publish them (see the module docstring for the guarantees).

    Each ``add`` writes a complete temporary file next to its target; ``commit`` replaces the targets one
    by one with ``os.replace`` and, when ``manifest`` is given, removes the old manifest first and writes
    the new one (sizes and SHA-256 of every file) last. If anything fails before publishing starts
    (including inside a ``with`` block), the temporaries are removed and every target is left as it was.
    An ``OSError`` while staging or publishing becomes an :class:`InputError` naming the path::

        with AtomicOutputs(manifest="out/manifest.json") as out:
            out.add("out/res.json", text)
            out.add_via("out/plot.png", fig.savefig)
        # staged in full, then published; the manifest marks the finished set
    """

    def __init__(self, manifest: str | os.PathLike | None = None) -> None:
        self.manifest = None if manifest is None else Path(manifest)
        self._staged: list[tuple[Path, Path]] = []

    def add(self, path: str | os.PathLike, data: bytes | str) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self.add_via(path, lambda tmp: Path(tmp).write_bytes(payload))

    def add_via(self, path: str | os.PathLike, writer: Callable[[Path], Any]) -> None:
        target = Path(path)
        try:
            _check_target(target)
            taken = [t for t, _ in self._staged] + ([self.manifest] if self.manifest else [])
            if any(os.path.abspath(t) == os.path.abspath(target) for t in taken):
                raise InputError(f"{target}: the same output path is given twice")
            tmp = _temp_for(target)
        except OSError as exc:
            raise InputError(f"{target}: cannot write the output file ({_os_reason(exc)})") from None
        self._staged.append((target, tmp))
        try:
            writer(tmp)
        except OSError as exc:
            raise InputError(f"{target}: cannot write the output file ({_os_reason(exc)})") from None
        _write_step()

    @property
    def paths(self) -> list[Path]:
        return [t for t, _ in self._staged] + ([self.manifest] if self.manifest else [])

    def commit(self) -> list[Path]:
        target: Path | None = self.manifest
        try:
            if self.manifest is not None:
                _check_target(self.manifest)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.manifest)  # until the new one is written, the set is marked unfinished
                _write_step()
            published = []
            for target, tmp in self._staged:
                os.replace(tmp, target)
                published.append(target)
                _write_step()
            if self.manifest is not None:
                target = self.manifest
                text = _manifest_text(self.manifest, published)
                write_atomic(self.manifest, text)
                published.append(self.manifest)
        except OSError as exc:
            self.abort()
            raise InputError(f"{target}: cannot write the output file ({_os_reason(exc)})") from None
        except BaseException:
            self.abort()
            raise
        self._staged.clear()
        return published

    def abort(self) -> None:
        """Remove the temporaries not yet published (files already replaced stay: each is complete)."""
        for _target, tmp in self._staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._staged.clear()

    def __enter__(self) -> AtomicOutputs:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
