"""Fusion and blur map against the float64 reference: 1 LSB fused, 1e-3 (0-255 scale) map."""
import numpy as np
import pytest

from burstdeblur.runtime import fuse_and_blur_map, register_burst, RegistrationConfig
from burstdeblur.runtime.burst.weights import gradient_weights, temporal_weights
from reference import pixel_pstdev, reference_fusion

MAP_TOL_255 = 1e-3


def _check(frames, fusion, weights=None, map_mode="channel-mean", valid=None, full_scale=255.0):
    mean, bmap = reference_fusion(frames, weights, map_mode, valid)
    if frames.dtype.kind == "u":
        assert np.abs(fusion.fused.astype(np.float64) - mean).max() <= 0.5 + 1e-9  # within rounding: <= 1 LSB
        assert np.abs(fusion.fused.astype(np.float64) - np.rint(mean)).max() <= 1
    else:
        assert np.abs(fusion.fused - mean).max() <= 1e-5
    tol = MAP_TOL_255 * full_scale / 255.0
    assert np.abs(fusion.blur_raw - bmap).max() <= tol


@pytest.mark.parametrize("n", [2, 3, 8, 17])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_equal_weights_uint8_random(rng, n, channels):
    frames = rng.integers(0, 256, (n, 37, 53, channels), dtype=np.uint8)
    _check(frames, fuse_and_blur_map(frames, strip_rows=8))


def test_equal_weights_uint16_random(rng):
    frames = rng.integers(0, 65536, (8, 31, 29, 3), dtype=np.uint16)
    _check(frames, fuse_and_blur_map(frames), full_scale=65535.0)


def test_extreme_values_do_not_overflow():
    # half the frames black, half white: the largest possible std, M/2, in every channel
    frames = np.zeros((16, 4, 5, 3), np.uint8)
    frames[::2] = 255
    fusion = fuse_and_blur_map(frames)
    assert np.allclose(fusion.blur_raw, 127.5, atol=1e-4)
    frames16 = frames.astype(np.uint16) * 257
    assert np.allclose(fuse_and_blur_map(frames16).blur_raw, 65535 / 2, rtol=1e-6)


@pytest.mark.parametrize("map_mode", ["channel-mean", "channel-luma", "gray"])
def test_map_modes(rng, map_mode):
    frames = rng.integers(0, 256, (5, 20, 24, 3), dtype=np.uint8)
    _check(frames, fuse_and_blur_map(frames, map_mode=map_mode), map_mode=map_mode)


def test_weighted_per_frame(rng):
    frames = rng.integers(0, 256, (6, 40, 33, 3), dtype=np.uint8)
    for w in (temporal_weights(6, "rising"), temporal_weights(6, "falling"), np.array([0, 1, 2, 0, 5, 1.5])):
        _check(frames, fuse_and_blur_map(frames, w), weights=w / w.sum())


def test_weighted_per_pixel_gradient(rng):
    frames = rng.integers(0, 256, (4, 30, 30, 3), dtype=np.uint8)
    w = gradient_weights(frames, 255.0)
    _check(frames, fuse_and_blur_map(frames, w), weights=w)


def test_float_frames(rng):
    frames = rng.random((5, 16, 18, 3), dtype=np.float32)
    fusion = fuse_and_blur_map(frames)
    _check(frames, fusion, full_scale=1.0)


def test_matches_statistics_pstdev_per_pixel(demo_burst):
    fusion = fuse_and_blur_map(demo_burst.frames)
    for y, x in [(0, 0), (100, 200), (250, 180), (399, 599), (260, 190)]:
        assert abs(float(fusion.blur_raw[y, x]) - pixel_pstdev(demo_burst.frames, y, x)) <= MAP_TOL_255


def test_strips_and_threads_do_not_change_results(demo_burst):
    a = fuse_and_blur_map(demo_burst.frames, strip_rows=32, threads=2)
    b = fuse_and_blur_map(demo_burst.frames, strip_rows=7, threads=1)
    assert np.array_equal(a.fused, b.fused) and np.array_equal(a.blur_raw, b.blur_raw)


def test_real_registered_burst_with_border_mask(demo_burst):
    reg = register_burst(demo_burst.frames, 255.0, 3, RegistrationConfig.default())
    assert not reg.valid.all(), "the demo shake should leave an uncovered border"
    for weights in (None, temporal_weights(reg.frames.shape[0], "rising")):
        fusion = fuse_and_blur_map(reg.frames, weights, valid=reg.valid)
        _check(reg.frames, fusion, weights=weights, valid=reg.valid)
        assert np.array_equal(fusion.coverage, reg.valid.sum(0))


def test_border_is_not_averaged_with_black(demo_burst):
    reg = register_burst(demo_burst.frames, 255.0, 3, RegistrationConfig.default())
    fusion = fuse_and_blur_map(reg.frames, valid=reg.valid)
    border = reg.valid.sum(0) < reg.frames.shape[0]
    naive = reg.frames.astype(np.float64).mean(0)  # what ignoring the mask would give
    ref = reg.frames[reg.reference].astype(np.float64)
    err_masked = np.abs(fusion.fused[border] - ref[border]).mean()
    err_naive = np.abs(naive[border] - ref[border]).mean()
    assert err_masked < 0.5 * err_naive


@pytest.mark.parametrize("n", [4, 257, 300])
def test_large_and_power_of_two_n(rng, n):
    # 257+ frames overflow a uint16 sum: must leave the integer path, still exact
    frames = rng.integers(0, 256, (n, 6, 7, 3), dtype=np.uint8)
    frames[:, 0, 0] = 255
    _check(frames, fuse_and_blur_map(frames))


def test_pixels_covered_by_no_frame_are_marked(rng):
    frames = rng.integers(0, 256, (3, 5, 6, 3), dtype=np.uint8)
    valid = np.ones((3, 5, 6), bool)
    valid[:, 0, 0] = False
    valid[1:, 2, 3] = False
    fusion = fuse_and_blur_map(frames, valid=valid)
    assert fusion.coverage[0, 0] == 0 and fusion.blur_raw[0, 0] == 0 and np.all(fusion.fused[0, 0] == 0)
    assert fusion.coverage[2, 3] == 1 and fusion.blur_raw[2, 3] == 0
    assert np.array_equal(fusion.fused[2, 3], frames[0, 2, 3])
