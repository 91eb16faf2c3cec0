"""Burst alignment: a global warp with the identity as a candidate, refined by dense optical flow.

For every frame against the reference (NumPy + OpenCV only):

1. **Dense flow** at 1 / ``plan_factor`` of full resolution with OpenCV's DIS
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

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.fusion import parallel_map
from burstdeblur.runtime.burst.registration import gray8

DIS_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
               "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
MIN_SIDE = 16  # below this there is no structure to align: frames are used as shot
MAX_POINTS = 600  # grid points the global homography is fitted to (RANSAC and LK cost grows with them)
GLOBAL_LEVEL_MIN_SIDE = 256  # plan side from which the first flow pass runs one level lower (DIS needs ~128 px)


@dataclass(frozen=True)
class AlignConfig:
    plan_factor: int = 2  # flow, weights and every decision at half resolution: ~4 ms per 1080p DIS pair
    preset: str = "ultrafast"
    coarse_side: int = 400  # long side of the level where identity and homography are compared
    grid_step: int = 8  # px at flow resolution between the points the homography is fitted to
    ransac_px: float = 1.0  # at flow resolution
    local_flow: bool = True  # use the dense flow where the global warp leaves a difference it reduces
    identity_margin: float = 0.002  # identity kept unless the homography lowers the truncated cost by this

    @staticmethod
    def default() -> "AlignConfig":
        return AlignConfig()

    @property
    def flow_scale(self) -> float:
        """Plan resolution / full resolution."""
        return 1.0 / self.plan_factor

    def check(self) -> None:
        if self.plan_factor not in (1, 2, 4):
            raise BurstError(f"plan_factor must be 1, 2 or 4, got {self.plan_factor}")
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
class AlignmentPlan:
    """Where every reference pixel lies in every frame, at plan (flow) resolution, plus what the merge reads.

    The full-resolution frames are never copied here: the merge resamples them strip by strip
    (aligned_fusion.py), so a 12 MP burst needs no aligned copy of itself.
    """
    size: tuple[int, int]  # (H, W) of the frames
    small_size: tuple[int, int]  # (h, w) of the plan level
    reference: int
    disp: tuple[np.ndarray | None, ...]  # per frame [h, w, 2] float32 displacement in full-resolution px;
    #                                       None: the frame is used exactly as shot (reference, identity)
    lumas: np.ndarray  # [n, h, w] float32 luma (8-bit levels) of each frame resampled to the reference
    valid: np.ndarray  # [n, h, w] bool: the frame covers that pixel (one plan px of margin taken off)
    records: tuple[FrameAlignment, ...]

    @property
    def factor(self) -> int:
        """Full-resolution px per plan px."""
        return -(-self.size[0] // self.small_size[0])


@dataclass(frozen=True)
class DenseAlignment:
    frames: np.ndarray  # [n, H, W, C] aligned to the reference, input dtype
    valid: np.ndarray  # [n, H, W] bool: pixel covered by the warped frame
    records: tuple[FrameAlignment, ...]


def plan_size(h: int, w: int, config: AlignConfig) -> tuple[int, int]:
    """(h, w) of the plan level: the frame padded to a multiple of the plan factor, then block-averaged, so
    one plan px is exactly ``plan_factor`` full-resolution px (upsampling a strip then needs no global state)."""
    k = config.plan_factor
    return -(-h // k), -(-w // k)


@dataclass(frozen=True)
class PlanViews:
    """What the reference choice, the alignment and the merge read of the frames as shot (once per burst)."""
    lumas: np.ndarray  # [n, h, w] float32 BT.601 luma in 8-bit levels, block-averaged to the plan level
    # Per frame: mean Sobel energy gx^2 + gy^2 of the full-resolution luma (None when not asked for). A blur
    # of a pixel or two barely changes the plan-level luma's gradients, so the reference choice reads it here.
    full_energy: tuple[float, ...] | None
    factor: int  # full-resolution px per plan px


def plan_views(frames: np.ndarray, max_value: float, size: tuple[int, int], threads: int | None = None,
               energy: bool = True) -> PlanViews:
    """``[n, H, W, C]`` -> plan-level lumas ``[n, h, w]`` (``size``) and, with ``energy``, each frame's
    full-resolution gradient energy (only the sharpest-frame reference choice reads it)."""
    n, full_h, full_w = frames.shape[:3]
    h, w = size
    k = -(-full_h // h)
    out = np.empty((n, h, w), np.float32)  # [n, h, w]

    def one(i: int) -> float | None:
        # Full-resolution 8-bit luma first (OpenCV's integer conversion for uint8 frames), then a float block
        # average: rounding the small image to whole levels would add quantisation noise at the level where
        # the merge compares frames against the noise.
        luma = gray8(frames[i], max_value).astype(np.float32)  # [H, W]
        full_energy = None
        if energy:
            gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
            gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
            # sums of squares in one pass each, in double (no squared copies of the frame)
            full_energy = (cv2.norm(gx, cv2.NORM_L2SQR) + cv2.norm(gy, cv2.NORM_L2SQR)) / luma.size
        if (h * k, w * k) != (full_h, full_w):
            luma = cv2.copyMakeBorder(luma, 0, h * k - full_h, 0, w * k - full_w, cv2.BORDER_REPLICATE)
        out[i] = cv2.resize(luma, (w, h), interpolation=cv2.INTER_AREA) if k > 1 else luma
        return full_energy

    energies = parallel_map(one, range(n), threads)
    return PlanViews(out, tuple(energies) if energy else None, k)


def small_lumas(frames: np.ndarray, max_value: float, size: tuple[int, int], threads: int | None = None) -> np.ndarray:
    """``[n, H, W, C]`` -> ``[n, h, w]`` float32 BT.601 luma in 8-bit levels, block-averaged to ``size`` (h, w).

    The reference choice, the alignment and the merge weights all read this one small luma (computed once
    per burst): every decision is taken at plan resolution, only the final resampling is at full size."""
    return plan_views(frames, max_value, size, threads, energy=False).lumas


def plan_alignment(frames: np.ndarray, max_value: float, reference: int, config: AlignConfig = AlignConfig(),
                   names: tuple[str, ...] | None = None, noise_sigma8: float = 1.0,
                   lumas: np.ndarray | None = None, threads: int | None = None) -> AlignmentPlan:
    """Align ``[n, H, W, C]`` frames to ``frames[reference]`` at plan resolution.

    Args:
        noise_sigma8: noise std of the full-resolution luma in 8-bit levels (sets the truncation of the
            photometric cost and the local-flow test).
        lumas: the frames' ``[n, h, w]`` small_lumas when the caller has them already.
        threads: frames aligned at once (default min(4, CPUs)); the result does not depend on it.
    Returns:
        the plan (displacements, resampled small lumas, coverage) and one record per frame. No frame is
        ever refused: the merge decides how much each aligned pixel counts.
    """
    config.check()
    n, h, w, _ = frames.shape
    names = names or tuple(str(i) for i in range(n))
    fh, fw = plan_size(h, w, config)
    if lumas is None:
        lumas = small_lumas(frames, max_value, (fh, fw))
    if lumas.shape != (n, fh, fw):
        raise BurstError(f"plan lumas have shape {lumas.shape}, expected {(n, fh, fw)}")
    aligned = np.empty_like(lumas)  # [n, fh, fw]
    valid = np.ones((n, fh, fw), bool)  # [n, fh, fw]
    if min(h, w) < MIN_SIDE:
        aligned[...] = lumas
        return AlignmentPlan((h, w), (fh, fw), reference, (None,) * n, aligned, valid, tuple(
            FrameAlignment(i, names[i], "reference" if i == reference else "none", _tuple(np.eye(3)),
                           None, None, 0.0, 0.0, 1.0) for i in range(n)))
    sx = sy = float(config.plan_factor)  # full-resolution px per plan px
    ref_small = cv2.convertScaleAbs(lumas[reference])  # [fh, fw] DIS reads 8 bits
    cs = min(1.0, config.coarse_side / max(fh, fw))
    ref_coarse = cv2.resize(ref_small, None, fx=cs, fy=cs, interpolation=cv2.INTER_AREA) if cs < 1 else ref_small
    grid_small = _grid(fh, fw)  # [fh, fw, 2]
    points = _textured_points(ref_small, config.grid_step)  # [k, 2] plan px
    # The truncation of the photometric cost: differences beyond ~3 noise stds (coarse level averages noise down).
    # Both sides are low-passed first, so frames with different motion blur still agree where aligned.
    tau = 3.0 * noise_sigma8 / max(1.0, 1.0 / cs / config.flow_scale) + 6.0
    ref_coarse = _lowpass(ref_coarse)
    # The level of the first (global) flow pass: half the plan resolution unless the plan is already small.
    g = 2 if min(fh, fw) >= GLOBAL_LEVEL_MIN_SIDE else 1
    ref_level = cv2.resize(ref_small, (-(-fw // g), -(-fh // g)), interpolation=cv2.INTER_AREA) if g > 1 else ref_small
    points_level = np.floor(points / g)  # whole level px, where the flow is read
    # Level px u <-> plan px g u + (g - 1) / 2 (pixel centres of a g x g block average).
    to_plan = np.array([[g, 0, (g - 1) / 2], [0, g, (g - 1) / 2], [0, 0, 1]], np.float64)
    from_plan = np.linalg.inv(to_plan)
    def align_one(i: int) -> tuple[np.ndarray | None, FrameAlignment]:
        """Frame i against the reference: fills aligned[i] and valid[i], returns (displacement, record)."""
        if i == reference:
            aligned[i] = lumas[i]
            return None, FrameAlignment(i, names[i], "reference", _tuple(np.eye(3)), 0.0, 0.0, 0.0, 0.0, 1.0)
        dis = cv2.DISOpticalFlow_create(DIS_PRESETS[config.preset])  # one per call: frames run on threads
        small = cv2.convertScaleAbs(lumas[i])  # rounded, saturated  # [fh, fw]
        coarse = _lowpass(cv2.resize(small, ref_coarse.shape[::-1], interpolation=cv2.INTER_AREA) if cs < 1 else small)
        # A large jerk can exceed what DIS's pyramid finds: start it from the phase-correlation translation.
        shift = _phase_shift(ref_coarse, coarse, cs)
        # First pass for the global estimate only, one level below the plan (the second pass and the LK polish
        # measure precisely): DIS from the phase-correlation start, a homography fitted to it.
        pre = np.array([[1, 0, shift[0] / g], [0, 1, shift[1] / g], [0, 0, 1]], np.float64)
        level = cv2.resize(small, ref_level.shape[::-1], interpolation=cv2.INTER_AREA) if g > 1 else small
        flow = dis.calc(ref_level, _warp(level, pre), None)  # [fh/g, fw/g, 2]
        sh = (shift / g).astype(np.float32)
        cv2.add(flow, (float(sh[0]), float(sh[1]), 0.0, 0.0), dst=flow)  # one rounding, as flow += sh
        hom_level = _fit_homography(points_level, flow, config.ransac_px)
        hom_small = None if hom_level is None else to_plan @ hom_level @ from_plan
        cost_id = _truncated_cost(ref_coarse, coarse, np.eye(3), tau)
        cost_h = None
        model, glob = "identity", np.eye(3)
        if hom_small is not None:
            scale_c = np.diag([cs, cs, 1.0])
            cost_h = _truncated_cost(ref_coarse, coarse, scale_c @ hom_small @ np.linalg.inv(scale_c), tau)
            if cost_h < cost_id - config.identity_margin:
                model, glob = "homography", hom_small
        warped = small
        if model == "homography":
            # Pyramidal LK tracks on the globally warped frame polish the warp (sub-pixel where DIS's patches
            # stop at a coarser scale): a handheld burst is mostly global.
            warped = _warp(small, glob)
            polish = _track_homography(ref_small, warped, points, config.ransac_px)
            if polish is not None:
                glob = glob @ polish
                warped = _warp(small, glob)
        # Second pass on the frame as globally warped: the residual flow is small, so DIS measures it
        # precisely. It is used only where the global warp leaves a difference beyond noise and the flow
        # reduces it: elsewhere the global warp is used exactly (a static background stays bit-exact).
        residual = dis.calc(ref_small, warped, None)  # [fh, fw, 2]
        k = 2 * config.grid_step + 1
        d_glob = cv2.boxFilter(cv2.absdiff(warped, ref_small), cv2.CV_32F, (k, k))  # [fh, fw]
        local_warped = cv2.remap(warped, cv2.add(grid_small, residual), None, cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        d_local = cv2.boxFilter(cv2.absdiff(local_warped, ref_small), cv2.CV_32F, (k, k))
        t_local = 3.0 * noise_sigma8 + 6.0
        # [fh, fw] 0 / 255: a global difference beyond noise that the residual flow halves
        local = cv2.bitwise_and(cv2.compare(d_glob, t_local, cv2.CMP_GT),
                                cv2.compare(d_local, cv2.multiply(d_glob, 0.5), cv2.CMP_LT))
        if not config.local_flow:
            local[...] = 0
        any_local = cv2.countNonZero(local) > 0
        if model == "identity" and not any_local:
            disp = None  # the frame as shot: no resampling at all
            aligned[i] = lumas[i]
            map_small = grid_small
        else:
            map_small = _apply(glob, grid_small)  # [fh, fw, 2] frame position, plan px
            if any_local:
                cv2.add(map_small, residual, dst=map_small, mask=local)
            cv2.remap(lumas[i], map_small, None, cv2.INTER_CUBIC, dst=aligned[i], borderMode=cv2.BORDER_REPLICATE)
            disp = cv2.subtract(map_small, grid_small)
            disp *= np.float32(sx)  # [fh, fw, 2] full-resolution px (the plan factor is the same both ways)
        inside = cv2.inRange(map_small, (0.0, 0.0), (float(fw - 1), float(fh - 1)))  # [fh, fw] 0 / 255
        # One plan px of margin: a full-resolution pixel interpolates its weight from plan px around it.
        valid[i] = cv2.erode(inside, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE) > 0
        full_h = np.diag([sx, sy, 1.0]) @ glob @ np.diag([1 / sx, 1 / sy, 1.0])
        # Median over every 4th plan px each way: a report figure, not worth a full sort.
        shift_px = 0.0 if disp is None else float(np.median(np.hypot(disp[::4, ::4, 0], disp[::4, ::4, 1])))
        return disp, FrameAlignment(
            i, names[i], model, _tuple(full_h / full_h[2, 2]), round(cost_id, 5),
            None if cost_h is None else round(cost_h, 5), cv2.countNonZero(local) / local.size, shift_px,
            float(np.count_nonzero(inside)) / inside.size)

    results = parallel_map(align_one, range(n), threads)  # frames are independent
    disps = [r[0] for r in results]
    records = [r[1] for r in results]
    return AlignmentPlan((h, w), (fh, fw), reference, tuple(disps), aligned, valid, tuple(records))


def upsample_rows(small: np.ndarray, factor: int, y0: int, y1: int, width: int) -> np.ndarray:
    """Rows y0..y1 (full resolution) of the bilinear upsampling of a plan-level ``[h, w, ...]`` float32 map.

    The same values as upsampling the whole map with ``cv2.resize(fx=fy=factor)`` (pixel-centre convention,
    border replicated): a band of plan rows with one row of margin is resized and cropped, so strips never
    need a full-resolution copy of the map."""
    if factor == 1:
        return small[y0:y1, :width]
    fh = small.shape[0]
    a = max(0, y0 // factor - 1)
    b = min(fh, -(-y1 // factor) + 1)
    # Inside the map the band's own edge rows (replicated, unlike the whole map's) fall in the margin.
    band = cv2.resize(small[a:b], None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)
    return band[y0 - a * factor:y1 - a * factor, :width]


def row_grid(y0: int, y1: int, width: int) -> np.ndarray:
    """``[y1 - y0, W, 2]`` float32 (x, y) of each pixel of rows y0..y1 (shared by every frame of a strip)."""
    grid = np.empty((y1 - y0, width, 2), np.float32)
    grid[..., 0] = np.arange(width, dtype=np.float32)[None, :]
    grid[..., 1] = np.arange(y0, y1, dtype=np.float32)[:, None]
    return grid


def frame_map(disp: np.ndarray, factor: int, y0: int, y1: int, width: int,
              grid: np.ndarray | None = None) -> np.ndarray:
    """``[y1 - y0, W, 2]`` float32 frame position of each reference pixel of rows y0..y1."""
    full = upsample_rows(disp, factor, y0, y1, width)  # [r, W, 2]
    return cv2.add(full, row_grid(y0, y1, width) if grid is None else grid)


def warp_rows(frame: np.ndarray, disp: np.ndarray | None, factor: int, y0: int, y1: int,
              grid: np.ndarray | None = None, reach: tuple[float, float] | None = None) -> np.ndarray:
    """Rows y0..y1 of ``frame`` ``[H, W, C]`` resampled to the reference: ``[r, W, C]`` float32 (bicubic:
    +0.2 dB over bilinear on the independent bursts, and unrounded); the frame's own rows, in its own
    dtype, when it did not move.

    Only the band of source rows the strip's map reaches (plus the cubic kernel's reach) is converted
    to float: OpenCV's float bicubic remap is ~1.5x faster than its 8-bit one. ``reach``: the least and
    greatest vertical displacement of the whole map (row_reach), when the caller has it."""
    if disp is None:
        return frame[y0:y1]
    h = frame.shape[0]
    m = frame_map(disp, factor, y0, y1, frame.shape[1], grid)  # [r, W, 2]
    dy_lo, dy_hi = row_reach(disp) if reach is None else reach  # bilinear upsampling stays within them
    lo = int(np.clip(np.floor(y0 + dy_lo) - 2, 0, h - 1))
    hi = int(np.clip(np.ceil(y1 - 1 + dy_hi) + 3, lo + 1, h))
    band = frame[lo:hi].astype(np.float32)  # [hi - lo, W, C]
    if lo:
        # whole rows: exact in float32, the same sample positions (one OpenCV pass, not a strided NumPy one)
        cv2.subtract(m, (0.0, float(lo), 0.0, 0.0), dst=m)
    # Border replication at the band's edges equals the frame's: the band reaches past every sampled row
    # unless it stops at the frame's own edge.
    out = cv2.remap(band, m, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape((y1 - y0,) + frame.shape[1:])


def row_reach(disp: np.ndarray) -> tuple[float, float]:
    """Least and greatest vertical displacement (full-resolution px) of a plan-level map."""
    dy = disp[..., 1]
    return float(dy.min()), float(dy.max())


def to_dtype(x: np.ndarray, dtype: np.dtype, max_value: float) -> np.ndarray:
    """Resampled float samples back to the frames' dtype (integers rounded and clipped to the range)."""
    if np.dtype(dtype).kind == "u":
        return np.clip(np.rint(x), 0, max_value).astype(dtype)
    return x.astype(dtype, copy=False)


