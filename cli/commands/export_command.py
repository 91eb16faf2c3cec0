"""`burstdeblur export` and `burstdeblur quantcheck` (need the export extra: pip install '.[export]')."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from burstdeblur.commands.cli_types import TILE, int_in

log = logging.getLogger("burstdeblur")


def add_export_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="ONNX (FP32, INT8) and TFLite (FP32, FP16, INT8 per tile) graphs + manifest")
    p.add_argument("--out", type=Path, required=True, help="new or empty folder (the shipped set: runtime/models)")
    p.add_argument("--weights", default="default", help="stage-3 weights: .safetensors path or shipped name")
    p.add_argument("--tiles", type=TILE, nargs="+", default=None, help="TFLite tile sizes (default 256 512)")
    p.add_argument("--calibration-data", type=Path, default=None,
                   help="dataset whose training split calibrates INT8 (default: built from the shipped CC0 photos)")
    p.add_argument("--calibration-samples", type=int_in(1, 10**5), default=None, help="per graph (default 32)")
    p.add_argument("--no-verify", action="store_true", help="skip the torch vs ONNX Runtime vs LiteRT check")
    p.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from burstdeblur.runtime.errors import BurstError

    try:
        from burstdeblur.export.convert.calibration_data import BUILTIN_CALIBRATION, default_calibration_data
        from burstdeblur.export.convert.model_export import ExportConfig, export_models, manifest_bytes
        from burstdeblur.export.data.staged_output import StagedFolder, write_file
        from burstdeblur.export.training.trained_models import SHIPPED, load_trained, shipped_weights
    except ImportError as exc:
        raise BurstError(f"export needs the export extra (pip install '.[export]'): {exc}") from exc

    config = ExportConfig.default()
    if args.tiles:
        config = replace(config, tiles=tuple(args.tiles))
    if args.calibration_samples is not None:
        config = replace(config, calibration_samples=args.calibration_samples)
    config.check()
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        raise BurstError(f"{args.out}: exists and is not an empty folder")
    nets = load_trained(shipped_weights(args.weights) if args.weights in SHIPPED else Path(args.weights))
    tmp = None
    if args.calibration_data is None:
        tmp = default_calibration_data()
        data, note = Path(tmp.name) / "calibration", {"data": "built-in CC0 photos", **BUILTIN_CALIBRATION}
    else:
        data, note = args.calibration_data, {"data": str(args.calibration_data)}
    try:
        files, manifest = export_models(nets, data, config, note)
        if not args.no_verify:
            manifest["verification"] = _verify(nets, data, files, manifest)
            failed = [v for v in manifest["verification"] if not v["ok"]]
            if failed:
                raise BurstError("verification failed: " + "; ".join(f"{v['file']}: {v}" for v in failed))
    finally:
        if tmp is not None:
            tmp.cleanup()
    with StagedFolder(args.out) as stage:
        for name, payload in files.items():
            write_file(stage.path / name, payload)
        write_file(stage.path / "manifest.json", manifest_bytes(manifest))
    checks = manifest.get("verification", [])
    for v in checks:  # all of it is in manifest.json too
        extra = f", {v['psnr_vs_torch_db']:.1f} dB vs torch" if "psnr_vs_torch_db" in v else ""
        log.info("%-32s max |diff| %.2e%s  (%s)", v["file"], v["max_abs_error"], extra, v["bound"])
    verified = f"; all {len(checks)} verified against torch (manifest.json: verification)" if checks else ""
    print(f"wrote {len(files)} models and manifest.json to {args.out}{verified}")
    return 0


def _verify(nets, data: Path, files: dict[str, bytes], manifest: dict) -> list[dict]:
    from burstdeblur.export.convert.calibration_data import calibration_inputs, read_crops
    from burstdeblur.export.convert.export_graphs import build_graphs
    from burstdeblur.export.convert.export_verify import verify_file

    graphs = build_graphs(nets)
    crops = read_crops(data, 8)[::-1]  # other crops than the first calibration samples
    results = []
    samples = {}
    for entry in manifest["files"]:
        size = entry["tile"] if entry["tile"] != "dynamic" else 8 * (min(c[0].shape[0] for c in crops) // 8)
        if size not in samples:
            samples[size] = calibration_inputs(nets, graphs, crops, size, 1)
        results.append(verify_file(entry, files[entry["file"]], graphs[entry["graph"]], samples[size][entry["graph"]][0]))
    return results


def add_quantcheck_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quantcheck", help="INT8/FP16 vs FP32 quality, ONNX vs TFLite agreement, file sizes; "
                                          "exits 1 when a bound is broken")
    p.add_argument("--models", type=Path, default=None,
                   help="export folder with manifest.json (default: the shipped runtime models)")
    p.add_argument("--bursts", type=int_in(1, 1000), default=8, help="CC0 evaluation bursts (default 8)")
    p.add_argument("--tile", type=TILE, default=256, help="TFLite tile size to check (default 256)")
    p.add_argument("--json", type=Path, default=None, help="also write the report here")
    p.set_defaults(run=_run_quantcheck)


def _run_quantcheck(args: argparse.Namespace) -> int:
    from burstdeblur.runtime.io.output_set import write_file_atomically
    from burstdeblur.runtime.errors import BurstError

    from burstdeblur.export.convert.quantcheck import ModelSet, format_table, quantcheck, quantcheck_bursts

    if args.bursts < 1:
        raise BurstError("--bursts must be >= 1")
    models = ModelSet(args.models, args.tile)
    report = quantcheck(models, quantcheck_bursts(args.bursts, tile=args.tile))
    print(format_table(report))
    if args.json:
        import json
        write_file_atomically(args.json, json.dumps(report, indent=1).encode())
    return 0 if report["ok"] else 1
