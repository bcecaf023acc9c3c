"""The leaderboard's datasets: which images, which masks, which split files, which mask fixes.

Three datasets, all read from files and described by :class:`Dataset`:

* ``sirst-v2-unseen``: every SIRST-v2 image no NUAA-SIRST split contains (``unseen_by_nuaa.txt``: the
  target images and the background frames below, together);
* ``sirst-v2-targets``: its target images (``sirst-v2/splits/v2_targets.txt``);
* ``sirst-v2-background``: its background-only frames (all-zero masks; every detection there is a
  false alarm): the shared 100-frame sample, or all 510 frames of a full release copy (``--data``);
* ``nuaa-idx427-test``: NUAA-SIRST ``idx_427/test`` (86 images), the one split on which all eight
  checkpoints can be compared, with the corrected ``Misc_111`` mask.

A full SIRST-v2 release copy (``--data DIR``) is read in its own layout: ``images/targets/*.png``,
``images/backgrounds/*.png``, ``annotations/masks/<name>_pixels0.png`` and ``splits/*.txt``
(``trainvaltest_v2target.txt`` for the target images, ``v2background.txt`` for the backgrounds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hse.errors import InputError
from hse.io import read_split

#: The dataset names, in the page's order.
DATASETS = ("sirst-v2-unseen", "sirst-v2-targets", "sirst-v2-background", "nuaa-idx427-test")


@dataclass
class Dataset:
    """One scored image set: names in order, their image and mask files, and where they came from."""

    name: str
    title: str
    names: list[str]
    images: list[Path]
    masks: list[Path]
    split_files: list[Path]
    background: bool = False
    fixes: dict[str, str] = field(default_factory=dict)  # name -> why its mask was replaced
    layout: str = "shared"
    mask_dir: Path | None = None  # the folder of the published masks
    mask_suffix: str = ""  # what follows the image name in a mask file's stem
    fixes_dir: Path | None = None  # corrected masks used in place of published ones of the same name

    def __post_init__(self) -> None:
        if not (len(self.names) == len(self.images) == len(self.masks)):
            raise ValueError(f"{self.name}: names, images and masks differ in length")


def _names(split: Path, limit: int | None) -> list[str]:
    names = read_split(split)
    if not names:
        raise InputError(f"{split}: the split file lists no image")
    return names[:limit] if limit is not None else names


def _existing(paths: list[Path], what: str, hint: str) -> list[Path]:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        shown = ", ".join(str(p) for p in missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise InputError(f"{len(missing)} {what} file(s) not found ({shown}); {hint}")
    return paths


def _check_partition(union: Path, parts: list[list[str]]) -> None:
    """The shared copy's ``unseen_by_nuaa.txt`` is exactly the targets plus the background sample."""
    listed = set(read_split(union))
    joined = [n for p in parts for n in p]
    if len(joined) != len(set(joined)) or set(joined) != listed:
        raise InputError(
            f"{union}: does not equal v2_targets.txt + backgrounds_sample.txt; is the copy complete?"
        )


def _union(targets: Dataset, backs: Dataset, split_files: list[Path]) -> Dataset:
    """The target images and the background frames as one set (the unseen split as published)."""
    return Dataset("sirst-v2-unseen", "SIRST-v2, every image no NUAA-SIRST split contains (targets and backgrounds)",
                   targets.names + backs.names, targets.images + backs.images, targets.masks + backs.masks,
                   split_files, False, layout=targets.layout, mask_dir=targets.mask_dir,
                   mask_suffix=targets.mask_suffix)  # fmt: skip


def sirst_v2_shared(root: Path, limit: int | None = None) -> list[Dataset]:
    """The three SIRST-v2 datasets from the shared copy (``images/<name>.png``, ``masks/<name>.png``)."""
    splits = root / "splits"
    targets, backs = splits / "v2_targets.txt", splits / "backgrounds_sample.txt"
    if limit is None:
        _check_partition(splits / "unseen_by_nuaa.txt", [read_split(targets), read_split(backs)])
    hint = f"is {root} the shared SIRST-v2 folder?"
    out = []
    for name, title, split, bg in (
        ("sirst-v2-targets", "SIRST-v2 target images no NUAA-SIRST split contains", targets, False),
        ("sirst-v2-background", "SIRST-v2 background-only frames (seeded 100 of 510)", backs, True),
    ):
        names = _names(split, limit)
        images = _existing([root / "images" / f"{n}.png" for n in names], "image", hint)
        masks = _existing([root / "masks" / f"{n}.png" for n in names], "mask", hint)
        out.append(Dataset(name, title, names, images, masks, [split], bg, mask_dir=root / "masks"))
    return [_union(*out, [splits / "unseen_by_nuaa.txt", targets, backs]), *out]