def align_burst(frames: np.ndarray, max_value: float, reference: int, config: AlignConfig = AlignConfig(),
                names: tuple[str, ...] | None = None, noise_sigma8: float = 1.0) -> DenseAlignment:
    """The plan applied to whole frames: an aligned ``[n, H, W, C]`` copy (for FBA and other whole-frame
    consumers; the burst path itself never makes this copy)."""
    plan = plan_alignment(frames, max_value, reference, config, names, noise_sigma8)
    n, h, w, _ = frames.shape
    k = config.plan_factor
    out = np.empty_like(frames)  # [n, H, W, C]
    valid = np.ones((n, h, w), bool)  # [n, H, W]
    for i in range(n):
        out[i] = to_dtype(warp_rows(frames[i], plan.disp[i], k, 0, h), frames.dtype, max_value)
        if plan.disp[i] is not None:
            m = frame_map(plan.disp[i], k, 0, h, w)
            valid[i] = (m[..., 0] >= 0) & (m[..., 0] <= w - 1) & (m[..., 1] >= 0) & (m[..., 1] <= h - 1)
    return DenseAlignment(out, valid, plan.records)


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
    keep = np.flatnonzero(score >= np.percentile(score, 50))  # the better-textured half of the grid
    if keep.size > MAX_POINTS:  # evenly thinned: a homography needs hundreds of good points, not thousands
        keep = keep[np.linspace(0, keep.size - 1, MAX_POINTS).astype(int)]
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
