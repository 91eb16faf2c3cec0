"""`burstdeblur evaluate`: all baselines and the trained models on held-out bursts (needs the train and eval extras)."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from burstdeblur.commands.cli_types import int_in


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="PSNR/SSIM of baselines and models, and map accuracy, on held-out bursts")
    p.add_argument("--out", type=Path, required=True, help="new or empty folder for report.json, per_image.csv, "
                                                           "summary.md, examples.png")
    p.add_argument("--model", default="default",
                   help="weights of the full model (stage 3): a .safetensors path or a shipped name (default)")
    p.add_argument("--no-map-model", default="no-map", help="ablation weights: path, shipped name, or 'none'")
    p.add_argument("--peer-model", default="nafnet-peer", help="peer weights: path, shipped name, or 'none'")
    p.add_argument("--stage2-model", default="stage2",
                   help="stage-2 weights, shown in the burst path too: path, shipped name, or none")
    p.add_argument("--sources", nargs="+", default=["all"],
                   help="where the held-out scenes come from (default: all catalog groups)")
    p.add_argument("--tune-data", type=Path, default=None,
                   help="dataset whose training split tunes the unsharp-masking baseline (default: its defaults)")
    p.add_argument("--bursts", type=int_in(0, 10**5), default=None, help="synthetic bursts (default 40)")
    p.add_argument("--video-bursts", type=int_in(0, 10**5), default=None, help="real-video bursts (default 12)")
    p.add_argument("--no-blur-detector", action="store_true", help="skip the blur-detector comparison")
    p.add_argument("--independent", type=int_in(0, 10**4), default=40,
                   help="bursts from the independent generator (handheld and tripod, bright to night), scored "
                        "against the middle frame, sharpest frame, aligned mean and FBA (default 40; 0 skips)")
    p.add_argument("--steady", type=int_in(0, 10**4), default=None,
                   help="steady-hand daylight bursts from the independent generator (nearly sharp frames, where "
                        "merging and the nets can cost detail), scored as --independent (default 20, 2 with "
                        "--tiny; 0 skips)")
    p.add_argument("--photos", type=int_in(0, 10**4), default=None,
                   help="handheld single photos from the independent generator for the single-image path, plus "
                        "the sharp held-out photos it must leave alone (default 24, 3 with --tiny; 0 skips both)")
    p.add_argument("--tiny", action="store_true", help="tiny evaluation set (tests)")
    p.set_defaults(run=_run_evaluate)


def _weights(spec: str):
    from burstdeblur.export.training.trained_models import SHIPPED, load_trained, shipped_weights

    if spec == "none":
        return None
    return load_trained(shipped_weights(spec) if spec in SHIPPED else Path(spec))


def _burst_set(name: str, count: int, gen, seed: int, models, runtime, args: argparse.Namespace,
               files: dict[str, bytes]) -> str:
    """One set of independent-generator bursts scored with every method: NAME.csv, NAME.md and a
    report.json entry go into ``files``; returns the table."""
    from burstdeblur.export.data.dataset_sources import resolve_sources
    from burstdeblur.export.evaluation.burst_evaluation import build_independent, evaluate_independent, independent_csv, independent_table
    from burstdeblur.export.training.trained_models import deblur_image

    bursts = build_independent(resolve_sources(args.sources), count, seed, gen)
    no_map = None if models.no_map is None else (lambda image: deblur_image(models.no_map, image, None))
    result = evaluate_independent(bursts, lambda image, m: deblur_image(models.full, image, m), no_map, runtime)
    table = independent_table(result["summary"])
    files[f"{name}.csv"] = independent_csv(result["rows"])
    files[f"{name}.md"] = (table + "\n").encode()
    files["report.json"] = json.dumps({**json.loads(files["report.json"]), name: result}, indent=1).encode()
    return table


def _run_evaluate(args: argparse.Namespace) -> int:
    from dataclasses import asdict, replace

    from burstdeblur.runtime.io.output_set import check_output_folder, publish_folder
    from burstdeblur.runtime.errors import BurstError

    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise BurstError(f"evaluate needs the train extra (pip install '.[train,eval]'): {exc}") from exc
    from burstdeblur.export.convert.calibration_data import read_crops
    from burstdeblur.export.evaluation.classical_baselines import UnsharpConfig, tune_unsharp
    from burstdeblur.export.data.dataset_sources import resolve_sources
    from burstdeblur.export.evaluation.eval_set import EvalConfig, build_eval_set
    from burstdeblur.export.evaluation.evaluation import EvalModels, evaluate, summary_table
    from burstdeblur.export.evaluation.evaluation_report import report_files

    check_output_folder(args.out)
    config = EvalConfig.tiny() if args.tiny else EvalConfig.default()
    for name, field in (("bursts", "synthetic_bursts"), ("video_bursts", "video_bursts")):
        if getattr(args, name) is not None:
            if getattr(args, name) < 0:
                raise BurstError(f"--{name.replace('_', '-')} must be >= 0")
            config = replace(config, **{field: getattr(args, name)})
    models = EvalModels(full=_weights(args.model), no_map=_weights(args.no_map_model),
                        peer=_weights(args.peer_model), stage2=_weights(args.stage2_model))
    if models.full.perception is None or models.full.sft is None:
        raise BurstError(f"{models.full.path}: --model needs all three nets (a stage-3 result)")
    unsharp, tuned = UnsharpConfig.default(), None
    if args.tune_data is not None:
        unsharp, mse = tune_unsharp(read_crops(args.tune_data, 48, sharp=True))
        tuned = {"data": str(args.tune_data), "mse": mse}
    t0 = time.perf_counter()
    bursts = build_eval_set(resolve_sources(args.sources), config)
    result = evaluate(bursts, models, unsharp, use_blur_detector=not args.no_blur_detector)
    meta = {"command": "burstdeblur evaluate", "sources": args.sources, "eval_config": {
                "synthetic_bursts": config.synthetic_bursts, "video_bursts": config.video_bursts,
                "crop": config.crop, "seed": config.seed},
            "models": {k: (str(v.path) if v is not None else None) for k, v in vars(models).items()},
            "unsharp": asdict(unsharp), "unsharp_tuning": tuned, "seconds": round(time.perf_counter() - t0, 1)}
    files = report_files(result, meta)
    steady_count = args.steady if args.steady is not None else (2 if args.tiny else 20)
    photo_count = args.photos if args.photos is not None else (3 if args.tiny else 24)
    runtime = None
    if args.model == "default" and (args.independent or steady_count or photo_count):
        from burstdeblur.runtime.engine.inference import Deblurrer, InferenceOptions

        # The shipped runtime graphs as well: what the product returns (INT8), next to the float model.
        runtime = Deblurrer(InferenceOptions.default())
    if args.independent or steady_count:
        from burstdeblur.export.evaluation.independent_bursts import IndependentConfig

        for name, count, gen, seed in (("independent", args.independent, IndependentConfig.default(), 7),
                                       ("steady", steady_count, IndependentConfig.steady(), 13)):
            if count:
                table = _burst_set(name, count, gen.shrunk() if args.tiny else gen, config.seed + seed, models,
                                   runtime, args, files)
                print(table)
    if photo_count:
        from burstdeblur.export.evaluation.burst_evaluation import held_out_photos
        from burstdeblur.export.evaluation.independent_bursts import IndependentConfig as PhotoConfig
        from burstdeblur.export.evaluation.photo_evaluation import evaluate_photos, handheld_photos, photos_table
        from burstdeblur.export.training.trained_models import deblur_image, predict_map

        photos = held_out_photos(resolve_sources(args.sources))
        shots = handheld_photos(photos, photo_count, config.seed + 11, PhotoConfig.tiny() if args.tiny else None)
        full = models.full
        single = lambda image: deblur_image(full, image, predict_map(full, image))  # noqa: E731
        no_map_photo = None if models.no_map is None else (lambda image: deblur_image(models.no_map, image, None))
        sharp = [(name, photo[:160, :160]) for name, photo in photos] if args.tiny else photos
        shipped = None
        if runtime is not None:
            shipped = lambda image: runtime.single_image(image).deblurred / 255.0  # noqa: E731
        photo_result = evaluate_photos(shots, sharp, single, no_map_photo, lambda image: predict_map(full, image),
                                       shipped)
        table = photos_table(photo_result["summary"])
        files["photos.md"] = (table + "\n").encode()
        files["report.json"] = json.dumps({**json.loads(files["report.json"]), "photos": photo_result},
                                          indent=1).encode()
        print(table)
    publish_folder(args.out, files)
    print(summary_table(result["summary"]))
    print(f"wrote {args.out}/report.json, per_image.csv, summary.md, examples.png")
    return 0
