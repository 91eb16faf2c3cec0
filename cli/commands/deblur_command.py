"""`burstdeblur deblur` and `burstdeblur demo`: the inference pipelines from the command line (no torch)."""
from __future__ import annotations

import argparse
import html
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.io.output_set import check_output_folder, publish_folder
from burstdeblur.runtime.burst.burst_input import VIDEO_EXTENSIONS, load_burst
from burstdeblur.runtime.burst.burst_pipeline import FuseOptions
from burstdeblur.commands.fuse_command import add_alignment_options
from burstdeblur.runtime.burst.registration import RegistrationConfig
from burstdeblur.runtime.burst.demo_burst import make_demo_burst_and_reference
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.heatmap import render_heatmap
from burstdeblur.runtime.io.image_io import IMAGE_EXTENSIONS, encode_png, read_image
from burstdeblur.runtime.io.image_quality import psnr as psnr_db
from burstdeblur.runtime.engine.inference import BACKENDS, DeblurResult, Deblurrer, InferenceOptions
from burstdeblur.commands.cli_types import FRAMES, SEED, START, THREADS, TILE


def _add_inference_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=BACKENDS, default="litert", help="runtime (default: litert)")
    p.add_argument("--precision", choices=("int8", "fp16", "fp32"), default="int8", help="graphs (default: int8)")
    p.add_argument("--delegate", default=None,
                   help="LiteRT: gpu | nnapi | hexagon | path to a delegate .so; ONNX: nnapi | qnn | coreml | xnnpack. "
                        "Falls back to the CPU, with the reason in report.json, when unavailable")
    p.add_argument("--threads", type=THREADS, default=None, help="CPU threads (default: min(4, cores))")
    p.add_argument("--tile", type=TILE, default=256, help="tile size in px (TFLite graphs exist for 256 and 512)")
    p.add_argument("--models", default=None, help="export folder (default: the shipped models)")


def _inference_options(args: argparse.Namespace) -> InferenceOptions:
    return InferenceOptions(backend=args.backend, precision=args.precision, tile=args.tile, threads=args.threads,
                            accelerator=args.delegate, models=args.models)


def add_deblur_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deblur", help="deblur a burst (folder or video window) or a single photo",
                       description="A folder of frames or a video: align and merge the burst, then let the "
                                   "networks remove the blur the merge left (burst path). One photo: the "
                                   "networks estimate its blur map and deblur it (single-image path).")
    p.add_argument("input", help="folder of frames, video file, or one image")
    p.add_argument("-o", "--out", default="out/deblur",
                   help="output folder, replaced whole by each run (default: %(default)s)")
    p.add_argument("--start", type=START, default=0, help="video/folder: first frame of the burst")
    p.add_argument("--n", type=FRAMES, default=None, help="video/folder: frames in the burst (default: all / 3)")
    add_alignment_options(p)
    _add_inference_options(p)
    p.add_argument("--json", action="store_true",
                   help="print the report (timings, devices, fallbacks) as JSON instead of the result line")
    p.set_defaults(run=run_deblur)


def add_demo_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job: both paths on a built-in burst (or a clip), with a picture and PSNR",
                       description="Builds a handheld burst from a shipped CC0 photo, deblurs it on the burst path "
                                   "and the single-image path with the shipped models, and writes demo.png "
                                   "(fused, blur map, both results, reference), report.json and index.html.")
    p.add_argument("clip", nargs="?", default=None, help="optional video: a real burst instead (no reference)")
    p.add_argument("-o", "--out", default="out/demo",
                   help="output folder, replaced whole by each run (default: %(default)s)")
    p.add_argument("--start", type=START, default=0, help="clip: first frame")
    p.add_argument("--n", type=FRAMES, default=3, help="clip: frames in the burst (default 3)")
    p.add_argument("--seed", type=SEED, default=0, help="built-in burst seed")
    _add_inference_options(p)
    p.set_defaults(run=run_demo)


def _progress(desc: str):
    bar = tqdm(desc=desc, unit="tile", disable=None)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)
        if done == total:
            bar.close()
    return update


def run_deblur(args: argparse.Namespace) -> int:
    source = Path(args.input)
    if not source.exists():
        raise BurstError(f"{source}: no such file or folder")
    check_output_folder(args.out, [source])
    # The input is read and checked before the models load: a bad file is refused in milliseconds.
    if source.is_file() and source.suffix.lower() in IMAGE_EXTENSIONS:
        image = read_image(source)
        if image.ndim != 3 or image.shape[2] != 3:
            raise BurstError(f"{source}: has {image.shape[2]} channel(s); the nets take RGB photos")
        if image.dtype != np.uint8:
            raise BurstError(f"{source}: is {image.dtype}; the nets take 8-bit photos")
        result = Deblurrer(_inference_options(args)).single_image(image, _progress("deblur"))
    elif source.is_dir() or (source.is_file() and source.suffix.lower() in VIDEO_EXTENSIONS):
        n = args.n if args.n is not None or source.is_dir() else 3
        burst = load_burst(source, args.start, n)
        fuse = FuseOptions(align=args.align, reference=args.reference,
                           registration=RegistrationConfig(on_fail=args.on_fail))
        result = Deblurrer(_inference_options(args)).burst(burst, fuse, _progress("deblur"))
        for line in result.burst.warnings:
            print(f"warning: {line}", file=sys.stderr)
    else:
        raise BurstError(f"{source}: not an image ({', '.join(IMAGE_EXTENSIONS)}), video or folder")
    files = {"deblurred.png": encode_png(result.deblurred), "blur_heatmap.png": encode_png(render_heatmap(result.blur_map)[0])}
    if result.fused is not None:
        files["fused.png"] = encode_png(result.fused)
    report = {"input": str(source), **result.report(), "options": vars(_inference_options(args))}
    files["report.json"] = (json.dumps(report, indent=1) + "\n").encode()
    publish_folder(args.out, files, [source])
    # One line (or the report with --json); a delegate fallback was already reported once, as a warning on
    # stderr, when its graph loaded.
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"{result.path} path on {', '.join(sorted(set(result.devices.values())))}; wrote {', '.join(files)} "
              f"to {args.out}")
    return 0


