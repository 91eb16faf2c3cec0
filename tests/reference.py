"""Slow, obvious float64 references the runtime is checked against.

Deliberately written differently from the runtime: straight float64 maths over
the whole array (or Python's statistics module per pixel), no strips, no
integer tricks, no threads.
"""
from __future__ import annotations

import statistics

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])


def reference_fusion(frames: np.ndarray, weights=None, map_mode: str = "channel-mean", valid=None):
    """``[n, H, W, C]`` -> (fused float64 [H, W, C], map float64 [H, W]) in input units."""
    x = frames.astype(np.float64)
    n, h, w, c = x.shape
    if weights is None:
        wt = np.ones((n, h, w))
    else:
        wt = np.asarray(weights, np.float64)
        wt = np.broadcast_to(wt.reshape(n, 1, 1) if wt.ndim == 1 else wt, (n, h, w)).copy()
    if valid is not None:
        wt = wt * valid
    wt = wt / wt.sum(axis=0)
    mean = np.einsum("nhw,nhwc->hwc", wt, x)
    if c == 1:
        bmap = np.sqrt(np.einsum("nhw,nhw->hw", wt, (x[..., 0] - mean[None, ..., 0]) ** 2))
    elif map_mode == "gray":
        y = x[..., :3] @ LUMA
        ym = np.einsum("nhw,nhw->hw", wt, y)
        bmap = np.sqrt(np.einsum("nhw,nhw->hw", wt, (y - ym) ** 2))
    else:
        std = np.sqrt(np.einsum("nhw,nhwc->hwc", wt, (x - mean) ** 2))[..., :3]
        cw = LUMA if map_mode == "channel-luma" else np.full(3, 1 / 3)
        bmap = std @ cw
    return mean, bmap


def pixel_pstdev(frames: np.ndarray, y: int, x: int) -> float:
    """Formula (1) for one pixel, equal weights, channel mean, via the statistics module."""
    stds = [statistics.pstdev(float(v) for v in frames[:, y, x, c]) for c in range(min(3, frames.shape[3]))]
    return sum(stds) / len(stds)
