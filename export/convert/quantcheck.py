"""Does quantization keep quality? The exported files against each other on fixed CC0 evaluation bursts.

Bursts: rendered from the two CC0 photos that ship with the runtime (fixed
seed, 256 px, the dataset renderer and the runtime's fusion), so the check
runs offline anywhere, with their true blur maps and sharp references. Every
model runs at the 256 tile on whole crops: no tiling enters the comparison.

Bounds (from the issue):
    INT8 vs FP32, PSNR of the deblurred output against the sharp reference   drop <= 0.2 dB
        (also on the same bursts 1.6x brighter, highlights clipped: the CC0 crops are mostly dark, and
        a calibrated output range once stopped at 244 of 255 without these checks noticing)
    FP16 vs FP32, same                                                        drop <= 0.02 dB
    perception map INT8 vs FP32                                               MAE <= 0.01 (unit range)
    ONNX FP32 vs TFLite FP32, every output                                    max |diff| <= 1e-4
    INT8 file size vs FP32 file size                                          <= 30 %
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.engine.backends import Session, open_session
from burstdeblur.runtime.burst.blur_map import scale_map

from burstdeblur.export.data.dataset_sources import build_scenes, resolve_sources
from burstdeblur.export.data.dataset_writer import DatasetConfig, make_burst, plan_tasks
from burstdeblur.runtime.io.image_quality import psnr
from burstdeblur.runtime.engine.model_store import ModelEntry, ModelStore

DEFAULT_TILE = 256
BOUNDS = {"int8_drop_db": 0.2, "fp16_drop_db": 0.02, "map_mae": 0.01, "onnx_vs_tflite": 1e-4, "size_ratio": 0.30}


@dataclass(frozen=True)
class QuantBurst:
    fused: np.ndarray  # [1, 3, T, T] float32 in [0, 1]
    blur_map: np.ndarray  # [1, 1, T, T] float32 unit range
    sharp: np.ndarray  # [T, T, 3] uint8


def quantcheck_bursts(count: int = 8, seed: int = 7, tile: int = DEFAULT_TILE) -> list[QuantBurst]:
    config = replace(DatasetConfig.default(), crop=tile, crops_per_side=1)
    scenes = build_scenes(resolve_sources(["builtin"]), tile, config.video_n)
    tasks = plan_tasks(scenes, {s.scene_id: "val" for s in scenes}, count, seed, config)
    bursts = []
    for task in tqdm(tasks, desc="quantcheck bursts", unit="burst", disable=None):
        made = make_burst(task, config)
        unit = scale_map(made.result.blur_raw, made.result.max_value, "unit")
        bursts.append(QuantBurst(np.transpose(made.result.fused.astype(np.float32) / 255.0, (2, 0, 1))[None],
                                 unit[None, None].astype(np.float32), made.sharp))
    return bursts


class ModelSet:
    """The files of one export folder at one tile size, opened once each through the runtime's backends
    (so every file is checked against the manifest's sha256 before it is run)."""

    def __init__(self, folder: Path | None = None, tile: int = DEFAULT_TILE):
        self.store, self.tile = ModelStore(folder), tile
        self._sessions: dict[tuple[str, str, str], Session] = {}

    def entry(self, graph: str, fmt: str, precision: str) -> ModelEntry:
        return self.store.find(graph, fmt, precision, self.tile)

    def file_size(self, graph: str, fmt: str, precision: str) -> int:
        return (self.store.folder / self.entry(graph, fmt, precision).file).stat().st_size

    def run(self, graph: str, fmt: str, precision: str, inputs: list[np.ndarray]) -> list[np.ndarray]:
        key = (graph, fmt, precision)
        if key not in self._sessions:
            backend = "onnx" if fmt == "onnx" else "litert"
            self._sessions[key] = open_session(self.store, graph, backend, precision, self.tile, threads=2)
        return self._sessions[key].run(inputs)


BRIGHT_VARIANTS = [("onnx", "fp32"), ("onnx", "int8"), ("tflite", "fp32"), ("tflite", "int8")]
BRIGHT_GAIN = 1.6


def brighter(b: QuantBurst) -> QuantBurst:
    """The burst as if exposed 1.6x longer: highlights clip at full scale, as a camera's would. The map
    scales with the image (std is linear) except where clipping flattens it, which only lowers it."""
    sharp = np.clip(np.rint(b.sharp.astype(np.float32) * BRIGHT_GAIN), 0, 255).astype(np.uint8)
    fused = np.minimum(b.fused * BRIGHT_GAIN, 1.0).astype(np.float32)
    return QuantBurst(fused, (b.blur_map * BRIGHT_GAIN).astype(np.float32), sharp)


def _to_image(x: np.ndarray) -> np.ndarray:
    return np.clip(np.transpose(x[0], (1, 2, 0)), 0.0, 1.0)


def quantcheck(models: ModelSet, bursts: list[QuantBurst]) -> dict:
    paths = {"burst": [], "single": [], "bright burst": [], "bright single": []}  # rows of {(fmt, precision): psnr}
    map_mae = {("tflite", "int8"): [], ("onnx", "int8"): []}
    onnx_vs_tflite = 0.0
    variants = [("onnx", "fp32"), ("onnx", "int8"), ("tflite", "fp32"), ("tflite", "fp16"), ("tflite", "int8")]
    for b in tqdm(bursts, desc="quantcheck", unit="burst", disable=None):
        outputs = {}
        for fmt, precision in variants:
            modulation = models.run("sft", fmt, precision, [b.blur_map])
            burst_out = models.run("deblur", fmt, precision, [b.fused, *modulation])[0]
            single_out, _ = models.run("single", fmt, precision, [b.fused])
            perception = models.run("perception", fmt, precision, [b.fused])[0]
            outputs[(fmt, precision)] = (burst_out, single_out, perception, modulation)
        paths["burst"].append({v: psnr(_to_image(outputs[v][0]), b.sharp) for v in variants})
        paths["single"].append({v: psnr(_to_image(outputs[v][1]), b.sharp) for v in variants})
        for fmt in ("tflite", "onnx"):
            map_mae[(fmt, "int8")].append(float(np.mean(np.abs(outputs[(fmt, "int8")][2] - outputs[(fmt, "fp32")][2]))))
        a, t = outputs[("onnx", "fp32")], outputs[("tflite", "fp32")]
        diffs = [np.max(np.abs(x - y)) for x, y in zip((a[0], a[1], a[2], *a[3]), (t[0], t[1], t[2], *t[3]))]
        onnx_vs_tflite = max(onnx_vs_tflite, float(max(diffs)))
        bright = brighter(b)
        burst_scores, single_scores = {}, {}
        for v in BRIGHT_VARIANTS:
            modulation = models.run("sft", *v, [bright.blur_map])
            burst_scores[v] = psnr(_to_image(models.run("deblur", *v, [bright.fused, *modulation])[0]), bright.sharp)
            single_scores[v] = psnr(_to_image(models.run("single", *v, [bright.fused])[0]), bright.sharp)
        paths["bright burst"].append(burst_scores)
        paths["bright single"].append(single_scores)
    rows = []

    def drop_row(path: str, fmt: str, precision: str, bound: float) -> None:
        fp32 = np.mean([r[(fmt, "fp32")] for r in paths[path]])
        other = np.mean([r[(fmt, precision)] for r in paths[path]])
        rows.append({"check": f"{path} path, {fmt} {precision} vs fp32: PSNR drop (dB)", "value": float(fp32 - other),
                     "bound": bound, "ok": bool(fp32 - other <= bound), "fp32_psnr": float(fp32),
                     "psnr": float(other)})

    for path in ("burst", "single"):
        drop_row(path, "tflite", "int8", BOUNDS["int8_drop_db"])
        drop_row(path, "tflite", "fp16", BOUNDS["fp16_drop_db"])
        drop_row(path, "onnx", "int8", BOUNDS["int8_drop_db"])
    for path in ("bright burst", "bright single"):
        for fmt in ("tflite", "onnx"):
            drop_row(path, fmt, "int8", BOUNDS["int8_drop_db"])
    for (fmt, precision), values in map_mae.items():
        mae = float(np.mean(values))
        rows.append({"check": f"perception map, {fmt} {precision} vs fp32: MAE", "value": mae,
                     "bound": BOUNDS["map_mae"], "ok": mae <= BOUNDS["map_mae"]})
    rows.append({"check": "ONNX fp32 vs TFLite fp32: max |diff| of every output", "value": onnx_vs_tflite,
                 "bound": BOUNDS["onnx_vs_tflite"], "ok": onnx_vs_tflite <= BOUNDS["onnx_vs_tflite"]})
    for graph in ("perception", "sft", "deblur", "single"):
        for fmt in ("tflite", "onnx"):
            ratio = models.file_size(graph, fmt, "int8") / models.file_size(graph, fmt, "fp32")
            rows.append({"check": f"{graph} {fmt} int8 size / fp32 size", "value": ratio,
                         "bound": BOUNDS["size_ratio"], "ok": ratio <= BOUNDS["size_ratio"]})
    return {"bursts": len(bursts), "tile": models.tile, "rows": rows, "ok": all(r["ok"] for r in rows)}


def format_table(report: dict) -> str:
    lines = [f"quantcheck on {report['bursts']} CC0 bursts at tile {report['tile']}",
             f"{'check':64s} {'value':>10s} {'bound':>8s}  result"]
    for r in report["rows"]:
        lines.append(f"{r['check']:64s} {r['value']:10.4f} {r['bound']:8.4g}  {'ok' if r['ok'] else 'FAILED'}")
    lines.append("all bounds met" if report["ok"] else "BOUNDS BROKEN")
    return "\n".join(lines)
