"""`burstdeblur fuse` and `burstdeblur calibrate`: command-line front ends of the burst runtime."""
from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from burstdeblur.runtime.io.output_set import check_output_folder, publish_folder
from burstdeblur.runtime.burst.blur_calibration import BlurCalibration, calibrate, choose_window
from burstdeblur.runtime.burst.blur_map import MAP_RANGES, PNG16_MAX, full_scale_std, to_png16
from burstdeblur.runtime.burst.burst_input import Burst, default_reference, load_burst
from burstdeblur.runtime.burst.burst_pipeline import ALIGN_MODES, BurstResult, FuseOptions, process_burst
from burstdeblur.runtime.burst.demo_burst import make_demo_burst
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.fusion import MAP_MODES
from burstdeblur.runtime.io.heatmap import render_heatmap
from burstdeblur.runtime.io.image_io import encode_png
from burstdeblur.runtime.burst.reference_frame import REFERENCE_CHOICES
from burstdeblur.runtime.burst.registration import ON_FAIL, RegistrationConfig, register_burst
from burstdeblur.runtime.burst.weights import SCHEMES
from burstdeblur.commands.cli_types import FRAMES, SEED, START, THREADS, float_in


WEIGHT_CHOICES = ("auto", "robust", *SCHEMES)


def parse_weights(text: str) -> str | tuple[float, ...]:
    if text in WEIGHT_CHOICES:
        return text
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a scheme ({', '.join(WEIGHT_CHOICES)}) nor comma-separated numbers") from None


def parse_reference(text: str) -> str | int:
    if text in REFERENCE_CHOICES:
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not sharpest, middle or a frame index") from None


def add_alignment_options(p: argparse.ArgumentParser) -> None:
    """--align, --reference and --on-fail, shared by every command that takes a burst."""
    p.add_argument("--align", choices=ALIGN_MODES, default="dense",
                   help="dense (default): global warp or none, whichever explains the picture, refined by optical "
                        "flow; frames or regions that do not align get no weight. homography: ORB + ECC per frame. "
                        "off: fuse as shot (the patent's unaligned fusion, used to make training data)")
    p.add_argument("--reference", type=parse_reference, default=None,
                   help="frame the others are aligned to: sharpest (default when aligned), middle (default with "
                        "--align off) or a frame index in the window")
    p.add_argument("--on-fail", choices=ON_FAIL, default="error",
                   help="--align homography only: a frame that cannot be registered stops the run (error) or "
                        "is dropped with a warning (skip); dense alignment never stops")


def add_fuse_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fuse", help="fuse a burst into one image and compute its blur-degree map",
                       description="Fuse n frames pixel by pixel and write the fused image, the 16-bit "
                                   "blur-degree image, a heatmap and summary.json. With no INPUT, a built-in "
                                   "handheld burst made from a shipped CC0 photo is used.")
    p.add_argument("input", nargs="?", help="folder of frames or a video file (default: built-in burst)")
    p.add_argument("-o", "--out", default="out/fuse",
                   help="output folder, replaced whole by each run (default: %(default)s)")
    p.add_argument("--start", type=START, default=0, help="first frame of the window (default: 0)")
    p.add_argument("--n", type=FRAMES, help="frames to fuse (default: all in a folder, 5 from a video)")
    p.add_argument("--weights", type=parse_weights, default="auto",
                   help=f"{' | '.join(WEIGHT_CHOICES)} | comma-separated per-frame numbers (default: auto = robust, "
                        "sharpness-aware per-pixel weights when aligned, equal weights with --align off)")
    add_alignment_options(p)
    p.add_argument("--map-mode", choices=MAP_MODES, default="channel-mean",
                   help="how colour frames give one map: per-channel std averaged (channel-mean, default), "
                        "BT.601-weighted (channel-luma), or the std of the luma (gray)")
    p.add_argument("--range", dest="map_range", choices=MAP_RANGES, default="unit",
                   help="range of blur_degree.npy and the JSON figures: unit = 0-1 of full scale "
                        "(half the sample range), percent = 0-100, raw = sample units (default: unit)")
    p.add_argument("--target-blur", type=float_in(0.0, 1.0),
                   help="choose n and the window from this expected global blur (unit range); needs --calibration")
    p.add_argument("--calibration", type=Path, help="file written by `burstdeblur calibrate`")
    p.add_argument("--n-max", type=FRAMES, default=8, help="frames searched for --target-blur in a video (default: 8)")
    p.add_argument("--threads", type=THREADS, help="fusion threads (default: min(4, cores))")
    p.add_argument("--heatmap-max", type=float_in(0.0, 1.0, low_open=True), help="unit-range value shown as the hottest colour (default: 99.5th percentile)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the built-in burst (default: 0)")
    p.set_defaults(run=run_fuse)


def add_calibrate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="fit the n -> global blur relation from bursts (patent claim 4)")
    p.add_argument("inputs", nargs="*", help="folders of frames or videos (default: three built-in bursts)")
    p.add_argument("-o", "--out", type=Path, default=Path("out/blur_calibration.json"),
                   help="calibration file to write, replaced whole (default: %(default)s)")
    p.add_argument("--n-max", type=FRAMES, default=8, help="largest n measured in each burst (default: 8)")
    p.add_argument("--start", type=START, default=0, help="first frame of each burst (default: 0)")
    p.add_argument("--align", choices=("homography", "off"), default="homography",
                   help="register every frame to the middle one before measuring windows (default: homography)")
    p.set_defaults(run=run_calibrate)


