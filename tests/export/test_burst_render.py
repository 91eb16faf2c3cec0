"""The synthetic burst renderer: closed-form checks, determinism, and blur map vs known motion."""
import numpy as np
import pytest

from burstdeblur.export.data.burst_render import (ObjectRanges, RenderConfig, prepare_scene, render_burst,
                                             scene_geometry, undisplaced_view)
from burstdeblur.export.data.camera_shake import ShakeRanges
from burstdeblur.export.data.motion_check import blur_motion_correlation
from burstdeblur.runtime import fuse_and_blur_map
from burstdeblur.runtime.burst.demo_burst import shipped_image
from burstdeblur.runtime.errors import BurstError


def quiet(**kw) -> RenderConfig:
    return RenderConfig(**{"noise": None, "objects": ObjectRanges.none(), **kw})


def test_ramp_scene_blur_equals_motion_spread():
    """On a linear ramp I = a x, a frame shows a * (x + mean displacement): the per-channel std across
    frames is a times the spread of the displacement. With one sub-frame per frame that spread is
    exactly the renderer's motion magnitude."""
    s, slope = 2, 3.0  # hi-res factor; intensity per output px (steep, so uint8 rounding matters little)
    h = w = 80
    yy, xx = np.mgrid[0:h * s, 0:w * s].astype(np.float64)
    hires = np.zeros((h * s, w * s, 3), np.uint8)
    # Each channel is a ramp in output-px units (pixel centres map back to x_out = (x_h + 0.5) / s - 0.5).
    hires[..., 0] = np.rint(20 + slope * ((xx + 0.5) / s - 0.5)).clip(0, 255)
    hires[..., 1] = np.rint(20 + slope * ((yy + 0.5) / s - 0.5)).clip(0, 255)
    config = quiet(n=9, subframes=1, shake=ShakeRanges((2.0, 4.0), (0.0, 0.01), (0.0, 2.0), (0.5, 1.0), 0.3))
    burst = render_burst(hires, s, (10, 10, 60, 60), config, np.random.default_rng(4))
    frames = burst.frames.astype(np.float64)
    spread = np.sqrt(frames[..., 0].var(axis=0) + frames[..., 1].var(axis=0)) / slope  # [h, w] px
    assert frames[..., :2].max() < 255 and frames[..., :2].min() > 0  # no clipping: the ramp stays linear
    assert burst.motion.max() > 1.0 and burst.motion.std() > 0.05  # a real, spatially varying motion
    # uint8 rounding of the ramp and the frames (~0.3 LSB, i.e. ~0.1 px per sample) is the only error.
    assert np.abs(spread - burst.motion).mean() < 0.06
    tiles = lambda x: x.reshape(6, 10, 6, 10).mean(axis=(1, 3))  # noqa: E731
    assert np.abs(tiles(spread) - tiles(burst.motion)).max() < 0.05


def test_still_camera_renders_the_scene():
    hires, s = prepare_scene(shipped_image("chelsea.png"), 150, 2, 64, "chelsea")
    config = quiet(n=3, subframes=2, shake=ShakeRanges.still())
    region = (10, 5, 96, 64)
    burst = render_burst(hires, s, region, config, np.random.default_rng(0))
    view = undisplaced_view(hires, s, region)
    assert np.abs(burst.frames.astype(int) - view[None].astype(int)).max() <= 1
    assert burst.motion.max() == 0.0


def test_deterministic_for_a_seed():
    hires, s = prepare_scene(shipped_image("coffee.png"), 128, 2, 64, "coffee")
    config = RenderConfig.tiny()
    a = render_burst(hires, s, (0, 0, 64, 64), config, np.random.default_rng(11))
    b = render_burst(hires, s, (0, 0, 64, 64), config, np.random.default_rng(11))
    c = render_burst(hires, s, (0, 0, 64, 64), config, np.random.default_rng(12))
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.motion, b.motion)
    assert not np.array_equal(a.frames, c.frames)


def test_moving_object_lights_up_map_and_motion():
    hires, s = prepare_scene(shipped_image("coffee.png"), 200, 2, 64, "coffee")
    objects = ObjectRanges(probability=1.0, max_count=1, radius_fraction=(0.2, 0.2), speed_px=(3.0, 3.0))
    config = quiet(n=6, subframes=4, shake=ShakeRanges.still(), objects=objects)
    burst = render_burst(hires, s, (20, 20, 160, 160), config, np.random.default_rng(3))
    (obj,) = burst.info["objects"]
    cx, cy = obj["centre"]
    yy, xx = np.mgrid[0:160, 0:160]
    core = np.hypot(xx - cx, yy - cy) < obj["radius"] * 0.5
    far = np.hypot(xx - cx, yy - cy) > obj["radius"] + 20
    # The disc moves 3 px/frame: its points spread by about 3 * sqrt((36-1)/12) = 5.1 px; the still background by 0.
    assert burst.motion[core].mean() == pytest.approx(3.0 * np.sqrt(35 / 12), rel=0.1)
    assert burst.motion[far].max() == 0.0
    blur = fuse_and_blur_map(burst.frames).blur_raw
    assert blur[core].mean() > 5 * blur[far].mean()


