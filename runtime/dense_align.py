"""Burst alignment: a global warp with the identity as a candidate, refined by dense optical flow.

For every frame against the reference (NumPy + OpenCV only):

1. **Dense flow** at ``flow_scale`` of full resolution with OpenCV's DIS
   optical flow (a coarse-to-fine patch method: large handheld shifts are
   found on its pyramid), reference -> frame.
2. **Global estimate:** a homography fitted by RANSAC to the flow at textured
   grid points (flat areas give unreliable flow), and the **identity**. Both are
   scored photometrically on a coarse level with a truncated residual, so the
   warp that explains most of the picture wins; the identity wins ties. A static
   camera with one moving object keeps the identity: the object covers less of
   the picture than the background (ECC and feature RANSAC can lock onto a
   textured object over a smooth background).
3. **Local refinement:** a second DIS pass on the globally warped frame
   measures the residual flow precisely; a homography fitted to it polishes
   the global warp. Where the globally warped frame still differs from the
   reference beyond noise (local motion, parallax) and the residual flow
   reduces that difference, the flow is kept; elsewhere the global warp is
   used exactly, so a static scene is resampled at integer positions and
   stays bit-exact.

Per-pixel confidence is not decided here: the merge (robust_merge.py) weighs
each aligned pixel by its agreement with the reference. Pixels the warped
frame does not cover are marked invalid.

Maps: ``disp[y, x]`` is where reference pixel (x, y) lies in the frame, minus
(x, y); ``cv2.remap(frame, x + dx, y + dy)`` aligns the frame.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .errors import BurstError
from .registration import gray8

DIS_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
               "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
MIN_SIDE = 16  # below this there is no structure to align: frames are used as shot


@dataclass(frozen=True)
class AlignConfig:
    flow_scale: float = 0.5  # dense flow at half resolution: ~4 ms per 1080p pair (DIS ultrafast), ~0.3 px
    preset: str = "ultrafast"
    coarse_side: int = 400  # long side of the level where identity and homography are compared
    grid_step: int = 8  # px at flow resolution between the points the homography is fitted to
    ransac_px: float = 1.0  # at flow resolution
    local_flow: bool = True  # use the dense flow where the global warp leaves a difference it reduces
    identity_margin: float = 0.002  # identity kept unless the homography lowers the truncated cost by this

    @staticmethod
    def default() -> "AlignConfig":
        return AlignConfig()

    def check(self) -> None:
        if not 0.05 <= self.flow_scale <= 1.0:
            raise BurstError(f"flow_scale must be in [0.05, 1], got {self.flow_scale}")
        if self.preset not in DIS_PRESETS:
            raise BurstError(f"unknown DIS preset {self.preset!r}; choose one of {', '.join(DIS_PRESETS)}")
        if self.coarse_side < 32 or self.grid_step < 1 or self.ransac_px <= 0:
            raise BurstError("coarse_side >= 32, grid_step >= 1 and ransac_px > 0 are required")


@dataclass(frozen=True)
class FrameAlignment:
    index: int
    name: str
    global_model: str  # reference | identity | homography | none (frame too small to align)
    homography: tuple[tuple[float, ...], ...]  # reference -> frame, full-resolution px
    cost_identity: float | None  # truncated photometric cost on the coarse level (0 = all agree)
    cost_homography: float | None
    local_fraction: float  # share of pixels where the dense flow departs from the global warp
    median_shift_px: float  # median |displacement| over the frame
    covered: float  # share of reference pixels the warped frame covers

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DenseAlignment:
    frames: np.ndarray  # [n, H, W, C] aligned to the reference, input dtype
    valid: np.ndarray  # [n, H, W] bool: pixel covered by the warped frame
    records: tuple[FrameAlignment, ...]


def burst_gray(frames: np.ndarray, max_value: float) -> np.ndarray:
    """``[n, H, W, C]`` -> ``[n, H, W]`` float32 luma in 8-bit levels: what the reference choice, the
    alignment and the merge weights all read (computed once per burst and once after alignment)."""
    return np.stack([gray8(f, max_value) for f in frames]).astype(np.float32)


def align_burst(frames: np.ndarray, max_value: float, reference: int, config: AlignConfig = AlignConfig(),
                names: tuple[str, ...] | None = None, noise_sigma8: float = 1.0,
                gray: np.ndarray | None = None) -> DenseAlignment:
    """Align ``[n, H, W, C]`` frames to ``frames[reference]``.

    Args:
        noise_sigma8: noise std of the luma in 8-bit levels (sets the truncation of the photometric cost).
        gray: the frames' ``[n, H, W]`` luma (burst_gray) when the caller has it already.
    Returns:
        aligned frames, coverage masks and one record per frame (never refuses a frame: the merge decides
        how much each aligned pixel counts).
    """
    config.check()
    n, h, w, _ = frames.shape
    names = names or tuple(str(i) for i in range(n))
    aligned = np.empty_like(frames)  # [n, H, W, C]
    valid = np.ones((n, h, w), bool)  # [n, H, W]
    records = []
    if gray is None:
        gray = burst_gray(frames, max_value)  # [n, H, W] float32
    ref_luma = gray[reference].astype(np.uint8)  # [H, W], exact: whole levels
    if min(h, w) < MIN_SIDE:
        aligned[...] = frames
        return DenseAlignment(aligned, valid, tuple(
            FrameAlignment(i, names[i], "reference" if i == reference else "none", _tuple(np.eye(3)),
                           None, None, 0.0, 0.0, 1.0) for i in range(n)))
    fh, fw = max(8, round(h * config.flow_scale)), max(8, round(w * config.flow_scale))
    ref_small = cv2.resize(ref_luma, (fw, fh), interpolation=cv2.INTER_AREA)
    cs = min(1.0, config.coarse_side / max(fh, fw))
    ref_coarse = cv2.resize(ref_small, None, fx=cs, fy=cs, interpolation=cv2.INTER_AREA) if cs < 1 else ref_small
    dis = cv2.DISOpticalFlow_create(DIS_PRESETS[config.preset])
    grid_small = _grid(fh, fw)  # [fh, fw, 2]
    points = _textured_points(ref_small, config.grid_step)  # [k, 2] flow-resolution px
    # The truncation of the photometric cost: differences beyond ~3 noise stds (coarse level averages noise down).
    # Both sides are low-passed first, so frames with different motion blur still agree where aligned.
    tau = 3.0 * noise_sigma8 / max(1.0, 1.0 / cs / config.flow_scale) + 6.0
    ref_coarse = _lowpass(ref_coarse)
    full_grid = None
    for i in range(n):
        if i == reference:
            aligned[i] = frames[i]
            records.append(FrameAlignment(i, names[i], "reference", _tuple(np.eye(3)), 0.0, 0.0, 0.0, 0.0, 1.0))
            continue
        small = cv2.resize(gray[i].astype(np.uint8), (fw, fh), interpolation=cv2.INTER_AREA)
        # A large jerk can exceed what DIS's pyramid finds: start it from the phase-correlation translation.
        shift = _phase_shift(ref_coarse, _lowpass(cv2.resize(small, ref_coarse.shape[::-1],
                                                             interpolation=cv2.INTER_AREA) if cs < 1 else small), cs)
        pre = np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]], np.float64)
        flow = dis.calc(ref_small, _warp(small, pre), None) + shift.astype(np.float32)  # [fh, fw, 2]
        hom_small = _fit_homography(points, flow, config.ransac_px)
        coarse = _lowpass(cv2.resize(small, ref_coarse.shape[::-1], interpolation=cv2.INTER_AREA) if cs < 1 else small)
        cost_id = _truncated_cost(ref_coarse, coarse, np.eye(3), tau)
        cost_h = None
        model, glob = "identity", np.eye(3)
        if hom_small is not None:
            scale_c = np.diag([cs, cs, 1.0])
            cost_h = _truncated_cost(ref_coarse, coarse, scale_c @ hom_small @ np.linalg.inv(scale_c), tau)
            if cost_h < cost_id - config.identity_margin:
                model, glob = "homography", hom_small
        # Second pass on the frame warped by the global estimate: the residual flow is small, so DIS measures
        # it precisely; a homography fitted to it polishes the global warp (a handheld burst is mostly global).
        warped = _warp(small, glob) if model == "homography" else small
        residual = dis.calc(ref_small, warped, None)  # [fh, fw, 2]
        if model == "homography":
            polish = _track_homography(ref_small, warped, points, config.ransac_px)
            if polish is not None:
                glob = glob @ polish
                residual = residual - (_apply(polish, grid_small) - grid_small)
                warped = _warp(small, glob)
        # Local flow only where the global warp leaves a difference beyond noise and the flow reduces it:
        # elsewhere the global warp is used exactly (a static background stays bit-exact).
        k = 2 * config.grid_step + 1
        d_glob = cv2.blur(np.abs(warped.astype(np.float32) - ref_small), (k, k))
        local_warped = cv2.remap(warped, grid_small + residual, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        d_local = cv2.blur(np.abs(local_warped.astype(np.float32) - ref_small), (k, k))
        t_local = 3.0 * noise_sigma8 + 6.0
        local = (d_glob > t_local) & (d_local < 0.5 * d_glob) & config.local_flow  # [fh, fw]
        global_disp = _apply(glob, grid_small) - grid_small  # [fh, fw, 2]
        disp_small = global_disp + residual * local[..., None]
        if full_grid is None:
            full_grid = _grid(h, w)
        disp = cv2.resize(disp_small, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(1.0 / config.flow_scale)
        map_xy = full_grid + disp  # [H, W, 2] frame px for each reference px
        m1, m2 = cv2.convertMaps(map_xy, None, cv2.CV_16SC2)
        out = cv2.remap(frames[i], m1, m2, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        aligned[i] = out.reshape(frames.shape[1:])
        mx, my = map_xy[..., 0], map_xy[..., 1]
        valid[i] = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
        s = 1.0 / config.flow_scale
        full_h = np.diag([s, s, 1.0]) @ glob @ np.diag([1 / s, 1 / s, 1.0])
        records.append(FrameAlignment(
            i, names[i], model, _tuple(full_h / full_h[2, 2]), round(cost_id, 5),
            None if cost_h is None else round(cost_h, 5), float(local.mean()),
            float(np.median(np.hypot(disp_small[..., 0], disp_small[..., 1]))) * s, float(valid[i].mean())))
    return DenseAlignment(aligned, valid, tuple(records))


def _phase_shift(ref: np.ndarray, frame: np.ndarray, cs: float) -> np.ndarray:
    """Translation (flow-resolution px) of ``frame`` against ``ref`` by phase correlation on the coarse level;
    0 when the peak is weak (no dominant translation)."""
    window = cv2.createHanningWindow(ref.shape[::-1], cv2.CV_32F)
    # phaseCorrelate multiplies its inputs by the window in place (OpenCV 5.0.0.93): pass copies.
    (dx, dy), response = cv2.phaseCorrelate(ref.copy(), frame.copy(), window)
    if response < 0.05 or not np.isfinite(dx + dy):
        return np.zeros(2)
    return np.array([dx, dy]) / cs


def _lowpass(gray: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 1.5)


def _warp(image: np.ndarray, hom: np.ndarray) -> np.ndarray:
    """Resample ``image`` at ``hom`` (reference -> frame) of each reference pixel."""
    h, w = image.shape[:2]
    return cv2.warpPerspective(image, hom, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)


def _grid(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.dstack([xx, yy])  # [h, w, 2]


def _textured_points(gray: np.ndarray, step: int) -> np.ndarray:
    """Grid points ``[k, 2]`` (x, y) whose neighbourhood has structure in two directions (Shi-Tomasi)."""
    eig = cv2.cornerMinEigenVal(gray, 7)  # [h, w]
    ys, xs = np.mgrid[step // 2:gray.shape[0]:step, step // 2:gray.shape[1]:step]
    score = eig[ys, xs].ravel()
    pts = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    if pts.shape[0] < 8:
        return pts
    keep = score >= np.percentile(score, 50)  # the better-textured half of the grid
    return pts[keep]


def _fit_homography(points: np.ndarray, flow: np.ndarray, ransac_px: float) -> np.ndarray | None:
    if points.shape[0] < 8:
        return None
    xi, yi = points[:, 0].astype(int), points[:, 1].astype(int)
    dst = points + flow[yi, xi]
    hom, mask = cv2.findHomography(points, dst, cv2.RANSAC, ransac_px, maxIters=500, confidence=0.995)
    if hom is None or mask is None or mask.sum() < 8 or not np.all(np.isfinite(hom)):
        return None
    inl = mask.ravel().astype(bool)
    # Least-squares polish on all inliers: RANSAC's minimal sets are noisy, the many inliers average it out.
    polished, _ = cv2.findHomography(points[inl], dst[inl], 0)
    return polished if polished is not None and np.all(np.isfinite(polished)) else hom


def _track_homography(ref: np.ndarray, frame: np.ndarray, points: np.ndarray, ransac_px: float) -> np.ndarray | None:
    """Homography fitted to pyramidal Lucas-Kanade tracks of ``points``: sub-pixel precise where the
    residual motion is small (DIS's patches stop at a coarser scale)."""
    if points.shape[0] < 8:
        return None
    moved, status, _ = cv2.calcOpticalFlowPyrLK(ref, frame, points.reshape(-1, 1, 2), None, winSize=(15, 15),
                                                maxLevel=2)
    ok = status.ravel() == 1
    if ok.sum() < 8:
        return None
    src, dst = points[ok], moved.reshape(-1, 2)[ok]
    hom, mask = cv2.findHomography(src, dst, cv2.RANSAC, ransac_px, maxIters=500, confidence=0.995)
    if hom is None or mask is None or mask.sum() < 8:
        return None
    inl = mask.ravel().astype(bool)
    polished, _ = cv2.findHomography(src[inl], dst[inl], 0)
    return polished if polished is not None and np.all(np.isfinite(polished)) else None


def _apply(hom: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Homography applied to a ``[h, w, 2]`` grid."""
    return cv2.perspectiveTransform(grid.reshape(1, -1, 2), hom.astype(np.float64)).reshape(grid.shape)


def _truncated_cost(ref: np.ndarray, frame: np.ndarray, hom: np.ndarray, tau: float) -> float:
    """Mean of min((d / tau)^2, 1) over the pixels the warp keeps inside the frame: robust to moving objects."""
    h, w = ref.shape
    warped = cv2.warpPerspective(frame, hom, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REPLICATE)
    d = (warped - ref) / np.float32(tau)
    return float(np.mean(np.minimum(d * d, 1.0)))


def _tuple(hom: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(round(float(v), 8) for v in row) for row in np.asarray(hom))
