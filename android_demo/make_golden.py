"""Golden files for the Java core's parity tests, written by the Python runtime (NumPy + OpenCV only).

    python android_demo/make_golden.py [OUT]      # rewrites android_demo/core/golden/ (or OUT)

A small burst made from the shipped CC0 photo (the runtime's demo burst, cropped), its fusion and blur
map with equal and rising weights, the int8 codes of its reference frame, and a tiled 3x3 box filter.
Arrays are raw little-endian files; golden.json lists name, dtype and shape.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from burstdeblur.runtime.burst.aligned_fusion import fuse_aligned
from burstdeblur.runtime import FuseOptions, from_array, process_burst
from burstdeblur.runtime.engine.backends import _quantize
from burstdeblur.runtime.burst.dense_align import AlignConfig, plan_alignment, plan_size, plan_views, warp_rows
from burstdeblur.runtime.burst.demo_burst import make_demo_burst
from burstdeblur.runtime.burst.fusion import fuse_and_blur_map
from burstdeblur.runtime.engine.tiling import TileLayout, run_tiled
from burstdeblur.runtime.burst.reference_frame import choose_reference, consistent_frames
from burstdeblur.runtime.burst.registration import gray8
from burstdeblur.runtime.burst.robust_merge import merge_weights, noise_sigma
from burstdeblur.runtime.burst.weights import temporal_weights

OUT = Path(__file__).parent / "core" / "golden"
TILE = TileLayout(32, 4, 4)


def argb(rgb: np.ndarray) -> np.ndarray:
    """[..., 3] uint8 RGB -> [...] int32 Android ARGB_8888 (opaque)."""
    r, g, b = (rgb[..., k].astype(np.uint32) for k in range(3))
    return ((0xFF << 24) | (r << 16) | (g << 8) | b).astype(np.uint32).view(np.int32)


def box3(x: np.ndarray) -> np.ndarray:
    """3x3 box sum / 9 with zero padding: a local operator the Java test implements the same way."""
    return cv2.boxFilter(x, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT).reshape(x.shape) / 9.0


MODEL_CODES = {"reference": 0, "identity": 1, "homography": 2, "none": 3}


def alignment_arrays() -> dict[str, np.ndarray]:
    """The burst path's dense alignment on a handheld crop (5 frames of 200 x 300, reference 2): frames as
    shot in, the plan (displacements, resampled plan-level lumas, coverage, global models) and the whole
    burst path's merged image and map out."""
    frames = np.ascontiguousarray(make_demo_burst(n=5, seed=11).frames[:, 90:290, 130:430])  # [5, 200, 300, 3]
    ref = 2
    sigma8 = noise_sigma(gray8(frames[ref], 255.0))
    plan = plan_alignment(frames, 255.0, ref, noise_sigma8=sigma8, threads=1)
    disp = np.stack([np.zeros(plan.small_size + (2,), np.float32) if d is None else d for d in plan.disp])
    result = process_burst(from_array(frames), FuseOptions(reference=ref, threads=1))  # the whole burst path
    return {"align_frames_argb": argb(frames), "align_lumas": plan.lumas, "align_valid": plan.valid.astype(np.uint8),
            "align_disp": disp, "align_moved": np.array([d is not None for d in plan.disp], np.uint8),
            "align_models": np.array([MODEL_CODES[r.global_model] for r in plan.records], np.uint8),
            "align_sigma8": np.float32([sigma8]),
            "align_fused_argb": argb(result.fused), "align_blur": result.blur_raw, **reference_arrays(frames)}


