"""Checks of a path the user gave, before any work is done: is it usable, does it exist, what is it."""

from __future__ import annotations

import os
from pathlib import Path

from hse.errors import InputError


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
