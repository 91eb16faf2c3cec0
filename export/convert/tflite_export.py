"""TFLite/LiteRT export: one static NHWC graph per tile size, FP32 (litert-torch), FP16 weights and full INT8
(ai-edge-quantizer), and the op check that proves an INT8 graph is integer from input to output.

litert-torch writes static shapes (transposed convs cannot be resized at run
time), which is also what phone NPU/GPU delegates want: the runtime tiles.
FP16 is weight-only float casting (activations stay FP32 on CPU; a GPU
delegate runs it in half precision). INT8 is ai-edge-quantizer's
static_wi8_ai8 recipe: int8 weights and activations, int8 I/O, calibrated on
dataset crops the caller passes in.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from burstdeblur.export.convert.export_graphs import GraphSpec

PRECISIONS = ("fp32", "fp16", "int8")
SIGNATURE = "serving_default"


def _nhwc(t: torch.Tensor) -> torch.Tensor:
    return t.permute(0, 2, 3, 1).contiguous()


def export_tflite_fp32(graph: GraphSpec, tile: int) -> bytes:
    """FP32 .tflite of ``graph`` at ``tile`` x ``tile``, NHWC inputs and outputs."""
    import litert_torch

    inputs = graph.example_inputs(tile, tile)
    module = litert_torch.to_channel_last_io(graph.module, args=list(range(len(inputs))),
                                             outputs=list(range(len(graph.outputs))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = litert_torch.convert(module.eval(), tuple(_nhwc(t) for t in inputs))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.tflite"
        model.export(str(path))
        return path.read_bytes()


def _quantize(fp32: bytes, recipe, calibration: list[dict[str, np.ndarray]] | None,
              fixed_ranges: dict[str, tuple[float, float]] | None = None) -> bytes:
    from ai_edge_quantizer import quantizer

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "fp32.tflite"
        source.write_bytes(fp32)
        q = quantizer.Quantizer(str(source), recipe)
        result = q.calibrate({SIGNATURE: calibration}, num_threads=os.cpu_count() or 1) if calibration else None
        for name, (lo, hi) in (fixed_ranges or {}).items():
            tensor = f"{SIGNATURE}_{name}"
            if result is None or tensor not in result:
                raise ValueError(f"no calibrated tensor {tensor} to fix the range of")
            result[tensor] = {k: np.full_like(v, bound) for (k, v), bound in zip(result[tensor].items(), (lo, hi))}
        target = Path(tmp) / "out.tflite"
        q.quantize(result, serialize_to_path=str(target), enable_progress_report=False)
        return target.read_bytes()


def export_tflite_fp16(fp32: bytes) -> bytes:
    from ai_edge_quantizer import recipe_manager
    from ai_edge_quantizer.qtyping import TFLOperationName
    from ai_edge_quantizer.recipe import AlgorithmName

    manager = recipe_manager.RecipeManager()
    manager.add_weight_only_config(regex=".*", operation_name=TFLOperationName.ALL_SUPPORTED, num_bits=16,
                                   algorithm_key=AlgorithmName.FLOAT_CASTING)
    return _quantize(fp32, manager.get_quantization_recipe(), None)


def export_tflite_int8(fp32: bytes, calibration: list[dict[str, np.ndarray]],
                       fixed_ranges: dict[str, tuple[float, float]] | None = None, per_channel: bool = True) -> bytes:
    """Full-integer INT8; ``calibration``: per sample, ``{tflite input name (args_k): NHWC float32}``.

    ``fixed_ranges`` pins inputs to a known range instead of the calibrated one: image inputs get [0, 1],
    i.e. scale 1/255 and zero point -128, so an 8-bit pixel p enters as exactly p - 128 and no bright pixel
    of a photo is clipped because the calibration crops happened to be darker.
    """
    from ai_edge_quantizer import recipe_manager
    from ai_edge_quantizer.qtyping import QuantGranularity, TFLOperationName

    if not calibration:
        raise ValueError("INT8 export needs calibration samples")
    # static_wi8_ai8, with the weight granularity as a choice
    manager = recipe_manager.RecipeManager()
    manager.add_static_config(regex=".*", operation_name=TFLOperationName.ALL_SUPPORTED, activation_num_bits=8,
                              weight_num_bits=8, weight_granularity=QuantGranularity.CHANNELWISE if per_channel
                              else QuantGranularity.TENSORWISE)
    return _quantize(fp32, manager.get_quantization_recipe(), calibration, fixed_ranges)


def calibration_feed(graph: GraphSpec, samples: list[tuple[torch.Tensor, ...]]) -> list[dict[str, np.ndarray]]:
    """NCHW input tuples -> the quantizer's per-sample dicts keyed by the signature's input names."""
    return [{f"args_{k}": _nhwc(t).numpy().astype(np.float32) for k, t in enumerate(sample)} for sample in samples]


def graph_ops(model: bytes) -> list[dict]:
    """The graph's ops as LiteRT reads them (no delegate applied): name and the dtypes of inputs and outputs."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_content=model,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    dtype = lambda i: np.dtype(tensors[i]["dtype"]).name  # noqa: E731
    return [{"op": op["op_name"], "inputs": [dtype(i) for i in op["inputs"] if i >= 0],
             "outputs": [dtype(i) for i in op["outputs"] if i >= 0]} for op in interpreter._get_ops_details()]


def float_ops(model: bytes) -> list[str]:
    """Ops other than the graph's edge QUANTIZE/DEQUANTIZE that touch float tensors: an INT8 graph a phone
    NPU can take whole has none (float bias/zero tensors of int ops count as int: they are int32 there)."""
    found = []
    for op in graph_ops(model):
        if op["op"] in ("QUANTIZE", "DEQUANTIZE"):
            continue
        if any(t.startswith("float") for t in op["inputs"] + op["outputs"]):
            found.append(op["op"])
    return found


def shorten_tensor_names(model: bytes) -> bytes:
    """Rename every tensor that is not a subgraph input or output to ``t<index>``.

    litert-torch names each tensor after its full module path (hundreds of
    bytes each); an INT8 graph has a few hundred tensors, so the names alone
    can be a tenth of the file. Signatures address tensors by index, and the
    I/O tensors keep their names, so nothing that reads the graph changes.
    Constant buffers that litert-torch appends after the flatbuffer (addressed
    by offset) are moved inline first: repacking moves every offset.
    """
    from ai_edge_litert.tools import flatbuffer_utils

    obj = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    for buffer in obj.buffers:
        if buffer.offset and buffer.offset > 1:
            buffer.data = np.frombuffer(model, np.uint8, int(buffer.size), int(buffer.offset)).copy()
            buffer.offset, buffer.size = 0, 0
    for subgraph in obj.subgraphs:
        keep = set(int(i) for i in subgraph.inputs) | set(int(i) for i in subgraph.outputs)
        for index, tensor in enumerate(subgraph.tensors):
            if index not in keep:
                tensor.name = f"t{index}".encode()
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))
