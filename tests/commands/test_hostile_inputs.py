"""Bad and hostile input, as a hostile user would give it: every case exits 2 (130 on Ctrl-C) with one
clear line, no traceback, nothing left behind and no earlier output lost.

Every hostile file is generated here (headers claiming huge sizes are a few hundred bytes); the
commands run in-process through the CLI's main(), except where a real signal has to reach a real
process (SIGINT, SIGKILL).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from burstdeblur.main import main
from burstdeblur.runtime.io import output_set, pixel_budget
from burstdeblur.runtime.burst.burst_input import from_array
from burstdeblur.runtime.burst.burst_pipeline import FuseOptions, process_burst
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_io import encode_png
from burstdeblur.runtime.engine.model_store import shipped_models_dir
from burstdeblur.runtime.io.output_set import MARKER, publish_folder


# ---------------------------------------------------------------- helpers

def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_claiming(width: int, height: int, colour: int = 2, bits: int = 8) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        _chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + \
        sof + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x00" * 32 + b"\xff\xd9"


def tiff_claiming(width: int, height: int, bits: int = 8, sample_format: int = 1) -> bytes:
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, bits), (277, 3, 1, 3), (339, 3, 1, sample_format)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", 8) + ifd


def photo(h: int = 96, w: int = 128, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    return base


def write_burst(folder: Path, n: int = 3, h: int = 96, w: int = 128) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"f{i}.png").write_bytes(encode_png(np.roll(photo(h, w), i, axis=1)))
    return folder


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root (hidden ones included) with its bytes (None for folders)."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))
            if not p.is_symlink() and (p.is_dir() or p.is_file())}


@pytest.fixture
def refuse(capsys, tmp_path):
    """Run the CLI and assert: exit 2, exactly one 'burstdeblur: error:' line containing ``fragment``, no
    traceback, and the folder tree under tmp_path exactly as before (nothing written, nothing lost)."""
    def check(args: list[str], fragment: str, code: int = 2) -> str:
        before = tree(tmp_path)
        capsys.readouterr()
        assert main([str(a) for a in args]) == code
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("burstdeblur: error:"), err
        assert fragment in lines[0], lines[0]
        assert "Traceback" not in err and "np.int" not in err and "np.float" not in err
        assert tree(tmp_path) == before
        return lines[0]
    return check


# ---------------------------------------------------------------- 1. decompression bombs and sizes

@pytest.mark.parametrize("name, payload, fragment", [
    ("bomb.png", png_claiming(20000, 20000), "a side may be at most 16384 px"),
    ("max.png", png_claiming(65535, 65535), "a side may be at most 16384 px"),
    ("wide.png", png_claiming(1_000_000, 8), "a side may be at most 16384 px"),
    ("big.png", png_claiming(9000, 9000), "at most 50 MP per frame"),
    ("bomb.jpg", jpeg_claiming(30000, 30000), "a side may be at most 16384 px"),
    ("big.jpg", jpeg_claiming(10000, 8000), "at most 50 MP per frame"),
    ("bomb.tif", tiff_claiming(40000, 40000), "a side may be at most 16384 px"),
    ("zero.png", png_claiming(0, 10), "has no pixels"),
])
def test_single_image_bombs_are_refused_before_decoding(refuse, tmp_path, name, payload, fragment):
    (tmp_path / name).write_bytes(payload)
    t0 = time.perf_counter()
    refuse(["deblur", tmp_path / name, "-o", tmp_path / "out"], fragment)
    assert time.perf_counter() - t0 < 10  # refused from the header, never decoded


def test_burst_of_bombs_is_refused_before_decoding(refuse, tmp_path):
    folder = tmp_path / "bombs"
    folder.mkdir()
    for i in range(8):
        (folder / f"f{i}.png").write_bytes(png_claiming(20000, 20000))
    refuse(["fuse", folder, "-o", tmp_path / "out"], "a side may be at most 16384 px")


def test_burst_over_the_pixel_budget_is_refused(refuse, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(9):  # 9 x 35 MP = 315 MP > 200 MP; each frame alone is within 50 MP
        (folder / f"f{i}.png").write_bytes(png_claiming(7000, 5000))
    refuse(["fuse", folder, "-o", tmp_path / "out"], "a burst may hold at most 200 MP")


def test_video_over_the_budget_is_refused_before_decoding(refuse, tmp_path, monkeypatch):
    video = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (128, 96))
    for i in range(4):
        writer.write(photo(seed=i))
    writer.release()
    monkeypatch.setattr(pixel_budget, "MAX_BURST_PIXELS", 2 * 128 * 96)
    refuse(["fuse", video, "--n", "3", "-o", tmp_path / "out"], "a burst may hold at most 0 MP")


def test_memory_the_run_needs_is_checked_against_what_is_available(refuse, tmp_path, monkeypatch):
    folder = write_burst(tmp_path / "frames")
    monkeypatch.setattr(pixel_budget, "available_memory", lambda: 64 * 2**20)
    refuse(["fuse", folder, "-o", tmp_path / "out"], "GiB of memory; 0.1 GiB is available")
    with pytest.raises(BurstError, match="needs about"):
        process_burst(from_array(np.stack([photo()] * 3)), FuseOptions())


def test_tiny_frames_are_refused_for_alignment_but_fuse_unaligned(refuse, tmp_path, capsys):
    folder = tmp_path / "tiny"
    folder.mkdir()
    for i in range(3):
        (folder / f"f{i}.png").write_bytes(encode_png(np.full((1, 1, 3), 10 * i, np.uint8)))
    refuse(["fuse", folder, "-o", tmp_path / "out"], "too small to align")
    assert main(["fuse", str(folder), "--align", "off", "-o", str(tmp_path / "ok")]) == 0
    assert (tmp_path / "ok" / "fused.png").exists()


# ---------------------------------------------------------------- 2 and 7. corrupt data, honest messages

def _jpeg_bytes() -> bytes:
    return cv2.imencode(".jpg", photo(240, 320))[1].tobytes()


@pytest.mark.parametrize("name, make, fragment", [
    ("holed.jpg", lambda j: j[:len(j) // 3] + j[2 * len(j) // 3:], "corrupt JPEG data"),
    ("cut.jpg", lambda j: j[:len(j) // 2], "truncated JPEG"),
    ("notes.png", lambda j: b"these are my notes, not a picture\n" * 20, "holds text"),
    ("pic.png", lambda j: b"BM" + b"\0" * 200, "holds a BMP file"),
    ("empty.png", lambda j: b"", "empty file"),
    ("nosof.jpg", lambda j: b"\xff\xd8\xff\xda\x00\x08" + b"\0" * 40 + b"\xff\xd9", "no frame header"),
    ("badtype.png", lambda j: png_claiming(64, 64, colour=5), "not valid PNG"),
    ("float.tif", lambda j: tiff_claiming(64, 64, bits=32, sample_format=3), "floating-point"),
    ("short.png", lambda j: encode_png(photo())[:40], "truncated PNG"),
    ("crc.png", lambda j: _damage_png_idat(encode_png(photo())), "PNG data"),
])
def test_corrupt_or_mislabelled_frames_name_the_problem(refuse, tmp_path, name, make, fragment):
    folder = write_burst(tmp_path / "frames", n=2)
    (folder / f"z_{name}").write_bytes(make(_jpeg_bytes()))
    refuse(["fuse", folder, "-o", tmp_path / "out"], fragment)


def _damage_png_idat(data: bytes) -> bytes:
    at = data.index(b"IDAT") + 40
    return data[:at] + bytes(b ^ 0x5A for b in data[at:at + 16]) + data[at + 16:]


def test_a_jpeg_named_png_is_read_for_what_it_is(tmp_path):
    folder = write_burst(tmp_path / "frames", n=2)
    (folder / "f2.png").write_bytes(cv2.imencode(".jpg", photo(), [cv2.IMWRITE_JPEG_QUALITY, 98])[1].tobytes())
    assert main(["fuse", str(folder), "--align", "off", "-o", str(tmp_path / "out")]) == 0


def test_video_cut_mid_frame_is_an_error_not_a_different_burst(refuse, tmp_path):
    video = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for i in range(10):
        writer.write(np.roll(photo(240, 320), 4 * i, axis=1))
    writer.release()
    data = video.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[:int(len(data) * 0.55)])
    refuse(["fuse", cut, "--n", "6", "-o", tmp_path / "out"], "corrupt video data")
    assert main(["fuse", str(video), "--n", "6", "--align", "off", "-o", str(tmp_path / "whole")]) == 0


def test_fifo_and_device_are_not_read(refuse, tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    refuse(["deblur", tmp_path / "pipe.png", "-o", tmp_path / "out"], "not an image")
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    refuse(["deblur", tmp_path / "zero.png", "-o", tmp_path / "out"], "not an image")


# ---------------------------------------------------------------- 3. outputs as a set

def test_output_folder_rules(refuse, tmp_path, monkeypatch):
    folder = write_burst(tmp_path / "frames")
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "holiday.jpg").write_bytes(b"mine")
    (tmp_path / "link").symlink_to(tmp_path / "photos")
    refuse(["fuse", folder, "-o", folder], "inside the input folder")
    refuse(["fuse", folder, "-o", folder / "sub"], "inside the input folder")
    refuse(["fuse", folder, "-o", ""], "output folder (-o) is empty")
    refuse(["fuse", folder, "-o", tmp_path / "a_file"], "exists and is not a folder")
    refuse(["fuse", folder, "-o", tmp_path / "photos"], "holds files burstdeblur did not write")
    refuse(["fuse", folder, "-o", tmp_path / "link"], "symbolic link")
    monkeypatch.chdir(tmp_path / "photos")
    refuse(["fuse", folder, "-o", "."], "current folder")
    refuse(["fuse", folder, "-o", ".."], "current folder")


def test_input_inside_an_earlier_output_is_refused(refuse, tmp_path):
    out = tmp_path / "out"
    assert main(["fuse", "-o", str(out), "--n", "3"]) == 0
    refuse(["deblur", out / "fused.png", "-o", out], "is inside the output folder")


def test_rerun_replaces_the_whole_set_and_bad_input_keeps_it(refuse, tmp_path):
    folder = write_burst(tmp_path / "frames")
    out = tmp_path / "out"
    assert main(["fuse", str(folder), "-o", str(out)]) == 0
    assert (out / "coverage.png").exists()
    assert main(["fuse", str(folder), "--align", "off", "-o", str(out)]) == 0  # writes no coverage.png
    assert not (out / "coverage.png").exists()
    assert json.loads((out / MARKER).read_text())["files"] == sorted(p.name for p in out.iterdir() if p.name != MARKER)
    refuse(["fuse", tmp_path / "missing", "-o", out], "no such file or folder")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def _publish_many(target: str, tag: str, rounds: int) -> None:
    for _ in range(rounds):
        publish_folder(target, {f"{tag}-{i}.bin": tag.encode() * 1000 for i in range(4)})


def test_concurrent_runs_into_one_folder_never_mix(tmp_path):
    target = str(tmp_path / "out")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_publish_many, args=(target, tag, 15)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    names = sorted(p.name for p in Path(target).iterdir() if p.name != MARKER)
    assert names in (sorted(f"a-{i}.bin" for i in range(4)), sorted(f"b-{i}.bin" for i in range(4)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failed_write_or_rename_keeps_the_previous_set(tmp_path, monkeypatch):
    out = tmp_path / "out"
    publish_folder(out, {"a.bin": b"old", "b.bin": b"old"})
    before = tree(tmp_path)
    real_open, real_rename = open, os.rename

    def full_disk(path, *args, **kwargs):
        if str(path).endswith("c.bin"):
            raise OSError(28, "No space left on device")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_disk)
    with pytest.raises(OSError):
        publish_folder(out, {"a.bin": b"new", "b.bin": b"new", "c.bin": b"new"})
    monkeypatch.setattr("builtins.open", real_open)
    assert tree(tmp_path) == before

    def failing_second_rename(src, dst):
        if ".staging-" in str(src):
            raise OSError(18, "Invalid cross-device link")
        real_rename(src, dst)

    monkeypatch.setattr(output_set.os, "rename", failing_second_rename)
    with pytest.raises(OSError):
        publish_folder(out, {"a.bin": b"new"})
    assert tree(tmp_path) == before


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


KILL_BETWEEN_RENAMES = """
import os, signal, sys
from burstdeblur.runtime.io import output_set
real = os.rename
def rename(src, dst):
    real(src, dst)
    if ".old-" in str(dst):
        os.kill(os.getpid(), signal.SIGKILL)
