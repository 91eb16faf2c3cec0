"""Burst -> (optional registration) -> weights -> fused image + blur-degree map, with timings."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .blur_map import full_scale_std, global_blur, range_factor, scale_map
from .burst_input import Burst, default_reference
from .errors import BurstError
from .fusion import fuse_and_blur_map
from .registration import FrameRegistration, RegistrationConfig, register_burst
from .weights import build_weights


@dataclass(frozen=True)
class FuseOptions:
    weights: str | tuple[float, ...] = "equal"  # scheme name or one number per frame
    align: bool = True
    reference: int | None = None  # None: the middle frame
    map_mode: str = "channel-mean"
    map_range: str = "unit"
    registration: RegistrationConfig = field(default_factory=RegistrationConfig.default)
    threads: int | None = None

    @staticmethod
    def default() -> "FuseOptions":
        return FuseOptions()

    @staticmethod
    def tripod() -> "FuseOptions":
        """A fixed camera: no registration."""
        return FuseOptions(align=False)


@dataclass(frozen=True)
class BurstResult:
    fused: np.ndarray  # [H, W, C] input dtype
    blur_raw: np.ndarray  # [H, W] float32 std in sample units
    blur: np.ndarray  # [H, W] float32 in options.map_range
    coverage: np.ndarray | None  # [H, W] uint16 frames per pixel, None when all frames cover all
    max_value: float
    frames_used: tuple[str, ...]
    frame_weights: tuple[float, ...] | None  # per-frame weights; None when per-pixel
    registrations: tuple[FrameRegistration, ...]
    global_blur_unit: float  # mean of the unit-range map over fully covered pixels
    timings_ms: dict[str, float]
    options: FuseOptions

    @property
    def global_blur(self) -> float:
        """Global blur value in the chosen map range."""
        return self.global_blur_unit * full_scale_std(self.max_value) * range_factor(self.options.map_range, self.max_value)

    def summary(self) -> dict:
        n = len(self.frames_used)
        cover = {"fully_covered_fraction": 1.0, "pixels_below_n": 0, "pixels_single_frame": 0}
        if self.coverage is not None:
            cover = {"fully_covered_fraction": float(np.mean(self.coverage == n)),
                     "pixels_below_n": int(np.sum(self.coverage < n)),
                     "pixels_single_frame": int(np.sum(self.coverage < 2))}
        weights = self.options.weights
        return {
            "n": n,
            "frames": list(self.frames_used),
            "weights": {"scheme": weights if isinstance(weights, str) else "user",
                        "per_frame": list(self.frame_weights) if self.frame_weights is not None else "per-pixel"},
            "alignment": {"enabled": self.options.align,
                          "frames": [r.to_json() for r in self.registrations]},
            "coverage": cover,
            "blur_map": {"mode": self.options.map_mode, "range": self.options.map_range,
                         "full_scale_std_raw": self.max_value / 2.0,
                         "max": float(self.blur.max()), "mean": float(self.blur.mean())},
            "global_blur": self.global_blur,
            "global_blur_unit": self.global_blur_unit,
            "image": {"height": int(self.fused.shape[0]), "width": int(self.fused.shape[1]),
                      "channels": int(self.fused.shape[2]), "dtype": str(self.fused.dtype),
                      "max_value": self.max_value},
            "timings_ms": self.timings_ms,
        }


def process_burst(burst: Burst, options: FuseOptions | None = None) -> BurstResult:
    options = options or FuseOptions.default()
    timings: dict[str, float] = {}
    n = burst.n
    reference = default_reference(n) if options.reference is None else options.reference
    if not 0 <= reference < n:
        raise BurstError(f"reference frame {reference} is outside 0..{n - 1}")
    if not isinstance(options.weights, str) and len(options.weights) != n:
        raise BurstError(f"{len(options.weights)} weights given for {n} frames")

    t0 = time.perf_counter()
    frames, valid, names, records, kept = burst.frames, None, burst.names, (), tuple(range(n))
    if options.align:
        reg = register_burst(burst.frames, burst.max_value, reference, options.registration, burst.names)
        frames, records, kept = reg.frames, reg.records, reg.kept
        valid = reg.partial_valid
        names = tuple(burst.names[i] for i in kept)
    timings["align"] = (time.perf_counter() - t0) * 1e3

    t0 = time.perf_counter()
    spec = options.weights
    if not isinstance(spec, str):
        spec = tuple(spec[i] for i in kept)
    weights = build_weights(spec, frames, burst.max_value, valid)
    timings["weights"] = (time.perf_counter() - t0) * 1e3

    t0 = time.perf_counter()
    fusion = fuse_and_blur_map(frames, weights, map_mode=options.map_mode, valid=valid, threads=options.threads)
    timings["fuse_and_map"] = (time.perf_counter() - t0) * 1e3

    full = None if fusion.coverage is None else fusion.coverage == len(kept)
    unit = scale_map(fusion.blur_raw, burst.max_value, "unit")
    if full is not None and not full.any():
        raise BurstError("no pixel is covered by every registered frame; the burst moves too much")
    frame_weights = None
    if weights is None:
        frame_weights = tuple([1.0 / len(kept)] * len(kept))
    elif weights.ndim == 1:
        frame_weights = tuple(float(v) for v in weights)
    return BurstResult(
        fused=fusion.fused, blur_raw=fusion.blur_raw,
        blur=scale_map(fusion.blur_raw, burst.max_value, options.map_range),
        coverage=fusion.coverage, max_value=burst.max_value, frames_used=names,
        frame_weights=frame_weights, registrations=records,
        global_blur_unit=global_blur(unit, full), timings_ms=timings, options=options)
