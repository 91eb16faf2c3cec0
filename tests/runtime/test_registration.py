"""Registration recovers known homographies; unregistrable frames are refused."""
import cv2
import numpy as np
import pytest

from burstdeblur.runtime import BurstError, RegistrationConfig, register_burst
from burstdeblur.runtime.burst.demo_burst import shipped_image
from burstdeblur.runtime.burst.registration import warp_to_reference


def _corner_error(estimated, truth, w, h):
    corners = np.float64([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])[None]
    return np.abs(cv2.perspectiveTransform(corners, estimated) - cv2.perspectiveTransform(corners, truth)).max()


KNOWN = [
    np.array([[1.0, 0.0, 3.4], [0.0, 1.0, -2.7], [0.0, 0.0, 1.0]]),  # sub-pixel translation
    np.array([[0.995, -0.02, 6.0], [0.021, 1.003, -4.0], [2e-5, -1e-5, 1.0]]),  # rotation + perspective
]


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png"])
@pytest.mark.parametrize("truth", KNOWN)
def test_recovers_known_homography_subpixel(name, truth):
    scene = shipped_image(name)
    h, w, _ = scene.shape
    # frame = scene seen through inv(truth): registering it back must give truth (frame -> reference)
    frame = cv2.warpPerspective(scene, np.linalg.inv(truth), (w, h), flags=cv2.INTER_CUBIC,
                                borderMode=cv2.BORDER_REFLECT_101)
    reg = register_burst(np.stack([scene, frame]), 255.0, 0, RegistrationConfig.default())
    record = reg.records[1]
    assert record.accepted and record.method == "orb+ecc"
    assert _corner_error(np.array(record.homography), truth, w, h) < 0.5
    assert record.photometric_residual < 3.0


def test_ecc_fallback_when_features_fail():
    # smooth gradients: ORB finds no corners, ECC from the identity still aligns a small shift
    yy, xx = np.mgrid[0:200, 0:240].astype(np.float32)
    scene = (127 + 60 * np.sin(xx / 17) * np.cos(yy / 23)).astype(np.uint8)[..., None].repeat(3, axis=2)
    truth = np.array([[1, 0, 1.5], [0, 1, -0.8], [0, 0, 1.0]])
    frame = cv2.warpPerspective(scene, np.linalg.inv(truth), (240, 200), flags=cv2.INTER_CUBIC,
                                borderMode=cv2.BORDER_REFLECT_101)
    reg = register_burst(np.stack([scene, frame]), 255.0, 0, RegistrationConfig.default())
    assert reg.records[1].method == "ecc"
    assert _corner_error(np.array(reg.records[1].homography), truth, 240, 200) < 0.5


def _burst_with_noise_frame():
    scene = shipped_image("coffee.png")
    noise = np.random.default_rng(0).integers(0, 256, scene.shape, dtype=np.uint8)
    return np.stack([scene, scene, noise])


def test_unregistrable_frame_is_an_error_naming_it():
    with pytest.raises(BurstError, match="frame f2 cannot be registered"):
        register_burst(_burst_with_noise_frame(), 255.0, 0, RegistrationConfig.default(), ("f0", "f1", "f2"))


def test_unregistrable_frame_skipped_with_warning(caplog):
    config = RegistrationConfig(on_fail="skip")
    reg = register_burst(_burst_with_noise_frame(), 255.0, 0, config, ("f0", "f1", "f2"))
    assert reg.kept == (0, 1)
    assert reg.frames.shape[0] == 2
    assert not reg.records[2].accepted and reg.records[2].reason
    assert "dropping frame f2" in caplog.text


def test_warp_marks_uncovered_border():
    frame = np.full((50, 60, 3), 200, np.uint8)
    warped, mask = warp_to_reference(frame, np.array([[1, 0, 5.5], [0, 1, 0], [0, 0, 1.0]]))
    assert not mask[:, :6].any() and mask[:, 7:].all()
    assert np.all(warped[mask] == 200)