def _label(image: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((22, image.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, image], axis=0)


def demo_strip(cells: list[tuple[np.ndarray, str]], height: int = 300) -> np.ndarray:
    out = []
    for image, text in cells:
        scale = height / image.shape[0]
        resized = cv2.resize(image, (round(image.shape[1] * scale), height), interpolation=cv2.INTER_AREA)
        out.append(np.pad(_label(resized, text), ((0, 0), (0, 6), (0, 0)), constant_values=255))
    return np.concatenate(out, axis=1)


def run_demo(args: argparse.Namespace) -> int:
    check_output_folder(args.out, [args.clip] if args.clip else [])
    deblurrer = Deblurrer(_inference_options(args))
    if args.clip:
        burst, reference = load_burst(Path(args.clip), args.start, args.n), None
        label = f"{args.clip} frames {args.start}-{args.start + args.n - 1}"
    else:
        burst, reference = make_demo_burst_and_reference(seed=args.seed, pose_frame=8 // 2)
        label = f"built-in burst ({burst.source})"
    # The burst path aligns to the middle frame here so that the built-in burst's sharp reference (the
    # still at that frame's pose) is in the same geometry; the single-image path gets that frame alone,
    # as a camera without a burst would have it.
    middle = burst.n // 2
    burst_result = deblurrer.burst(burst, FuseOptions(reference="middle"), _progress("burst path"))
    single = deblurrer.single_image(burst.frames[middle], _progress("single-image path"))
    vmax = float(np.percentile(burst_result.blur_map, 99.5)) or 1.0
    psnr = {}
    if reference is not None:
        psnr = {"middle_frame": psnr_db(burst.frames[middle], reference),
                "merged": psnr_db(burst_result.fused, reference),
                "burst_path": psnr_db(burst_result.deblurred, reference),
                "single_image_path": psnr_db(single.deblurred, reference)}
    fmt = (lambda k: f" {psnr[k]:.2f} dB") if psnr else (lambda k: "")
    cells = [(burst.frames[middle], "middle frame" + fmt("middle_frame")),
             (burst_result.fused, "aligned merge" + fmt("merged")),
             (render_heatmap(burst_result.blur_map, vmax)[0], "blur-degree map"),
             (burst_result.deblurred, "burst path" + fmt("burst_path")),
             (render_heatmap(single.blur_map, vmax)[0], "perception map"),
             (single.deblurred, "single-image path" + fmt("single_image_path"))]
    if reference is not None:
        cells.append((reference, "reference (sharp)"))
    report = {"input": label, "psnr_db": psnr, "burst_path": burst_result.report(), "single_image_path": single.report(),
              "options": vars(deblurrer.options)}
    files = {"demo.png": encode_png(demo_strip(cells)), "report.json": (json.dumps(report, indent=1) + "\n").encode(),
             "index.html": _html(label, report, burst_result, single).encode()}
    publish_folder(args.out, files, [args.clip] if args.clip else [])
    scores = "; PSNR vs reference: " + ", ".join(f"{k} {v:.2f} dB" for k, v in psnr.items()) if psnr else ""
    print(f"wrote demo.png, report.json, index.html to {args.out}{scores}")  # one result line
    return 0


def _html(label: str, report: dict, burst: DeblurResult, single: DeblurResult) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.2f} dB</td></tr>" for k, v in report["psnr_db"].items())
    timing = "".join(f"<tr><td>{html.escape(p)}: {html.escape(k)}</td><td>{v:.1f} ms</td></tr>"
                     for p, r in (("burst", burst), ("single", single)) for k, v in r.timings_ms.items())
    devices = html.escape(", ".join(sorted(set(burst.devices.values()))))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>burstdeblur demo</title>
<style>body{{font-family:sans-serif;margin:2em}} td{{padding:2px 12px}} img{{max-width:100%}}</style></head><body>
<h1>burstdeblur demo</h1><p>{html.escape(label)}</p><p><img src="demo.png" alt="fused, blur map, results, reference"></p>
<h2>PSNR against the reference</h2><table>{rows or '<tr><td>no reference for a real clip</td></tr>'}</table>
<h2>Timings</h2><p>run on {devices}</p><table>{timing}</table></body></html>
"""
