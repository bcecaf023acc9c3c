"""Reading files and pairing folders (hse.io)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hse.errors import InputError
from hse.io import (
    AtomicOutputs,
    natural_sorted,
    pair_files,
    read_image,
    read_split,
    write_atomic,
    write_atomic_via,
)

RNG = np.random.default_rng(7)


def _gray8(h: int = 12, w: int = 16) -> np.ndarray:
    return RNG.integers(0, 256, (h, w), dtype=np.uint8)


# -- read_image: formats -----------------------------------------------------------------------------


def test_png_8bit_roundtrip(tmp_path):
    a = _gray8()
    Image.fromarray(a).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out.dtype == np.uint8 and np.array_equal(out, a)


def test_png_16bit_keeps_all_bits(tmp_path):
    a = RNG.integers(0, 65536, (9, 11), dtype=np.uint16)
    Image.fromarray(a).save(tmp_path / "a.png")
    out = read_image(str(tmp_path / "a.png"))
    assert out.dtype == np.uint16 and np.array_equal(out, a)


def test_bmp(tmp_path):
    a = _gray8()
    Image.fromarray(a).save(tmp_path / "a.bmp")
    assert np.array_equal(read_image(tmp_path / "a.bmp"), a)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_tiff(tmp_path, dtype):
    import tifffile

    a = (RNG.random((10, 13)) * (255 if dtype == np.uint8 else 1000 if dtype == np.uint16 else 1)).astype(
        dtype
    )
    tifffile.imwrite(tmp_path / "a.tif", a)
    out = read_image(tmp_path / "a.tif")
    assert out.dtype == dtype and np.array_equal(out, a)


@pytest.mark.parametrize("pages", [2, 3, 4])
def test_multi_page_tiff_refused(tmp_path, pages):
    import tifffile

    a = _gray8()
    # a stack written as pages (tifffile's minisblack) and pages written one by one
    tifffile.imwrite(tmp_path / "stack.tif", np.stack([a] * pages), photometric="minisblack")
    with tifffile.TiffWriter(tmp_path / "sep.tif") as w:
        for k in range(pages):
            w.write(np.roll(a, k))
    for name in ("stack.tif", "sep.tif"):
        with pytest.raises(InputError, match=f"multi-page TIFF \\({pages} pages\\)"):
            read_image(tmp_path / name)


def test_tiff_colour_only_when_the_file_says_rgb(tmp_path):
    import tifffile

    a = _gray8()
    tifffile.imwrite(tmp_path / "planar.tif", np.stack([a] * 3), photometric="rgb", planarconfig="separate")
    assert np.array_equal(read_image(tmp_path / "planar.tif"), a)
    tifffile.imwrite(tmp_path / "contig.tif", np.stack([a] * 3, -1), photometric="rgb")
    assert np.array_equal(read_image(tmp_path / "contig.tif"), a)
    # three equal samples of a single page that are not RGB: not a colour image, refused
    tifffile.imwrite(
        tmp_path / "samples.tif",
        np.stack([a] * 3),
        photometric="minisblack",
        planarconfig="separate",
        extrasamples=("unspecified", "unspecified"),
    )
    with pytest.raises(InputError, match="single-page 2-D TIFF"):
        read_image(tmp_path / "samples.tif")
    tifffile.imwrite(
        tmp_path / "contig3.tif",
        np.stack([a] * 3, -1),
        photometric="minisblack",
        planarconfig="contig",
        extrasamples=("unspecified", "unspecified"),
    )
    with pytest.raises(InputError, match="single-page 2-D TIFF"):
        read_image(tmp_path / "contig3.tif")


def test_tiff_written_by_pil(tmp_path):
    a = RNG.random((6, 7)).astype(np.float32)
    Image.fromarray(a).save(tmp_path / "a.tiff")
    assert np.array_equal(read_image(tmp_path / "a.tiff"), a)


@pytest.mark.parametrize("shape", [(8, 9), (1, 8, 9), (8, 9, 1)])
def test_npy_shapes_are_squeezed(tmp_path, shape):
    a = RNG.random(shape)
    np.save(tmp_path / "a.npy", a)
    out = read_image(tmp_path / "a.npy")
    assert out.shape == (8, 9) and np.array_equal(out, a.reshape(8, 9))


@pytest.mark.parametrize("shape", [(2, 8, 9), (8, 9, 3), (8,), (1, 1, 8, 9)])
def test_npy_bad_shapes(tmp_path, shape):
    np.save(tmp_path / "a.npy", np.zeros(shape))
    with pytest.raises(InputError, match="a.npy"):
        read_image(tmp_path / "a.npy")


def test_npy_object_array_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.array([[object()]], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="a.npy"):
        read_image(tmp_path / "a.npy")


def test_jpeg_warns(tmp_path):
    Image.fromarray(_gray8(32, 32)).save(tmp_path / "a.jpg", quality=95)
    with pytest.warns(UserWarning, match="lossy"):
        out = read_image(tmp_path / "a.jpg")
    assert out.shape == (32, 32) and out.dtype == np.uint8


def test_png_does_not_warn(tmp_path):
    Image.fromarray(_gray8()).save(tmp_path / "a.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_image(tmp_path / "a.png")


def test_one_bit_image(tmp_path):
    a = _gray8() > 128
    Image.fromarray(a).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out.dtype == np.uint8 and set(np.unique(out)) <= {0, 255}
    assert np.array_equal(out > 0, a)


# -- read_image: colour rules -----------------------------------------------------------------------


def test_equal_channel_rgb_is_gray(tmp_path):
    a = _gray8()
    Image.fromarray(np.stack([a, a, a], -1)).save(tmp_path / "a.png")
    assert np.array_equal(read_image(tmp_path / "a.png"), a)


def test_opaque_alpha_is_ignored(tmp_path):
    a = _gray8()
    rgba = np.stack([a, a, a, np.full_like(a, 255)], -1)
    Image.fromarray(rgba).save(tmp_path / "a.png")
    assert np.array_equal(read_image(tmp_path / "a.png"), a)
    Image.fromarray(np.stack([a, np.full_like(a, 255)], -1), mode="LA").save(tmp_path / "b.png")
    assert np.array_equal(read_image(tmp_path / "b.png"), a)


def test_transparent_alpha_is_refused(tmp_path):
    a = _gray8()
    alpha = np.full_like(a, 255)
    alpha[0, 0] = 0
    Image.fromarray(np.stack([a, a, a, alpha], -1)).save(tmp_path / "a.png")
    with pytest.raises(InputError, match="alpha"):
        read_image(tmp_path / "a.png")


def test_colour_mapped_rgba_is_refused(tmp_path):
    a = _gray8()
    rgba = np.stack([a, 255 - a, a // 2, np.full_like(a, 255)], -1)
    Image.fromarray(rgba).save(tmp_path / "heat.png")
    with pytest.raises(InputError, match=r"heat\.png.*colour-mapped.*grayscale PNG"):
        read_image(tmp_path / "heat.png")


def test_palette_image_gray_palette(tmp_path):
    a = (_gray8() // 16).astype(np.uint8)
    im = Image.fromarray(a, mode="P")
    im.putpalette([v for k in range(256) for v in (k * 16 % 256,) * 3])
    im.save(tmp_path / "p.png")
    out = read_image(tmp_path / "p.png")
    assert np.array_equal(out, (a.astype(int) * 16 % 256).astype(np.uint8))


def test_palette_image_colour_palette_refused(tmp_path):
    a = (_gray8() % 4).astype(np.uint8)
    im = Image.fromarray(a, mode="P")
    im.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 12))
    im.save(tmp_path / "p.png")
    with pytest.raises(InputError, match="colour-mapped"):
        read_image(tmp_path / "p.png")


@pytest.mark.shared
def test_real_colour_mapped_prediction(shared_dir):
    path = shared_dir / "predictions/alcnet-mxnet/pred/Misc_354.png"
    with pytest.raises(InputError, match="Misc_354.png.*colour-mapped"):
        read_image(path)


@pytest.mark.shared
def test_real_palette_image_reads_as_luma(shared_dir):
    images = shared_dir / "data/nuaa-sirst/images"
    for path in sorted(images.glob("*.png")):
        with Image.open(path) as im:
            if im.mode != "P":
                continue
            expected = np.asarray(im.convert("L"))
        assert np.array_equal(read_image(path), expected)
        break
    else:
        pytest.skip("no palette image found")


# -- read_image: bad files --------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_image(tmp_path / "nope.png")


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "d.png").mkdir()
    with pytest.raises(InputError, match=r"d\.png.*directory"):
        read_image(tmp_path / "d.png")


def test_unknown_extension(tmp_path):
    (tmp_path / "a.gif").write_bytes(b"GIF89a")
    with pytest.raises(InputError, match=r"a\.gif.*unsupported"):
        read_image(tmp_path / "a.gif")


@pytest.mark.parametrize("name", ["bad.png", "bad.bmp", "bad.tif", "bad.jpg", "bad.npy"])
def test_corrupt_files(tmp_path, name):
    (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    with pytest.raises(InputError, match=name.replace(".", r"\.")):
        read_image(tmp_path / name)


def test_truncated_png(tmp_path):
    Image.fromarray(_gray8(64, 64)).save(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"t\.png"):
        read_image(tmp_path / "t.png")


# -- pairing ----------------------------------------------------------------------------------------


def _touch_images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / n)


def test_natural_order():
    assert natural_sorted(["img10", "img2", "img1", "Img3", "a"]) == ["a", "img1", "img2", "Img3", "img10"]


def test_pair_extension_agnostic_and_natural_order(tmp_path):
    _touch_images(tmp_path / "p", ["Misc_10.png", "Misc_2.png", "Misc_1.png"])
    _touch_images(tmp_path / "m", ["Misc_10.bmp", "Misc_2.png", "Misc_1.bmp"])
    (tmp_path / "p" / "notes.txt").write_text("x")
    names, preds, masks, report = pair_files(tmp_path / "p", tmp_path / "m")
    assert names == ["Misc_1", "Misc_2", "Misc_10"]
    assert [p.name for p in preds] == ["Misc_1.png", "Misc_2.png", "Misc_10.png"]
    assert [m.name for m in masks] == ["Misc_1.bmp", "Misc_2.png", "Misc_10.bmp"]
    assert report.n_missing == 0 and report.n_paired == 3
    assert any(s.endswith("notes.txt") for s in report.ignored)


def test_pair_suffixes(tmp_path):
    _touch_images(tmp_path / "p", ["Misc_1_pred.png", "Misc_2_pred.png"])
    _touch_images(tmp_path / "m", ["Misc_1_pixels0.png", "Misc_2_pixels0.png", "Misc_2.png"])
    names, preds, masks, report = pair_files(
        tmp_path / "p", tmp_path / "m", pred_suffix="_pred", mask_suffix="_pixels0"
    )
    assert names == ["Misc_1", "Misc_2"]
    assert [m.name for m in masks] == ["Misc_1_pixels0.png", "Misc_2_pixels0.png"]
    assert len(report.ignored) == 1  # Misc_2.png has no suffix


def test_split_crlf_no_final_newline(tmp_path):
    _touch_images(tmp_path / "p", [f"{k}.png" for k in range(12)])
    _touch_images(tmp_path / "m", [f"{k}.png" for k in range(12)])
    split = tmp_path / "split.txt"
    split.write_bytes(b"10\r\n\r\n2\r\n  3  \r\n11.png")
    assert read_split(split) == ["10", "2", "3", "11"]
    names, preds, _, _ = pair_files(tmp_path / "p", tmp_path / "m", split=split)
    assert names == ["2", "3", "10", "11"]
    assert [p.name for p in preds] == ["2.png", "3.png", "10.png", "11.png"]


def test_split_as_list(tmp_path):
    _touch_images(tmp_path / "p", ["a.png", "b.png"])
    _touch_images(tmp_path / "m", ["a.png", "b.png"])
    names, *_ = pair_files(tmp_path / "p", tmp_path / "m", split=["b"])
    assert names == ["b"]


def test_empty_split_file(tmp_path):
    _touch_images(tmp_path / "p", ["a.png"])
    _touch_images(tmp_path / "m", ["a.png"])
    (tmp_path / "s.txt").write_text("\n\n")
    with pytest.raises(InputError, match="no names"):
        pair_files(tmp_path / "p", tmp_path / "m", split=tmp_path / "s.txt")


def test_duplicate_stems(tmp_path):
    _touch_images(tmp_path / "p", ["a.png", "a.bmp", "b.png"])
    _touch_images(tmp_path / "m", ["a.png", "b.png"])
    with pytest.raises(InputError, match=r"a: a\.bmp, a\.png"):
        pair_files(tmp_path / "p", tmp_path / "m")


def test_one_format_chosen_by_extension(tmp_path):
    _touch_images(tmp_path / "p", ["a.png", "b.png"])
    for n in ("a", "b"):
        np.save(tmp_path / "p" / f"{n}.npy", np.zeros((4, 4), np.float32))
    _touch_images(tmp_path / "m", ["a.png", "b.png"])
    with pytest.raises(InputError, match="--pred-ext"):
        pair_files(tmp_path / "p", tmp_path / "m")
    names, preds, _, report = pair_files(tmp_path / "p", tmp_path / "m", pred_ext="npy")
    assert names == ["a", "b"] and [p.suffix for p in preds] == [".npy", ".npy"]
    assert sorted(Path(p).name for p in report.ignored) == ["a.png", "b.png"]
    assert pair_files(tmp_path / "p", tmp_path / "m", pred_ext=".PNG")[1][0].suffix == ".png"
    with pytest.raises(InputError, match="not a readable format"):
        pair_files(tmp_path / "p", tmp_path / "m", pred_ext="gif")
    with pytest.raises(InputError, match="no mask file has the extension '.bmp'"):
        pair_files(tmp_path / "p", tmp_path / "m", pred_ext="npy", mask_ext="bmp")


def test_missing_files_error_and_allow_missing(tmp_path):
    _touch_images(tmp_path / "p", ["a.png", "b.png", "c.png"])
    _touch_images(tmp_path / "m", ["b.png", "c.png", "d.png"])
    with pytest.raises(InputError, match=r"without a prediction: d.*without a mask: a.*--allow-missing"):
        pair_files(tmp_path / "p", tmp_path / "m")
    names, _, _, report = pair_files(tmp_path / "p", tmp_path / "m", allow_missing=True)
    assert names == ["b", "c"]
    assert report.missing_preds == ["d"] and report.missing_masks == ["a"] and report.n_missing == 2


def test_split_name_missing_from_folders(tmp_path):
    _touch_images(tmp_path / "p", ["a.png"])
    _touch_images(tmp_path / "m", ["a.png"])
    with pytest.raises(InputError, match="zz"):
        pair_files(tmp_path / "p", tmp_path / "m", split=["a", "zz"])
    names, _, _, report = pair_files(tmp_path / "p", tmp_path / "m", split=["a", "zz"], allow_missing=True)
    assert names == ["a"] and report.n_missing == 1


def test_empty_and_nonexistent_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    _touch_images(tmp_path / "m", ["a.png"])
    with pytest.raises(InputError, match="no image files"):
        pair_files(tmp_path / "empty", tmp_path / "m")
    with pytest.raises(InputError, match="not found"):
        pair_files(tmp_path / "nope", tmp_path / "m")
    with pytest.raises(InputError, match="not a folder"):
        pair_files(tmp_path / "m" / "a.png", tmp_path / "m")


def test_directory_named_like_an_image(tmp_path):
    _touch_images(tmp_path / "p", ["a.png"])
    (tmp_path / "p" / "b.png").mkdir()
    _touch_images(tmp_path / "m", ["a.png", "b.png"])
    with pytest.raises(InputError, match=r"b\.png.*directory"):
        pair_files(tmp_path / "p", tmp_path / "m")


# -- atomic writing ---------------------------------------------------------------------------------


def test_write_atomic(tmp_path):
    write_atomic(tmp_path / "sub" / "a.txt", "hello")
    write_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "sub" / "a.txt").read_text() == "hello"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert os.listdir(tmp_path / "sub") == ["a.txt"]


def test_write_atomic_via_failure_leaves_nothing(tmp_path):
    def boom(tmp):
        Path(tmp).write_text("partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic_via(tmp_path / "a.csv", boom)
    assert os.listdir(tmp_path) == []


def test_write_atomic_via_keeps_extension_for_writers(tmp_path):
    seen = []
    write_atomic_via(
        tmp_path / "fig.png", lambda tmp: (seen.append(Path(tmp).suffix), Path(tmp).write_bytes(b"x"))
    )
    assert seen == [".png"]


def test_atomic_outputs_all_or_nothing(tmp_path):
    (tmp_path / "old.json").write_text("old")
    with pytest.raises(RuntimeError):
        with AtomicOutputs() as out:
            out.add(tmp_path / "old.json", "new")
            out.add(tmp_path / "b.csv", "b")
            raise RuntimeError("later failure")
    assert sorted(os.listdir(tmp_path)) == ["old.json"]
    assert (tmp_path / "old.json").read_text() == "old"
    with AtomicOutputs() as out:
        out.add(tmp_path / "old.json", "new")
        out.add(tmp_path / "b.csv", "b")
    assert sorted(os.listdir(tmp_path)) == ["b.csv", "old.json"]
    assert (tmp_path / "old.json").read_text() == "new"


def test_atomic_outputs_failed_publish_leaves_complete_files_and_no_manifest(tmp_path, monkeypatch):
    """A publish that fails half-way leaves each file complete (old or new), no temporaries, and no
    manifest, so the set is visibly unfinished (hse.io.check_manifest)."""
    import hse.io.atomic as hio
    from hse.io import check_manifest

    for name in ("a.json", "b.csv", "c.png"):
        (tmp_path / name).write_text(f"old {name}")
    with AtomicOutputs(manifest=tmp_path / "manifest.json") as out:
        for name in ("a.json", "b.csv", "c.png"):
            out.add(tmp_path / name, f"run1 {name}")
    assert check_manifest(tmp_path / "manifest.json") == []
    real_replace = os.replace

    def flaky(src, dst):
        if Path(dst).name == "c.png":  # the third file cannot be published
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(hio.os, "replace", flaky)
    with pytest.raises(InputError, match=r"c\.png: cannot write the output file \(Permission denied\)"):
        with AtomicOutputs(manifest=tmp_path / "manifest.json") as out:
            for name in ("a.json", "b.csv", "c.png"):
                out.add(tmp_path / name, f"run2 {name}")
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.csv", "c.png"]
    assert [(tmp_path / n).read_text() for n in ("a.json", "b.csv", "c.png")] == [
        "run2 a.json", "run2 b.csv", "run1 c.png"
    ]
    assert check_manifest(tmp_path / "manifest.json") == [
        f"{tmp_path / 'manifest.json'}: no manifest (the run that wrote these files did not finish)"
    ]
    monkeypatch.setattr(hio.os, "replace", real_replace)
    with AtomicOutputs(manifest=tmp_path / "manifest.json") as out:
        out.add(tmp_path / "a.json", "run3")
    assert check_manifest(tmp_path / "manifest.json") == []
    (tmp_path / "a.json").write_text("edited by hand")
    assert check_manifest(tmp_path / "manifest.json") == ["a.json: differs from the manifest (written by another run)"]


def test_atomic_outputs_under_a_file_is_input_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="afile/sub/c.csv: cannot write the output file"):
        with AtomicOutputs() as out:
            out.add(tmp_path / "afile" / "sub" / "c.csv", "c")
    assert (tmp_path / "afile").read_text() == "x"


def test_atomic_outputs_same_path_twice(tmp_path):
    with pytest.raises(InputError, match="twice"):
        with AtomicOutputs() as out:
            out.add(tmp_path / "a.txt", "1")
            out.add(tmp_path / "a.txt", "2")
    assert os.listdir(tmp_path) == []


def test_16bit_colour_png_refused(tmp_path):
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + np.full((2, 3), 1000, ">u2").tobytes() for _ in range(2))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 16, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    (tmp_path / "rgb16.png").write_bytes(png)
    with pytest.raises(InputError, match="16-bit colour PNG"):
        read_image(tmp_path / "rgb16.png")


def test_split_file_names_matching_nothing_are_named_by_line(tmp_path):
    _touch_images(tmp_path / "p", ["a.png"])
    _touch_images(tmp_path / "m", ["a.png"])
    split = tmp_path / "s.txt"
    split.write_text("a\nsecret-1\n\nsecret-2\n")
    with pytest.raises(InputError, match=r"s\.txt: 2 of its 3 name\(s\) match no prediction or mask file \(line\(s\) 2, 4\)") as info:
        pair_files(tmp_path / "p", tmp_path / "m", split=split)
    assert "secret" not in str(info.value)
    names, _, _, report = pair_files(tmp_path / "p", tmp_path / "m", split=split, allow_missing=True)
    assert names == ["a"] and report.n_missing == 2
