"""Fusion weight schemes for n frames (patent: equal, capture-order and per-pixel
gradient weights). Every builder returns weights normalised to sum to one:
``[n]`` for per-frame weights or ``[n, H, W]`` for per-pixel weights.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from burstdeblur.runtime.errors import BurstError

SCHEMES = ("equal", "rising", "falling", "gradient")


def equal_weights(n: int) -> np.ndarray:
    return np.full(n, 1.0 / n)  # [n]


def temporal_weights(n: int, direction: str) -> np.ndarray:
    """Linear ramp over capture order: 'rising' favours the last frame, 'falling' the first."""
    ramp = np.arange(1, n + 1, dtype=np.float64)  # [n]
    if direction == "falling":
        ramp = ramp[::-1].copy()
    elif direction != "rising":
        raise BurstError(f"temporal weights: direction {direction!r} is not 'rising' or 'falling'")
    return ramp / ramp.sum()


def gradient_weights(frames: np.ndarray, max_value: float, window: int = 5,
                     valid: np.ndarray | None = None) -> np.ndarray:
    """Per-pixel weights proportional to local gradient magnitude (sharper frames weigh more).

    The gradient magnitude of each frame's gray image is box-averaged over
    ``window`` pixels (a single pixel's gradient is mostly noise), a small floor
    of 1e-3 of full scale keeps flat regions at equal weights instead of 0/0,
    and the n values at each pixel are normalised to sum to one (patent: "the
    gradient values ... are normalized to obtain the weights").

    Args:
        frames: ``[n, H, W, C]`` burst.
        max_value: full-scale sample value (255, 65535 or 1.0).
        window: box-filter size in pixels, odd and >= 1.
        valid: optional ``[n, H, W]`` bool coverage; uncovered pixels get weight 0.
    Returns:
        ``[n, H, W]`` float32 weights summing to one over n wherever any frame is valid.
    """
    if window < 1 or window % 2 == 0:
        raise BurstError(f"gradient window must be an odd number >= 1, got {window}")
    n, h, w, _ = frames.shape
    out = np.empty((n, h, w), np.float32)
    floor = np.float32(1e-3)
    for i in range(n):
        gray = luma(frames[i]) / np.float32(max_value)  # [H, W] float32 in 0-1
        gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
        mag = cv2.magnitude(gx, gy)
        out[i] = cv2.blur(mag, (window, window)) + floor
    if valid is not None:
        out *= valid
    total = out.sum(axis=0)  # [H, W]
    np.divide(out, np.where(total > 0, total, 1), out=out)
    return out


def luma(frame: np.ndarray) -> np.ndarray:
    """``[H, W, C]`` -> ``[H, W]`` float32 BT.601 luma (alpha ignored; gray passes through)."""
    if frame.shape[-1] == 1:
        return frame[..., 0].astype(np.float32)
    rgb = frame[..., :3].astype(np.float32)
    return rgb @ np.array(LUMA_RGB, np.float32)


LUMA_RGB = (0.299, 0.587, 0.114)


def user_weights(values: Sequence[float], n: int) -> np.ndarray:
    return normalize_weights(np.asarray(values, dtype=np.float64), n, None)


def normalize_weights(weights: np.ndarray, n: int, hw: tuple[int, int] | None) -> np.ndarray:
    """Validate ``[n]`` or ``[n, H, W]`` weights and scale them to sum to one over n."""
    weights = np.asarray(weights)
    if weights.ndim == 1:
        if weights.shape[0] != n:
            raise BurstError(f"weights: {weights.shape[0]} values given for {n} frames")
    elif weights.ndim == 3:
        if hw is None or weights.shape != (n, *hw):
            raise BurstError(f"per-pixel weights have shape {weights.shape}, expected {(n, *hw) if hw else '[n, H, W]'}")
    else:
        raise BurstError(f"weights must be [n] or [n, H, W], got shape {weights.shape}")
    if not np.all(np.isfinite(weights)):
        raise BurstError("weights contain NaN or infinity")
    if np.any(weights < 0):
        raise BurstError(f"weights must be >= 0, smallest is {float(weights.min())}")
    total = weights.sum(axis=0)
    if np.any(total <= 0):
        raise BurstError("weights sum to zero (at least at one pixel)")
    if weights.ndim == 1:
        return weights.astype(np.float64) / total
    if weights.dtype == np.float32 and np.allclose(total, 1.0, atol=1e-5):
        return weights  # already normalised (e.g. gradient_weights): no [n, H, W] copy
    return (weights / total).astype(np.float32)


def build_weights(spec: str | Sequence[float], frames: np.ndarray, max_value: float,
                  valid: np.ndarray | None = None) -> np.ndarray | None:
    """Turn a scheme name or explicit per-frame values into normalised weights.

    Returns None for equal weights so the caller can take the exact integer path.
    """
    n = frames.shape[0]
    if isinstance(spec, str):
        if spec == "equal":
            return None
        if spec in ("rising", "falling"):
            return temporal_weights(n, spec)
        if spec == "gradient":
            return gradient_weights(frames, max_value, valid=valid)
        raise BurstError(f"unknown weight scheme {spec!r}; choose one of {', '.join(SCHEMES)} or give n numbers")
    return user_weights(spec, n)
