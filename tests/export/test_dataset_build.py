"""Building a tiny dataset end to end (shipped photos + real bikes.mp4), checked against independent references."""
import json

import cv2
import numpy as np
import pytest
from reference import reference_fusion

from burstdeblur.export.data.dataset_sources import Scene, SourceFileInfo, resolve_sources, split_scenes
from burstdeblur.export.data.dataset_writer import DatasetConfig, build_dataset
from burstdeblur.export.data.gopro_layout import read_gopro
from burstdeblur.export.data.sharpness import gradient_energy, label_frame
from burstdeblur.export.data.sources import fetch
from burstdeblur.main import main
from burstdeblur.runtime.burst.blur_calibration import BlurCalibration
from burstdeblur.runtime.burst.blur_map import full_scale_std
from burstdeblur.runtime.burst.burst_input import load_video
from burstdeblur.runtime.io.image_io import encode_png, read_image

COUNT = 14


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "tiny"
    summary = build_dataset(resolve_sources(["builtin", "bikes"]), out, COUNT, 5, DatasetConfig.tiny())
    return out, summary, json.loads((out / "dataset.json").read_text())


def test_layout_counts_and_manifest(tiny):
    out, summary, manifest = tiny
    pairs = read_gopro(out)
    assert len(pairs) == len(manifest["samples"]) == summary["samples"] == COUNT
    assert all(p.blur_map is not None for p in pairs)
    kinds = {r["kind"] for r in manifest["samples"]}
    assert kinds == {"synthetic", "video"}
    for pair in pairs:
        blur, sharp = read_image(pair.blur), read_image(pair.sharp)
        assert blur.shape == sharp.shape == (64, 64, 3)
        assert pair.read_blur_map().shape == (64, 64)
    licences = {s["label"]: s["licence"] for s in manifest["sources"]}
    assert licences["bikes/bikes.mp4"].startswith("BSD")


def test_splits_are_by_scene(tiny):
    out, _, manifest = tiny
    train, val = set(manifest["splits"]["train"]), set(manifest["splits"]["val"])
    assert train and val and not train & val
    for r in manifest["samples"]:
        assert r["sequence"] in manifest["splits"][r["split"]]
        assert (out / r["split"] / r["sequence"] / "blur" / f"{r['sample']}.png").is_file()


