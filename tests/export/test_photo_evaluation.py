"""The single-image photo sets: handheld exposures from the independent generator and sharp photos."""
import numpy as np
import pytest

from burstdeblur.export.evaluation.independent_bursts import IndependentConfig
from burstdeblur.export.evaluation.photo_evaluation import EXPOSURE_STEPS, evaluate_photos, handheld_photos
from burstdeblur.runtime.burst.demo_burst import shipped_image
from burstdeblur.runtime.io.image_quality import psnr


@pytest.fixture(scope="module")
def photos():
    return [("coffee", shipped_image("coffee.png")), ("chelsea", shipped_image("chelsea.png"))]


def test_handheld_photos_are_single_exposures_that_blur_more_when_longer(photos):
    config = IndependentConfig.tiny()
    shots = handheld_photos(photos, 6, 3, config)
    again = handheld_photos(photos, 6, 3, config)
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(shots, again))  # deterministic for a seed
    assert all(s.frames.shape == s.sharp.shape == (1, 96, 96, 3) for s in shots)
    assert [int(s.name.split("-")[-2]) for s in shots] == [*EXPOSURE_STEPS, *EXPOSURE_STEPS]
    # Longer exposures wander further: the input falls away from its still, on average over the seeds.
    by_length = {steps: [] for steps in EXPOSURE_STEPS}
    for seed in range(4):
        for shot in handheld_photos(photos[:1], 3, seed, config):
            by_length[int(shot.name.split("-")[-2])].append(psnr(shot.frames[0], shot.sharp[0]))
    means = [np.mean(by_length[steps]) for steps in EXPOSURE_STEPS]
    assert means[0] > means[2]


def test_identity_restore_gains_nothing_and_leaves_sharp_photos_alone(photos):
    shots = handheld_photos(photos, 3, 5, IndependentConfig.tiny())
    identity = lambda image: image.astype(np.float32) / 255.0  # noqa: E731
    blurry = lambda image: np.roll(image, 1, axis=1).astype(np.float32) / 255.0  # noqa: E731
    result = evaluate_photos(shots, photos, identity, blurry, lambda image: np.zeros(image.shape[:2], np.float32))
    summary = result["summary"]
    assert summary["handheld"]["gain_db"] == 0.0 and summary["handheld"]["better_share"] == 0.0
    assert summary["sharp"]["min_db"] == pytest.approx(120.0) and summary["sharp"]["mean_map"] == 0.0
    assert summary["handheld"]["no_map_db"] < summary["handheld"]["input_db"]  # a 1 px shift is scored as worse
    # The sharp photos go in whole, cropped to multiples of 8 (what the nets take).
    shifted = evaluate_photos([], photos, blurry, None, lambda image: np.ones(image.shape[:2], np.float32))
    for (_name, photo), row in zip(photos, shifted["sharp_rows"]):
        h, w = photo.shape[0] // 8 * 8, photo.shape[1] // 8 * 8
        assert row["output_vs_input"] == pytest.approx(psnr(np.roll(photo[:h, :w], 1, axis=1), photo[:h, :w]))
    assert shifted["summary"]["sharp"]["mean_map"] == 1.0


def test_the_shipped_column_scores_its_own_restore(photos):
    """``shipped`` (the runtime's single-image path in `evaluate`) is scored on both sets like the float
    model: an identity there gains exactly 0 on the handheld photos and leaves sharp photos at 120 dB, and
    a 1 px shift scores as psnr says."""
    shots = handheld_photos(photos, 2, 5, IndependentConfig.tiny())
    identity = lambda image: image.astype(np.float32) / 255.0  # noqa: E731
    shift = lambda image: np.roll(image, 1, axis=1).astype(np.float32) / 255.0  # noqa: E731
    zero_map = lambda image: np.zeros(image.shape[:2], np.float32)  # noqa: E731
    same = evaluate_photos(shots, photos, shift, None, zero_map, identity)["summary"]
    assert same["handheld"]["shipped"]["gain_db"] == 0.0 and same["sharp"]["shipped"]["min_db"] == pytest.approx(120.0)
    moved = evaluate_photos(shots, photos, identity, None, zero_map, shift)
    for shot, row in zip(shots, moved["rows"]):
        expected = psnr(np.roll(shot.frames[0], 1, axis=1)[16:-16, 16:-16], shot.sharp[0][16:-16, 16:-16])
        assert row["shipped"] == pytest.approx(expected)
    assert "shipped" not in evaluate_photos(shots, photos, identity, None, zero_map)["summary"]["handheld"]
