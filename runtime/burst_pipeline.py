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

import numpy as np

from .blur_map import full_scale_std, global_blur, range_factor, scale_map
from .burst_input import Burst, default_reference
from .errors import BurstError
from .pixel_budget import MEMORY, check_align_size, check_burst, check_memory
from .fusion import fuse_and_blur_map
from .dense_align import AlignConfig, align_burst, burst_gray
from .reference_frame import REFERENCE_CHOICES, choose_reference
from .registration import RegistrationConfig, register_burst
from .robust_merge import MergeConfig, merge_weights, noise_sigma
from .weights import SCHEMES, build_weights

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
    blur_raw: np.ndarray  # [H, W] float32 std in sample units
    blur: np.ndarray  # [H, W] float32 in options.map_range
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
    lumas = None  # [n, H, W] float32 luma of the frames as shot, when reference choice or alignment reads it
    if options.align == "dense" or choice == "sharpest":
        lumas = burst_gray(burst.frames, burst.max_value)
    if choice == "sharpest":
        reference = choose_reference(lumas, "sharpest")[0]
    else:
        reference = default_reference(n) if choice == "middle" else int(choice)
    timings["reference"] = (time.perf_counter() - t0) * 1e3

    t0 = time.perf_counter()
    frames, valid, names, records, kept = burst.frames, None, burst.names, (), tuple(range(n))
    sigma8 = None
    if options.align == "dense":
        sigma8 = noise_sigma(lumas[reference])
        aligned = align_burst(burst.frames, burst.max_value, reference, options.alignment, burst.names, sigma8,
                              lumas)
        frames, records = aligned.frames, aligned.records
        valid = aligned.valid
    elif options.align == "homography":
        reg = register_burst(burst.frames, burst.max_value, reference, options.registration, burst.names)
        frames, records, kept = reg.frames, reg.records, reg.kept
        valid = reg.partial_valid
        names = tuple(burst.names[i] for i in kept)
    timings["align"] = (time.perf_counter() - t0) * 1e3

    t0 = time.perf_counter()
    frame_report: list[dict] = []
    warnings: list[str] = []
    contributing = None
    if scheme == "robust":
        lumas_k = burst_gray(frames, burst.max_value)  # of the aligned frames
        ref_k = kept.index(reference)
        vmask = valid if valid is not None else np.ones(lumas_k.shape, bool)
        merged = merge_weights(lumas_k, vmask, ref_k, options.merge, sigma8)
        weights = merged.weights
        for k, i in enumerate(kept):
            frame_report.append({"index": i, "name": burst.names[i], "used": merged.used[k],
                                 "agree_fraction": round(merged.agree_fraction[k], 4),
                                 "mean_weight": round(merged.mean_weight[k], 4)})
        dropped = [burst.names[kept[k]] for k in range(len(kept)) if not merged.used[k]]
        if dropped:
            if len(dropped) == len(kept) - 1:
                warnings.append(f"no frame agrees with the reference {burst.names[reference]}: "
                                f"the result is that frame alone (dropped: {', '.join(dropped)})")
            else:
                warnings.append(f"dropped {len(dropped)} frame(s) that do not align with the reference: "
                                f"{', '.join(dropped)}")
        low = [f"{r['name']} ({r['agree_fraction']:.0%})" for r in frame_report if r["used"] and r["agree_fraction"] < 0.5]
        if low:
            warnings.append("frames used on part of the picture only (share agreeing with the reference): "
                            + ", ".join(low))
        # The weights are 0 wherever a frame does not cover the reference or disagrees with it, and the
        # reference's weight is positive everywhere: the fast per-pixel-weight path of the fusion handles
        # it all, no mask needed. Coverage is what contributed.
        valid = None
        contributing = (weights > 0).sum(axis=0, dtype=np.uint16)  # [H, W]
    else:
        spec = scheme
        if not isinstance(spec, str):
            spec = tuple(spec[i] for i in kept)
        if valid is not None and valid.all():
            valid = None
        weights = build_weights(spec, frames, burst.max_value, valid)
    timings["weights"] = (time.perf_counter() - t0) * 1e3

    t0 = time.perf_counter()
    fusion = fuse_and_blur_map(frames, weights, map_mode=options.map_mode, valid=valid, threads=options.threads)
    if scheme == "robust":
        # The map: formula (1) over the aligned frames with the sharpness weights, without the robustness
        # term, so local motion and misalignment the merge left out still show (robust_merge.py).
        blur = fuse_and_blur_map(frames, merged.map_weights, map_mode=options.map_mode,
                                 threads=options.threads).blur_raw
        fusion = replace(fusion, blur_raw=blur)
    timings["fuse_and_map"] = (time.perf_counter() - t0) * 1e3

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
        coverage=coverage, max_value=burst.max_value, frames_used=names,
        frame_weights=frame_weights, registrations=records, reference=reference,
        frame_report=tuple(frame_report), warnings=tuple(warnings),
        global_blur_unit=global_blur(unit, full), timings_ms=timings, options=options)
