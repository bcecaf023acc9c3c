"""Deterministic shards of an evaluation set, and the checks that a set of shards is complete.

Shard ``K/N`` (1-based) of a set of ``T`` images in input order holds the images at positions ``i`` with
``i % N == K - 1``; each keeps its position as its global index, so :func:`hse.merge` restores the
order of the whole set. A shard's result records which shard of which set it is (:func:`shard_info`,
saved under ``"shard"`` in the ``hse/1`` JSON); :func:`check_shards` refuses a set of parts that is
not exactly shards 1..N of one set.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from .errors import InputError

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` to ``(K, N)`` with ``1 <= K <= N``; ``ValueError`` saying what is wrong otherwise."""
    m = _SPEC.match(text)
    if not m:
        raise ValueError(f"invalid shard {text!r}; use K/N, e.g. 2/4 for the second of four shards")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= k <= n:
        raise ValueError(f"invalid shard {text!r}; need 1 <= K <= N")
    return k, n


def shard_positions(total: int, k: int, n: int) -> list[int]:
    """The positions (global indexes) of shard ``k`` of ``n`` in a set of ``total`` images."""
    return list(range(k - 1, total, n))


def names_digest(names: Sequence[str]) -> str:
    """A digest of the whole set's names in order: shards of one set carry the same one."""
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


def shard_info(k: int, n: int, names: Sequence[str]) -> dict[str, Any]:
    """What a shard's JSON records: ``k``, ``n``, the size of the whole set and its names' digest."""
    return {"k": k, "n": n, "n_images_total": len(names), "names_sha256": names_digest(names)}


def check_shards(parts: Sequence[tuple[str, Any, Sequence[int]]]) -> None:
    """InputError unless ``parts`` are exactly shards 1..N of one set, each holding its own images.

    ``parts`` are ``(label, shard record or None, indexes)``. A part without a record (a plain result)
    cannot be placed and is refused; other N, set size or names, a repeated or a missing shard are
    refused, naming the files.
    """
    if not parts:
        raise InputError("no shards were given")
    for label, info, _ in parts:
        if not isinstance(info, dict) or not {"k", "n", "n_images_total", "names_sha256"} <= info.keys():
            raise InputError(
                f'{label}: not a shard (no "shard" record); merge the JSON files written by '
                "hse-score --shard K/N, or combine other results in Python with hse.merge"
            )
    first_label, first, _ = parts[0]
    for key, what in (
        ("n", "number of shards"),
        ("n_images_total", "set size"),
        ("names_sha256", "image names"),
    ):
        for label, info, _ in parts[1:]:
            if info[key] != first[key]:
                raise InputError(
                    f"{label} is a shard of another run than {first_label}: its {what} differs "
                    f"({info[key]} vs {first[key]}); merge the shards of one hse-score run over one data set"
                )
    n, total = int(first["n"]), int(first["n_images_total"])
    seen: dict[int, str] = {}
    for label, info, indexes in parts:
        k = int(info["k"])
        if k in seen:
            raise InputError(f"shard {k}/{n} is given twice: {seen[k]} and {label}")
        seen[k] = label
        if list(indexes) != shard_positions(total, k, n):
            raise InputError(
                f"{label}: its images are not those of shard {k}/{n} of {total} images (edited or corrupt)"
            )
    missing = [k for k in range(1, n + 1) if k not in seen]
    if missing:
        raise InputError(
            f"shard(s) {', '.join(f'{k}/{n}' for k in missing)} missing: got {len(seen)} of {n} shards; "
            "score them with hse-score --shard K/N"
        )
