"""Latency, memory and quality of the inference pipelines, per stage, with runtime dependencies only.

Each configuration (backend x precision x threads x resolution) runs in its own child process, so its peak
RSS is its own: load the graphs, warm up, then N timed runs of the single-image path (perception -> SFT ->
deblur, tiled) and of the burst path (fusion + blur map of n frames -> SFT -> deblur). Per stage it
reports the first run, mean, std, p50, p90, p95, min and max in ms, like TFLite's benchmark_model
(``first``/``avg``/``std``) and onnxruntime_perf_test (percentiles).

Quality: PSNR/SSIM of every backend/precision against the ONNX FP32 output and against the sharp reference,
on built-in CC0 bursts with known references. Ratios measured in the same run: INT8 vs FP32 speed per
backend (target: LiteRT INT8 >= 2x faster than FP32 at 720p), and the whole burst path vs the deblur graph
alone.

Usage (on a board: pip install 'burstdeblur[litert,onnx]', then pin to big cores with taskset):
    python benchmarks/bench_inference.py --out bench/ [--backends litert onnx] [--precisions int8 fp32]
        [--threads 2 4] [--resolutions 720p 1080p 12mp] [--warmup 2] [--runs 10] [--quality 4]
Writes bench/results.json, bench/results.csv (one row per configuration), bench/latency.png, bench/quality.png.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from burstdeblur.runtime.io.image_quality import psnr, ssim

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080), "12mp": (4000, 3000), "tiny": (160, 120)}
STAGES = ("load", "fuse_and_map", "perception", "sft", "deblur", "tiling_overhead", "single_total", "burst_deblur",
          "burst_total")


def stats(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, np.float64)
    return {"first": float(v[0]), "mean": float(v.mean()), "std": float(v.std()), "p50": float(np.percentile(v, 50)),
            "p90": float(np.percentile(v, 90)), "p95": float(np.percentile(v, 95)), "min": float(v.min()),
            "max": float(v.max()), "n": int(v.size)}


def photo(w: int, h: int, seed: int = 0) -> np.ndarray:
    from burstdeblur.runtime.burst.demo_burst import shipped_image

    image = cv2.resize(shipped_image("chelsea.png"), (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    image += np.random.default_rng(seed).normal(0, 2.0, image.shape).astype(np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def run_config(config: dict) -> dict:
    """One configuration, in this process (the child)."""
    from burstdeblur.runtime.burst.burst_input import from_array
    from burstdeblur.runtime.burst.burst_pipeline import FuseOptions
    from burstdeblur.runtime.engine.inference import Deblurrer, InferenceOptions

    w, h = RESOLUTIONS[config["resolution"]]
    t0 = time.perf_counter()
    deblurrer = Deblurrer(InferenceOptions(backend=config["backend"], precision=config["precision"],
                                           tile=config["tile"], threads=config["threads"], models=config["models"]))
    load_ms = (time.perf_counter() - t0) * 1e3
    image = photo(w, h)
    frames = np.stack([np.roll(image, k, axis=1) for k in range(config["burst_n"])])  # a horizontal pan
    burst = from_array(frames)
    times: dict[str, list[float]] = {s: [] for s in STAGES if s != "load"}
    for k in range(config["warmup"] + config["runs"]):
        t = time.perf_counter()
        single = deblurrer.single_image(image)
        single_ms = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        result = deblurrer.burst(burst, FuseOptions(align=False))
        burst_ms = (time.perf_counter() - t) * 1e3
        if k < config["warmup"] and k > 0:
            continue  # the first run is kept as "first", the other warm-ups are dropped
        for stage in ("perception", "tiling_overhead"):
            times[stage].append(single.timings_ms[stage])
        for stage in ("sft", "deblur"):
            times[stage].append(single.timings_ms[stage])
        times["fuse_and_map"].append(result.timings_ms["burst_fuse_and_map"])
        times["burst_deblur"].append(result.timings_ms["deblur"])  # the deblur graph within the burst path
        times["single_total"].append(single_ms)
        times["burst_total"].append(burst_ms)
    return {**config, "width": w, "height": h, "devices": deblurrer.devices, "fallbacks": deblurrer.fallbacks,
            "load_ms": load_ms, "stages_ms": {s: stats(v) for s, v in times.items()},
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def quality(models: str | None, tile: int, bursts: int, variants: list[tuple[str, str]]) -> list[dict]:
    """Burst path on built-in bursts with references: each variant vs ONNX FP32 and vs the reference."""
    from burstdeblur.runtime.burst.burst_pipeline import FuseOptions
    from burstdeblur.runtime.burst.demo_burst import SHIPPED_IMAGES, make_demo_burst_and_reference
    from burstdeblur.runtime.engine.inference import Deblurrer, InferenceOptions

    cases = [make_demo_burst_and_reference(n=6, seed=s, image=SHIPPED_IMAGES[s % 2]) for s in range(bursts)]
    reference = Deblurrer(InferenceOptions(backend="onnx", precision="fp32", tile=tile, models=models))
    base = [reference.burst(b, FuseOptions(align=False)).deblurred for b, _ in cases]
    rows = []
    for backend, precision in variants:
        d = Deblurrer(InferenceOptions(backend=backend, precision=precision, tile=tile, models=models))
        outs = [d.burst(b, FuseOptions(align=False)).deblurred for b, _ in cases]
        rows.append({"backend": backend, "precision": precision,
                     "psnr_vs_fp32": float(np.mean([psnr(o, f) for o, f in zip(outs, base)])),
                     "ssim_vs_fp32": float(np.mean([ssim(o, f) for o, f in zip(outs, base)])),
                     "psnr_vs_reference": float(np.mean([psnr(o, r) for o, (_, r) in zip(outs, cases)])),
                     "ssim_vs_reference": float(np.mean([ssim(o, r) for o, (_, r) in zip(outs, cases)]))})
    rows.append({"backend": "input", "precision": "fused",
                 "psnr_vs_reference": float(np.mean([psnr(reference.burst(b, FuseOptions(align=False)).fused, r)
                                                     for b, r in cases]))})
    return rows


def bar_chart(title: str, labels: list[str], series: dict[str, list[float]], unit: str) -> np.ndarray:
    """A small horizontal stacked bar chart drawn with OpenCV (no plotting library on a board)."""
    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
    height, bar, left, width = 60 + 28 * len(labels) + 20 * len(series), 20, 300, 900
    img = np.full((height, left + width + 110, 3), 255, np.uint8)
    cv2.putText(img, title, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    totals = [sum(v[i] for v in series.values()) for i in range(len(labels))]
    scale = width / max(max(totals), 1e-9)
    for i, label in enumerate(labels):
        y = 44 + 28 * i
        cv2.putText(img, label[:42], (10, y + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
        x = left
        for k, values in enumerate(series.values()):
            x2 = x + int(values[i] * scale)
            cv2.rectangle(img, (x, y), (max(x2, x + 1), y + bar), colours[k % len(colours)][::-1], -1)
            x = x2
        cv2.putText(img, f"{totals[i]:.0f} {unit}", (x + 4, y + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    y = 44 + 28 * len(labels) + 6
    for k, name in enumerate(series):
        cv2.rectangle(img, (10, y + 20 * k), (24, y + 20 * k + 12), colours[k % len(colours)][::-1], -1)
        cv2.putText(img, name, (30, y + 20 * k + 11), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    return img


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version(), "numpy": np.__version__, "opencv": cv2.__version__}
    for name in ("burstdeblur", "ai-edge-litert", "tflite-runtime", "onnxruntime"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu part")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--backends", nargs="+", default=["litert", "onnx"], choices=["litert", "onnx"])
    parser.add_argument("--precisions", nargs="+", default=["int8", "fp32"], choices=["int8", "fp16", "fp32"])
    parser.add_argument("--threads", nargs="+", type=int, default=[2])
    parser.add_argument("--resolutions", nargs="+", default=["720p"], choices=list(RESOLUTIONS))
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--burst-n", type=int, default=5)
    parser.add_argument("--quality", type=int, default=4, help="built-in bursts for the quality table (0: skip)")
    parser.add_argument("--models", default=None, help="export folder (default: the shipped models)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_config(json.loads(args.child))))
        return 0
    if args.runs < 1 or args.warmup < 1:
        parser.error("--runs and --warmup must be >= 1 (the first warm-up run is reported as 'first')")
    configs = [{"backend": b, "precision": p, "threads": t, "resolution": r, "tile": args.tile, "warmup": args.warmup,
                "runs": args.runs, "burst_n": args.burst_n, "models": args.models}
               for b in args.backends for p in args.precisions for t in args.threads for r in args.resolutions
               if not (b == "onnx" and p == "fp16")]
    results = []
    for i, config in enumerate(configs, 1):
        label = f"{config['backend']} {config['precision']} {config['threads']}t {config['resolution']}"
        print(f"[{i}/{len(configs)}] {label}", flush=True)
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--out", str(args.out), "--child",
                               json.dumps(config)], capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return 2
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    ratios = {}
    for r in results:
        if r["precision"] != "int8":
            continue
        fp32 = next((x for x in results if (x["backend"], x["threads"], x["resolution"], x["precision"]) ==
                     (r["backend"], r["threads"], r["resolution"], "fp32")), None)
        if fp32:
            ratios[f"{r['backend']} {r['threads']}t {r['resolution']}: fp32 / int8 single-image time"] = \
                fp32["stages_ms"]["single_total"]["p50"] / r["stages_ms"]["single_total"]["p50"]
            for graph in ("perception", "deblur"):
                ratios[f"{r['backend']} {r['threads']}t {r['resolution']}: fp32 / int8 {graph} graph"] = \
                    fp32["stages_ms"][graph]["p50"] / r["stages_ms"][graph]["p50"]
        ratios[f"{r['backend']} {r['threads']}t {r['resolution']} int8: burst path / deblur graph"] = \
            r["stages_ms"]["burst_total"]["p50"] / r["stages_ms"]["burst_deblur"]["p50"]
    report = {"machine": platform.machine(), "cpu": cpu_name(), "cores": os.cpu_count(), "versions": versions(),
              "results": results, "ratios": ratios}
    if args.quality:
        variants = [(b, p) for b in args.backends for p in args.precisions if not (b == "onnx" and p == "fp16")]
        report["quality"] = quality(args.models, args.tile, args.quality, variants)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=1))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["machine", "cpu", "backend", "precision", "threads", "resolution", "devices", "load_ms",
                     *[f"{s}_{k}_ms" for s in STAGES if s != "load" for k in ("first", "mean", "p50", "p95")],
                     "peak_rss_mb"])
    for r in results:
        writer.writerow([report["machine"], report["cpu"], r["backend"], r["precision"], r["threads"], r["resolution"],
                         ";".join(sorted(set(r["devices"].values()))), f"{r['load_ms']:.1f}",
                         *[f"{r['stages_ms'][s][k]:.2f}" for s in STAGES if s != "load"
                           for k in ("first", "mean", "p50", "p95")], f"{r['peak_rss_mb']:.0f}"])
    (args.out / "results.csv").write_text(buffer.getvalue())
    labels = [f"{r['backend']} {r['precision']} {r['threads']}t {r['resolution']}" for r in results]
    stage_series = {s: [r["stages_ms"][s]["p50"] for r in results] for s in ("perception", "sft", "deblur",
                                                                            "tiling_overhead")}
    cv2.imwrite(str(args.out / "latency.png"), bar_chart("single-image path, p50 ms per stage", labels, stage_series, "ms"))
    if report.get("quality"):
        q = [row for row in report["quality"] if "psnr_vs_fp32" in row]
        cv2.imwrite(str(args.out / "quality.png"), bar_chart(
            "PSNR vs reference (dB), burst path", [f"{row['backend']} {row['precision']}" for row in q],
            {"PSNR": [row["psnr_vs_reference"] for row in q]}, "dB"))
    for r in results:
        s = r["stages_ms"]
        print(f"{r['backend']:6s} {r['precision']:4s} {r['threads']}t {r['resolution']:6s} single p50 "
              f"{s['single_total']['p50']:8.1f} ms  burst p50 {s['burst_total']['p50']:8.1f} ms  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB  on {', '.join(sorted(set(r['devices'].values())))}")
    for name, value in ratios.items():
        print(f"{name}: {value:.2f}x")
    for row in report.get("quality", []):
        print(json.dumps(row))
    print(f"wrote {args.out}/results.json, results.csv, latency.png" + (", quality.png" if args.quality else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