def test_video_samples_match_reference_fusion(tiny):
    out, _, manifest = tiny
    bikes = fetch("bikes/bikes.mp4")
    videos = [r for r in manifest["samples"] if r["kind"] == "video"]
    assert videos
    for r in videos:
        start, stop = r["frames"]
        assert stop <= 187  # held-out shots never used
        frames = load_video(bikes, start, stop - start).frames
        x0, y0, w, h = r["region_xywh"]
        cx, cy, c, _ = r["crop_xywh"]
        window = frames[:, y0 + cy:y0 + cy + c, x0 + cx:x0 + cx + c]
        fused, std = reference_fusion(window)
        base = out / r["split"] / r["sequence"]
        assert np.abs(read_image(base / "blur" / f"{r['sample']}.png").astype(float) - fused).max() <= 1.0
        blur_map = read_gopro(out)[[p.name for p in read_gopro(out)].index(r["sample"])].read_blur_map()
        assert np.abs(blur_map - std).max() < 2e-3 + full_scale_std(255) / 65535
        assert np.array_equal(read_image(base / "sharp" / f"{r['sample']}.png"), window[(stop - start) // 2])
        assert r["global_blur_unit"] == pytest.approx(std.mean() / full_scale_std(255), abs=1e-4)


def test_synthetic_samples_carry_motion_and_correlation(tiny):
    out, summary, manifest = tiny
    synthetic = [r for r in manifest["samples"] if r["kind"] == "synthetic"]
    pairs = {p.name: p for p in read_gopro(out)}
    for r in synthetic:
        motion = pairs[r["sample"]].read_motion()
        assert motion.shape == (64, 64)
        assert motion.mean() == pytest.approx(r["motion_mean_px"], abs=1e-3)
        assert set(r["burst_correlation"]) == {"pixels", "tiles", "motion_std_px"}
    assert summary["per_source"]["builtin/coffee.png"]["bursts"] >= 1


def test_same_seed_same_dataset(tiny, tmp_path):
    out, _, manifest = tiny
    build_dataset(resolve_sources(["builtin", "bikes"]), tmp_path / "again", COUNT, 5, DatasetConfig.tiny())
    again = json.loads((tmp_path / "again" / "dataset.json").read_text())
    strip = lambda samples: [{k: v for k, v in r.items()} for r in samples]  # noqa: E731
    assert strip(again["samples"]) == strip(manifest["samples"])
    for r in manifest["samples"][:4]:
        rel = f"{r['split']}/{r['sequence']}/blur/{r['sample']}.png"
        assert (out / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes()


def test_split_is_independent_of_seed_and_order():
    info = SourceFileInfo("x", None, "photo", "", "", "0")
    scenes = [Scene(f"scene{i}", info, 300, 300) for i in range(20)]
    a = split_scenes(scenes, 0.2)
    b = split_scenes(list(reversed(scenes)), 0.2)
    assert a == b and sum(v == "val" for v in a.values()) == 4


def test_sharpest_label_picks_the_sharp_frame():
    base = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    blurred = cv2.GaussianBlur(base, (7, 7), 2.0)
    frames = np.stack([blurred, blurred, base, blurred])
    assert gradient_energy(base) > gradient_energy(blurred)
    assert label_frame(frames, "sharpest", reference=1) == 2
    assert label_frame(frames, "middle", reference=1) == 1
    assert label_frame(frames, "sharpest", reference=1, scorer=lambda f: np.array([3.0, 0.5, 2.0, 1.0])) == 1


def test_target_blur_chooses_n_from_calibration(tmp_path):
    calibration = BlurCalibration(n_values=(2, 3, 4, 5, 6), mean_global_blur=(0.02, 0.03, 0.04, 0.05, 0.06),
                                  intercept=0.0, slope=0.01, r2=1.0, n_max=6, bursts=1, windows=5)
    calibration.save(tmp_path / "cal.json")
    code = main(["dataset", "build", "--tiny", "--sources", "builtin", "--out", str(tmp_path / "ds"), "--count", "3",
                 "--target-blur", "0.05", "--calibration", str(tmp_path / "cal.json")])
    assert code == 0
    samples = json.loads((tmp_path / "ds" / "dataset.json").read_text())["samples"]
    assert {r["n"] for r in samples} == {5}


def test_show_writes_a_contact_sheet(tiny, tmp_path):
    out, _, _ = tiny
    sheet = tmp_path / "sheet.png"
    assert main(["dataset", "show", str(out), "--out", str(sheet), "--count", "3"]) == 0
    picture = read_image(sheet)
    assert picture.shape[0] >= 3 * 192 and picture.shape[1] > 3 * 192


@pytest.mark.parametrize("case", ["unreadable", "small", "n1", "short-video", "out-exists"])
def test_bad_input_fails_cleanly(case, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["dataset", "build", "--tiny", "--count", "2", "--out", str(out), "--sources"]
    if case == "unreadable":
        (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
        args += [str(tmp_path / "broken.jpg")]
        expected = "broken.jpg"
    elif case == "small":
        (tmp_path / "small.png").write_bytes(encode_png(np.zeros((40, 90, 3), np.uint8)))
        args += ["builtin", str(tmp_path / "small.png")]
        expected = "smaller than the 64x64 crop"
    elif case == "n1":
        args += ["builtin", "--n", "1"]
        expected = "--n: must be in 2..256"
    elif case == "short-video":
        writer = cv2.VideoWriter(str(tmp_path / "short.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 25, (96, 80))
        for _ in range(2):
            writer.write(np.full((80, 96, 3), 128, np.uint8))
        writer.release()
        args += [str(tmp_path / "short.avi"), "--video-n", "3"]
        expected = "shorter than the window"
    else:
        out.mkdir()
        (out / "keep.txt").write_text("mine")
        args += ["builtin"]
        expected = "already exists"
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "burstdeblur: error:" in err and expected in err
    if case == "out-exists":
        assert [p.name for p in out.iterdir()] == ["keep.txt"]
    else:
        assert not out.exists()
    assert not list(tmp_path.glob(".out.partial*"))


def test_gray_16bit_and_rgba_photos_are_usable(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    gray16 = cv2.GaussianBlur(rng.integers(0, 65535, (180, 200), dtype=np.uint16), (5, 5), 1.0)
    rgba = np.dstack([cv2.GaussianBlur(rng.integers(0, 255, (170, 190, 3), dtype=np.uint8), (5, 5), 1.0),
                      np.full((170, 190), 255, np.uint8)])
    cv2.imwrite(str(folder / "gray16.png"), gray16)
    cv2.imwrite(str(folder / "rgba.png"), rgba)
    build_dataset(resolve_sources([str(folder)]), tmp_path / "ds", 8, 0, DatasetConfig.tiny())
    pairs = read_gopro(tmp_path / "ds")
    assert len(pairs) == 8 and len({p.sequence for p in pairs}) == 2
    for pair in pairs:
        blur = read_image(pair.blur)
        assert blur.shape == (64, 64, 3) and blur.dtype == np.uint8
        spread = np.abs(blur[..., 0].astype(int) - blur[..., 1]).mean()
        if "gray16" in pair.sequence:  # gray in, gray content out (channels differ by sensor noise only)
            assert spread < 3
        else:
            assert spread > 10


def test_check_motion_reports_per_image(tmp_path, capsys):
    assert main(["dataset", "check-motion", "--sources", "builtin", "--json", str(tmp_path / "m.json")]) == 0
    rows = json.loads((tmp_path / "m.json").read_text())
    assert set(rows) == {"builtin/coffee.png", "builtin/chelsea.png"}
    assert rows["builtin/chelsea.png"]["tiles"] > 0.6  # textured fur: the map follows the motion
    assert "tiles: median" in capsys.readouterr().out


def test_both_paths_mix(tmp_path):
    """--both-paths: still samples are the still itself with a zero map; burst samples are the runtime's
    aligned robust merge (re-run here) labelled with the reference frame's still view, which it matches."""
    from dataclasses import replace

    from burstdeblur.export.data.dataset_writer import make_burst, plan_tasks
    from burstdeblur.export.data.dataset_sources import build_scenes
    from burstdeblur.runtime.burst.burst_input import from_array
    from burstdeblur.runtime.burst.burst_pipeline import FuseOptions, process_burst
    from burstdeblur.runtime.io.image_quality import psnr

    config = replace(DatasetConfig.tiny(), burst_share=0.4, still_share=0.3, shake_scale=(0.0, 1.5))
    out = tmp_path / "mix"
    summary = build_dataset(resolve_sources(["builtin"]), out, 24, 2, config)
    manifest = json.loads((out / "dataset.json").read_text())
    assert set(summary["paths"]) == {"single", "burst", "still"} and all(summary["paths"].values())
    pairs = {p.blur.stem: p for p in read_gopro(out)}
    for r in manifest["samples"]:
        pair = pairs[r["sample"]]
        blur, sharp, bmap = read_image(pair.blur), read_image(pair.sharp), pair.read_blur_map()
        if r["path"] == "still":
            assert np.array_equal(blur, sharp) and bmap.max() == 0
        elif r["path"] == "burst":
            assert r["sharp_frame"].startswith("pose-of-")
            assert psnr(blur, sharp) > 24  # registered: a few px off gives under 20 on these scenes
    # The burst samples are exactly the runtime's burst path on the rendered frames.
    scenes = build_scenes(resolve_sources(["builtin"]), config.crop, config.video_n)
    splits = split_scenes(scenes, config.val_fraction)
    task = next(t for t in plan_tasks(scenes, splits, 24, 2, config) if t.path == "burst")
    made = make_burst(task, config)
    again = process_burst(from_array(made.frames), FuseOptions(threads=1))
    assert np.array_equal(again.fused, made.result.fused) and again.reference == made.result.reference
    # With the mix off nothing extra is drawn: the same tasks as before the mix existed.
    plain = plan_tasks(scenes, splits, 24, 2, DatasetConfig.tiny())
    assert all(t.path == "single" and t.shake_scale == 1.0 for t in plain)
