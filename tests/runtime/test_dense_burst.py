"""The burst path's alignment and robust merge: a static scene is never warped, ghosts are left out,
known shifts are recovered, frames that cannot align are dropped (never refused), the map is formula (1)
over the aligned frames, FBA behaves as its closed form says, and reruns are bit-identical."""
import cv2
import numpy as np
import pytest

from burstdeblur.main import main
from burstdeblur.runtime import FuseOptions, from_array, process_burst
from burstdeblur.runtime.burst.demo_burst import make_demo_burst_and_reference, shipped_image
from burstdeblur.runtime.burst.dense_align import (AlignConfig, align_burst, plan_alignment, plan_size, plan_views,
                                                   small_lumas, upsample_rows, warp_rows)
from burstdeblur.runtime.burst.fourier_burst import fourier_burst_accumulation
from burstdeblur.runtime.burst.reference_frame import choose_reference, consistent_frames
from burstdeblur.runtime.burst.registration import gray8
from burstdeblur.runtime.burst.robust_merge import merge_weights, noise_sigma
from burstdeblur.runtime.errors import BurstError
from reference import reference_fusion


def _noisy(image: np.ndarray, rng, sigma: float) -> np.ndarray:
    return np.clip(np.rint(image + rng.normal(0, sigma, image.shape)), 0, 255).astype(np.uint8)


def _static_burst_with_object(rng, n=6, sigma=1.5):
    """Tripod: a smooth background (a strongly blurred photo), one textured disc moving 12 px per frame."""
    photo = shipped_image("coffee.png").astype(np.float64)
    background = cv2.GaussianBlur(photo, (0, 0), 6)
    h, w = background.shape[:2]
    texture = cv2.resize(shipped_image("chelsea.png"), (w, h)).astype(np.float64)
    yy, xx = np.mgrid[0:h, 0:w]
    frames, masks = [], []
    for k in range(n):
        cx, cy = 150 + 12 * k, 200
        disc = (np.hypot(xx - cx, yy - cy) < 45)[..., None]
        frames.append(_noisy(np.where(disc, texture, background), rng, sigma))
        masks.append(disc[..., 0])
    return np.stack(frames), np.stack(masks)


