"""Per-pixel merge weights for aligned frames: agreement with the reference times local sharpness.

    w_i(x) = r_i(x) * s_i(x)          (the reference has r = 1)

Both are computed on the plan level of the alignment (half resolution by default: dense_align.py),
from the small lumas resampled to the reference, and upsampled bilinearly while the full-resolution
frames are fused strip by strip (aligned_fusion.py). They are smooth by construction (window means),
so nothing is lost by deciding them at half resolution, and the burst needs no full-size weight arrays.

- **Robustness r** (deghosting, as HDR+'s robust merge): the mean absolute
  difference to the reference over ``robust_scale`` x ``robust_scale`` plan
  px, where noise and the frames' different motion blurs average out but a
  moving object or a misaligned region does not. Up to ``t1`` the frame
  counts fully (r = 1 exactly, so a static background is the plain mean), from
  ``t2`` not at all, linearly between; t1 and t2 grow with the burst's noise
  level, estimated from the reference (Immerkaer's Laplacian estimator, median
  form so texture does not inflate it), and t1 is at least the median window
  difference of the best-agreeing frame (up to the former fixed threshold,
  2 noise means + 1 level, so a burst of junk still agrees nowhere):
  spatially correlated noise (demosaiced, denoised or rescaled frames) has
  little Laplacian energy, and without that floor every frame of such a
  burst was refused.
- **Sharpness s** (the patent's per-pixel gradient weights): local gradient
  energy of each aligned frame over ``sharp_window`` plan px, plus the energy
  noise alone would give, relative to the sharpest frame there, to the power
  ``sharp_power``. Ratios above ``sharp_deadzone`` count as 1, so frames that
  are equally sharp (a tripod) get equal weights instead of noise-driven ones.

The blur-degree map is the weighted standard deviation over the aligned frames with the sharpness
weights alone (``map_weights``): where the merge had to fall back to fewer frames (local motion,
residual misalignment) the map stays high, which is the blur left in the merged image for the nets.

A frame whose robust weight is below 0.5 on more than ``1 - min_area`` of the
picture is dropped (it did not align or shows another scene); the report says
which frames were dropped and how much area each frame contributed.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.fusion import parallel_map

IMMERKAER = np.float32([[1, -2, 1], [-2, 4, -2], [1, -2, 1]])


@dataclass(frozen=True)
class MergeConfig:
    robust_scale: int = 4  # window (plan px) of the mean absolute difference
    t1_sigmas: float = 1.25  # full weight while the window difference is within this many noise stds ...
    t1_floor: float = 0.1  # ... plus this many 8-bit levels (a noise-free burst still tolerates rounding)
    t2_factor: float = 2.0  # zero weight from t2 = t2_factor * t1
    t1_typical: float = 1.0  # t1 at least the best-agreeing frame's median window difference ...
    t1_cap_sigmas: float = 2.0  # ... but never above this many noise means ...
    t1_cap_floor: float = 1.0  # ... plus this many levels (the former fixed threshold): junk never agrees
    sharp_window: int = 9  # plan px over which gradient energy is summed
    sharp_power: float = 8.0
    sharp_deadzone: float = 0.95
    min_area: float = 0.1  # a frame must agree with the reference on this share of its pixels to be used

    @staticmethod
    def default() -> "MergeConfig":
        return MergeConfig()

    def check(self) -> None:
        if self.robust_scale < 1 or self.sharp_window < 1:
            raise BurstError("robust_scale >= 1 and sharp_window >= 1 are required")
        if self.t2_factor <= 1 or min(self.t1_sigmas, self.t1_floor, self.t1_typical, self.t1_cap_sigmas,
                                      self.t1_cap_floor, self.sharp_power) < 0:
            raise BurstError("t2_factor > 1 and non-negative t1/sharpness settings are required")
        if not 0 <= self.sharp_deadzone <= 1 or not 0 <= self.min_area <= 1:
            raise BurstError("sharp_deadzone and min_area must be in [0, 1]")


@dataclass(frozen=True)
class MergeWeights:
    both: np.ndarray  # [n, h, w, 2] float32 at plan resolution: (merge weight, map weight), upsampled together
    used: tuple[bool, ...]  # per frame: contributes at all
    agree_fraction: tuple[float, ...]  # per frame: share of its covered pixels with robust weight >= 0.5
    mean_weight: tuple[float, ...]  # per frame: mean normalised weight over the picture
    noise_sigma8: float  # estimated noise std of the reference's full-resolution luma, 8-bit levels

    @property
    def weights(self) -> np.ndarray:
        """``[n, h, w]`` merge weights (not normalised; 0 where a frame is not used)."""
        return self.both[..., 0]

    @property
    def map_weights(self) -> np.ndarray:
        """``[n, h, w]`` map weights: sharpness x coverage of the used frames (no robustness)."""
        return self.both[..., 1]


def noise_sigma(luma: np.ndarray) -> float:
    """Noise std of a ``[H, W]`` image in its own units (Immerkaer 1996, median form)."""
    if min(luma.shape) < 3:
        return 0.0
    lap = cv2.filter2D(luma.astype(np.float32), -1, IMMERKAER, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    if lap.size > 2 ** 17:  # the median of a regular quarter of the pixels: as good an estimate, 4x cheaper
        lap = lap[::2, ::2]
    # The kernel's L2 norm is 6; median |N(0, s)| = 0.6745 s.
    return float(np.median(np.abs(lap)) / (6.0 * 0.6745))


def sharpness_energy(luma: np.ndarray, config: MergeConfig) -> np.ndarray:
    """``[h, w]`` float32 plan-level luma -> local gradient energy ``[h, w]``."""
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
    k = config.sharp_window
    return cv2.blur(gx * gx + gy * gy, (k, k))


def _power(x: np.ndarray, p: float) -> None:
    """``x **= p`` in place; powers of two by repeated squaring (several times faster than pow)."""
    k = int(p)
    if k == p and k >= 1 and k & (k - 1) == 0:
        while k > 1:
            np.multiply(x, x, out=x)
            k >>= 1
    elif p == 0:
        x[...] = 1.0
    else:
        np.power(x, np.float32(p), out=x)


def merge_weights(lumas: np.ndarray, valid: np.ndarray, reference: int, config: MergeConfig = MergeConfig(),
                  sigma_plan: float | None = None, plan_scale: float = 0.5, threads: int | None = None) -> MergeWeights:
    """Weights for ``[n, h, w]`` float32 plan-level luma (8-bit levels) of aligned frames with ``[n, h, w]``
    coverage.

    Args:
        sigma_plan: noise std of the reference's plan-level luma (estimated here when None).
        plan_scale: plan resolution / full resolution (only for the reported full-resolution noise level).
        threads: workers for the frames and row bands (see fusion.parallel_map).
    """
    config.check()
    n, h, w = lumas.shape
    s = noise_sigma(lumas[reference]) if sigma_plan is None else sigma_plan
    f = config.robust_scale
    ref = lumas[reference]  # [h, w]
    # Sobel (ksize 3) of white noise of std s has energy 2 * 32 s^2 (each kernel has squared norm 32):
    # flat areas, where noise is all the gradient there is, get ratios near 1 and so equal weights.
    noise_energy = 64.0 * s * s
    # [n, h, w]: gradient energy, then in place its ratio to the sharpest frame, dead zone, power, floor
    sharp = np.empty((n, h, w), np.float32)

    def energy(i: int) -> None:
        sharp[i] = sharpness_energy(lumas[i], config)

    parallel_map(energy, range(n), threads)
    floor = np.float32(8.0 * noise_energy + 1e-3)

    def normalise(rows: slice) -> None:
        band = sharp[:, rows]
        band += floor
        band /= band.max(axis=0, keepdims=True) * np.float32(config.sharp_deadzone)
        np.minimum(band, 1.0, out=band)
        _power(band, config.sharp_power)
        np.maximum(band, np.float32(1e-3), out=band)  # never 0: the reference keeps a positive weight everywhere

    step = max(1, -(-h // 4))
    parallel_map(normalise, [slice(y, y + step) for y in range(0, h, step)], threads)
    both = np.empty((n, h, w, 2), np.float32)
    weights, map_weights = both[..., 0], both[..., 1]

    diffs = np.empty((n, h, w), np.float32)  # [n, h, w] window mean |x_i - x_r|

    def window_diff(i: int) -> float:
        """The frame's typical window difference: the median over its covered plan px (every 2nd row and
        column: as good an estimate, 4x cheaper); inf when it has none."""
        cv2.blur(cv2.absdiff(lumas[i], ref), (f, f), dst=diffs[i])
        sample = diffs[i, ::2, ::2][valid[i, ::2, ::2] > 0]
        return float(np.median(sample)) if sample.size else float("inf")

    typical = min(parallel_map(window_diff, [i for i in range(n) if i != reference], threads), default=float("inf"))
    # Mean absolute difference over f x f windows: a ghost or a misaligned texture shows, noise only adds
    # its mean |N(0, sqrt(2) s)| = 1.128 s. The noise model's threshold is raised to what the best-agreeing
    # frame shows over most of the picture: where noise is spatially correlated (demosaiced, denoised or
    # rescaled frames) the Laplacian estimate sees little of it, and every frame would be refused for
    # differences that are only noise.
    t1 = config.t1_sigmas * 1.128 * s + config.t1_floor
    if np.isfinite(typical):
        cap = config.t1_cap_sigmas * 1.128 * s + config.t1_cap_floor
        t1 = max(t1, min(config.t1_typical * typical, cap))
    t2 = config.t2_factor * t1

    def frame_weights(i: int) -> float:
        if i == reference:
            robust = valid[i].astype(np.float32)
        else:
            # (t2 - d) / (t2 - t1) clipped to [0, 1], in place in float32 (no temporaries)
            robust = np.subtract(np.float32(t2), diffs[i])
            robust /= np.float32(t2 - t1)
            np.clip(robust, 0.0, 1.0, out=robust)
            robust *= valid[i]
        cover = np.count_nonzero(valid[i])
        np.multiply(robust, sharp[i], out=weights[i])
        np.multiply(sharp[i], valid[i], out=map_weights[i])
        return float(np.count_nonzero(robust >= 0.5) / cover) if cover else 0.0

    agree = parallel_map(frame_weights, range(n), threads)
    used = [True if i == reference else agree[i] >= config.min_area for i in range(n)]
    for i in range(n):
        if not used[i]:
            weights[i] = 0
            map_weights[i] = 0
    total = weights.sum(axis=0)
    mean_w = [float(np.mean(weights[i] / np.maximum(total, 1e-12))) for i in range(n)]
    return MergeWeights(both, tuple(used), tuple(agree), tuple(mean_w), float(s / plan_scale))
