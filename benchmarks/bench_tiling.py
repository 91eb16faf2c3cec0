"""Tiling checks of the on-device inference issue, with the shipped models and runtime dependencies only.

1. Seams: the single-image path tiled at 256 px against one untiled pass of the same ONNX FP32 graphs
   (which take any size) on a 1024x1024 photo. Target: PSNR >= 50 dB.
2. Memory: peak RSS of a whole 12-megapixel (4000x3000) single-image run, measured in a fresh child
   process (so nothing of this process counts). Target: <= 1.5 GB.

Usage:
    python benchmarks/bench_tiling.py [--backend litert] [--precision int8] [--threads 2] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import time

import numpy as np

from bench_inference import photo  # same folder: the same test photo for every benchmark
from burstdeblur.runtime.engine.backends import open_session
from burstdeblur.runtime.engine.inference import Deblurrer, InferenceOptions
from burstdeblur.runtime.engine.model_store import ModelStore


def seams(size: int, tile: int, threads: int) -> dict:
    image = photo(size, size)
    store = ModelStore()
    s = {g: open_session(store, g, "onnx", "fp32", threads=threads) for g in ("perception", "sft", "deblur")}
    x = np.transpose(image.astype(np.float32) / 255, (2, 0, 1))[None]
    m = s["perception"].run([x])[0]
    y = s["deblur"].run([x, *s["sft"].run([m])])[0]
    full = np.rint(np.clip(np.transpose(y[0], (1, 2, 0)), 0, 1) * 255)
    tiled = Deblurrer(InferenceOptions(backend="onnx", precision="fp32", tile=tile, threads=threads)).single_image(image)
    mse = float(np.mean((tiled.deblurred.astype(np.float64) - full) ** 2))
    return {"size": size, "tile": tile, "psnr_tiled_vs_untiled_db": 10 * math.log10(255 ** 2 / max(mse, 1e-12)),
            "max_abs_diff_8bit": float(np.abs(tiled.deblurred - full).max())}


CHILD = """
import json, resource, sys, time
sys.path.insert(0, {path!r})
from bench_inference import photo
from burstdeblur.runtime.engine.inference import Deblurrer, InferenceOptions
image = photo(4000, 3000)
t = time.perf_counter()
result = Deblurrer(InferenceOptions(backend={backend!r}, precision={precision!r}, threads={threads})).single_image(image)
seconds = time.perf_counter() - t
print(json.dumps({{"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "timings_ms": result.timings_ms, "devices": result.devices}}))
"""


def memory_12mp(backend: str, precision: str, threads: int) -> dict:
    import os

    code = CHILD.format(path=os.path.dirname(os.path.abspath(__file__)), backend=backend, precision=precision,
                        threads=threads)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {"backend": backend, "precision": precision, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="litert")
    parser.add_argument("--precision", default="int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    t0 = time.perf_counter()
    report = {"machine": platform.machine(), "processor": platform.processor(), "python": platform.python_version(),
              "seams": seams(1024, 256, args.threads), "memory_12mp": memory_12mp(args.backend, args.precision, args.threads)}
    report["seconds"] = time.perf_counter() - t0
    s, m = report["seams"], report["memory_12mp"]
    print(f"tiled vs untiled, 1024x1024, tile 256: {s['psnr_tiled_vs_untiled_db']:.2f} dB (target >= 50)")
    print(f"12 MP single-image run, {m['backend']} {m['precision']}: peak RSS {m['peak_rss_mb']:.0f} MB "
          f"(target <= 1536), {m['seconds']:.1f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
