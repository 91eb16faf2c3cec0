"""Scaling, encoding and summarising the blur-degree map.

A map is kept raw (standard deviation in input sample units) and mapped to a
chosen range with a fixed, image-independent scale, so maps of different
images stay comparable (per-image min-max normalisation would make a sharp
photo look as blurred as a shaken one). The scale's reference is the largest
standard deviation any n samples in [0, M] can have, M/2 (half the samples at
0, half at M): 'unit' maps that to 1, 'percent' to 100, 'raw' keeps units.
"""
from __future__ import annotations

import numpy as np

from burstdeblur.runtime.errors import BurstError

MAP_RANGES = ("unit", "percent", "raw")
PNG16_MAX = 65535


def full_scale_std(max_value: float) -> float:
    """Largest possible per-pixel std for samples in [0, max_value]."""
    return max_value / 2.0


def range_factor(map_range: str, max_value: float) -> float:
    """Multiplier from raw std to the chosen range."""
    if map_range == "raw":
        return 1.0
    if map_range == "unit":
        return 1.0 / full_scale_std(max_value)
    if map_range == "percent":
        return 100.0 / full_scale_std(max_value)
    raise BurstError(f"unknown map range {map_range!r}; choose one of {', '.join(MAP_RANGES)}")


def scale_map(raw: np.ndarray, max_value: float, map_range: str) -> np.ndarray:
    """``[H, W]`` raw std -> ``[H, W]`` float32 in the chosen range."""
    # float32 times a float32 scalar is already float32: no second full-size copy
    return np.multiply(raw, np.float32(range_factor(map_range, max_value)), dtype=np.float32)


def to_png16(raw: np.ndarray, max_value: float) -> np.ndarray:
    """The 16-bit "blur-degree image": 0 = no deviation, 65535 = full scale (M/2).

    Same pixel count as the fused image (patent claim 2).
    """
    unit = raw / full_scale_std(max_value)  # [H, W] in 0-1
    if unit.size and float(unit.max()) > 1.0 + 1e-6:
        raise BurstError(f"blur map exceeds its theoretical maximum ({float(unit.max()):.6f} of full scale)")
    return np.rint(np.minimum(unit, 1.0) * PNG16_MAX).astype(np.uint16)


def from_png16(image: np.ndarray, max_value: float) -> np.ndarray:
    """Inverse of :func:`to_png16` (to within half a 16-bit step)."""
    return image.astype(np.float32) * np.float32(full_scale_std(max_value) / PNG16_MAX)


def global_blur(map_values: np.ndarray, mask: np.ndarray | None = None) -> float:
    """The global blur value of an image: the mean of its map (over ``mask`` if given)."""
    values = map_values if mask is None else map_values[mask]
    if values.size == 0:
        raise BurstError("global blur of an empty map")
    return float(values.mean(dtype=np.float64))