def test_static_background_is_never_warped_and_the_object_leaves_no_ghost():
    rng = np.random.default_rng(5)
    frames, masks = _static_burst_with_object(rng)
    result = process_burst(from_array(frames))
    assert all(r.global_model in ("identity", "reference") for r in result.registrations)
    ref = result.reference
    # Background: pixels no frame's object ever touched (with a 12 px margin for the flow's reach).
    # (24 px: the reach of the local-flow and robustness windows around the moving object)
    touched = cv2.dilate(masks.any(axis=0).astype(np.uint8), np.ones((49, 49), np.uint8)) > 0
    plain = frames.astype(np.float64).mean(axis=0)
    diff = np.abs(result.fused.astype(np.float64) - plain)[~touched]
    assert diff.max() <= 1.0, diff.max()
    # No ghost: where the object is in the reference, the result is the reference's object (within noise),
    # and where only other frames had it, no trace of its texture.
    obj = cv2.erode(masks[ref].astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert np.abs(result.fused.astype(np.float64) - frames[ref])[obj].mean() < 3.0
    others = masks.any(axis=0) & ~cv2.dilate(masks[ref].astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    background = cv2.GaussianBlur(shipped_image("coffee.png").astype(np.float64), (0, 0), 6)
    assert np.abs(result.fused.astype(np.float64) - background)[others].mean() < 3.0
    # The blur-degree map shows the object's trail (what the merge left out); the residual map the nets are
    # given does not: there the merged pixel is the reference's own background, sharp.
    trail = cv2.erode(others.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    noise = np.median(result.blur_raw[~touched])  # the map where nothing moves: sensor noise only
    assert result.blur_raw[trail].mean() > 4 * noise
    assert result.residual_raw[trail].mean() < 1.5 * noise


def test_local_flow_is_used_only_near_local_motion():
    rng = np.random.default_rng(6)
    frames, masks = _static_burst_with_object(rng, n=4)
    ref = 1
    sigma8 = noise_sigma(gray8(frames[ref], 255.0))
    on = plan_alignment(frames, 255.0, ref, AlignConfig(), noise_sigma8=sigma8)
    off = plan_alignment(frames, 255.0, ref, AlignConfig(local_flow=False), noise_sigma8=sigma8)
    # Without local flow a tripod burst is used exactly as shot.
    assert all(d is None for d in off.disp) and all(r.local_fraction == 0 for r in off.records)
    # With it, the flow is kept only around the moving disc, never on the far background. (Where it is kept,
    # the 17 x 17 window difference it leaves is under half the frame's as shot - not every pixel's: near the
    # disc's edge the disc's flow also moves some background.)
    far = cv2.dilate(masks.any(axis=0).astype(np.uint8), np.ones((61, 61), np.uint8)) > 0
    far = cv2.resize((~far).astype(np.uint8), on.small_size[::-1], interpolation=cv2.INTER_NEAREST) > 0
    used = 0
    for i in range(len(frames)):
        if i == ref:
            continue
        record = on.records[i]
        assert record.global_model == "identity"
        moved = np.zeros(on.small_size, bool) if on.disp[i] is None else \
            np.hypot(on.disp[i][..., 0], on.disp[i][..., 1]) > 0
        assert record.local_fraction == pytest.approx(moved.mean(), abs=1e-6)
        assert not moved[far].any()
        used += bool(moved.any())
    assert used >= 2  # the flow was kept for frames of this burst (a mask that is never set would pass above)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_nearly_sharp_low_noise_burst_merges_better_than_its_middle_frame(seed):
    """Bright light, a steady hand: frames ~41 dB from the still, noise std 1. Little noise to average away,
    so a ghost of a few levels (the demo's low-contrast moving disc, frames whose blur differs) costs more
    than the merge gains; the robustness threshold must follow the burst's own noise (with the former
    2 sigma + 1 level the merge was 0.08 dB below the middle frame on seed 0, 0.66 dB on seed 3)."""
    burst, still = make_demo_burst_and_reference(seed=seed, pose_frame=4)
    merged = process_burst(burst, FuseOptions(reference="middle")).fused

    def psnr(image):
        return 10 * np.log10(255.0 ** 2 / np.mean((image.astype(np.float64) - still) ** 2))

    assert psnr(burst.frames[4]) > 38  # the regime: nearly sharp
    assert psnr(merged) > psnr(burst.frames[4]) + 0.2


def test_spatially_correlated_noise_does_not_refuse_the_frames():
    """Frames rescaled after capture (or demosaiced, denoised): their noise is smooth, the Laplacian noise
    estimate sees little of it, and a threshold from that estimate alone refused every frame of the
    benchmark's upscaled demo burst (1-2% agreement; the result was the reference alone). The threshold
    follows the best-agreeing frame's typical difference, so the frames merge and beat the middle frame."""
    burst, still = make_demo_burst_and_reference(seed=0, pose_frame=4)
    up = lambda image: cv2.resize(image, (960, 640), interpolation=cv2.INTER_CUBIC)  # noqa: E731
    frames = np.stack([up(f) for f in burst.frames])
    result = process_burst(from_array(frames), FuseOptions(reference="middle"))
    assert all(r["used"] and r["agree_fraction"] > 0.5 for r in result.frame_report), result.frame_report
    still = up(still).astype(np.float64)

    def psnr(image):
        return 10 * np.log10(255.0 ** 2 / np.mean((image.astype(np.float64) - still) ** 2))

    assert psnr(result.fused) > psnr(frames[4]) + 0.2


def test_a_known_global_shift_is_recovered():
    rng = np.random.default_rng(2)
    photo = shipped_image("coffee.png").astype(np.float64)
    shifts = [(0, 0), (3, -2), (-5, 4), (7, 1)]
    frames = np.stack([_noisy(photo[10 + dy:370 + dy, 10 + dx:570 + dx], rng, 1.0) for dy, dx in shifts])
    aligned = align_burst(frames, 255.0, 0)
    for k, (dy, dx) in enumerate(shifts[1:], start=1):
        hom = np.array(aligned.records[k].homography)
        assert aligned.records[k].global_model == "homography"
        # reference -> frame: frame k is cut (dx, dy) further, so a reference pixel x lies at x - shift there.
        # Checked at the centre and the corners (a homography's own translation is its value at the origin).
        for x, y in ((280, 180), (20, 20), (540, 340)):
            mx, my = cv2.perspectiveTransform(np.float64([[[x, y]]]), hom)[0, 0]
            assert mx - x == pytest.approx(-dx, abs=0.2) and my - y == pytest.approx(-dy, abs=0.2), (k, x, y)
        inner = (slice(20, -20), slice(20, -20))
        err = np.abs(aligned.frames[k].astype(float) - frames[0])[inner].mean()
        assert err < 2.5, (k, err)  # noise of two frames (sigma 1) plus interpolation


def test_frames_that_cannot_align_are_dropped_with_a_warning_not_refused(demo_burst):
    frames = demo_burst.frames.copy()
    frames[1] = 0  # all black
    frames[4] = np.random.default_rng(0).integers(0, 256, frames[4].shape, dtype=np.uint8)  # pure noise
    result = process_burst(from_array(frames))
    used = {r["index"]: r["used"] for r in result.frame_report}
    assert not used[1] and not used[4] and sum(used.values()) == len(frames) - 2
    assert result.reference not in (1, 4)
    assert any("dropped 2 frame(s)" in w for w in result.warnings)
    # Nothing aligns with the reference: the result is the reference frame itself, and the report says so.
    junk = np.random.default_rng(1).integers(0, 256, frames.shape, dtype=np.uint8)
    junk[2] = frames[0]
    alone = process_burst(from_array(junk), FuseOptions(reference=2))
    assert np.array_equal(alone.fused, junk[2])
    assert any("result is that frame alone" in w for w in alone.warnings)


@pytest.mark.parametrize("map_mode", ["channel-mean", "gray"])
def test_merge_and_map_are_formula_one_with_the_merge_weights(demo_burst, map_mode):
    """The strip-wise merge (shifted one-pass sums in float32) against the slow float64 two-pass reference on
    whole aligned frames with the same upsampled weights."""
    result = process_burst(demo_burst, FuseOptions(map_mode=map_mode))
    frames = demo_burst.frames
    n, h, w, _ = frames.shape
    size = plan_size(h, w, AlignConfig())
    lumas = small_lumas(frames, 255.0, size)
    sigma8 = noise_sigma(gray8(frames[result.reference], 255.0))
    plan = plan_alignment(frames, 255.0, result.reference, AlignConfig(), None, sigma8, lumas)
    merged = merge_weights(plan.lumas, plan.valid, result.reference, sigma_plan=sigma8 / 2)
    assert sum(d is not None for d in plan.disp) >= 1, "the demo burst is handheld: frames must move"
    aligned = np.stack([warp_rows(frames[i], plan.disp[i], 2, 0, h) for i in range(n)])
    weights = np.stack([upsample_rows(x, 2, 0, h, w) for x in merged.weights])
    map_weights = np.stack([upsample_rows(x, 2, 0, h, w) for x in merged.map_weights])
    mean, _ = reference_fusion(aligned, weights)
    _, blur = reference_fusion(aligned, map_weights, map_mode=map_mode)
    _, residual = reference_fusion(aligned, weights, map_mode=map_mode)
    # Bicubic overshoot beyond [0, 255] at hard edges is saturated in the merged image.
    assert np.abs(result.fused.astype(np.float64) - np.clip(mean, 0, 255)).max() <= 0.5 + 1e-3
    assert np.abs(result.blur_raw - blur).max() <= 1e-2
    assert np.abs(result.residual_raw - residual).max() <= 1e-2
    assert np.abs(residual - blur).max() > 1.0  # the two weightings differ on this burst: the check has teeth
    assert np.array_equal(result.coverage if result.coverage is not None else np.full((h, w), n),
                          (weights > 0).sum(axis=0))


def test_strips_upsample_and_warp_exactly_as_whole_frames(demo_burst):
    frames = demo_burst.frames
    plan = plan_alignment(frames, 255.0, 0)
    h, w = frames.shape[1:3]
    assert plan.small_size == (-(-h // 2), -(-w // 2)) and plan.factor == 2
    whole = align_burst(frames, 255.0, 0)
    moved = [i for i in range(len(frames)) if plan.disp[i] is not None]
    assert moved
    for i in moved:
        warped = warp_rows(frames[i], plan.disp[i], 2, 0, h)  # [H, W, 3] float32, unrounded
        assert np.array_equal(whole.frames[i], np.clip(np.rint(warped), 0, 255).astype(np.uint8))
        full = upsample_rows(plan.disp[i], 2, 0, h, w)
        assert np.array_equal(full, cv2.resize(plan.disp[i], None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)[:h, :w])
        for y0, y1 in ((0, 64), (40, 72), (64, 128), (h - 30, h)):
            assert np.array_equal(upsample_rows(plan.disp[i], 2, y0, y1, w), full[y0:y1])
            assert np.array_equal(warp_rows(frames[i], plan.disp[i], 2, y0, y1), warped[y0:y1])


def test_identical_frames_get_equal_weights_and_the_plain_mean():
    frame = shipped_image("chelsea.png")
    frames = np.stack([frame] * 4)
    result = process_burst(from_array(frames))
    assert np.array_equal(result.fused, frame) and result.blur_raw.max() == 0


def test_reruns_are_bit_identical_whatever_the_thread_count(demo_burst):
    a = process_burst(demo_burst)
    b = process_burst(demo_burst)
    assert np.array_equal(a.fused, b.fused) and np.array_equal(a.blur_raw, b.blur_raw)
    c = process_burst(demo_burst, FuseOptions(threads=1))
    d = process_burst(demo_burst, FuseOptions(threads=3))
    for r in (c, d):
        assert np.array_equal(a.fused, r.fused) and np.array_equal(a.blur_raw, r.blur_raw)


def test_reference_is_the_sharpest_consistent_frame():
    rng = np.random.default_rng(3)
    photo = shipped_image("coffee.png").astype(np.float64)
    frames = [_noisy(cv2.GaussianBlur(photo, (0, 0), s), rng, 1.0) for s in (2.0, 1.2, 0.3, 2.5)]
    frames.append(rng.integers(0, 256, photo.shape).astype(np.uint8))  # noise: sharpest gradients of all
    views = plan_views(np.stack(frames), 255.0, (photo.shape[0] // 2, photo.shape[1] // 2))
    assert choose_reference(views, "sharpest")[0] == 2
    assert choose_reference(views, "middle")[0] == 2 and choose_reference(views, 4)[0] == 4
    no_energy = plan_views(np.stack(frames), 255.0, views.lumas.shape[1:], energy=False)
    assert no_energy.full_energy is None and np.array_equal(no_energy.lumas, views.lumas)
    with pytest.raises(BurstError, match="full-resolution energy"):
        choose_reference(no_energy, "sharpest")


def _plan_tenengrad(luma: np.ndarray) -> float:
    """The former plan-level sharpness: noise-corrected Sobel energy of the half-resolution luma."""
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.mean(gx * gx + gy * gy)) - 64.0 * noise_sigma(luma) ** 2


def test_the_reference_choice_sees_blur_the_plan_level_hides():
    """A sharp frame against frames blurred by 0.6 px whose contrast is 10% higher (exposure changes between
    frames): at half resolution the blurred frames have more gradient energy, at full resolution the sharp
    one has; the reference is the sharp frame."""
    rng = np.random.default_rng(4)
    photo = shipped_image("coffee.png").astype(np.float64)
    mean = photo.mean()
    soft = (cv2.GaussianBlur(photo, (0, 0), 0.6) - mean) * 1.1 + mean
    frames = np.stack([_noisy(photo, rng, 1.0)] + [_noisy(soft, rng, 1.0) for _ in range(3)])
    views = plan_views(frames, 255.0, (photo.shape[0] // 2, photo.shape[1] // 2))
    assert int(np.argmax([_plan_tenengrad(x) for x in views.lumas])) != 0  # the case the plan level gets wrong
    assert choose_reference(views, "sharpest")[0] == 0


def test_a_sharp_frame_of_a_hard_shake_is_a_reference_candidate():
    """The sharpest frame's view lies 15% of the width away from the others': compared in place its
    thumbnail is far from the burst's median (the former check refused it), shifted onto the others it
    is not."""
    rng = np.random.default_rng(5)
    photo = shipped_image("coffee.png").astype(np.float64)  # 400 x 600: frames are 320 x 480 views of it
    h, w = 320, 480
    soft = cv2.GaussianBlur(photo, (0, 0), 1.5)
    frames = np.stack([_noisy(photo[40:40 + h, 12 + 72:12 + 72 + w], rng, 1.0)]
                      + [_noisy(soft[40 + dy:40 + dy + h, 12 + dx:12 + dx + w], rng, 1.0)
                         for dy, dx in ((0, 0), (2, 1), (-1, 3), (1, -2))])
    views = plan_views(frames, 255.0, (h // 2, w // 2))
    # the former check, slowly: blurred 48 px thumbnails against their per-pixel median, in place
    thumbs = np.stack([cv2.GaussianBlur(cv2.resize(x, (48, 32), interpolation=cv2.INTER_AREA), (0, 0), 1.5)
                       for x in views.lumas])
    in_place = np.abs(thumbs - np.median(thumbs, axis=0)).mean(axis=(1, 2))
    assert in_place[0] > 3.0 * np.median(in_place) + 4.0
    assert consistent_frames(views.lumas).all()
    assert choose_reference(views, "sharpest")[0] == 0
    junk = frames.copy()
    junk[0] = rng.integers(0, 256, junk[0].shape)  # pure noise is still no candidate
    assert not consistent_frames(small_lumas(junk, 255.0, (h // 2, w // 2)))[0]


def test_fba_closed_forms():
    photo = shipped_image("chelsea.png")[:128, :160].astype(np.float32)
    same = fourier_burst_accumulation(np.stack([photo] * 3))
    assert np.abs(same - photo).max() < 1e-2  # identical frames: the frame itself
    # One sharp frame and two blurred along x and y: FBA is closer to the sharp one than the mean is.
    bx = cv2.blur(photo, (9, 1))
    by = cv2.blur(photo, (1, 9))
    fba = fourier_burst_accumulation(np.stack([photo, bx, by]))
    mean = (photo + bx + by) / 3
    assert np.abs(fba - photo).mean() < 0.5 * np.abs(mean - photo).mean()


def test_hints_name_options_that_exist(tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    photo = shipped_image("chelsea.png")
    cv2.imwrite(str(folder / "0.png"), photo)
    cv2.imwrite(str(folder / "1.png"), np.zeros_like(photo))  # cannot be registered
    for command in ("fuse", "deblur"):
        assert main([command, str(folder), "--align", "homography", "-o", str(tmp_path / command)]) == 2
        err = capsys.readouterr().err
        assert "--on-fail skip" in err and not (tmp_path / command).exists()
        assert main([command, "--help"]) == 0
        assert "--on-fail" in capsys.readouterr().out
