"""Speed and memory of the burst path's alignment + merge + map against the ORB + ECC homography path.

    python benchmarks/bench_alignment.py                 # 8 frames of 1080p, 2 threads, 3 runs each
    python benchmarks/bench_alignment.py --rss-12mp      # also peak RSS of 8 frames of 12 MP in a child

Prints ms per megapixel per frame for both paths and their ratio, measured in this one run (runtime
dependencies only: NumPy, OpenCV).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import cv2
import numpy as np

from burstdeblur.runtime import FuseOptions, from_array, process_burst
from burstdeblur.runtime.burst.demo_burst import make_demo_burst


def burst_at(width: int, height: int, n: int, seed: int = 0):
    """The built-in handheld burst, resampled to ``width`` x ``height`` (shake scales with it)."""
    small = make_demo_burst(n=n, seed=seed)
    frames = np.empty((n, height, width, small.frames.shape[3]), np.uint8)  # [n, H, W, C], no second copy
    for i, f in enumerate(small.frames):
        frames[i] = cv2.resize(f, (width, height), interpolation=cv2.INTER_CUBIC)
    return from_array(frames)


def time_path(burst, options: FuseOptions, runs: int) -> float:
    process_burst(burst, options)  # warm-up (thread pools, OpenCV buffers)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        process_burst(burst, options)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def rss_child(width: int, height: int, n: int) -> float:
    script = (
        "import resource, sys\n"
        "sys.argv = ['x']\n"
        f"sys.path.insert(0, {repr(sys.path[0])})\n"
        "from bench_alignment import burst_at\n"
        "from burstdeblur.runtime import process_burst\n"
        f"b = burst_at({width}, {height}, {n})\n"
        "process_burst(b)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0  # MiB


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rss-12mp", action="store_true", help="peak RSS of 8 frames of 4000x3000 in a child process")
    args = p.parse_args(argv)
    cv2.setNumThreads(args.threads)
    burst = burst_at(args.width, args.height, args.n)
    mp = args.width * args.height / 1e6
    dense = time_path(burst, FuseOptions(threads=args.threads), args.runs)
    homography = time_path(burst, FuseOptions(align="homography", weights="equal", reference="middle",
                                              threads=args.threads), max(1, args.runs // 2))
    per = lambda s: s * 1e3 / mp / args.n  # noqa: E731
    report = {"frames": args.n, "size": [args.width, args.height], "threads": args.threads,
              "dense_ms": dense * 1e3, "dense_ms_per_mp_per_frame": per(dense),
              "homography_ms": homography * 1e3, "homography_ms_per_mp_per_frame": per(homography),
              "speedup_vs_homography": homography / dense}
    if args.rss_12mp:
        report["peak_rss_mib_8x12mp"] = rss_child(4000, 3000, 8)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
