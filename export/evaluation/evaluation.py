"""The evaluation of issue 4: every method on the held-out bursts, PSNR/SSIM per image and in mean, and the
perception net's map against the true blur-degree map next to a classical per-pixel blur detector.

Methods (in table order):
    fused          the fused input as is
    sharpest       the sharpest single source frame (Tenengrad)
    unsharp        unsharp masking whose strength follows the true blur map (tuned on training crops)
    no_map         the same deblur U-Net with no blur map, at the same MACs (ablation)
    peer           a NAFNet-style block net at the same MACs and training budget
    full_burst     perception/SFT/deblur model, burst path: the true blur map -> SFT -> deblur
    full_single    the same model, single-image path: perception map -> SFT -> deblur
    burst_stage2   (optional) the stage-2 weights in the burst path, before joint fine-tuning
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.errors import BurstError

from burstdeblur.export.evaluation.classical_baselines import UnsharpConfig, map_guided_unsharp, sharpest_frame
from burstdeblur.export.evaluation.eval_set import EvalBurst
from burstdeblur.runtime.io.image_quality import map_errors, pearson, psnr, ssim
from burstdeblur.export.training.trained_models import TrainedNets, deblur_image, predict_map

METHOD_LABELS = {
    "fused": "fused input",
    "sharpest": "sharpest source frame",
    "unsharp": "map-guided unsharp masking",
    "no_map": "no-map U-Net (ablation)",
    "peer": "NAFNet-style peer",
    "full_burst": "full model, burst path (true map)",
    "full_single": "full model, single-image path (perception map)",
    "burst_stage2": "stage-2 weights, burst path (true map)",
}


@dataclass
class EvalModels:
    full: TrainedNets  # stage 3 (or any card with all three nets)
    no_map: TrainedNets | None = None
    peer: TrainedNets | None = None
    stage2: TrainedNets | None = None


def _methods(models: EvalModels, unsharp: UnsharpConfig) -> dict[str, Callable[[EvalBurst, np.ndarray], np.ndarray]]:
    """Each method: (burst, perception map) -> restored ``[H, W, 3]`` (uint8 or float in [0, 1])."""
    methods: dict[str, Callable[[EvalBurst, np.ndarray], np.ndarray]] = {
        "fused": lambda b, m: b.fused,
        "sharpest": lambda b, m: sharpest_frame(b.frames),
        "unsharp": lambda b, m: map_guided_unsharp(b.fused, b.blur_map, unsharp),
    }
    if models.no_map is not None:
        methods["no_map"] = lambda b, m: deblur_image(models.no_map, b.fused, None)
    if models.peer is not None:
        methods["peer"] = lambda b, m: deblur_image(models.peer, b.fused, None)
    methods["full_burst"] = lambda b, m: deblur_image(models.full, b.fused, b.blur_map)
    methods["full_single"] = lambda b, m: deblur_image(models.full, b.fused, m)
    if models.stage2 is not None:
        methods["burst_stage2"] = lambda b, m: deblur_image(models.stage2, b.fused, b.blur_map)
    return methods


def blur_detector_map(image: np.ndarray) -> np.ndarray:
    """``[H, W]`` blurriness from the PyPI ``blur-detector`` package (multiscale DCT; it returns sharpness
    in [0, 1], so this is 1 - that). Its defaults, except scale_start=2, which suits 256-px crops."""
    try:
        import blur_detector
    except ImportError as exc:
        raise BurstError("the blur-detector comparison needs the package: pip install --no-deps "
                         "blur-detector==0.0.6 (or pass --no-blur-detector)") from exc
    import warnings

    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own float->uint8 notice from scikit-image, once per image
        sharpness = blur_detector.detectBlur(gray, downsampling_factor=4, num_scales=4, scale_start=2,
                                             show_progress=False)
    return 1.0 - sharpness.astype(np.float64)


def evaluate(bursts: Sequence[EvalBurst], models: EvalModels, unsharp: UnsharpConfig,
             use_blur_detector: bool = True, keep: int = 4) -> dict:
    """Per-image rows, means per method (all / synthetic / video), map statistics, and a few outputs for pictures."""
    if not bursts:
        raise BurstError("no evaluation bursts")
    methods = _methods(models, unsharp)
    rows, map_rows, examples = [], [], []
    detector_pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for burst in tqdm(bursts, desc="evaluate", unit="burst", disable=None):
        predicted = predict_map(models.full, burst.fused)
        row = {"name": burst.name, "kind": burst.kind}
        outputs = {}
        for key, run in methods.items():
            out = run(burst, predicted)
            outputs[key] = out
            row[f"{key}_psnr"] = psnr(out, burst.sharp)
            row[f"{key}_ssim"] = ssim(out, burst.sharp)
        rows.append(row)
        map_row = {"name": burst.name, "kind": burst.kind,
                   **{f"perception_{k}": v for k, v in map_errors(predicted, burst.blur_map).items()}}
        if use_blur_detector:
            detected = blur_detector_map(burst.fused)
            map_row["blur_detector_pearson"] = pearson(detected, burst.blur_map)
            detector_pairs.append((detected, burst.blur_map))
        map_rows.append(map_row)
        if len(examples) < keep and (burst.kind == "video" or len(examples) < keep - 1):
            examples.append({"burst": burst, "predicted": predicted, "outputs": outputs})
    summary = {"methods": {k: METHOD_LABELS[k] for k in methods}, "count": _counts(rows),
               "mean": {kind: _means(rows, kind) for kind in ("all", "synthetic", "video")},
               "maps": {kind: _means(map_rows, kind) for kind in ("all", "synthetic", "video")}}
    if detector_pairs:
        summary["maps"]["blur_detector_affine_fit"] = _affine_fit_errors(detector_pairs)
    return {"summary": summary, "rows": rows, "map_rows": map_rows, "examples": examples}


def _counts(rows: list[dict]) -> dict[str, int]:
    return {"all": len(rows), "synthetic": sum(r["kind"] == "synthetic" for r in rows),
            "video": sum(r["kind"] == "video" for r in rows)}


def _means(rows: list[dict], kind: str) -> dict[str, float]:
    chosen = [r for r in rows if kind == "all" or r["kind"] == kind]
    if not chosen:
        return {}
    keys = [k for k in chosen[0] if k not in ("name", "kind")]
    return {k: float(np.nanmean([r[k] for r in chosen])) for k in keys}


def _affine_fit_errors(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """blur-detector's map lives on its own scale: fit true ~ a * detected + b over all images (least
    squares, its best case), then MAE/RMSE on the unit scale."""
    d = np.concatenate([p.ravel() for p, _ in pairs])
    t = np.concatenate([m.ravel() for _, m in pairs]).astype(np.float64)
    a, b = np.polyfit(d, t, 1)
    fitted = a * d + b
    return {"mae": float(np.mean(np.abs(fitted - t))), "rmse": float(np.sqrt(np.mean((fitted - t) ** 2))),
            "pearson_pooled": pearson(d, t), "a": float(a), "b": float(b)}


def summary_table(summary: dict) -> str:
    """Markdown table: mean PSNR/SSIM per method, for all, synthetic and video bursts."""
    counts, means = summary["count"], summary["mean"]
    kinds = [k for k in ("all", "synthetic", "video") if counts[k]]
    head = "| method | " + " | ".join(f"{k} ({counts[k]}) PSNR dB / SSIM" for k in kinds) + " |"
    lines = [head, "|" + "---|" * (len(kinds) + 1)]
    for key, label in summary["methods"].items():
        cells = [f"{means[k][f'{key}_psnr']:.2f} / {means[k][f'{key}_ssim']:.4f}" for k in kinds]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    maps = summary["maps"]
    lines += ["", "| blur map vs true (per image, mean) | MAE | RMSE | Pearson r |", "|---|---|---|---|"]
    for k in kinds:
        m = maps[k]
        lines.append(f"| perception net, {k} | {m['perception_mae']:.4f} | {m['perception_rmse']:.4f} | "
                     f"{m['perception_pearson']:.3f} |")
        if "blur_detector_pearson" in m:
            lines.append(f"| blur-detector (1 - sharpness), {k} | - | - | {m['blur_detector_pearson']:.3f} |")
    if "blur_detector_affine_fit" in maps:
        fit = maps["blur_detector_affine_fit"]
        lines.append(f"| blur-detector after its best affine fit, all | {fit['mae']:.4f} | {fit['rmse']:.4f} | "
                     f"{fit['pearson_pooled']:.3f} (pooled) |")
    return "\n".join(lines)
