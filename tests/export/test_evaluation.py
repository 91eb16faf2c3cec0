"""Evaluation: metrics against independent references, baselines, the held-out set, weights loading, the CLI."""
import csv
import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from burstdeblur.export.evaluation.classical_baselines import UnsharpConfig, map_guided_unsharp, sharpest_frame
from burstdeblur.export.data.dataset_sources import SourceFileInfo, build_scenes, resolve_sources, split_scenes
from burstdeblur.export.data.dataset_writer import DatasetConfig, build_dataset
from burstdeblur.export.evaluation.eval_set import EvalConfig, build_eval_set, held_out_video_scenes
from burstdeblur.export.evaluation.burst_evaluation import build_independent, held_out_photos
from burstdeblur.export.evaluation.independent_bursts import IndependentConfig
from burstdeblur.export.evaluation.photo_evaluation import handheld_photos
from burstdeblur.runtime.io.image_quality import map_errors, psnr, ssim
from burstdeblur.export.nets.model_stats import gmac_per_megapixel
from burstdeblur.export.nets.net_configs import DeblurConfig, PeerConfig, build_deblur, modules_of
from burstdeblur.export.training.trained_models import deblur_image, load_trained, predict_map
from burstdeblur.export.training.training import Pipeline, TrainConfig, train
from burstdeblur.main import main
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.fusion import fuse_and_blur_map


def test_psnr_closed_form_and_ssim_matches_scikit_image():
    rng = np.random.default_rng(0)
    ref = rng.uniform(0.2, 0.8, (48, 40, 3))
    assert psnr(ref + 0.1, ref) == pytest.approx(20.0, abs=1e-9)  # MSE 0.01
    noisy = np.clip(ref + 0.05 * rng.standard_normal(ref.shape), 0, 1)
    metrics = pytest.importorskip("skimage.metrics")
    expected = metrics.structural_similarity(ref, noisy, channel_axis=2, data_range=1.0, gaussian_weights=True,
                                             sigma=1.5, use_sample_covariance=False)
    assert ssim(noisy, ref) == pytest.approx(expected, abs=1e-9)
    assert ssim(ref, ref) == pytest.approx(1.0)


def test_map_errors():
    t = np.linspace(0, 0.2, 100).reshape(10, 10)
    e = map_errors(2 * t + 0.01, t)
    assert e["pearson"] == pytest.approx(1.0)
    assert e["mae"] == pytest.approx(np.mean(t + 0.01))
    assert e["rmse"] == pytest.approx(np.sqrt(np.mean((t + 0.01) ** 2)))


def test_baselines():
    rng = np.random.default_rng(1)
    sharp = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    soft = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    assert np.array_equal(sharpest_frame(np.stack([soft, sharp, soft])), sharp)
    # No blur in the map: unsharp masking leaves the image alone; with blur it adds back detail.
    unit = sharp.astype(np.float32) / 255
    assert np.allclose(map_guided_unsharp(sharp, np.zeros((32, 32), np.float32), UnsharpConfig()), unit, atol=1e-6)
    x = soft.astype(np.float32) / 255
    expected = np.clip(x + 0.5 * (x - cv2.GaussianBlur(x, (0, 0), 1.5)), 0, 1)  # gain 20 x map 0.025
    out = map_guided_unsharp(soft, np.full((32, 32), 0.025, np.float32), UnsharpConfig(gain=20, sigma=1.5))
    assert np.allclose(out, expected, atol=1e-6)


def test_peer_spends_the_same_macs():
    x, m = torch.rand(1, 3, 64, 64), torch.rand(1, 1, 64, 64)
    full, sft = build_deblur(DeblurConfig.default())
    peer, none = build_deblur(PeerConfig.default())
    assert none is None and peer(x).shape == x.shape
    a = gmac_per_megapixel(lambda: full(x, sft(m)), modules_of(full, sft), 64 * 64)
    b = gmac_per_megapixel(lambda: peer(x), [peer], 64 * 64)
    assert abs(a - b) / a < 0.02