output_set.os.rename = rename
output_set.publish_folder(sys.argv[1], {"new.bin": b"new"})
"""


def test_kill_between_the_two_renames_loses_nothing(tmp_path):
    out = tmp_path / "out"
    publish_folder(out, {"old.bin": b"old"})
    done = subprocess.run([sys.executable, "-c", KILL_BETWEEN_RENAMES, str(out)], capture_output=True)
    assert done.returncode == -signal.SIGKILL
    assert not out.exists() and len(list(tmp_path.glob(".out.old-*"))) == 1  # the moment of the kill
    (tmp_path / f".out.staging-{_dead_pid()}").mkdir()  # a run killed while writing
    publish_folder(out, {"newer.bin": b"x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "newer.bin"]


def test_lost_set_is_restored_by_the_next_run_even_if_it_fails(refuse, tmp_path):
    out = tmp_path / "out"
    publish_folder(out, {"old.bin": b"old"})
    os.rename(out, tmp_path / f".out.old-{_dead_pid()}")
    (tmp_path / f".out.staging-{_dead_pid()}").mkdir()
    assert main(["fuse", str(tmp_path / "missing"), "-o", str(out)]) == 2  # fails: nothing published
    output_set.remove_leftovers(tmp_path, "out")  # what every publish does first
    assert (out / "old.bin").read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_single_file_outputs_and_dataset_leftovers(tmp_path):
    from burstdeblur.export.data.staged_output import StagedFolder

    target = tmp_path / "cal.json"
    target.write_text("previous")
    (tmp_path / f".cal.json.tmp-{_dead_pid()}").write_text("half")
    output_set.write_file_atomically(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal.json"] and target.read_bytes() == b"new"
    (tmp_path / f".ds.partial-{_dead_pid()}").mkdir()
    with StagedFolder(tmp_path / "ds") as stage:
        stage.write(stage.path / "x.bin", b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal.json", "ds"]


def test_ctrl_c_prints_one_line_exits_130_and_leaves_nothing(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    big = cv2.resize(photo(96, 128), (2400, 1800), interpolation=cv2.INTER_CUBIC)
    for i in range(8):
        cv2.imwrite(str(folder / f"f{i}.jpg"), np.roll(big, 3 * i, axis=1))
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "burstdeblur", "fuse", str(folder), "-o", str(out)],
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until it is inside main() (OpenCV loaded), then interrupt
        try:
            if "cv2" in Path(f"/proc/{child.pid}/maps").read_text():
                break
        except OSError:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert err.strip() == "burstdeblur: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


# ---------------------------------------------------------------- 4. model folders

@pytest.fixture(scope="module")
def pristine_models(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("pristine") / "models"
    shutil.copytree(shipped_models_dir(), copy)
    return copy


@pytest.fixture
def models(pristine_models, tmp_path) -> Path:
    """A private model folder: hard links to the pristine files, its own manifest."""
    folder = tmp_path / "models"
    folder.mkdir()
    for f in pristine_models.iterdir():
        if f.name == "manifest.json":
            shutil.copy(f, folder / f.name)
        else:
            os.link(f, folder / f.name)
    return folder


def _edit_manifest(folder: Path, edit) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _entry(manifest: dict, name: str) -> dict:
    return next(e for e in manifest["files"] if e["file"] == name)


@pytest.mark.parametrize("backend, edit, fragment", [
    ("litert", lambda m: _entry(m, "deblur.256.int8.tflite").update(file="../../../../etc/hostname"),
     "].file must be a plain .tflite file name"),
    ("litert", lambda m: _entry(m, "deblur.256.int8.tflite")["inputs"][0].pop("quantization"),
     "inputs[0].quantization is missing"),
    ("litert", lambda m: _entry(m, "deblur.256.int8.tflite")["inputs"][0]["quantization"].update(scale=0),
     "quantization.scale must be a finite number > 0, got 0"),
    ("litert", lambda m: _entry(m, "deblur.256.int8.tflite")["outputs"][0]["quantization"].update(zero_point=1.5),
     "zero_point must be an integer"),
    ("litert", lambda m: _entry(m, "deblur.256.int8.tflite").update(sha256="xyz"), "sha256 must be 64"),
    ("litert", lambda m: _entry(m, "deblur.256.int8.tflite").update(tile=7), "tile must be a multiple of 16"),
    ("litert", lambda m: _entry(m, "deblur.256.int8.tflite")["inputs"][0].update(dtype="complex64"),
     "dtype must be one of"),
    ("litert", lambda m: _entry(m, "deblur.256.int8.tflite")["inputs"][0].update(shape=[1, 256, 3]),
     "shape must be a list of 4"),
    ("litert", lambda m: m.update(format="something-else"), "format must be"),
    ("litert", lambda m: m.update(files={"a": 1}), "files must be a list"),
    ("litert", lambda m: _entry(m, "deblur.256.int8.tflite")["inputs"][0].update(shape=[1, 128, 128, 3]),
     "the manifest says [1, 128, 128, 3]"),
    ("onnx", lambda m: _entry(m, "deblur.int8.onnx")["inputs"][0].update(shape=[1, 3, 64, 64]),
     "the manifest says [1, 3, 64, 64]"),
    ("onnx", lambda m: _entry(m, "deblur.int8.onnx")["inputs"][0].update(dtype="float16"),
     "the manifest says"),
    ("onnx", lambda m: _entry(m, "deblur.int8.onnx").update(bytes=1000), "larger than the 1000 allowed"),
])
def test_tampered_manifests_are_refused_naming_the_field(refuse, models, tmp_path, backend, edit, fragment):
    image = tmp_path / "photo.png"
    image.write_bytes(encode_png(photo()))
    _edit_manifest(models, edit)
    precision = "int8"
    refuse(["deblur", image, "-o", tmp_path / "out", "--models", models, "--backend", backend,
            "--precision", precision], fragment)


def test_hostile_model_files_are_never_opened(refuse, models, tmp_path):
    image = tmp_path / "photo.png"
    image.write_bytes(encode_png(photo()))
    args = ["deblur", image, "-o", tmp_path / "out", "--models", models]
    target = models / "deblur.256.int8.tflite"
    hostname = Path("/etc/hostname")
    if hostname.is_file():  # a link out of the folder to a system file, with that file's real sha256
        import hashlib
        data = hostname.read_bytes()
        target.unlink()
        target.symlink_to(hostname)
        _edit_manifest(models, lambda m: _entry(m, "deblur.256.int8.tflite").update(
            sha256=hashlib.sha256(data).hexdigest(), bytes=len(data)))
        refuse(args, "links outside the model folder")
        target.unlink()
    os.mkfifo(target)  # would block forever if opened
    refuse(args, "is not a regular file")
    target.unlink()
    target.write_bytes(b"\0" * 2**23)  # bigger than the manifest says: refused before hashing
    refuse(args, "larger than")
    (models / "manifest.json").unlink()
    (models / "manifest.json").symlink_to("/dev/zero")
    refuse(args, "manifest is not a regular file")
    (models / "manifest.json").unlink()
    (models / "manifest.json").write_text("[" * 100000 + "]" * 100000)
    refuse(args, "not valid JSON")
    (models / "manifest.json").write_text("{not json")
    refuse(args, "not valid JSON")
    (models / "manifest.json").write_bytes(b" " * (5 * 2**20))
    refuse(args, "manifest of")
    (models / "manifest.json").unlink()
    refuse(args, "no manifest.json")
    refuse([*args[:-1], tmp_path / "nowhere"], "does not exist")


def test_delegates_that_are_not_delegates_fall_back_to_the_cpu(tmp_path, capsys):
    image = tmp_path / "photo.png"
    image.write_bytes(encode_png(photo(64, 64)))
    for i, delegate in enumerate(("/nonexistent/libdelegate.so", "libm.so.6", str(image))):
        out = tmp_path / f"out{i}"
        assert main(["deblur", str(image), "-o", str(out), "--delegate", delegate]) == 0
        report = json.loads((out / "report.json").read_text())
        assert all(d.startswith("cpu/") for d in report["devices"].values()), report["devices"]
        assert "could not be loaded" in report["fallbacks"]["deblur"]
        assert "Traceback" not in capsys.readouterr().err


# ---------------------------------------------------------------- 6. options

@pytest.mark.parametrize("args, fragment", [
    (["fuse", "--threads", "100000"], "--threads: must be in 1..64; got 100000"),
    (["fuse", "--threads", "0"], "--threads: must be in 1..64"),
    (["fuse", "--threads", "two"], "'two' is not a whole number"),
    (["deblur", "{img}", "--threads", "-3"], "--threads: must be in 1..64"),
    (["deblur", "{img}", "--tile", "100000"], "--tile: must be in 16..2048, a multiple of 16"),
    (["deblur", "{img}", "--tile", "100"], "a multiple of 16; got 100"),
    (["quantcheck", "--tile", "7"], "--tile: must be in 16..2048"),
    (["quantcheck", "--bursts", "0"], "--bursts: must be in 1..1000"),
    (["fuse", "--heatmap-max", "nan"], "--heatmap-max: must be a finite number in (0.0, 1.0]; got nan"),
    (["fuse", "--heatmap-max", "-1"], "--heatmap-max: must be a finite number"),
    (["fuse", "--heatmap-max", "0"], "--heatmap-max: must be a finite number"),
    (["fuse", "--heatmap-max", "inf"], "--heatmap-max: must be a finite number"),
    (["fuse", "--target-blur", "nan"], "--target-blur: must be a finite number"),
    (["fuse", "--n", "100000"], "--n: must be in 2..256"),
    (["fuse", "--start", "-1"], "--start: must be in 0..10000000"),
    (["fuse", "--seed", "-1"], "--seed: must be in 0..4294967295"),
    (["demo", "--n", "1"], "--n: must be in 2..256"),
    (["calibrate", "--n-max", "1"], "--n-max: must be in 2..256"),
    (["dataset", "build", "--val-fraction", "1.5"], "--val-fraction: must be a finite number in [0.0, 0.9]"),
    (["dataset", "build", "--crop", "7"], "--crop: must be in 16..4096"),
    (["dataset", "build", "--workers", "1000"], "--workers: must be in 1..64"),
    (["train", "--stage", "1", "--lr", "0"], "--lr: must be a finite number in (0.0, 1.0]"),
    (["train", "--stage", "1", "--steps", "0"], "--steps: must be in 1..100000000"),
    (["evaluate", "--independent", "-1"], "--independent: must be in 0..10000"),
    (["evaluate", "--steady", "-1"], "--steady: must be in 0..10000"),
    (["export", "--tiles", "7"], "--tiles: must be in 16..2048"),
])
def test_numeric_options_are_bounded_at_parse_time(refuse, tmp_path, args, fragment):
    image = tmp_path / "photo.png"
    image.write_bytes(encode_png(photo()))
    argv = [a.replace("{img}", str(image)) for a in args]
    if argv[0] in ("fuse", "deblur", "demo"):
        argv += ["-o", str(tmp_path / "out")]
    refuse(argv, fragment)