def test_blur_map_correlates_with_motion_where_textured():
    """Strong rotation: motion grows with distance from the rotation centre; the map follows it."""
    hires, s = prepare_scene(shipped_image("chelsea.png"), 300, 2, 64, "chelsea")
    config = quiet(n=7, subframes=4, shake=ShakeRanges((0.0, 0.5), (0.0, 0.0), (0.0, 0.0), (2.0, 2.5), 0.2))
    region = (0, 0, 256, 256)
    burst = render_burst(hires, s, region, config, np.random.default_rng(2))
    blur = fuse_and_blur_map(burst.frames).blur_raw
    corr = blur_motion_correlation(blur, burst.motion, undisplaced_view(hires, s, region))
    assert corr["motion_std_px"] > 0.5
    assert corr["tiles"] > 0.6
    assert corr["pixels"] > 0.3
    # Scrambling the motion destroys the agreement: the figure measures something.
    shuffled = np.random.default_rng(0).permutation(burst.motion.ravel()).reshape(burst.motion.shape)
    assert abs(blur_motion_correlation(blur, shuffled, undisplaced_view(hires, s, region))["tiles"]) < 0.25


def test_scene_geometry_never_upsamples_and_rejects_small_images():
    assert scene_geometry(400, 600, 1000, 2, 256, "x") == (1, 400, 600)
    assert scene_geometry(2000, 3000, 500, 2, 256, "x") == (2, 1000, 1500)
    with pytest.raises(BurstError, match="smaller than the 256x256 crop"):
        scene_geometry(200, 600, 500, 2, 256, "small.png")


def test_bad_render_config():
    with pytest.raises(BurstError, match="n >= 2"):
        RenderConfig(n=1).check()
    with pytest.raises(BurstError, match="duty"):
        RenderConfig(duty=0.0).check()


def test_mean_view_is_registered_with_the_fused_image():
    """The mean-pose label: averaging frames centres the blur on the mean of the trajectory, so the still
    view at the mean pose matches the fused image better than any single frame does (which sits
    somewhere along the trajectory), and it carries no noise."""
    hires, s = prepare_scene(shipped_image(), 96, 2, 64, "demo")
    config = quiet(n=7, subframes=4, shake=ShakeRanges((1.0, 1.5), (0.0, 0.001), (0.0, 0.5), (0.0, 0.1), 0.3))
    wins = 0
    for seed in range(4):
        burst = render_burst(hires, s, (8, 8, 80, 80), config, np.random.default_rng(seed))
        fused = burst.frames.astype(np.float64).mean(axis=0)
        err = lambda img, fused=fused: np.mean((img.astype(np.float64) - fused)[8:-8, 8:-8] ** 2)  # noqa: E731
        assert burst.mean_view.shape == burst.frames.shape[1:] and burst.mean_view.dtype == np.uint8
        wins += err(burst.mean_view) < min(err(f) for f in burst.frames)
    assert wins >= 3
    # With no motion at all the mean view is the undisplaced view.
    still = render_burst(hires, s, (8, 8, 80, 80), quiet(n=3, subframes=2, shake=ShakeRanges.still()),
                         np.random.default_rng(0))
    assert np.abs(still.mean_view.astype(int) - undisplaced_view(hires, s, (8, 8, 80, 80)).astype(int)).max() <= 1


def test_frame_views_are_each_frames_own_pose():
    """With one sub-frame per frame a frame is a still shot at its own pose, so its frame view must be
    that frame exactly; with eight sub-frames the frames smear while the views stay still shots."""
    hires, s = prepare_scene(shipped_image("coffee.png"), 128, 2, 64, "coffee")
    shake = ShakeRanges((2.0, 4.0), (0.0, 0.004), (0.0, 1.0), (0.0, 0.5), 0.3)
    one = render_burst(hires, s, (4, 4, 64, 64), quiet(n=5, subframes=1, shake=shake), np.random.default_rng(2),
                       frame_views=True)
    assert one.frame_views.shape == one.frames.shape and one.frame_views.dtype == np.uint8
    assert np.abs(one.frame_views.astype(int) - one.frames.astype(int)).max() <= 1
    assert np.abs(one.frame_views[0].astype(int) - one.frame_views[-1].astype(int)).mean() > 2  # poses differ
    many = render_burst(hires, s, (4, 4, 64, 64), quiet(n=5, subframes=8, shake=shake), np.random.default_rng(2))
    assert many.frame_views is None  # only when asked for
    smeared = render_burst(hires, s, (4, 4, 64, 64), quiet(n=5, subframes=8, shake=shake), np.random.default_rng(2),
                           frame_views=True)
    assert np.array_equal(smeared.frames, many.frames)  # asking for views draws nothing more
    sharpness = lambda img: np.abs(np.diff(img.astype(float), axis=1)).mean()  # noqa: E731
    assert all(sharpness(v) > sharpness(f) for v, f in zip(smeared.frame_views, smeared.frames))


def test_shake_scaled_multiplies_every_amplitude():
    base = ShakeRanges.default()
    half = base.scaled(0.5)
    assert half.translation_px == (base.translation_px[0] / 2, base.translation_px[1] / 2)
    assert half.rotation_deg == (0.0, base.rotation_deg[1] / 2) and half.wobble == base.wobble
    assert base.scaled(0.0) == ShakeRanges((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), base.wobble)
