"""Loading frames from folders, videos and arrays, and refusing bad input."""
import cv2
import numpy as np
import pytest

from burstdeblur.runtime import BurstError, from_array, load_burst
from burstdeblur.runtime.burst.burst_input import MAX_FRAMES


def _write(path, rgb):
    img = rgb if rgb.shape[2] == 1 else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR if rgb.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    assert cv2.imwrite(str(path), img)


@pytest.mark.parametrize("ext", [".png", ".tif"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_folder_lossless_formats_roundtrip(tmp_path, rng, ext, dtype, channels):
    top = np.iinfo(dtype).max
    frames = rng.integers(0, top, (3, 12, 17, channels), dtype=dtype, endpoint=True)
    for i, f in enumerate(frames):
        _write(tmp_path / f"f{i}{ext}", f)
    burst = load_burst(tmp_path)
    assert np.array_equal(burst.frames, frames)
    assert burst.max_value == float(top)


def test_folder_jpeg_and_natural_order(tmp_path, rng):
    frames = rng.integers(0, 256, (11, 16, 16, 3), dtype=np.uint8)
    for i, f in enumerate(frames):
        _write(tmp_path / f"frame{i}.jpg", f)
    (tmp_path / "notes.txt").write_text("not a frame")
    burst = load_burst(tmp_path, start=1, n=10)
    assert burst.names[0] == "frame1.jpg" and burst.names[-1] == "frame10.jpg"  # 10 after 9, not after 1
    assert burst.ignored == ("notes.txt",)


def test_different_sizes_resampled_to_reference(tmp_path, rng):
    _write(tmp_path / "a.png", rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))
    _write(tmp_path / "b.png", rng.integers(0, 256, (40, 60, 3), dtype=np.uint8))
    _write(tmp_path / "c.png", rng.integers(0, 256, (10, 15, 3), dtype=np.uint8))
    burst = load_burst(tmp_path, reference=0)
    assert burst.frames.shape == (3, 20, 30, 3)
    assert burst.resampled == (1, 2)


def test_video_window(tmp_path, rng):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 24))
    for i in range(6):
        writer.write(np.full((24, 32, 3), 40 * i, np.uint8))
    writer.release()
    burst = load_burst(path, start=2, n=3)
    assert burst.frames.shape == (3, 24, 32, 3)
    assert abs(float(burst.frames[0].mean()) - 80) < 3 and abs(float(burst.frames[2].mean()) - 160) < 3
    with pytest.raises(BurstError, match=r"only 6 frames.*needs 8"):
        load_burst(path, start=3, n=5)


@pytest.mark.parametrize("case, message", [
    ("empty", "no PNG/JPEG/TIFF frames"),
    ("one", "n >= 2"),
    ("truncated_jpeg", "truncated JPEG"),
    ("truncated_png", "truncated PNG"),
    ("garbage", "not a PNG, JPEG or TIFF image"),
    ("channels", "1 channels, but reference"),
    ("depth", "uint16 samples, but reference"),
])
def test_bad_folders(tmp_path, rng, case, message):
    img = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    if case == "one":
        _write(tmp_path / "a.png", img)
    elif case in ("truncated_jpeg", "truncated_png", "garbage"):
        _write(tmp_path / "a.png", img)
        ext = {"truncated_jpeg": ".jpg", "truncated_png": ".png", "garbage": ".png"}[case]
        _write(tmp_path / f"b{ext}", img)
        data = (tmp_path / f"b{ext}").read_bytes()
        (tmp_path / f"b{ext}").write_bytes(b"\x89PNG garbage" * 3 + b"IEND" if case == "garbage" else data[: len(data) // 2])
    elif case == "channels":
        _write(tmp_path / "a.png", img)
        _write(tmp_path / "b.png", img[..., :1])
    elif case == "depth":
        _write(tmp_path / "a.png", img)
        _write(tmp_path / "b.png", img.astype(np.uint16) * 257)
        _write(tmp_path / "c.png", img)
    with pytest.raises(BurstError, match=message):
        load_burst(tmp_path, reference=0)


def test_bad_arrays():
    good = np.zeros((3, 4, 4, 3), np.uint8)
    with pytest.raises(BurstError, match="n >= 2"):
        from_array(good[:1])
    with pytest.raises(BurstError, match="zero-sized"):
        from_array(np.zeros((3, 0, 4, 3), np.uint8))
    bad = good.astype(np.float32)
    bad[1, 2, 3, 0] = np.nan
    with pytest.raises(BurstError, match=r"NaN or infinity \(first at index \(1, 2, 3, 0\)\)"):
        from_array(bad)
    with pytest.raises(BurstError, match="outside"):
        from_array(good.astype(np.float32) + 2.0)
    with pytest.raises(BurstError, match="2 channels"):
        from_array(np.zeros((3, 4, 4, 2), np.uint8))
    with pytest.raises(BurstError, match="dtype int64"):
        from_array(good.astype(np.int64))
    with pytest.raises(BurstError, match=f"more than the {MAX_FRAMES}"):
        from_array(np.broadcast_to(good[:1], (MAX_FRAMES + 1, 4, 4, 3)))
    with pytest.raises(BurstError, match="a side may be at most 16384 px"):
        from_array(np.broadcast_to(np.zeros((1, 1, 1, 1), np.uint8), (2, 20000, 100, 1)))
    with pytest.raises(BurstError, match="at most 50 MP per frame"):
        from_array(np.broadcast_to(np.zeros((1, 1, 1, 1), np.uint8), (2, 8000, 8000, 1)))
    with pytest.raises(BurstError, match="at most 200 MP"):
        from_array(np.broadcast_to(np.zeros((1, 1, 1, 1), np.uint8), (9, 5000, 5000, 1)))


def test_single_image_is_not_a_burst(tmp_path, rng):
    _write(tmp_path / "a.png", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    with pytest.raises(BurstError, match="single image is not a burst"):
        load_burst(tmp_path / "a.png")
