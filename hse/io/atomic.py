"""Writing output files atomically: one file (temporary file + rename), or several published together."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hse.errors import InputError

from .paths import _os_reason


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