def sirst_v2_release(root: Path, limit: int | None = None) -> list[Dataset]:
    """The three SIRST-v2 datasets from a full release copy in its own layout (see the module doc)."""
    splits = root / "splits"
    hint = (f"--data expects the SIRST-v2 release layout (images/targets, images/backgrounds, "
            f"annotations/masks/<name>_pixels0.png, splits/) under {root}")  # fmt: skip
    out = []
    for name, title, split, sub, bg in (
        ("sirst-v2-targets", "SIRST-v2 target images no NUAA-SIRST split contains", "trainvaltest_v2target.txt",
         "targets", False),
        ("sirst-v2-background", "SIRST-v2 background-only frames (release)", "v2background.txt",
         "backgrounds", True),
    ):  # fmt: skip
        split_path = splits / split
        if not split_path.is_file():
            raise InputError(f"{split_path}: split file not found; {hint}")
        names = _names(split_path, limit)
        images = _existing([root / "images" / sub / f"{n}.png" for n in names], "image", hint)
        masks = _existing([root / "annotations" / "masks" / f"{n}_pixels0.png" for n in names], "mask", hint)
        out.append(Dataset(name, title, names, images, masks, [split_path], bg, layout="release",
                           mask_dir=root / "annotations" / "masks", mask_suffix="_pixels0"))  # fmt: skip
    return [_union(*out, [d.split_files[0] for d in out]), *out]


def nuaa_idx427_test(root: Path, limit: int | None = None) -> Dataset:
    """NUAA-SIRST ``idx_427/test`` with ``fixes/<name>.png`` in place of the published masks whose size
    differs from their image (``Misc_111``: the published mask is an upscaled 592x400 copy)."""
    split = root / "splits" / "idx_427" / "test.txt"
    if not split.is_file():
        raise InputError(f"{split}: split file not found; is {root} the shared NUAA-SIRST folder?")
    names = _names(split, limit)
    hint = f"is {root} the shared NUAA-SIRST folder?"
    images = _existing([root / "images" / f"{n}.png" for n in names], "image", hint)
    masks = _existing([root / "masks" / f"{n}.png" for n in names], "mask", hint)
    fixes = {}
    for i, n in enumerate(names):
        fix = root / "fixes" / f"{n}.png"
        if fix.is_file():
            masks[i] = fix
            fixes[n] = (f"published masks/{n}.png does not have its image's size; "
                        f"fixes/{n}.png (the SIRST-v2 release's mask) used instead")  # fmt: skip
    return Dataset("nuaa-idx427-test", "NUAA-SIRST idx_427/test", names, images, masks, [split], False, fixes,
                   mask_dir=root / "masks", fixes_dir=root / "fixes" if fixes else None)  # fmt: skip


def load_datasets(shared: Path, data: Path | None = None, limit: int | None = None) -> list[Dataset]:
    """The three datasets in :data:`DATASETS` order; SIRST-v2 from ``data`` (a release copy) if given."""
    v2 = (
        sirst_v2_release(data, limit)
        if data is not None
        else sirst_v2_shared(shared / "data" / "sirst-v2", limit)
    )
    return [*v2, nuaa_idx427_test(shared / "data" / "nuaa-sirst", limit)]


def overlap_with(shared: Path, split: str, names: list[str]) -> list[str]:
    """Names of ``names`` that NUAA-SIRST's ``split`` (e.g. ``50_50/train``) also lists."""
    listed = set(read_split(shared / "data" / "nuaa-sirst" / "splits" / f"{split}.txt"))
    return [n for n in names if n in listed]