def test_held_out_video_scenes_start_after_the_training_frames(tmp_path):
    """A clip with a cut at 20, frames >= 30 held out: only [30, 40) may be evaluated on."""
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (96, 80))
    rng = np.random.default_rng(2)
    scenes = [rng.integers(0, 256, (80, 96, 3), dtype=np.uint8) for _ in range(2)]
    for k in range(40):
        writer.write(np.roll(scenes[k >= 20], k % 3, axis=1))
    writer.release()
    info = SourceFileInfo("clip", path, "video", "test", "test", "0" * 64, train_frames_end=30)
    held = held_out_video_scenes([info], 64, 3)
    assert [(s.shot.start, s.shot.end) for s in held] == [(30, 40)]
    training = build_scenes([info], 64, 3)
    assert all(s.shot.end <= 30 for s in training)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    data = root / "data"
    build_dataset(resolve_sources(["builtin"]), data, 8, 3, DatasetConfig.tiny())
    train(TrainConfig.tiny(3), data, root / "s3")
    train(replace(TrainConfig.tiny(2), deblur="nafnet-peer-tiny"), data, root / "peer")
    return root


def test_loaded_weights_reproduce_the_trained_pipeline(trained):
    nets = load_trained(trained / "s3" / "weights.safetensors")
    pipeline = Pipeline(TrainConfig.tiny(3))
    from burstdeblur.export.training.training import load_nets
    load_nets(trained / "s3" / "weights.safetensors", {"perception": pipeline.perception, "deblur": pipeline.deblur,
                                                       "sft": pipeline.sft})
    pipeline.eval()
    image = np.random.default_rng(3).integers(0, 256, (32, 40, 3), dtype=np.uint8)
    x = torch.from_numpy(image.astype(np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        expected = pipeline(x, None)[0].permute(1, 2, 0).clamp(0, 1).numpy()
        expected_map = pipeline.perception(x)[0, 0].numpy()
    m = predict_map(nets, image)
    assert np.allclose(m, expected_map, atol=1e-6)
    assert np.allclose(deblur_image(nets, image, m), expected, atol=1e-6)


def test_weights_without_card_or_wrong_card_are_refused(trained, tmp_path):
    lone = tmp_path / "w.safetensors"
    lone.write_bytes((trained / "s3" / "weights.safetensors").read_bytes())
    with pytest.raises(BurstError, match="no card"):
        load_trained(lone)
    card = json.loads((trained / "s3" / "card.json").read_text())
    card["train_config"]["deblur"] = "default"  # weights are for the tiny config
    lone.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(BurstError, match="does not fit"):
        load_trained(lone)


def test_eval_set_uses_only_held_out_scenes():
    infos = resolve_sources(["builtin"])
    config = EvalConfig.tiny()
    bursts = build_eval_set(infos, config)
    scenes = build_scenes(infos, config.crop, config.dataset.video_n)
    val = {s.scene_id for s in scenes if split_scenes(scenes, config.dataset.val_fraction)[s.scene_id] == "val"}
    assert len(bursts) == config.synthetic_bursts
    assert all(any(v in b.name for v in val) for b in bursts)
    for b in bursts:
        assert b.frames.shape[1:] == b.fused.shape == b.sharp.shape == (64, 64, 3)
        assert b.blur_map.shape == (64, 64) and b.blur_map.dtype == np.float32
        # unaligned, equal weights: the runtime's fusion of the kept frames, map over half the range
        fusion = fuse_and_blur_map(b.frames)
        assert np.array_equal(fusion.fused, b.fused)
        assert np.allclose(b.blur_map, fusion.blur_raw / 127.5, atol=1e-6)


def test_evaluate_cli_tiny(trained, tmp_path):
    out = tmp_path / "report"
    args = ["evaluate", "--tiny", "--sources", "builtin", "--model", str(trained / "s3" / "weights.safetensors"),
            "--no-map-model", "none", "--stage2-model", "none", "--peer-model", str(trained / "peer" / "weights.safetensors"),
            "--no-blur-detector", "--independent", "3", "--out", str(out)]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    bursts = build_eval_set(resolve_sources(["builtin"]), EvalConfig.tiny())
    expected = np.mean([psnr(b.fused, b.sharp) for b in bursts])
    assert report["summary"]["mean"]["all"]["fused_psnr"] == pytest.approx(expected, abs=1e-9)
    rows = list(csv.DictReader((out / "per_image.csv").open()))
    assert len(rows) == len(bursts) and "peer_psnr" in rows[0] and "no_map_psnr" not in rows[0]
    assert (out / "examples.png").stat().st_size > 0
    # A folder holding files burstdeblur did not write is refused and left as it was.
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("not burstdeblur's")
    assert main([*args[:-1], str(mine)]) == 2
    assert [p.name for p in mine.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in out.iterdir()) == [".burstdeblur-output", "examples.png", "independent.csv", "independent.md",
                                                     "per_image.csv", "photos.md", "report.json", "steady.csv",
                                                     "steady.md", "summary.md"]
    # The single-image photo sets: the inputs' scores recomputed from the same generator call.
    shots = handheld_photos(held_out_photos(resolve_sources(["builtin"])), 3, EvalConfig.tiny().seed + 11,
                            IndependentConfig.tiny())
    photos = report["photos"]
    assert [r["input"] for r in photos["rows"]] == pytest.approx(
        [psnr(s.frames[0][16:-16, 16:-16], s.sharp[0][16:-16, 16:-16]) for s in shots], abs=1e-9)
    assert photos["summary"]["handheld_count"] == 3 and photos["summary"]["sharp_count"] >= 1
    independent = list(csv.DictReader((out / "independent.csv").open()))
    assert len(independent) == 3 and {"middle", "fba", "merge", "burst_path"} <= set(independent[0])
    # The steady-hand set (2 bursts with --tiny): its middle-frame scores recomputed from the generator.
    steady = list(csv.DictReader((out / "steady.csv").open()))
    gen = replace(IndependentConfig.steady(), n=4, size=96, subsamples=6, steps_per_frame=12)
    made = build_independent(resolve_sources(["builtin"]), 2, EvalConfig.tiny().seed + 13, gen)
    assert [float(r["middle"]) for r in steady] == pytest.approx(
        [psnr(b.frames[2][16:-16, 16:-16], b.sharp[2][16:-16, 16:-16]) for b in made], abs=1e-3)
    assert [r["noise"] for r in steady] == ["bright", "indoor"] and report["steady"]["summary"]["count"] == 2


def test_steady_bursts_are_nearly_sharp_daylight_handheld_bursts():
    """IndependentConfig.steady(): the same generator with a quarter of the shake and a quarter-interval
    exposure: frames much closer to their stills than the default's, handheld only, bright and indoor noise."""
    photos = resolve_sources(["builtin"])
    small = dict(n=4, size=96, subsamples=6, steps_per_frame=12)

    def frame_psnr(config):
        bursts = build_independent(photos, 4, 3, replace(config, **small))
        return bursts, np.mean([psnr(b.frames[i][16:-16, 16:-16], b.sharp[i][16:-16, 16:-16])
                                for b in bursts for i in range(b.frames.shape[0])])

    steady, steady_psnr = frame_psnr(IndependentConfig.steady())
    _, default_psnr = frame_psnr(replace(IndependentConfig.default(), static_fraction=0.0))
    assert steady_psnr > default_psnr + 3, (steady_psnr, default_psnr)
    assert {b.kind for b in steady} == {"handheld"} and [b.noise for b in steady] == ["bright", "indoor"] * 2
    with pytest.raises(BurstError, match="unknown noise levels"):
        build_independent(photos, 1, 0, replace(IndependentConfig.steady(), noise_levels=("sunny",)))


def test_evaluate_refuses_a_model_without_all_three_nets(trained, tmp_path):
    args = ["evaluate", "--tiny", "--sources", "builtin", "--model", str(trained / "peer" / "weights.safetensors"),
            "--no-map-model", "none", "--peer-model", "none", "--stage2-model", "none", "--no-blur-detector",
            "--out", str(tmp_path / "r")]
    assert main(args) == 2
    assert not (tmp_path / "r").exists()


def test_one_opencv_wheel_and_the_blur_detector_runs_on_it():
    """blur-detector requires the GUI wheel opencv-python; it is installed with --no-deps, so the environment
    keeps the one headless wheel and the detector runs on its cv2."""
    from importlib import metadata

    from burstdeblur.export.evaluation.evaluation import blur_detector_map
    from burstdeblur.runtime.burst.demo_burst import shipped_image

    names = {(d.metadata["Name"] or "").lower() for d in metadata.distributions()}
    assert "opencv-python-headless" in names and not names & {"opencv-python", "opencv-contrib-python"}, names
    pytest.importorskip("blur_detector", reason="pip install --no-deps blur-detector==0.0.6 (the test command does)")
    photo = shipped_image("chelsea.png")
    sharp, blurred = blur_detector_map(photo), blur_detector_map(cv2.GaussianBlur(photo, (0, 0), 3))
    assert sharp.shape == blurred.shape == photo.shape[:2]
    assert 0.0 <= sharp.min() and sharp.max() <= 1.0 and sharp.std() > 0.05
    assert np.abs(sharp - blurred).mean() > 0.01  # it reads the image: blurring it changes the map
