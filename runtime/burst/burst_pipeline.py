"""Burst -> reference choice -> alignment -> merge weights -> fused image + blur-degree map, with timings.

Alignment modes:
    dense       (default) global warp with the identity as a candidate + DIS optical flow (dense_align.py);
                frames are never refused: the robust merge weighs every aligned pixel (robust_merge.py)
    homography  ORB + RANSAC + ECC global homography per frame (registration.py); a frame that cannot be
                registered is an error or dropped (``RegistrationConfig.on_fail``)
    off         the patent-literal fusion as shot (what dataset construction uses to make blurred photos)

Weights ``auto``: the robust, sharpness-aware weights when aligned, equal weights (exact integer path)
when not. The blur-degree map is always the weighted standard deviation of formula (1) over the frames
as fused, so after alignment it shows what alignment and merging could not fix.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from burstdeblur.runtime.burst.blur_map import full_scale_std, global_blur, range_factor, scale_map
from burstdeblur.runtime.burst.burst_input import Burst, default_reference
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.pixel_budget import MEMORY, check_align_size, check_burst, check_memory
from burstdeblur.runtime.burst.fusion import Fusion, fuse_and_blur_map
from burstdeblur.runtime.burst.aligned_fusion import fuse_aligned
from burstdeblur.runtime.burst.dense_align import AlignConfig, align_burst, plan_alignment, plan_size, plan_views, small_lumas, upsample_rows
from burstdeblur.runtime.burst.reference_frame import REFERENCE_CHOICES, choose_reference
from burstdeblur.runtime.burst.registration import RegistrationConfig, gray8, register_burst
from burstdeblur.runtime.burst.robust_merge import MergeConfig, merge_weights, noise_sigma
from burstdeblur.runtime.burst.weights import SCHEMES, build_weights

ALIGN_MODES = ("dense", "homography", "off")


@dataclass(frozen=True)
class FuseOptions:
    weights: str | tuple[float, ...] = "auto"  # auto | robust | a scheme name | one number per frame
    align: str = "dense"  # dense | homography | off (True/False are read as dense/off)
    reference: int | str | None = None  # None: sharpest when aligned, middle when not; or an index
    map_mode: str = "channel-mean"
    map_range: str = "unit"
    registration: RegistrationConfig = field(default_factory=RegistrationConfig.default)
    alignment: AlignConfig = field(default_factory=AlignConfig.default)
    merge: MergeConfig = field(default_factory=MergeConfig.default)
    threads: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.align, bool):
            object.__setattr__(self, "align", "dense" if self.align else "off")
        if self.align not in ALIGN_MODES:
            raise BurstError(f"unknown alignment {self.align!r}; choose one of {', '.join(ALIGN_MODES)}")
        if isinstance(self.weights, str) and self.weights not in ("auto", "robust", *SCHEMES):
            raise BurstError(f"unknown weights {self.weights!r}; choose auto, robust, {', '.join(SCHEMES)} "
                             "or give n numbers")
        if self.weights == "robust" and self.align == "off":
            raise BurstError("robust weights compare aligned frames; they need alignment (not --align off)")
        if isinstance(self.reference, str) and self.reference not in REFERENCE_CHOICES:
            raise BurstError(f"unknown reference {self.reference!r}; choose {', '.join(REFERENCE_CHOICES)} "
                             "or a frame index")

    @staticmethod
    def default() -> "FuseOptions":
        return FuseOptions()

    @staticmethod
    def tripod() -> "FuseOptions":
        """The patent-literal fusion as shot: no alignment, equal weights."""
        return FuseOptions(align="off")

    @property
    def reference_choice(self) -> str | int:
        """sharpest | middle | a frame index (None resolves to sharpest when aligned, middle when not)."""
        if self.reference is None:
            return "middle" if self.align == "off" else "sharpest"
        return self.reference

    @property
    def weight_scheme(self) -> str | tuple[float, ...]:
        if self.weights == "auto":
            return "equal" if self.align == "off" else "robust"
        return self.weights


@dataclass(frozen=True)
class BurstResult:
    fused: np.ndarray  # [H, W, C] input dtype
    blur_raw: np.ndarray  # [H, W] float32 std in sample units: the blur-degree map, formula (1)
    blur: np.ndarray  # [H, W] float32 in options.map_range
    # [H, W] float32 std in sample units under the merge weights: the spread of the samples each merged pixel
    # is made of, the map the nets are given (aligned_fusion.py says why); equal to blur_raw when the merge
    # and the map share their weights (--align off, equal or gradient weights).
    residual_raw: np.ndarray
    coverage: np.ndarray | None  # [H, W] uint16 frames per pixel, None when all frames cover all
    max_value: float
    frames_used: tuple[str, ...]
    frame_weights: tuple[float, ...] | None  # per-frame weights; None when per-pixel
    registrations: tuple  # FrameRegistration (homography) or FrameAlignment (dense) per input frame
    reference: int  # input index of the reference frame
    frame_report: tuple[dict, ...]  # dense: per input frame, used or not, share agreeing with the reference
    warnings: tuple[str, ...]
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
        weights = self.options.weight_scheme
        return {
            "n": n,
            "frames": list(self.frames_used),
            "weights": {"scheme": weights if isinstance(weights, str) else "user",
                        "per_frame": list(self.frame_weights) if self.frame_weights is not None else "per-pixel"},
            "reference": {"index": self.reference, "choice": str(self.options.reference_choice)},
            "alignment": {"mode": self.options.align,
                          "frames": [r.to_json() for r in self.registrations]},
            "merge": {"frames": list(self.frame_report)},
            "warnings": list(self.warnings),
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
    """Align (unless ``align='off'``), weigh and fuse a burst; compute its blur-degree map.

    Args:
        burst: ``[n, H, W, C]`` frames (uint8, uint16 or float) with names.
        options: see FuseOptions; None = the defaults (dense alignment, sharpest reference, robust weights).
    Returns:
        BurstResult with ``fused`` ``[H, W, C]`` (input dtype), ``blur_raw``/``blur`` ``[H, W]`` float32.
    """
    options = options or FuseOptions.default()
    timings: dict[str, float] = {}
    n = burst.n
    scheme = options.weight_scheme
    if not isinstance(scheme, str) and len(scheme) != n:
        raise BurstError(f"{len(scheme)} weights given for {n} frames")
    if isinstance(options.reference, (int, np.integer)) and not isinstance(options.reference, bool) \
            and not 0 <= options.reference < n:
        raise BurstError(f"reference frame {options.reference} is outside 0..{n - 1}")
    _, height, width, _ = burst.frames.shape
    check_burst(n, width, height, burst.source)
    if options.align != "off":
        check_align_size(width, height)
    # The frames are already in memory: what the run still needs on top of them is checked.
    loaded = burst.frames.nbytes
    check_memory(MEMORY.burst(n, height, width, options.align != "off", nets=False) - loaded,
                 f"fusing {n} frames of {width}x{height} px")

    t0 = time.perf_counter()
    choice = options.reference_choice
    views = None  # plan-level luma (and full-resolution gradient energy) of the frames as shot: reference
    #               choice, alignment, merge
    if options.align == "dense" or choice == "sharpest":
        views = plan_views(burst.frames, burst.max_value, plan_size(height, width, options.alignment),
                           options.threads, energy=choice == "sharpest")
    if choice == "sharpest":
        reference = choose_reference(views, "sharpest", options.threads)[0]
    else:
        reference = default_reference(n) if choice == "middle" else int(choice)
    timings["reference"] = (time.perf_counter() - t0) * 1e3

    if options.align == "dense" and scheme == "robust":
        # The default burst path: plan at half resolution, weights there, full-resolution frames resampled
        # and fused strip by strip (no aligned copy of the burst is ever made).
        t0 = time.perf_counter()
        sigma8 = _reference_noise(burst, reference)
        plan = plan_alignment(burst.frames, burst.max_value, reference, options.alignment, burst.names,
                              sigma8, views.lumas, options.threads)
        timings["align"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        merged = _robust_weights(plan.lumas, plan.valid, reference, sigma8, options)
        frame_report, warnings = _merge_report(merged, burst.names, tuple(range(n)), reference)
        timings["weights"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        fusion = fuse_aligned(burst.frames, plan, merged, map_mode=options.map_mode, threads=options.threads)
        timings["fuse_and_map"] = (time.perf_counter() - t0) * 1e3
        done = _Fused(replace(fusion, coverage=None), plan.records, tuple(range(n)), burst.names, merged.weights,
                      fusion.coverage, tuple(frame_report), tuple(warnings))
    else:
        done = _fuse_whole(burst, options, reference, timings)
    fusion, records, kept, names, weights = done.fusion, done.records, done.kept, done.names, done.weights
    contributing, frame_report, warnings = done.contributing, done.frame_report, done.warnings

    n_kept = len(kept)
    coverage = fusion.coverage
    if contributing is not None and not np.all(contributing == n_kept):
        coverage = contributing
    full = None if fusion.coverage is None else fusion.coverage == n_kept
    unit = scale_map(fusion.blur_raw, burst.max_value, "unit")
    if options.align == "homography" and full is not None and not full.any():
        raise BurstError("no pixel is covered by every registered frame; the burst moves too much")
    frame_weights = None
    if weights is None:
        frame_weights = tuple([1.0 / n_kept] * n_kept)
    elif weights.ndim == 1:
        frame_weights = tuple(float(v) for v in weights)
    return BurstResult(
        fused=fusion.fused, blur_raw=fusion.blur_raw,
        blur=scale_map(fusion.blur_raw, burst.max_value, options.map_range),
        residual_raw=fusion.blur_raw if fusion.residual_raw is None else fusion.residual_raw,
        coverage=coverage, max_value=burst.max_value, frames_used=names,
        frame_weights=frame_weights, registrations=records, reference=reference,
        frame_report=tuple(frame_report), warnings=tuple(warnings),
        global_blur_unit=global_blur(unit, full), timings_ms=timings, options=options)


@dataclass(frozen=True)
class _Fused:
    """What either fusion route hands back to process_burst."""
    fusion: Fusion
    records: tuple  # per input frame: FrameAlignment or FrameRegistration
    kept: tuple[int, ...]  # input indices of the fused frames
    names: tuple[str, ...]  # their names
    weights: np.ndarray | None  # [n_kept] or [n_kept, h, w] (per pixel, plan or full level); None = equal
    contributing: np.ndarray | None  # [H, W] uint16 frames with a positive weight (robust merge only)
    frame_report: tuple[dict, ...]
    warnings: tuple[str, ...]


def _reference_noise(burst: Burst, reference: int) -> float:
    """Noise std of the reference's full-resolution luma, 8-bit levels. Measured at full resolution: on the
    plan level fine texture leaks into the estimator, and a low-noise burst would look noisier than it is
    (its ghosts would pass as noise, -0.9 dB on the independent bursts)."""
    return noise_sigma(gray8(burst.frames[reference], burst.max_value))


def _robust_weights(lumas: np.ndarray, valid: np.ndarray, reference: int, sigma8: float, options: FuseOptions):
    """Plan-level robust x sharpness weights (robust_merge.py); a k x k block mean of white noise has std / k."""
    scale = options.alignment.flow_scale
    return merge_weights(lumas, valid, reference, options.merge, sigma8 * scale, scale, options.threads)


def _fuse_whole(burst: Burst, options: FuseOptions, reference: int, timings: dict[str, float]) -> _Fused:
    """Alignment (dense, homography or none) into whole aligned frames, then the per-frame or per-pixel
    weight schemes of weights.py: the unaligned patent fusion and the baselines (aligned mean)."""
    scheme = options.weight_scheme
    t0 = time.perf_counter()
    frames, valid, names, records, kept = burst.frames, None, burst.names, (), tuple(range(burst.n))
    if options.align == "dense":
        aligned = align_burst(burst.frames, burst.max_value, reference, options.alignment, burst.names,
                              _reference_noise(burst, reference))
        frames, records, valid = aligned.frames, aligned.records, aligned.valid
    elif options.align == "homography":
        reg = register_burst(burst.frames, burst.max_value, reference, options.registration, burst.names)
        frames, records, kept = reg.frames, reg.records, reg.kept
        valid = reg.partial_valid
        names = tuple(burst.names[i] for i in kept)
    timings["align"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    if scheme == "robust":  # registered (homography) frames: the robust weights, upsampled to whole frames
        return _robust_whole(burst, options, frames, valid, records, kept, names, reference, timings, t0)
    spec = scheme
    if not isinstance(spec, str):
        spec = tuple(spec[i] for i in kept)
    if valid is not None and valid.all():
        valid = None
    weights = build_weights(spec, frames, burst.max_value, valid)
    timings["weights"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    fusion = fuse_and_blur_map(frames, weights, map_mode=options.map_mode, valid=valid, threads=options.threads)
    timings["fuse_and_map"] = (time.perf_counter() - t0) * 1e3
    return _Fused(fusion, records, kept, names, weights, None, (), ())


def _robust_whole(burst, options, frames, valid, records, kept, names, reference, timings, t0) -> _Fused:
    n_k, h, w, _ = frames.shape
    size = plan_size(h, w, options.alignment)
    lumas = small_lumas(frames, burst.max_value, size, options.threads)  # [n_k, h', w'] of the registered frames
    valid_small = np.ones(lumas.shape, bool)
    if valid is not None:
        for k in range(n_k):
            inside = cv2.resize(valid[k].astype(np.uint8), size[::-1], interpolation=cv2.INTER_AREA) == 1
            valid_small[k] = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8),
                                       borderType=cv2.BORDER_REPLICATE) > 0
    ref_k = kept.index(reference)
    merged = _robust_weights(lumas, valid_small, ref_k, _reference_noise(burst, reference), options)
    frame_report, warnings = _merge_report(merged, burst.names, kept, reference)
    k = options.alignment.plan_factor
    both = np.stack([upsample_rows(x, k, 0, h, w) for x in merged.both])  # [n_k, H, W, 2]
    weights, map_weights = both[..., 0], both[..., 1]
    timings["weights"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    fusion = fuse_and_blur_map(frames, weights, map_mode=options.map_mode, threads=options.threads)
    blur = fuse_and_blur_map(frames, map_weights, map_mode=options.map_mode, threads=options.threads).blur_raw
    timings["fuse_and_map"] = (time.perf_counter() - t0) * 1e3
    fusion = replace(fusion, blur_raw=blur, residual_raw=fusion.blur_raw)
    return _Fused(fusion, records, kept, names, weights, (weights > 0).sum(axis=0, dtype=np.uint16),
                  tuple(frame_report), tuple(warnings))


def _merge_report(merged, names: tuple[str, ...], kept: tuple[int, ...], reference: int):
    """Per-frame merge report and the warnings a user must see (frames dropped, used on part of the picture)."""
    frame_report = [{"index": i, "name": names[i], "used": merged.used[k],
                     "agree_fraction": round(merged.agree_fraction[k], 4),
                     "mean_weight": round(merged.mean_weight[k], 4)} for k, i in enumerate(kept)]
    warnings = []
    dropped = [names[kept[k]] for k in range(len(kept)) if not merged.used[k]]
    if dropped:
        if len(dropped) == len(kept) - 1:
            warnings.append(f"no frame agrees with the reference {names[reference]}: "
                            f"the result is that frame alone (dropped: {', '.join(dropped)})")
        else:
            warnings.append(f"dropped {len(dropped)} frame(s) that do not align with the reference: "
                            f"{', '.join(dropped)}")
    low = [f"{r['name']} ({r['agree_fraction']:.0%})" for r in frame_report if r["used"] and r["agree_fraction"] < 0.5]
    if low:
        warnings.append("frames used on part of the picture only (share agreeing with the reference): "
                        + ", ".join(low))
    return frame_report, warnings
