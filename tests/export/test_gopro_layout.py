"""The GoPro layout: reading pairs, rejecting broken layouts, rebuilding blur + blur maps from frame sequences."""
import numpy as np
import pytest
from reference import reference_fusion

from burstdeblur.export.data.gopro_layout import read_gopro, rebuild_from_all
from burstdeblur.runtime.burst.blur_map import from_png16
from burstdeblur.runtime.burst.demo_burst import make_demo_burst
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_io import encode_png, read_image


@pytest.fixture(scope="module")
def gopro_all(tmp_path_factory):
    """A GOPRO_Large_all-style tree: <split>/<sequence>/NNNNNN.png, from rendered handheld frames."""
    root = tmp_path_factory.mktemp("gopro_all")
    sequences = {("train", "GOPR0001_00_00"): make_demo_burst(n=10, seed=4).frames[:, :96, :128],
                 ("test", "GOPR0002_00_00"): make_demo_burst(n=7, seed=5, image="chelsea.png").frames[:, :96, :128]}
    for (split, seq), frames in sequences.items():
        (root / split / seq).mkdir(parents=True)
        for i, f in enumerate(frames):
            (root / split / seq / f"{i + 1:06d}.png").write_bytes(encode_png(f))
    return root, sequences


def test_rebuild_matches_reference_fusion(gopro_all, tmp_path):
    root, sequences = gopro_all
    summary = rebuild_from_all(root, tmp_path / "out", n=3)
    assert summary == {"sequences": 2, "windows": 3 + 2, "n": 3, "stride": 3}
    pairs = read_gopro(tmp_path / "out")
    assert len(pairs) == 5
    for pair in pairs:
        frames = sequences[(pair.split, pair.sequence)]
        first = int(pair.name) - 2  # the middle frame's 1-based number names the pair
        window = frames[first:first + 3]
        fused, std = reference_fusion(window)
        assert np.abs(read_image(pair.blur).astype(float) - fused).max() <= 1.0
        assert np.array_equal(read_image(pair.sharp), window[1])
        assert np.abs(pair.read_blur_map() - std).max() < 255 / 2 / 65535 + 1e-3
        assert pair.motion is None


def test_rebuild_refuses_short_sequences_and_leaves_nothing(gopro_all, tmp_path):
    root, _ = gopro_all
    with pytest.raises(BurstError, match="shorter than the window n=9"):
        rebuild_from_all(root, tmp_path / "out", n=9)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial*"))


def test_rebuild_stops_on_an_unreadable_frame(gopro_all, tmp_path):
    import shutil
    root = tmp_path / "all"
    shutil.copytree(gopro_all[0], root)
    (root / "train" / "GOPR0001_00_00" / "000005.png").write_bytes(b"not a png")
    with pytest.raises(BurstError):
        rebuild_from_all(root, tmp_path / "out", n=3)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial*"))


def test_read_gopro_rejects_unpaired_files(tmp_path):
    seq = tmp_path / "train" / "GOPR9"
    (seq / "blur").mkdir(parents=True)
    (seq / "sharp").mkdir()
    image = encode_png(np.zeros((8, 8, 3), np.uint8))
    for name in ("000001", "000002"):
        (seq / "blur" / f"{name}.png").write_bytes(image)
    (seq / "sharp" / "000001.png").write_bytes(image)
    with pytest.raises(BurstError, match="unpaired: 000002"):
        read_gopro(tmp_path)
    (seq / "sharp" / "000002.png").write_bytes(image)
    pairs = read_gopro(tmp_path)
    assert [p.name for p in pairs] == ["000001", "000002"] and pairs[0].blur_map is None


def test_blur_map_png_roundtrip_scale():
    # from_png16 is the inverse used by GoProPair.read_blur_map
    assert from_png16(np.array([65535], np.uint16), 255.0)[0] == pytest.approx(127.5)