def reference_arrays(frames: np.ndarray) -> dict[str, np.ndarray]:
    """The reference choice and the whole default burst path (BurstPath.run): the sharpness of every frame,
    the chosen reference, the merged image and both maps; and a burst whose sharpest frame is replaced by
    another view (itself turned 180 degrees, as sharp as before): not a candidate, another frame is chosen."""
    size = plan_size(frames.shape[1], frames.shape[2], AlignConfig.default())
    reference, sharp = choose_reference(plan_views(frames, 255.0, size), "sharpest")
    result = process_burst(from_array(frames), FuseOptions(threads=1))
    assert result.reference == reference
    mixed = frames.copy()
    mixed[reference] = frames[reference, ::-1, ::-1]
    mixed_views = plan_views(mixed, 255.0, size)
    return {"path_sharpness": np.float32(sharp), "path_reference": np.int32([reference]),
            "path_fused_argb": argb(result.fused), "path_blur": result.blur_raw, "path_residual": result.residual_raw,
            "path_mixed_consistent": consistent_frames(mixed_views.lumas).astype(np.uint8),
            "path_mixed_reference": np.int32([choose_reference(mixed_views, "sharpest")[0]])}


def robust_merge_arrays() -> dict[str, np.ndarray]:
    """The burst path's merge on a handheld crop (6 frames of 61 x 90, odd sizes on purpose): aligned frames
    (float RGB), plan-level lumas and coverage in, fused image and map out, exactly as process_burst computes
    them."""
    frames = np.ascontiguousarray(make_demo_burst(n=6, seed=3).frames[:, 150:211, 100:190])  # [6, 61, 90, 3]
    h, w = frames.shape[1:3]
    ref = 2
    sigma8 = noise_sigma(gray8(frames[ref], 255.0))
    plan = plan_alignment(frames, 255.0, ref, noise_sigma8=sigma8)
    merged = merge_weights(plan.lumas, plan.valid, ref, sigma_plan=sigma8 / 2)
    fusion = fuse_aligned(frames, plan, merged)
    # The frames as the phone's float bicubic remap gives them: unrounded samples in 8-bit units.
    aligned = np.stack([warp_rows(frames[i], plan.disp[i], plan.factor, 0, h).astype(np.float32)
                        for i in range(len(frames))])  # [6, 61, 90, 3]
    return {"merge_aligned_rgb": aligned, "merge_lumas": plan.lumas, "merge_valid": plan.valid.astype(np.uint8),
            "merge_fused_argb": argb(fusion.fused), "merge_blur": fusion.blur_raw,
            "merge_residual": fusion.residual_raw,
            "merge_used": np.array(merged.used, np.uint8), "merge_sigma_plan": np.float32([sigma8 / 2])}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else OUT
    frames = np.ascontiguousarray(make_demo_burst(n=4, seed=5).frames[:, 180:212, 120:160])  # [4, 32, 40, 3]
    equal = fuse_and_blur_map(frames)
    rising = fuse_and_blur_map(frames, temporal_weights(4, "rising"))
    image = frames[2].astype(np.float32) / 255.0
    codes = _quantize(image, {"scale": 1 / 255, "zero_point": -128})
    tiled_in = np.random.default_rng(0).random((56, 72, 3), dtype=np.float32)
    tiled, = run_tiled([tiled_in], lambda t: [box3(t[0]).astype(np.float32)], [3], TILE)
    merge = robust_merge_arrays()
    align = alignment_arrays()
    arrays = {**merge, **align, "frames_argb": argb(frames), "fused_equal_argb": argb(equal.fused), "blur_equal": equal.blur_raw,
              "fused_rising_argb": argb(rising.fused), "blur_rising": rising.blur_raw,
              "reference_int8": codes, "tiling_input": tiled_in, "tiling_box3": tiled}
    out.mkdir(parents=True, exist_ok=True)
    index = {"tile": [TILE.tile, TILE.margin, TILE.feather], "int8": {"scale": 1 / 255, "zero_point": -128},
             "arrays": {}}
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        (out / f"{name}.bin").write_bytes(a.astype(a.dtype.newbyteorder("<")).tobytes())
        index["arrays"][name] = {"dtype": str(a.dtype), "shape": list(a.shape)}
    (out / "golden.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(arrays)} arrays to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
