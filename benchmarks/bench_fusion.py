"""Fusion + blur map vs one copy of the burst, measured in the same run.

Target (burst runtime issue): equal-weight fusion + blur map of an n=8
1920x1080 RGB uint8 burst in at most 3x the time of ``np.copy`` of the burst,
with peak extra memory (beyond input and the two outputs) of at most one frame.

Runtime dependencies only. Usage:
    python benchmarks/bench_fusion.py [--runs 15] [--threads 2] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import tracemalloc

import cv2
import numpy as np

from burstdeblur.runtime.burst.demo_burst import shipped_image
from burstdeblur.runtime.burst.fusion import fuse_and_blur_map
from burstdeblur.runtime.burst.weights import gradient_weights, temporal_weights


def make_burst(n: int, h: int, w: int) -> np.ndarray:
    """A photographic burst: the shipped photo at (w, h), shifted a little per frame."""
    scene = cv2.resize(shipped_image("coffee.png"), (w + 2 * n, h + 2 * n), interpolation=cv2.INTER_CUBIC)
    return np.stack([scene[k:k + h, 2 * k % (2 * n):2 * k % (2 * n) + w] for k in range(n)])  # [n, H, W, 3]


def paired_times(burst: np.ndarray, fuse, runs: int) -> tuple[list[float], list[float]]:
    """Alternate copy and fusion so both see the same machine load."""
    copies, fusions = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        np.copy(burst)
        copies.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fuse()
        fusions.append(time.perf_counter() - t0)
    return copies, fusions


def peak_extra_bytes(burst: np.ndarray, fuse) -> int:
    h, w, c = burst.shape[1:]
    outputs = h * w * c * burst.itemsize + h * w * 4  # fused image + float32 map
    tracemalloc.start()
    fuse()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()

    burst = make_burst(args.n, args.height, args.width)
    frame_bytes = burst[0].nbytes
    schemes = {
        "equal": lambda: fuse_and_blur_map(burst, threads=args.threads),
        "rising": lambda: fuse_and_blur_map(burst, temporal_weights(args.n, "rising"), threads=args.threads),
    }
    grad = gradient_weights(burst, 255.0)  # weights built once; their cost is not fusion's
    schemes["gradient (per-pixel)"] = lambda: fuse_and_blur_map(burst, grad, threads=args.threads)
    # Memory first, in a process that has not fused yet, so the worker threads'
    # scratch buffers (kept for later calls) are counted as extra memory too.
    extras = {name: peak_extra_bytes(burst, fuse) for name, fuse in schemes.items()}
    for fuse in schemes.values():
        fuse()  # warm-up
    rows = []
    print(f"burst {list(burst.shape)} uint8 ({burst.nbytes / 2**20:.1f} MiB), {args.runs} paired runs, "
          f"threads={args.threads or 'default'}, cores={os.cpu_count()}")
    print(f"{'weights':<22}{'copy ms':>9}{'fuse ms':>9}{'ratio':>8}{'extra MiB':>11}{'frames':>8}")
    for name, fuse in schemes.items():
        copies, fusions = paired_times(burst, fuse, args.runs)
        ratio = statistics.median(f / c for f, c in zip(fusions, copies))
        extra = extras[name]
        row = {"weights": name, "copy_ms_median": 1e3 * statistics.median(copies),
               "fuse_ms_median": 1e3 * statistics.median(fusions), "ratio_median": ratio,
               "peak_extra_bytes": extra, "peak_extra_frames": extra / frame_bytes}
        rows.append(row)
        print(f"{name:<22}{row['copy_ms_median']:9.1f}{row['fuse_ms_median']:9.1f}{ratio:8.2f}"
              f"{extra / 2**20:11.2f}{extra / frame_bytes:8.2f}")
    equal = rows[0]
    ok_speed = equal["ratio_median"] <= 3.0
    ok_memory = equal["peak_extra_frames"] <= 1.0
    print(f"target equal weights: ratio {equal['ratio_median']:.2f} <= 3.0 {'OK' if ok_speed else 'MISSED'}; "
          f"extra memory {equal['peak_extra_frames']:.2f} frames <= 1.0 {'OK' if ok_memory else 'MISSED'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": platform.machine(), "processor": platform.processor(), "cores": os.cpu_count(),
                       "numpy": np.__version__, "shape": list(burst.shape), "runs": args.runs, "rows": rows,
                       "targets_met": {"speed": ok_speed, "memory": ok_memory}}, fh, indent=2)


if __name__ == "__main__":
    main()