def _options(args: argparse.Namespace) -> FuseOptions:
    return FuseOptions(weights=args.weights, align=args.align, reference=args.reference,
                       map_mode=args.map_mode, map_range=args.map_range,
                       registration=replace(RegistrationConfig.default(), on_fail=args.on_fail),
                       threads=args.threads)


def _load(args: argparse.Namespace, n: int | None) -> Burst:
    if args.input is None:
        return make_demo_burst(n=n or 8, seed=args.seed)
    return load_burst(args.input, start=args.start, n=n)


def _inputs(args: argparse.Namespace) -> list[str]:
    return [args.input] if args.input is not None else []


def run_fuse(args: argparse.Namespace) -> int:
    check_output_folder(args.out, _inputs(args))
    if (args.target_blur is None) != (args.calibration is None):
        raise BurstError("--target-blur and --calibration go together")
    if args.target_blur is not None and args.n is not None:
        raise BurstError("give either --n or --target-blur, not both")
    if args.threads is not None and args.threads < 1:
        raise BurstError(f"--threads must be >= 1, got {args.threads}")
    t0 = time.perf_counter()
    selection = None
    if args.target_blur is not None:
        calibration = BlurCalibration.load(args.calibration)
        window_n = args.n_max if args.input is None or Path(args.input).is_file() else None
        burst = _load(args, window_n)
        frames, valid = burst.frames, None
        if args.align != "off":
            frames, valid = _align_all(burst.frames, burst.max_value, burst.names, _options(args).registration)
        n, start, achieved = choose_window(frames, burst.max_value, calibration, args.target_blur, valid)
        selection = {"target_global_blur_unit": args.target_blur, "n": n, "window_start": start,
                     "window_global_blur_unit": achieved, "predicted_for_n": calibration.predict(n)}
        burst = Burst(frames=burst.frames[start:start + n], max_value=burst.max_value,
                      names=burst.names[start:start + n], source=burst.source)
    else:
        burst = _load(args, args.n)
    load_ms = (time.perf_counter() - t0) * 1e3
    options = _options(args)
    if isinstance(options.reference, int) and not 0 <= options.reference < burst.n:
        raise BurstError(f"--reference {options.reference} is outside 0..{burst.n - 1}")
    result = process_burst(burst, options)
    files, summary = _outputs(burst, result, args.heatmap_max)
    summary["timings_ms"] = {"load": load_ms, **result.timings_ms}
    summary["input"] = {"source": burst.source, "resampled_frames": list(burst.resampled),
                        "ignored_files": list(burst.ignored)}
    if selection is not None:
        summary["window_selection"] = selection
    summary["outputs"] = sorted([*files, "summary.json"])
    files["summary.json"] = json.dumps(summary, indent=2).encode()
    publish_folder(args.out, files, _inputs(args))
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(f"fused {result.fused.shape[1]}x{result.fused.shape[0]} from n={len(result.frames_used)} frames; "
          f"global blur {result.global_blur_unit:.4f} (unit); wrote {len(files)} files to {args.out}")
    return 0


def _outputs(burst: Burst, result: BurstResult, heatmap_max: float | None) -> tuple[dict[str, bytes], dict]:
    unit = result.blur_raw / np.float32(full_scale_std(burst.max_value))  # [H, W]
    heat, vmax = render_heatmap(unit, heatmap_max)
    npy = io.BytesIO()
    np.save(npy, result.blur)
    files = {
        "fused.png": encode_png(result.fused),  # CLI bursts are always 8- or 16-bit files
        "blur_degree.png": encode_png(to_png16(result.blur_raw, burst.max_value)),
        "blur_degree.npy": npy.getvalue(),
        "blur_heatmap.png": encode_png(heat),
    }
    if result.coverage is not None:
        files["coverage.png"] = encode_png(result.coverage.astype(np.uint8))
    summary = result.summary()
    summary["blur_map"]["png16"] = {"file": "blur_degree.png", "raw_per_lsb": full_scale_std(burst.max_value) / PNG16_MAX,
                                    "meaning": "0 = frames agree, 65535 = full-scale std (half the sample range)"}
    summary["blur_map"]["heatmap_vmax_unit"] = vmax
    summary["versions"] = {"numpy": np.__version__, "opencv": cv2.__version__, "python": platform.python_version()}
    return files, summary


def _align_all(frames: np.ndarray, max_value: float, names: tuple[str, ...],
               config: RegistrationConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Register every frame to the middle one; windows of consecutive frames need them all."""
    reg = register_burst(frames, max_value, default_reference(frames.shape[0]), config, names)
    if len(reg.kept) != frames.shape[0]:
        raise BurstError("every frame must register to measure windows of consecutive frames")
    return reg.frames, reg.partial_valid


def run_calibrate(args: argparse.Namespace) -> int:
    if args.inputs:
        bursts = [load_burst(p, start=args.start, n=args.n_max) for p in args.inputs]
    else:
        bursts = [make_demo_burst(n=args.n_max, seed=s) for s in range(3)]
    prepared = []
    for burst in bursts:
        if burst.n < args.n_max:
            raise BurstError(f"{burst.source}: {burst.n} frames, fewer than --n-max {args.n_max}")
        frames, valid = burst.frames[:args.n_max], None
        if args.align != "off":
            frames, valid = _align_all(frames, burst.max_value, burst.names[:args.n_max], RegistrationConfig.default())
        prepared.append((frames, burst.max_value, valid))
    result = calibrate(prepared, args.n_max)
    result.save(args.out)
    print(f"global blur = {result.intercept:.5f} + {result.slope:.5f} * n (R^2 {result.r2:.3f}, "
          f"{result.windows} windows from {result.bursts} bursts) -> {args.out}")
    return 0
