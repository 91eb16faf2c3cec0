"""Verify every exported file against the torch graph on the same inputs, with stated tolerances.

Tolerances (max |difference| on the outputs' own scale, images and maps in [0, 1]):
    FP32 (ONNX Runtime or LiteRT)   1e-4   same maths, float reassociation only
    FP16 weights (LiteRT)           5e-3   weights rounded to 11 significant bits
    INT8 images and maps            PSNR of the output against torch >= 30 dB here; the quality bound that
                                    matters (<= 0.2 dB lost against the sharp reference) is quantcheck's
    INT8 SFT delta/beta             mean |diff| <= 1% of the largest |value| + 1e-3 (the worst single value
                                    can sit at the edge of the int8 range; what the error does to the image
                                    is quantcheck's to judge)
Inputs are real calibration-style crops (fused image, its map, the SFT's alpha/beta), not noise.
"""
from __future__ import annotations

import numpy as np
import torch

from burstdeblur.runtime.engine.backends import litert_session, onnx_session
from burstdeblur.runtime.io.image_quality import psnr
from burstdeblur.runtime.engine.model_store import ModelEntry

from burstdeblur.export.convert.export_graphs import GraphSpec

TOLERANCE = {"fp32": 1e-4, "fp16": 5e-3}
INT8_MIN_PSNR_DB = 30.0


@torch.no_grad()
def verify_file(entry: dict, payload: bytes, graph: GraphSpec, sample: tuple[torch.Tensor, ...]) -> dict:
    """One file on one input tuple (NCHW, at the file's tile size, or any size for ONNX)."""
    reference = graph.module(*sample)
    reference = [t.numpy() for t in (reference if isinstance(reference, tuple) else (reference,))]
    arrays = [t.numpy() for t in sample]
    open_session = onnx_session if entry["format"] == "onnx" else litert_session
    got = open_session(ModelEntry.from_json(entry), payload).run(arrays)
    errors = [float(np.max(np.abs(g - r))) for g, r in zip(got, reference)]
    result = {"file": entry["file"], "max_abs_error": max(errors)}
    if entry["precision"] == "int8":
        pictures = [(g, r) for g, r, s in zip(got, reference, graph.outputs) if s.value_range]
        others = [(g, r) for g, r, s in zip(got, reference, graph.outputs) if not s.value_range]
        ok = True
        if pictures:
            result["psnr_vs_torch_db"] = min(psnr(np.clip(g, 0, 1), np.clip(r, 0, 1)) for g, r in pictures)
            ok = result["psnr_vs_torch_db"] >= INT8_MIN_PSNR_DB
        if others:
            result["mean_abs_error"] = max(float(np.mean(np.abs(g - r))) for g, r in others)
            ok = ok and all(np.mean(np.abs(g - r)) <= 0.01 * np.max(np.abs(r)) + 1e-3 for g, r in others)
        result["ok"] = bool(ok)
        result["bound"] = f"PSNR >= {INT8_MIN_PSNR_DB} dB" if pictures else "mean |diff| <= 1% of max |value| + 1e-3"
    else:
        result["ok"] = result["max_abs_error"] <= TOLERANCE[entry["precision"]]
        result["bound"] = f"max abs <= {TOLERANCE[entry['precision']]}"
    return result
