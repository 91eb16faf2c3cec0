"""Run one exported file with ONNX Runtime or LiteRT, driven by its manifest entry (NumPy only, no torch).

Inputs and outputs are NCHW float32 here whatever the file holds: NHWC layout
and int8 quantization (real = scale * (q - zero_point)) are converted at this
boundary from the manifest entry. Used by the export verification and by
quantcheck; the on-device runtime has its own loader.
"""
from __future__ import annotations

import numpy as np


def run_onnx(payload: bytes, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(payload, providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def run_tflite(payload: bytes, entry: dict, inputs_nchw: list[np.ndarray]) -> list[np.ndarray]:
    """Quantizes int8 inputs and dequantizes outputs with the manifest's scale/zero-point; NCHW in and out."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=payload, num_threads=2)
    runner = interpreter.get_signature_runner()
    feed = {}
    for spec, x in zip(entry["inputs"], inputs_nchw):
        x = np.transpose(x, (0, 2, 3, 1))
        q = spec["quantization"]
        if q:
            x = np.clip(np.rint(x / q["scale"]) + q["zero_point"], -128, 127).astype(np.int8)
        feed[spec["tensor"]] = x.astype(spec["dtype"])
    raw = runner(**feed)
    outs = []
    for spec in entry["outputs"]:
        y = raw[spec["tensor"]]
        q = spec["quantization"]
        y = (y.astype(np.float32) - q["zero_point"]) * np.float32(q["scale"]) if q else y.astype(np.float32)
        outs.append(np.transpose(y, (0, 3, 1, 2)))
    return outs
