"""Per-pixel merge weights for aligned frames: agreement with the reference times local sharpness.

    w_i(x) = r_i(x) * s_i(x)          (the reference has r = 1)

- **Robustness r** (deghosting, as HDR+'s robust merge): the aligned frame and
  the reference are compared on a coarse level (``robust_scale``, area
  average), where noise and the frames' different motion blurs average out
  but a moving object or a misaligned region does not. Up to ``t1`` the frame
  counts fully (r = 1 exactly, so a static background is the plain mean), from
  ``t2`` not at all, linearly between; t1 and t2 grow with the burst's noise
  level, estimated from the reference (Immerkaer's Laplacian estimator, median
  form so texture does not inflate it).
- **Sharpness s** (the patent's per-pixel gradient weights): local gradient
  energy of each aligned frame over ``sharp_window`` px, less the energy noise
  alone would give, relative to the sharpest frame there, to the power
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

from .errors import BurstError

IMMERKAER = np.float32([[1, -2, 1], [-2, 4, -2], [1, -2, 1]])


@dataclass(frozen=True)
class MergeConfig:
    robust_scale: int = 4  # window (px at half resolution) of the mean absolute difference
    t1_sigmas: float = 2.0  # full weight while the coarse difference is within this many noise stds ...
    t1_floor: float = 1.0  # ... plus this many 8-bit levels (exposure flicker, residual blur difference)
    t2_factor: float = 2.0  # zero weight from t2 = t2_factor * t1
    sharp_scale: float = 0.5  # gradient energy at half resolution
    sharp_window: int = 9  # px at that resolution
    sharp_power: float = 8.0
    sharp_deadzone: float = 0.95
    min_area: float = 0.1  # a frame must agree with the reference on this share of its pixels to be used

    @staticmethod
    def default() -> "MergeConfig":
        return MergeConfig()

    def check(self) -> None:
        if self.robust_scale < 1 or self.sharp_window < 1 or not 0 < self.sharp_scale <= 1:
            raise BurstError("robust_scale >= 1, sharp_window >= 1 and sharp_scale in (0, 1] are required")
        if self.t2_factor <= 1 or self.t1_sigmas < 0 or self.t1_floor < 0 or self.sharp_power < 0:
            raise BurstError("t2_factor > 1 and non-negative t1/sharpness settings are required")
        if not 0 <= self.sharp_deadzone <= 1 or not 0 <= self.min_area <= 1:
            raise BurstError("sharp_deadzone and min_area must be in [0, 1]")


@dataclass(frozen=True)
class MergeWeights:
    weights: np.ndarray  # [n, H, W] float32, not normalised; 0 where a frame is not used
    map_weights: np.ndarray  # [n, H, W] float32: sharpness x coverage of the used frames (no robustness)
    used: tuple[bool, ...]  # per frame: contributes at all
    agree_fraction: tuple[float, ...]  # per frame: share of its covered pixels with robust weight >= 0.5
    mean_weight: tuple[float, ...]  # per frame: mean normalised weight over the picture
    noise_sigma8: float  # estimated noise std of the reference luma, 8-bit levels


def noise_sigma(luma: np.ndarray) -> float:
    """Noise std of a ``[H, W]`` image in its own units (Immerkaer 1996, median form)."""
    if min(luma.shape) < 3:
        return 0.0
    lap = cv2.filter2D(luma.astype(np.float32), -1, IMMERKAER, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    # The kernel's L2 norm is 6; median |N(0, s)| = 0.6745 s.
    return float(np.median(np.abs(lap)) / (6.0 * 0.6745))


def _area(x: np.ndarray, f: int) -> np.ndarray:
    h, w = x.shape[:2]
    return cv2.resize(x, (max(1, round(w / f)), max(1, round(h / f))), interpolation=cv2.INTER_AREA)


def _up(x: np.ndarray, h: int, w: int) -> np.ndarray:
    return cv2.resize(x, (w, h), interpolation=cv2.INTER_LINEAR)


def sharpness_energy(luma: np.ndarray, config: MergeConfig) -> np.ndarray:
    """``[H, W]`` float32 luma -> local gradient energy at ``sharp_scale`` resolution."""
    small = _area(luma, 1.0 / config.sharp_scale) if config.sharp_scale < 1 else luma
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    k = config.sharp_window
    return cv2.blur(gx * gx + gy * gy, (k, k))


def merge_weights(lumas: np.ndarray, valid: np.ndarray, reference: int, config: MergeConfig = MergeConfig(),
                  sigma8: float | None = None) -> MergeWeights:
    """Weights for ``[n, H, W]`` float32 luma (8-bit levels) of aligned frames with ``[n, H, W]`` coverage."""
    config.check()
    n, h, w = lumas.shape
    if sigma8 is None:
        sigma8 = noise_sigma(lumas[reference])
    f = config.robust_scale
    ref_h = _area(lumas[reference], 2)  # [h/2, w/2]
    # Mean absolute difference over f x f windows of a half-resolution image: a ghost or a misaligned
    # texture shows, noise only adds its mean |N(0, sqrt(2) s)| = 1.128 s (s: the noise std there).
    s_half = sigma8 / 2.0
    t1 = config.t1_sigmas * 1.128 * s_half + config.t1_floor
    t2 = config.t2_factor * t1
    energy = [sharpness_energy(lumas[i], config) for i in range(n)]  # n x [h', w']
    # Sobel (ksize 3) of white noise of std s has energy 2 * 32 s^2 (each kernel has squared norm 32):
    # flat areas, where noise is all the gradient there is, get ratios near 1 and so equal weights.
    noise_energy = 64.0 * (sigma8 * config.sharp_scale) ** 2
    e = np.stack(energy) + 8.0 * noise_energy + 1e-3  # [n, h', w']
    ratio = e / e.max(axis=0, keepdims=True)
    sharp = np.minimum(ratio / config.sharp_deadzone, 1.0) ** config.sharp_power if config.sharp_power else \
        np.ones_like(ratio)
    sharp = np.maximum(sharp, 1e-3)  # never exactly 0: the reference must keep a positive weight everywhere
    weights = np.empty((n, h, w), np.float32)
    map_weights = np.empty((n, h, w), np.float32)
    agree = []
    for i in range(n):
        if i == reference:
            robust = np.ones((h, w), np.float32)
        else:
            d = cv2.blur(np.abs(_area(lumas[i], 2) - ref_h), (f, f))  # [h/2, w/2]
            r = np.clip((t2 - d) / (t2 - t1), 0.0, 1.0).astype(np.float32)
            robust = _up(r, h, w)
            robust = np.where(robust > 0.999, np.float32(1), robust)  # bilinear ripple must not break "exactly 1"
        robust *= valid[i]
        cover = valid[i].sum()
        agree.append(float((robust >= 0.5).sum() / cover) if cover else 0.0)
        s_up = _up(sharp[i].astype(np.float32), h, w)
        weights[i] = robust * s_up
        map_weights[i] = s_up * valid[i]
    used = [True if i == reference else agree[i] >= config.min_area for i in range(n)]
    for i in range(n):
        if not used[i]:
            weights[i] = 0
            map_weights[i] = 0
    total = weights.sum(axis=0)
    mean_w = [float(np.mean(weights[i] / np.maximum(total, 1e-12))) for i in range(n)]
    return MergeWeights(weights, map_weights, tuple(used), tuple(agree), tuple(mean_w), float(sigma8))
