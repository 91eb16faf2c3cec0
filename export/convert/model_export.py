"""`burstdeblur export`: every graph in every format and precision, with one manifest describing each file.

Files: ``{graph}.{precision}.onnx`` (dynamic H/W, NCHW, float I/O) and
``{graph}.{tile}.{precision}.tflite`` (static tile, NHWC; INT8 with int8 I/O).
The manifest entry of a file says what a runtime needs without torch: sha256,
format, precision, tensor names in the file next to their meaning, shapes,
layout, value range and normalisation, the I/O quantization scale/zero-point,
the source weights' hash and the exporter versions.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.engine.model_store import MANIFEST_FORMAT

from burstdeblur.export.convert.calibration_data import calibration_inputs, read_crops
from burstdeblur.export.convert.export_graphs import GraphSpec, TensorSpec, build_graphs
from burstdeblur.export.convert.onnx_export import OPSET, dim_names, export_onnx
from burstdeblur.export.convert.onnx_quantize import quantize_onnx_int8, shorten_names
from burstdeblur.export.convert.tflite_export import (calibration_feed, export_tflite_fp16, export_tflite_fp32, export_tflite_int8,
                            float_ops, shorten_tensor_names)
from burstdeblur.export.training.trained_models import TrainedNets

# INT8 tensors whose quantization range is pinned to the spec's value range instead of calibrated: images in
# and out. In, an 8-bit pixel p enters as exactly p - 128. Out, the deblurred image's int8 code is its 8-bit
# value - 128: calibrated, the range followed the calibration crops (generation 2: [-0.011, 0.958]), so every
# pixel above 244 came out as 244, and bright bursts lost up to 3.6 dB to INT8 against 0.1 in FP32.
PINNED = ("image", "deblurred")
# Weights quantized per tensor, not per channel: in these small graphs the per-channel scales and zero
# points (12 bytes a channel) would push the INT8 file past 30% of the FP32 one, and per-tensor weights
# measured the same error here (perception and SFT outputs within 1e-5 of per-channel on dataset crops).
PER_TENSOR_GRAPHS = ("perception", "sft")
# How each ONNX INT8 graph's activation ranges come from calibration (see quantize_onnx_int8). With the
# generation-2 nets MinMax's uint8 steps were too coarse in two graphs, measured on the shipped set:
# - perception (and single, which holds it): the map (mean ~0.03, next to deep features of +-30) came out
#   0.011 off the float map in mean, verification 27.9 dB < 30; moving averages 0.0075 MAE, 30.3 dB (the
#   99.999th percentile: 29.0 dB);
# - deblur: quantcheck's burst path lost 0.42 dB (bound 0.2); moving averages 0.23, the percentile 0.12.
# LiteRT's quantizer, with its own int8 scheme, stays within the bounds with MinMax.
ONNX_ACTIVATION_RANGES = {"perception": "moving-average", "single": "moving-average", "deblur": "percentile",
                          "sft": "minmax"}
EXPORTERS = ("torch", "onnx", "onnxruntime", "litert-torch", "ai-edge-quantizer", "ai-edge-litert")


@dataclass(frozen=True)
class ExportConfig:
    tiles: tuple[int, ...] = (256, 512)
    calibration_samples: int = 32
    onnx_trace_tile: int = 64

    @staticmethod
    def default() -> "ExportConfig":
        return ExportConfig()

    @staticmethod
    def tiny() -> "ExportConfig":
        return ExportConfig(tiles=(64,), calibration_samples=4)

    def check(self) -> None:
        if not self.tiles or any(t < 8 or t % 8 for t in self.tiles):
            raise BurstError(f"tile sizes must be multiples of 8 (three 2x poolings), got {self.tiles}")
        if self.calibration_samples < 1:
            raise BurstError("at least one calibration sample is needed")


def _versions() -> dict[str, str]:
    out = {}
    for name in EXPORTERS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _tensor_entry(spec: TensorSpec, file_name: str, shape: list, layout: str, dtype: str,
                  quantization: dict | None) -> dict:
    return {"name": spec.name, "tensor": file_name, "shape": shape, "layout": layout, "dtype": dtype,
            "value_range": list(spec.value_range) if spec.value_range else None, "meaning": spec.meaning,
            "quantization": quantization}


def _onnx_entries(graph: GraphSpec) -> tuple[list[dict], list[dict]]:
    def entry(spec: TensorSpec) -> dict:
        h, w = dim_names(spec.scale)
        return _tensor_entry(spec, spec.name, [1, spec.channels, h, w], "NCHW", "float32", None)
    return [entry(s) for s in graph.inputs], [entry(s) for s in graph.outputs]


def _tflite_entries(graph: GraphSpec, model: bytes) -> tuple[list[dict], list[dict]]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_content=model,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    runner = interpreter.get_signature_runner()
    details = (runner.get_input_details(), runner.get_output_details())  # keyed by signature names args_k/output_k

    def entries(specs, table, prefix):
        out = []
        for k, spec in enumerate(specs):
            d = table[f"{prefix}_{k}"]
            scale, zero = d["quantization"]
            quant = {"scale": float(scale), "zero_point": int(zero)} if scale else None
            out.append(_tensor_entry(spec, f"{prefix}_{k}", [int(v) for v in d["shape"]], "NHWC",
                                     np.dtype(d["dtype"]).name, quant))
        return out
    return entries(graph.inputs, details[0], "args"), entries(graph.outputs, details[1], "output")


def export_models(nets: TrainedNets, calibration_data: Path, config: ExportConfig = ExportConfig(),
                  calibration_note: dict | None = None) -> tuple[dict[str, bytes], dict]:
    """All files (name -> bytes) and the manifest. Nothing is written here."""
    config.check()
    graphs = build_graphs(nets)
    crops = read_crops(calibration_data, 4 * config.calibration_samples)
    weights_sha = hashlib.sha256(nets.path.read_bytes()).hexdigest()
    files: dict[str, bytes] = {}
    entries: list[dict] = []

    def add(name: str, payload: bytes, graph: GraphSpec, fmt: str, precision: str, tile, io) -> None:
        files[name] = payload
        inputs, outputs = io
        entries.append({"file": name, "sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload),
                        "graph": graph.name, "format": fmt, "precision": precision, "tile": tile,
                        "inputs": inputs, "outputs": outputs})

    steps = len(graphs) * (2 + 3 * len(config.tiles))
    progress = tqdm(total=steps, desc="export", unit="file", disable=None)
    # ONNX: one dynamic graph per precision, calibrated at the first tile size.
    onnx_feeds = calibration_inputs(nets, graphs, crops, config.tiles[0], config.calibration_samples)
    for name, graph in graphs.items():
        fp32 = shorten_names(export_onnx(graph, config.onnx_trace_tile))
        add(f"{name}.fp32.onnx", fp32, graph, "onnx", "fp32", "dynamic", _onnx_entries(graph))
        progress.update(1)
        feed = [{s.name: t.numpy() for s, t in zip(graph.inputs, sample)} for sample in onnx_feeds[name]]
        fixed = {s.name: s.value_range for s in (*graph.inputs, *graph.outputs) if s.name in PINNED}
        int8 = quantize_onnx_int8(fp32, feed, fixed, per_channel=name not in PER_TENSOR_GRAPHS,
                                  ranges=ONNX_ACTIVATION_RANGES[name])
        add(f"{name}.int8.onnx", shorten_names(int8), graph, "onnx", "int8", "dynamic",
            _onnx_entries(graph))
        progress.update(1)
    for tile in config.tiles:
        feeds = calibration_inputs(nets, graphs, crops, tile, config.calibration_samples)
        for name, graph in graphs.items():
            fp32 = shorten_tensor_names(export_tflite_fp32(graph, tile))
            int8 = export_tflite_int8(fp32, calibration_feed(graph, feeds[name]), {
                **{f"args_{k}": s.value_range for k, s in enumerate(graph.inputs) if s.name in PINNED},
                **{f"output_{k}_output": s.value_range for k, s in enumerate(graph.outputs) if s.name in PINNED}},
                per_channel=name not in PER_TENSOR_GRAPHS)
            variants = {"fp32": fp32, "fp16": shorten_tensor_names(export_tflite_fp16(fp32)),
                        "int8": shorten_tensor_names(int8)}
            floats = float_ops(variants["int8"])
            if floats:
                raise BurstError(f"{name} INT8 at tile {tile}: ops left in float between quantize pairs: {floats}")
            for precision, payload in variants.items():
                add(f"{name}.{tile}.{precision}.tflite", payload, graph, "tflite", precision, tile,
                    _tflite_entries(graph, payload))
                progress.update(1)
    progress.close()
    manifest = {
        "format": MANIFEST_FORMAT,
        "weights": {"file": nets.path.name, "sha256": weights_sha, "card_nets": nets.card.get("nets")},
        "onnx_opset": OPSET, "tiles": list(config.tiles),
        "normalisation": "image: RGB 8-bit value / 255 in [0, 1]; blur_map: per-pixel std / 127.5 (8-bit), the "
                         "runtime's unit range; INT8 TFLite I/O: real = scale * (q - zero_point)",
        "calibration": {"samples_per_graph": config.calibration_samples, **(calibration_note or {})},
        "exporters": _versions(),
        "files": entries,
    }
    return files, manifest


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=1) + "\n").encode()
