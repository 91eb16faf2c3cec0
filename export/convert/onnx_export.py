"""ONNX export (FP32, dynamic H/W) with the legacy TorchScript exporter at opset 17, checked by onnx.checker.

The legacy exporter is used because it writes the same bytes for the same
weights run after run (the shipped files must be regenerated bit for bit);
opset 17 is what the issue asks at least, and what every current ONNX Runtime
mobile build runs. Dynamic dims get readable names (height, width,
height_8, ...) since the runtime reads them.
"""
from __future__ import annotations

import io
import warnings

import onnx
import torch

from burstdeblur.export.convert.export_graphs import GraphSpec

OPSET = 17


def dim_names(scale: int) -> tuple[str, str]:
    return ("height", "width") if scale == 1 else (f"height_{scale}", f"width_{scale}")


def export_onnx(graph: GraphSpec, tile: int = 64) -> bytes:
    """Serialized, checked ONNX model of ``graph`` with dynamic H and W (traced at ``tile`` x ``tile``)."""
    inputs = graph.example_inputs(tile, tile)
    dynamic = {}
    for spec in (*graph.inputs, *graph.outputs):
        h, w = dim_names(spec.scale)
        dynamic[spec.name] = {2: h, 3: w}
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(graph.module, inputs, buffer, opset_version=OPSET, dynamo=False,
                          input_names=[s.name for s in graph.inputs], output_names=[s.name for s in graph.outputs],
                          dynamic_axes=dynamic, do_constant_folding=True)
    model = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(model, full_check=True)
    return buffer.getvalue()
